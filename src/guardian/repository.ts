/**
 * Where rollouts live between evaluations. Workers claim due rollouts with a lease that expires on the store's clock,
 * so a crashed worker's rollout is taken over when its lease expires and two workers never act on the same rollout
 * at once; the lease is checked (and renewed) before every effect. The rules are in domain/rollout/ownership.ts. The durable
 * implementation is on the store (PGlite / PostgreSQL); the in-memory one serves tests and the terminal simulator.
 */
import type { RollbackStepReport } from '../actuators/ports.js';
import type { ServiceToday } from '../domain/judge/passEvidence.js';
import type { JudgeState } from '../domain/judge/types.js';
import type { IntervalMetrics } from '../domain/metrics.js';
import type { Guardrail, RampSchedule, RollbackPlan } from '../domain/model.js';
import {
  isActiveRollout,
  type Lease,
  leaseFree,
  leaseHeld,
  type RollbackStepMark,
  rolloutOfContract,
} from '../domain/rollout/ownership.js';
import type { RolloutEvent, RolloutState } from '../domain/rollout/types.js';
import type { EngineName } from './engineTargets.js';

/** The approved terms a rollout runs under, copied at start: an approved revision never changes. */
export interface RolloutTermsSnapshot {
  guardrails: Guardrail[];
  ramp: RampSchedule;
  targetErrorRatePercent: number;
  rollbackPlan: RollbackPlan;
  /** The service's requests per second when the contract was approved (its plan's traffic); absent in older records. */
  serviceQps?: number;
  /** The service's error rate and latency when the contract was approved (its plan's healthy canary); absent in older records. */
  today?: ServiceToday;
}

export interface RolloutTarget {
  serviceName: string;
  namespace: string;
  resourceName: string;
  canaryVersion: string;
  baselineVersion?: string;
}

export interface RolloutRecord {
  id: string;
  contractId: string;
  revision: number;
  /** Set when Flagger or Argo Rollouts moves the traffic (src/guardian/engineRollouts.ts): the worker skips it. */
  engine?: EngineName;
  target: RolloutTarget;
  terms: RolloutTermsSnapshot;
  state: RolloutState;
  judgeState?: JudgeState;
  /** Every judged interval, oldest first (the judge's history). */
  history: IntervalMetrics[];
  /** End of the last judged interval; the next interval starts here. */
  lastIntervalEnd: string;
  /** Index in `history` where the current step began. */
  stepStartIndex: number;
  nextDueAt: string;
  /** Commands from chat or an engine, applied by the worker that holds the lease. */
  pendingCommands: RolloutEvent[];
  /** Where the rollout reports (chat thread and status card), opaque to the guardian. */
  report?: { thread?: unknown; statusMessage?: unknown };
  latestVerdict: 'PASS' | 'HOLD' | 'FAIL' | null;
  latestReasons: string[];
  /** The latest evaluation's checks with numbers, for the status card. */
  latestChecks: { metric: string; detail: string; status: 'pass' | 'hold' | 'fail' }[];
  /** Stage log lines (newest last, bounded). */
  log: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ClaimedRollout {
  record: RolloutRecord;
  leaseToken: string;
}

/** What an earlier (or the current) owner recorded about one rollback step. */
export interface RollbackStepEntry {
  order: number;
  mark: RollbackStepMark;
  owner: string;
  /** The step's outcome, once done. */
  report?: RollbackStepReport;
}

/** One executed effect (a traffic change or a rollback step), for the audit log. */
export interface EffectAudit {
  kind: 'traffic' | 'rollback_step';
  contractId: string;
  revision: number;
  workerId: string;
  at: Date;
  data: Record<string, unknown>;
}

export interface RolloutRepository {
  create(record: RolloutRecord): Promise<void>;
  /**
   * Creates the rollout unless its contract already has an active one; then answers that one (`created: false`).
   * Safe when replicas race: the store refuses a second active rollout of a contract.
   */
  createIfNoneActive(record: RolloutRecord): Promise<{ record: RolloutRecord; created: boolean }>;
  get(id: string): Promise<RolloutRecord | undefined>;
  /** The contract's active rollout, else its most recent one. */
  findByContract(contractId: string): Promise<RolloutRecord | undefined>;
  /**
   * Claims up to `limit` rollouts due at `now` whose lease is free or expired on the store's clock (never
   * engine-driven ones); the lease runs `leaseMs` on that clock.
   */
  claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]>;
  /** The fence before an effect: true, and the lease extended by `leaseMs`, only while the lease is still held. */
  renewLease(id: string, leaseToken: string, leaseMs: number): Promise<boolean>;
  /**
   * Saves the record if the lease is still held (false when another worker took it over). The first
   * `consumedCommands` queued commands were applied and are dropped; commands queued since stay queued.
   */
  save(record: RolloutRecord, leaseToken: string, consumedCommands: number): Promise<boolean>;
  release(id: string, leaseToken: string): Promise<void>;
  /**
   * Claims one rollout, due or not, when its lease is free or expired on the store's clock (engine calls judge a
   * named rollout).
   */
  claim(id: string, workerId: string, now: Date, leaseMs: number): Promise<ClaimedRollout | undefined>;
  /** Queues a command and makes the rollout due now. */
  enqueueCommand(id: string, command: RolloutEvent, now: Date): Promise<void>;
  /** What was recorded about the rollout's rollback steps, by step order. */
  rollbackSteps(id: string): Promise<RollbackStepEntry[]>;
  /** Fenced: records that a step starts (and renews the lease); false, and nothing recorded, once the lease is lost. */
  markStepStarted(
    id: string,
    leaseToken: string,
    leaseMs: number,
    step: { order: number; description: string },
  ): Promise<boolean>;
  /**
   * Records a step's outcome together with its audit entry, even when the lease was lost meanwhile (the step did
   * run); answers whether the lease is still held.
   */
  markStepDone(id: string, leaseToken: string, report: RollbackStepReport, audit: EffectAudit): Promise<boolean>;
  /** Audits an executed traffic change. */
  auditEffect(audit: EffectAudit): Promise<void>;
}

