/**
 * Where rollouts live between evaluations. Workers claim due rollouts with a lease, so a crashed worker's rollout
 * is taken over when its lease expires and two workers never evaluate the same rollout at once. The durable
 * implementation is on the store (PGlite / PostgreSQL); the in-memory one serves tests and the terminal simulator.
 */
import type { JudgeState } from '../domain/judge/types.js';
import type { IntervalMetrics } from '../domain/metrics.js';
import type { Guardrail, RampSchedule, RollbackPlan } from '../domain/model.js';
import type { RolloutEvent, RolloutState } from '../domain/rollout/types.js';
import type { EngineName } from './engineTargets.js';

/** The approved terms a rollout runs under, copied at start: an approved revision never changes. */
export interface RolloutTermsSnapshot {
  guardrails: Guardrail[];
  ramp: RampSchedule;
  targetErrorRatePercent: number;
  rollbackPlan: RollbackPlan;
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

export interface RolloutRepository {
  create(record: RolloutRecord): Promise<void>;
  get(id: string): Promise<RolloutRecord | undefined>;
  findByContract(contractId: string): Promise<RolloutRecord | undefined>;
  /** Claims up to `limit` rollouts due at `now` whose lease is free or expired (never engine-driven ones). */
  claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]>;
  /**
   * Saves the record if the lease is still held (false when another worker took it over). The first
   * `consumedCommands` queued commands were applied and are dropped; commands queued since stay queued.
   */
  save(record: RolloutRecord, leaseToken: string, consumedCommands: number): Promise<boolean>;
  release(id: string, leaseToken: string): Promise<void>;
  /** Claims one rollout, due or not, when its lease is free or expired (engine calls judge a named rollout). */
  claim(id: string, workerId: string, now: Date, leaseMs: number): Promise<ClaimedRollout | undefined>;
  /** Queues a command and makes the rollout due now. */
  enqueueCommand(id: string, command: RolloutEvent, now: Date): Promise<void>;
}

interface Lease {
  token: string;
  owner: string;
  expiresAt: number;
}

export class InMemoryRolloutRepository implements RolloutRepository {
  private readonly records = new Map<string, RolloutRecord>();
  private readonly leases = new Map<string, Lease>();
  private counter = 0;

  async create(record: RolloutRecord): Promise<void> {
    if (this.records.has(record.id)) throw new Error(`rollout ${record.id} already exists`);
    this.records.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<RolloutRecord | undefined> {
    const record = this.records.get(id);
    return record ? structuredClone(record) : undefined;
  }

  async findByContract(contractId: string): Promise<RolloutRecord | undefined> {
    let latest: RolloutRecord | undefined;
    for (const record of this.records.values()) {
      if (record.contractId === contractId && (!latest || record.createdAt > latest.createdAt)) latest = record;
    }
    return latest ? structuredClone(latest) : undefined;
  }

  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]> {
    const claimed: ClaimedRollout[] = [];
    const nowMs = now.getTime();
    for (const record of this.records.values()) {
      if (claimed.length >= limit) break;
      if (Date.parse(record.nextDueAt) > nowMs || record.engine) continue;
      const lease = this.leases.get(record.id);
      if (lease && lease.expiresAt > nowMs) continue;
      const token = `${workerId}:${++this.counter}`;
      this.leases.set(record.id, { token, owner: workerId, expiresAt: nowMs + leaseMs });
      claimed.push({ record: structuredClone(record), leaseToken: token });
    }
    return claimed;
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

  async claim(id: string, workerId: string, now: Date, leaseMs: number): Promise<ClaimedRollout | undefined> {
    const record = this.records.get(id);
    const lease = this.leases.get(id);
    if (!record || (lease && lease.expiresAt > now.getTime())) return undefined;
    const token = `${workerId}:${++this.counter}`;
    this.leases.set(id, { token, owner: workerId, expiresAt: now.getTime() + leaseMs });
    return { record: structuredClone(record), leaseToken: token };
  }

  async enqueueCommand(id: string, command: RolloutEvent, now: Date): Promise<void> {
    const record = this.records.get(id);
    if (!record) throw new Error(`no rollout ${id}`);
    record.pendingCommands.push(command);
    record.nextDueAt = now.toISOString();
  }
}
