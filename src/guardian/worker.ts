/**
 * The rollout worker: claims due rollouts under a lease, applies queued commands, fetches the next interval's
 * metrics (with retries; a provider that stays down yields an interval without data, which the judge HOLDs on),
 * judges it, steps the rollout state machine and performs its effects: traffic weights, rollback, status and
 * alerts. The state is saved after every step, so a crash loses at most the interval in flight.
 *
 * Effects are fenced: before each traffic change and each rollback step the worker renews its lease in the store
 * (which answers on its own clock), and it stops the moment the store says another worker owns the rollout. The
 * lease is renewed while a long effect runs. A rollback first saves the rollout as rolling back, then records each
 * step as started and as done (with its audit entry) before the next one starts, so a worker that takes over a dead
 * one's rollback continues it where it stopped (see domain/rollout/ownership.ts).
 */

import type { RollbackJournal, RollbackReport, RollbackStepReport, TrafficActuator } from '../actuators/ports.js';
import { guardianJudgeConfiguration, guardianRolloutPlan } from '../domain/judge/configuration.js';
import { judgeInterval } from '../domain/judge/judge.js';
import type { JudgeResult } from '../domain/judge/types.js';
import type { IntervalMetrics, MetricProvider } from '../domain/metrics.js';
import type { RollbackPlan } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import { renewEveryMs, resumeRollbackStep } from '../domain/rollout/ownership.js';
import { canarySteps, step as stepRollout } from '../domain/rollout/stateMachine.js';
import type { RolloutEffect, RolloutEvent, RolloutState } from '../domain/rollout/types.js';
import type { CodedError } from '../errors.js';
import type { ClaimedRollout, EffectAudit, RolloutRecord, RolloutRepository } from './repository.js';

export interface RolloutNotifier {
  /** Creates or edits the rollout's status card; returns where it is, to be stored with the rollout. */
  status(record: RolloutRecord, note: string): Promise<RolloutRecord['report']>;
  /** Posts an alert line into the rollout's thread. */
  alert(
    record: RolloutRecord,
    alert: { severity: 'info' | 'warning' | 'critical'; kind: string; message: string },
  ): Promise<void>;
}

export interface RollbackRunner {
  execute(plan: RollbackPlan, journal?: RollbackJournal): Promise<RollbackReport>;
}

/** The store says another worker owns the rollout now: no further effect may run. */
export class LeaseLostError extends Error implements CodedError {
  readonly code = 'guardian_lease_lost' as const;
  constructor(rolloutId: string, before: string) {
    super(`lease on ${rolloutId} lost before ${before}`);
    this.name = 'LeaseLostError';
  }
}

export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RolloutWorkerOptions {
  repository: RolloutRepository;
  metrics: MetricProvider;
  actuator: TrafficActuator;
  rollback: RollbackRunner;
  notifier: RolloutNotifier;
  workerId: string;
  clock?: () => Date;
  /** How long a claim holds a rollout, on the store's clock; renewed before and during every effect (default 60 s). */
  leaseMs?: number;
  /** How often start() looks for due rollouts (default 1 s); keep it well below the lease. */
  pollMs?: number;
  batchSize?: number;
  /** Attempts per interval before the provider's failure becomes an interval without data. */
  fetchAttempts?: number;
  fetchBackoffMs?: number;
  /** The policy contracts are drafted under (the judge configuration's defaults); default DEFAULT_POLICY. */
  policy?: Policy;
  /**
   * The metrics are recorded, not served at the guardian's weights (`chaos replay`): the canary's traffic at every
   * step is the service's, which the rollout's planned time must assume.
   */
  recordedMetrics?: boolean;
  logger?: WorkerLogger;
  onVerdict?: (record: RolloutRecord, result: JudgeResult) => void;
  onFinished?: (record: RolloutRecord) => void;
}

const ACTIVE = new Set<RolloutState['phase']>(['progressing', 'baking']);
/** Phases whose canary serves traffic and is judged every interval (paused included). */
const JUDGED = new Set<RolloutState['phase']>(['progressing', 'baking', 'paused']);
const TERMINAL = new Set<RolloutState['phase']>(['promoted', 'rolled_back', 'aborted', 'failed']);
const NEVER = '9999-12-31T00:00:00.000Z';
const MAX_LOG_LINES = 12;
const DEFAULT_LEASE_MS = 60_000;