export interface InMemoryRolloutRepositoryOptions {
  /** The store's clock, which leases expire on (a test may share its simulated clock). */
  clock?: () => Date;
}

export class InMemoryRolloutRepository implements RolloutRepository {
  private readonly records = new Map<string, RolloutRecord>();
  private readonly leases = new Map<string, Lease>();
  private readonly steps = new Map<string, Map<number, RollbackStepEntry>>();
  /** Audited effects, oldest first (the SQL stores write them to the audit log). */
  readonly audited: EffectAudit[] = [];
  private readonly clock: () => Date;
  private counter = 0;

  constructor(options: InMemoryRolloutRepositoryOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
  }

  private nowMs(): number {
    return this.clock().getTime();
  }

  async create(record: RolloutRecord): Promise<void> {
    if (this.records.has(record.id)) throw new Error(`rollout ${record.id} already exists`);
    const active = this.activeOf(record.contractId);
    if (active && isActiveRollout(record.state.phase)) {
      throw new Error(`contract ${record.contractId} already has an active rollout (${active.id})`);
    }
    this.records.set(record.id, structuredClone(record));
  }

  async createIfNoneActive(record: RolloutRecord): Promise<{ record: RolloutRecord; created: boolean }> {
    const active = this.activeOf(record.contractId);
    if (active) return { record: structuredClone(active), created: false };
    await this.create(record);
    return { record: structuredClone(record), created: true };
  }

  private activeOf(contractId: string): RolloutRecord | undefined {
    for (const record of this.records.values()) {
      if (record.contractId === contractId && isActiveRollout(record.state.phase)) return record;
    }
    return undefined;
  }

  async get(id: string): Promise<RolloutRecord | undefined> {
    const record = this.records.get(id);
    return record ? structuredClone(record) : undefined;
  }

