/**
 * The rollout worker: claims due rollouts under a lease, applies queued commands, fetches the next interval's
 * metrics (with retries; a provider that stays down yields an interval without data, which the judge HOLDs on),
 * judges it, steps the rollout state machine and performs its effects: traffic weights, rollback, status and
 * alerts. The state is saved after every step, so a crash loses at most the interval in flight.
 */
import type { RollbackReport, TrafficActuator } from '../actuators/ports.js';
import { guardianJudgeConfiguration } from '../domain/judge/configuration.js';
import { judgeInterval } from '../domain/judge/judge.js';
import type { JudgeResult } from '../domain/judge/types.js';
import type { IntervalMetrics, MetricProvider } from '../domain/metrics.js';
import type { RollbackPlan } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import { canarySteps, step as stepRollout } from '../domain/rollout/stateMachine.js';
import type { RolloutEffect, RolloutEvent, RolloutState } from '../domain/rollout/types.js';
import type { ClaimedRollout, RolloutRecord, RolloutRepository } from './repository.js';

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
  execute(plan: RollbackPlan): Promise<RollbackReport>;
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
  leaseMs?: number;
  batchSize?: number;
  /** Attempts per interval before the provider's failure becomes an interval without data. */
  fetchAttempts?: number;
  fetchBackoffMs?: number;
  /** The policy contracts are drafted under (the judge configuration's defaults); default DEFAULT_POLICY. */
  policy?: Policy;
  logger?: WorkerLogger;
  onVerdict?: (record: RolloutRecord, result: JudgeResult) => void;
  onFinished?: (record: RolloutRecord) => void;
}

const ACTIVE = new Set<RolloutState['phase']>(['progressing', 'baking']);
const TERMINAL = new Set<RolloutState['phase']>(['promoted', 'rolled_back', 'aborted', 'failed']);
const NEVER = '9999-12-31T00:00:00.000Z';
const MAX_LOG_LINES = 12;

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
      this.options.leaseMs ?? 60_000,
      this.options.batchSize ?? 200,
    );
    await Promise.all(claims.map((claim) => this.processSafely(claim)));
    return claims.length;
  }

  /** Polls every `intervalMs` until stop(). */
  start(intervalMs = 1_000): void {
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
    const consumed = record.pendingCommands.length;
    const commands = record.pendingCommands;
    record.pendingCommands = [];
    const run = new RolloutRun(record, this.options, this.clock);
    for (const command of commands) await run.apply(command);
    await run.evaluateIfDue();
    if (ACTIVE.has(run.record.state.phase)) await run.apply({ type: 'step_timer_elapsed' });
    await run.flushStatus();
    run.finish();
    const saved = await this.options.repository.save(run.record, leaseToken, consumed);
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

  constructor(
    readonly record: RolloutRecord,
    private readonly options: RolloutWorkerOptions,
    private readonly clock: () => Date,
  ) {}

  private get intervalMs(): number {
    return this.record.terms.ramp.analysisIntervalSeconds * 1000;
  }

  async apply(event: RolloutEvent): Promise<void> {
    const before = this.record.state;
    const now = this.clock();
    const result = stepRollout(before, event, { ramp: this.record.terms.ramp }, now);
    if (result.ignored) return;
    this.record.state = result.state;
    if (enteredNewStep(before, result.state)) {
      this.record.stepStartIndex = this.record.history.length;
      if (before.phase === 'pending') this.record.lastIntervalEnd = now.toISOString();
    }
    for (const effect of result.effects) await this.perform(effect);
  }

  async evaluateIfDue(): Promise<void> {
    const state = this.record.state;
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
        const result = await this.options.actuator.setCanaryWeight(this.record.target, effect.percent);
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

  /** The state machine has already announced the rollback and its reason; this performs and reports it. */
  private async runRollback(): Promise<void> {
    const traffic = await this.options.actuator.abort(this.record.target);
    const report = await this.options.rollback.execute(this.record.terms.rollbackPlan);
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
    else await this.apply({ type: 'rollback_failed', error: lines.filter((l) => /fail|timed out/.test(l)).join('; ') });
  }

  async flushStatus(): Promise<void> {
    if (this.statusNote === undefined) return;
    this.record.report = (await this.options.notifier.status(this.record, this.statusNote)) ?? this.record.report;
  }

  finish(): void {
    const now = this.clock().toISOString();
    this.record.updatedAt = now;
    if (!ACTIVE.has(this.record.state.phase)) {
      this.record.nextDueAt = this.record.state.phase === 'paused' && this.nextCheck ? this.nextCheck : NEVER;
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