export class RolloutWorker {
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly options: RolloutWorkerOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Claims and processes every due rollout once; returns how many were processed. */
  async tick(): Promise<number> {
    const claims = await this.options.repository.claimDue(
      this.options.workerId,
      this.clock(),
      this.options.leaseMs ?? DEFAULT_LEASE_MS,
      this.options.batchSize ?? 200,
    );
    await Promise.all(claims.map((claim) => this.processSafely(claim)));
    return claims.length;
  }

  /** Polls every `intervalMs` until stop(). */
  start(intervalMs = this.options.pollMs ?? 1_000): void {
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((error) => {
        this.options.logger?.error({ err: error }, 'rollout worker tick failed');
        return 0;
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    void loop();
  }

  /** Stops polling and waits for the rollouts in flight; their leases are released by processing. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async processSafely(claim: ClaimedRollout): Promise<void> {
    try {
      await this.process(claim);
    } catch (error) {
      this.options.logger?.error(
        { err: error, rollout: claim.record.id },
        'rollout processing failed; lease left to expire',
      );
    }
  }

  private async process({ record, leaseToken }: ClaimedRollout): Promise<void> {
    const phaseBefore = record.state.phase;
    const commands = record.pendingCommands;
    record.pendingCommands = [];
    const run = new RolloutRun(record, this.options, this.clock, leaseToken);
    try {
      for (const [index, command] of commands.entries()) {
        run.commandsApplied = index + 1;
        await run.apply(command);
      }
      // A rollback saved as running but not finished: its worker died; carry on from the last recorded step.
      await run.continueRollback();
      await run.evaluateIfDue();
      if (ACTIVE.has(run.record.state.phase)) await run.apply({ type: 'step_timer_elapsed' });
      await run.flushStatus();
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      this.options.logger?.warn({ rollout: record.id, err: error }, 'lease lost: another worker owns the rollout now');
      return;
    }
    run.finish();
    const saved = await this.options.repository.save(run.record, leaseToken, commands.length - run.commandsSaved);
    if (!saved) {
      this.options.logger?.warn(
        { rollout: record.id },
        'lease lost before saving: another worker took the rollout over',
      );
      return;
    }
    await this.options.repository.release(record.id, leaseToken);
    if (TERMINAL.has(run.record.state.phase) && !TERMINAL.has(phaseBefore)) this.options.onFinished?.(run.record);
  }
}

/** One worker turn on one rollout: applies events, performs their effects, tracks the next due time. */
class RolloutRun {
  private statusNote: string | undefined;
  private nextCheck: string | undefined;
  private rollbackRan = false;
  /** Queued commands applied so far, and how many of them a checkpoint already saved as consumed. */
  commandsApplied = 0;
  commandsSaved = 0;

  constructor(
    readonly record: RolloutRecord,
    private readonly options: RolloutWorkerOptions,
    private readonly clock: () => Date,
    private readonly leaseToken: string,
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private get intervalMs(): number {
    return this.record.terms.ramp.analysisIntervalSeconds * 1000;
  }

  async apply(event: RolloutEvent): Promise<void> {
    const before = this.record.state;
    const now = this.clock();
    const result = stepRollout(before, event, this.rolloutTerms(), now);
    if (result.ignored) return;
    this.record.state = result.state;
    if (enteredNewStep(before, result.state)) {
      this.record.stepStartIndex = this.record.history.length;
      if (before.phase === 'pending') this.record.lastIntervalEnd = now.toISOString();
    }
    for (const effect of result.effects) await this.perform(effect);
  }

  /** The state machine's terms: the ramp and the planned time the guardian's configuration needs (rollout/plan.ts). */
  private rolloutTerms(): { ramp: RolloutRecord['terms']['ramp']; plannedSeconds: number } {
    const terms = this.record.terms;
    const plan = guardianRolloutPlan(terms, {
      ...(this.options.policy ? { policy: this.options.policy } : {}),
      ...(terms.serviceQps !== undefined ? { serviceQps: terms.serviceQps } : {}),
      ...(terms.today !== undefined ? { today: terms.today } : {}),
      canaryServesAllTraffic: this.options.recordedMetrics === true,
    });
    return { ramp: terms.ramp, plannedSeconds: plan.seconds };
  }

  /**
   * Judges the next interval once it has ended. A paused rollout is judged too: its canary still serves traffic, so a
   * FAIL while a person decides rolls it back (the state machine does so from paused, flagger#1801), and the verdicts
   * keep the card's evidence current for the person who resumes it.
   */
  async evaluateIfDue(): Promise<void> {
    const current = this.record.state;
    if (!JUDGED.has(current.phase)) return;
    const state = current.phase === 'paused' ? current.resume : current;
    if (state.phase !== 'progressing' && state.phase !== 'baking') return;
    const start = new Date(this.record.lastIntervalEnd);
    const end = new Date(start.getTime() + this.intervalMs);
    if (end.getTime() > this.clock().getTime()) return;
    const metrics = await this.fetchInterval(start, end);
    this.record.history.push(metrics);
    this.record.lastIntervalEnd = end.toISOString();
    const ramp = this.record.terms.ramp;
    const stepIndex = state.phase === 'progressing' ? state.stepIndex : ramp.steps.length;
    const minRequests = ramp.steps[Math.min(stepIndex, ramp.steps.length - 1)]?.minRequests ?? 0;
    const nextTrafficPercent =
      state.phase === 'progressing' ? (canarySteps({ ramp })[state.stepIndex + 1]?.trafficPercent ?? 100) : 100;
    // The one judge configuration production, `chaos simulate`, `chaos replay` and the benchmarks share.
    const judge = guardianJudgeConfiguration(
      this.record.terms,
      this.options.policy ? { policy: this.options.policy } : {},
    );
    const result = judgeInterval({
      guardrails: judge.guardrails,
      step: {
        index: stepIndex,
        trafficPercent: state.trafficPercent,
        minRequests,
        startIntervalIndex: this.record.stepStartIndex,
        nextTrafficPercent,
      },
      history: this.record.history,
      errorBudget: judge.errorBudget,
      limits: judge.limits,
      ...(this.record.judgeState ? { previous: this.record.judgeState } : {}),
      options: judge.options,
    });
    this.record.judgeState = result.state;
    this.record.latestVerdict = result.verdict;
    this.record.latestReasons = result.reasons;
    this.record.latestChecks = checksForCard(result);
    this.options.onVerdict?.(this.record, result);
    await this.apply({
      type: 'evaluation',
      verdict: result.verdict,
      canaryRequests: metrics.canary?.requests ?? 0,
      reasons: result.reasons,
      alerts: result.alerts,
    });
  }

  private async fetchInterval(start: Date, end: Date): Promise<IntervalMetrics> {
    const attempts = Math.max(1, this.options.fetchAttempts ?? 3);
    const { target } = this.record;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        return await this.options.metrics.fetchInterval({
          serviceName: target.serviceName,
          namespace: target.namespace,
          canaryVersion: target.canaryVersion,
          ...(target.baselineVersion ? { baselineVersion: target.baselineVersion } : {}),
          start,
          end,
        });
      } catch (error) {
        lastError = error;
        const backoff = (this.options.fetchBackoffMs ?? 500) * 2 ** attempt;
        if (attempt + 1 < attempts && backoff > 0) await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    this.options.logger?.warn({ rollout: this.record.id, err: lastError }, 'metrics unavailable for an interval');
    await this.options.notifier.alert(this.record, {
      severity: 'warning',
      kind: 'metrics_unavailable',
      message: `metrics provider ${this.options.metrics.name} failed ${attempts} times (${message}); holding, never rolling back on missing data`,
    });
    return { start: start.toISOString(), end: end.toISOString(), canary: null, baseline: null };
  }

  private async perform(effect: RolloutEffect): Promise<void> {
    switch (effect.type) {
      case 'set_traffic_weight': {
        const result = await this.fenced(`setting traffic to ${effect.percent} %`, () =>
          this.options.actuator.setCanaryWeight(this.record.target, effect.percent),
        );
        await this.options.repository.auditEffect(
          this.audit('traffic', {
            percent: effect.percent,
            ok: result.ok,
            action: result.action,
            dryRun: result.dryRun,
            ...(result.error ? { error: result.error } : {}),
          }),
        );
        if (!result.ok) {
          await this.options.notifier.alert(this.record, {
            severity: 'critical',
            kind: 'actuator_failed',
            message: `could not set traffic to ${effect.percent} % (${result.action}): ${result.error ?? 'unknown error'}`,
          });
          await this.apply({
            type: 'pause',
            actor: 'guardian',
            reason: `traffic actuator failed: ${result.error ?? 'unknown'}`,
          });
        }
        return;
      }
      case 'run_rollback':
        await this.checkpoint();
        await this.runRollback();
        return;
      case 'schedule_check':
        this.nextCheck = !this.nextCheck || effect.at < this.nextCheck ? effect.at : this.nextCheck;
        return;
      case 'post_status':
        this.statusNote = effect.message;
        this.record.log = [...this.record.log, `${this.clock().toISOString().slice(11, 19)} ${effect.message}`].slice(
          -MAX_LOG_LINES,
        );
        return;
      case 'post_alert':
        await this.options.notifier.alert(this.record, effect);
        return;
    }
  }

  /** Continues a rollback that a previous owner saved as running and did not finish. */
  async continueRollback(): Promise<void> {
    if (this.record.state.phase !== 'rolling_back' || this.rollbackRan) return;
    this.options.logger?.info({ rollout: this.record.id }, 'continuing a rollback another worker left unfinished');
    await this.runRollback();
  }

  /**
   * Saves the rollout as it stands (rolling back, due at once) before the rollback's effects, so that a worker
   * taking over knows a rollback is running rather than deciding afresh.
   */
  private async checkpoint(): Promise<void> {
    const now = this.clock().toISOString();
    const saved = await this.options.repository.save(
      { ...this.record, updatedAt: now, nextDueAt: now },
      this.leaseToken,
      this.commandsApplied - this.commandsSaved,
    );
    if (!saved) throw new LeaseLostError(this.record.id, 'the rollback');
    this.commandsSaved = this.commandsApplied;
  }

  /** Runs an effect only while the lease is held, renewing it until the effect returns. */
  private async fenced<T>(what: string, effect: () => Promise<T>): Promise<T> {
    const { repository } = this.options;
    if (!(await repository.renewLease(this.record.id, this.leaseToken, this.leaseMs))) {
      throw new LeaseLostError(this.record.id, what);
    }
    const stop = this.keepLease();
    try {
      return await effect();
    } finally {
      stop();
    }
  }

  /** Renews the lease in the background while a long effect runs; a failed renewal is logged and the next fence stops. */
  private keepLease(): () => void {
    const timer = setInterval(() => {
      this.options.repository.renewLease(this.record.id, this.leaseToken, this.leaseMs).then(
        (held) => {
          if (!held) this.options.logger?.warn({ rollout: this.record.id }, 'lease lost while an effect ran');
        },
        (error: unknown) =>
          this.options.logger?.warn({ rollout: this.record.id, err: error }, 'could not renew the lease'),
      );
    }, renewEveryMs(this.leaseMs));
    timer.unref();
    return () => clearInterval(timer);
  }

  private audit(kind: EffectAudit['kind'], data: Record<string, unknown>): EffectAudit {
    return {
      kind,
      contractId: this.record.contractId,
      revision: this.record.revision,
      workerId: this.options.workerId,
      at: this.clock(),
      data: { rollout: this.record.id, ...data },
    };
  }

  /** The journal that makes a rollback resumable: steps done or cut off by an earlier owner are never run again. */
  private async rollbackJournal(): Promise<RollbackJournal> {
    const { repository } = this.options;
    const id = this.record.id;
    const recorded = new Map((await repository.rollbackSteps(id)).map((entry) => [entry.order, entry]));
    const recordDone = async (report: RollbackStepReport) => {
      const audit = this.audit('rollback_step', {
        step: report.order,
        description: report.description,
        outcome: report.outcome,
        durationMs: Math.round(report.durationMs),
        ...(report.error ? { error: report.error } : {}),
      });
      if (!(await repository.markStepDone(id, this.leaseToken, report, audit))) {
        throw new LeaseLostError(id, `the step after step ${report.order}`);
      }
    };
    let stopKeeping: (() => void) | undefined;
    return {
      before: async (step) => {
        const entry = recorded.get(step.order);
        const resume = resumeRollbackStep(entry?.mark);
        const base = { order: step.order, description: step.description, command: step.command, durationMs: 0 };
        if (resume.action === 'skip_done') {
          return { run: false, report: entry?.report ?? { ...base, outcome: 'succeeded' } };
        }
        if (resume.action === 'skip_interrupted') {
          const report: RollbackStepReport = { ...base, outcome: 'interrupted', error: resume.reason };
          await recordDone(report);
          return { run: false, report };
        }
        const started = await repository.markStepStarted(id, this.leaseToken, this.leaseMs, step);
        if (!started) throw new LeaseLostError(id, `rollback step ${step.order}`);
        stopKeeping = this.keepLease();
        return { run: true };
      },
      after: async (report) => {
        stopKeeping?.();
        stopKeeping = undefined;
        await recordDone(report);
      },
    };
  }

  /** The state machine has already announced the rollback and its reason; this performs and reports it. */
  private async runRollback(): Promise<void> {
    this.rollbackRan = true;
    const traffic = await this.fenced('moving traffic to the baseline', () =>
      this.options.actuator.abort(this.record.target),
    );
    await this.options.repository.auditEffect(
      this.audit('traffic', {
        percent: 0,
        ok: traffic.ok,
        action: traffic.action,
        dryRun: traffic.dryRun,
        ...(traffic.error ? { error: traffic.error } : {}),
      }),
    );
    const report = await this.options.rollback.execute(this.record.terms.rollbackPlan, await this.rollbackJournal());
    const lines = [
      `traffic → baseline: ${traffic.ok ? 'done' : `failed (${traffic.error ?? 'unknown'})`} — ${traffic.action}`,
      ...report.steps.map(
        (s) => `step ${s.order} ${s.description}: ${s.outcome.replace(/_/g, ' ')}${s.error ? ` (${s.error})` : ''}`,
      ),
    ];
    await this.options.notifier.alert(this.record, {
      severity: report.outcome === 'failed' || !traffic.ok ? 'critical' : 'info',
      kind: 'rollback_report',
      message: `rollback ${report.outcome.replace(/_/g, ' ')}:\n${lines.join('\n')}`,
    });
    if (traffic.ok && report.outcome !== 'failed') await this.apply({ type: 'rollback_finished' });
    else
      await this.apply({
        type: 'rollback_failed',
        error: lines.filter((l) => /fail|timed out|interrupted/.test(l)).join('; '),
      });
  }

  async flushStatus(): Promise<void> {
    if (this.statusNote === undefined) return;
    this.record.report = (await this.options.notifier.status(this.record, this.statusNote)) ?? this.record.report;
  }

  finish(): void {
    const now = this.clock().toISOString();
    this.record.updatedAt = now;
    if (!JUDGED.has(this.record.state.phase)) {
      this.record.nextDueAt = NEVER;
      return;
    }
    const nextInterval = new Date(Date.parse(this.record.lastIntervalEnd) + this.intervalMs).toISOString();
    this.record.nextDueAt = this.nextCheck && this.nextCheck < nextInterval ? this.nextCheck : nextInterval;
  }
}

function enteredNewStep(previous: RolloutState, after: RolloutState): boolean {
  // Resuming continues the step that was paused.
  const before = previous.phase === 'paused' ? previous.resume : previous;
  if (after.phase === 'progressing') return before.phase !== 'progressing' || before.stepIndex !== after.stepIndex;
  if (after.phase === 'baking') return before.phase !== 'baking';
  return false;
}

function checksForCard(result: JudgeResult): RolloutRecord['latestChecks'] {
  const status = { pass: 'pass', hold: 'hold', fail: 'fail', recovering: 'hold', suppressed: 'hold' } as const;
  return result.evidence
    .filter((e) => e.outcome !== 'not_applicable')
    .map((e) => ({
      metric: e.metric,
      detail: e.message,
      status: status[e.outcome as keyof typeof status] ?? 'hold',
    }));
}