  async findByContract(contractId: string): Promise<RolloutRecord | undefined> {
    const chosen = rolloutOfContract([...this.records.values()].filter((r) => r.contractId === contractId));
    return chosen ? structuredClone(chosen) : undefined;
  }

  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]> {
    const claimed: ClaimedRollout[] = [];
    const storeNow = this.nowMs();
    for (const record of this.records.values()) {
      if (claimed.length >= limit) break;
      if (Date.parse(record.nextDueAt) > now.getTime() || !isActiveRollout(record.state.phase) || record.engine) {
        continue;
      }
      if (!leaseFree(this.leases.get(record.id), storeNow)) continue;
      const token = `${workerId}:${++this.counter}`;
      this.leases.set(record.id, { token, owner: workerId, expiresAt: storeNow + leaseMs });
      claimed.push({ record: structuredClone(record), leaseToken: token });
    }
    return claimed;
  }

  async renewLease(id: string, leaseToken: string, leaseMs: number): Promise<boolean> {
    const lease = this.leases.get(id);
    const storeNow = this.nowMs();
    if (!lease || !leaseHeld(lease, leaseToken, storeNow)) return false;
    lease.expiresAt = storeNow + leaseMs;
    return true;
  }

  async save(record: RolloutRecord, leaseToken: string, consumedCommands: number): Promise<boolean> {
    if (this.leases.get(record.id)?.token !== leaseToken) return false;
    const stored = this.records.get(record.id);
    const stillQueued = stored ? stored.pendingCommands.slice(consumedCommands) : [];
    const nextDueAt = stillQueued.length > 0 ? new Date(0).toISOString() : record.nextDueAt;
    this.records.set(record.id, structuredClone({ ...record, pendingCommands: stillQueued, nextDueAt }));
    return true;
  }

  async release(id: string, leaseToken: string): Promise<void> {
    if (this.leases.get(id)?.token === leaseToken) this.leases.delete(id);
  }

  async claim(id: string, workerId: string, _now: Date, leaseMs: number): Promise<ClaimedRollout | undefined> {
    const record = this.records.get(id);
    const storeNow = this.nowMs();
    if (!record || !leaseFree(this.leases.get(id), storeNow)) return undefined;
    const token = `${workerId}:${++this.counter}`;
    this.leases.set(id, { token, owner: workerId, expiresAt: storeNow + leaseMs });
    return { record: structuredClone(record), leaseToken: token };
  }

  async enqueueCommand(id: string, command: RolloutEvent, now: Date): Promise<void> {
    const record = this.records.get(id);
    if (!record) throw new Error(`no rollout ${id}`);
    record.pendingCommands.push(command);
    record.nextDueAt = now.toISOString();
  }

  async rollbackSteps(id: string): Promise<RollbackStepEntry[]> {
    const entries = [...(this.steps.get(id)?.values() ?? [])].sort((a, b) => a.order - b.order);
    return structuredClone(entries);
  }

  async markStepStarted(
    id: string,
    leaseToken: string,
    leaseMs: number,
    step: { order: number; description: string },
  ): Promise<boolean> {
    if (!(await this.renewLease(id, leaseToken, leaseMs))) return false;
    const steps = this.steps.get(id) ?? new Map<number, RollbackStepEntry>();
    this.steps.set(id, steps);
    const owner = this.leases.get(id)?.owner ?? 'unknown';
    if (!steps.has(step.order)) steps.set(step.order, { order: step.order, mark: 'started', owner });
    return true;
  }

  async markStepDone(id: string, leaseToken: string, report: RollbackStepReport, audit: EffectAudit): Promise<boolean> {
    const steps = this.steps.get(id) ?? new Map<number, RollbackStepEntry>();
    this.steps.set(id, steps);
    steps.set(report.order, {
      order: report.order,
      mark: 'done',
      owner: audit.workerId,
      report: structuredClone(report),
    });
    this.audited.push(structuredClone(audit));
    return leaseHeld(this.leases.get(id), leaseToken, this.nowMs());
  }

  async auditEffect(audit: EffectAudit): Promise<void> {
    this.audited.push(structuredClone(audit));
  }
}
