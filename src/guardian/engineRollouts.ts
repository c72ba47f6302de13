/**
 * Rollouts whose traffic a progressive-delivery engine (Flagger, Argo Rollouts) moves, with the bot as their judge.
 * They live in the same repository as the built-in guardian's rollouts (state, verdicts, status card and alerts in
 * the contract's thread, audit), marked with `engine` so the worker never drives their traffic.
 *
 * The engine calls in (Flagger's `rollout` hook every analysis interval, Argo's `web` metric every measurement) and
 * each call is judged live: the interval since the previous judgement is fetched from the metric provider for the
 * canary and baseline workloads the engine's object names, and judged with the contract's guardrails and limits by
 * the same judge and configuration as the built-in guardian (`judgeInterval` with `guardianJudgeConfiguration`
 * from the rollout's terms, the analysis interval and the policy), one analysis interval at a time on the same
 * grid as the worker. A call before the next interval is complete (an engine retry, or an engine calling more often
 * than the contract's interval) is answered with the stored verdict.
 */
import { guardianJudgeConfiguration } from '../domain/judge/configuration.js';
import { judgeInterval } from '../domain/judge/judge.js';
import type { JudgeResult } from '../domain/judge/types.js';
import type { IntervalMetrics, MetricProvider } from '../domain/metrics.js';
import type { Contract } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import type { ProgressingState, RolloutState } from '../domain/rollout/types.js';
import type { EngineName } from './engineTargets.js';
import type { RolloutRecord, RolloutRepository } from './repository.js';
import type { RolloutNotifier } from './worker.js';

const TERMINAL = new Set<RolloutState['phase']>(['promoted', 'rolled_back', 'aborted', 'failed']);
/** Engine rollouts are never due for the worker: the engine's calls drive them. */
export const ENGINE_NEVER_DUE = '9999-12-31T00:00:00.000Z';
const MAX_LOG_LINES = 12;
/** Intervals judged in one call after a gap (an engine paused, or calling less often than the contract's interval). */
const MAX_CATCH_UP = 3;
const ENGINE_LABEL: Record<EngineName, string> = { flagger: 'Flagger', 'argo-rollouts': 'Argo Rollouts' };

export interface EngineObject {
  engine: EngineName;
  /** Namespace the workloads run (and are measured) in. */
  namespace: string;
  /** The engine's object: Flagger Canary or Argo Rollout name. */
  name: string;
  canaryWorkload: string;
  baselineWorkload: string;
}

export interface EngineJudgement {
  record: RolloutRecord;
  verdict: 'PASS' | 'HOLD' | 'FAIL';
  reasons: string[];
  /** False when the stored verdict was returned (a retry within the interval, or another call held the lease). */
  fresh: boolean;
}

export interface EngineRolloutsOptions {
  repository: RolloutRepository;
  metricsFor(engine: EngineName): MetricProvider;
  notifier: RolloutNotifier;
  workerId: string;
  clock?: () => Date;
  /** The policy contracts are drafted under, for the judge configuration (as the worker's). */
  policy?: Policy;
  leaseMs?: number;
  onStarted?(contract: Contract, record: RolloutRecord): Promise<void>;
  onVerdict?(record: RolloutRecord, result: JudgeResult): void;
  onFinished?(record: RolloutRecord): void;
  onWarning?(record: RolloutRecord, error: unknown): void;
}

export class EngineRollouts {
  private readonly clock: () => Date;

  constructor(private readonly options: EngineRolloutsOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** The contract's rollout driven by this engine object, started (pending → progressing) when there is none. */
  async begin(contract: Contract, object: EngineObject, thread?: unknown): Promise<RolloutRecord> {
    const existing = await this.options.repository.findByContract(contract.id);
    if (existing && (!TERMINAL.has(existing.state.phase) || existing.revision === contract.revision)) return existing;
    const now = this.clock();
    const at = now.toISOString();
    const { deployment, terms } = contract;
    const state: ProgressingState = {
      phase: 'progressing',
      stepIndex: 0,
      trafficPercent: 0,
      stepStartedAt: at,
      deadlineFrom: at,
      stepRequests: 0,
      evaluations: 0,
      lastVerdict: null,
      activeAlerts: [],
    };
    const record: RolloutRecord = {
      id: `ro-${contract.id}-r${contract.revision}-${now.getTime().toString(36)}`,
      contractId: contract.id,
      revision: contract.revision,
      engine: object.engine,
      target: {
        serviceName: deployment.serviceName,
        namespace: object.namespace,
        resourceName: object.name,
        canaryVersion: object.canaryWorkload,
        baselineVersion: object.baselineWorkload,
      },
      terms: {
        guardrails: terms.guardrails,
        ramp: terms.ramp,
        targetErrorRatePercent: deployment.slo.targetErrorRatePercent,
        rollbackPlan: contract.rollbackPlan,
      },
      state,
      history: [],
      lastIntervalEnd: at,
      stepStartIndex: 0,
      nextDueAt: ENGINE_NEVER_DUE,
      pendingCommands: [],
      ...(thread ? { report: { thread } } : {}),
      latestVerdict: null,
      latestReasons: [],
      latestChecks: [],
      log: [`${at.slice(11, 19)} ${ENGINE_LABEL[object.engine]} started ${object.namespace}/${object.name}`],
      createdAt: at,
      updatedAt: at,
    };
    // Two engine calls racing on two replicas create one rollout: the second answers the first one's.
    const { record: winner, created } = await this.options.repository.createIfNoneActive(record);
    if (!created) return winner;
    record.report = (await this.options.notifier.status(record, 'rollout started')) ?? record.report;
    await this.saveUnderLease(record.id, (held) => {
      held.report = record.report;
      return true;
    });
    await this.options.onStarted?.(contract, record);
    return record;
  }

  /**
   * Judges the interval since the last judgement. `trafficPercent` is the canary weight the engine reports
   * (Flagger sends it), used to find the ramp step whose minimum evidence applies.
   */
  async judge(record: RolloutRecord, trafficPercent?: number): Promise<EngineJudgement> {
    const stored = (r: RolloutRecord): EngineJudgement => ({
      record: r,
      verdict: r.latestVerdict ?? 'HOLD',
      reasons: r.latestVerdict ? r.latestReasons : ['no interval judged yet'],
      fresh: false,
    });
    if (TERMINAL.has(record.state.phase) || record.state.phase === 'rolling_back') return stored(record);
    const now = this.clock();
    const intervalMs = record.terms.ramp.analysisIntervalSeconds * 1000;
    if (now.getTime() - Date.parse(record.lastIntervalEnd) < intervalMs) return stored(record);

    let result: JudgeResult | undefined;
    const saved = await this.saveUnderLease(record.id, async (held) => {
      // Whole analysis intervals since the last judgement, on the same grid as the worker's (at most the last
      // MAX_CATCH_UP; a remainder waits for the next call).
      const last = Date.parse(held.lastIntervalEnd);
      const due = Math.floor((now.getTime() - last) / intervalMs);
      if (due < 1 || TERMINAL.has(held.state.phase) || held.state.phase === 'rolling_back') return false;
      let start = last + Math.max(0, due - MAX_CATCH_UP) * intervalMs;
      for (let i = 0; i < Math.min(due, MAX_CATCH_UP); i++) {
        const alertsBefore = held.state.phase === 'progressing' ? held.state.activeAlerts : [];
        const metrics = await this.fetch(held, new Date(start), new Date(start + intervalMs));
        result = this.judgeInterval(held, metrics, trafficPercent, now);
        await this.report(held, result, new Set(alertsBefore), now);
        start += intervalMs;
        if (result.verdict === 'FAIL') break;
      }
      return true;
    });
    if (!saved || !result) {
      return stored((await this.options.repository.get(record.id)) ?? record);
    }
    const judged = result as JudgeResult;
    return { record: saved, verdict: judged.verdict, reasons: judged.reasons, fresh: true };
  }

  /** The engine finished: promoted, or rolled back (by the engine, on the judge's FAIL or a person's request). */
  async finish(record: RolloutRecord, outcome: 'promoted' | 'rolled_back', reason: string): Promise<RolloutRecord> {
    if (TERMINAL.has(record.state.phase)) return record;
    const now = this.clock();
    const at = now.toISOString();
    const by = ENGINE_LABEL[record.engine ?? 'flagger'];
    const saved = await this.saveUnderLease(
      record.id,
      async (held) => {
        if (TERMINAL.has(held.state.phase)) return false;
        held.state = outcome === 'promoted' ? { phase: 'promoted', at, by } : { phase: 'rolled_back', at, reason, by };
        this.log(held, now, outcome === 'promoted' ? `${by} promoted the canary` : `${by} rolled back: ${reason}`);
        held.report = (await this.options.notifier.status(held, outcome)) ?? held.report;
        await this.options.notifier.alert(held, {
          severity: outcome === 'promoted' ? 'info' : 'critical',
          kind: outcome,
          message:
            outcome === 'promoted'
              ? `${by} promoted ${held.target.namespace}/${held.target.resourceName} (judge: ${held.latestVerdict ?? 'no verdict'})`
              : `${by} rolled back ${held.target.namespace}/${held.target.resourceName}: ${reason}`,
        });
        return true;
      },
      // Commands queued from chat (e.g. roll back now) are answered by the engine's end.
      'consume-commands',
    );
    if (!saved) return (await this.options.repository.get(record.id)) ?? record;
    this.options.onFinished?.(saved);
    return saved;
  }

  private async fetch(record: RolloutRecord, start: Date, end: Date): Promise<IntervalMetrics> {
    const provider = this.options.metricsFor(record.engine ?? 'flagger');
    const { target } = record;
    try {
      return await provider.fetchInterval({
        serviceName: target.serviceName,
        namespace: target.namespace,
        canaryVersion: target.canaryVersion,
        ...(target.baselineVersion ? { baselineVersion: target.baselineVersion } : {}),
        start,
        end,
      });
    } catch (error) {
      this.options.onWarning?.(record, error);
      await this.options.notifier.alert(record, {
        severity: 'warning',
        kind: 'metrics_unavailable',
        message: `metrics provider ${provider.name} failed (${error instanceof Error ? error.message : String(error)}); holding, never failing on missing data`,
      });
      return { start: start.toISOString(), end: end.toISOString(), canary: null, baseline: null };
    }
  }

  private judgeInterval(
    record: RolloutRecord,
    metrics: IntervalMetrics,
    trafficPercent: number | undefined,
    now: Date,
  ): JudgeResult {
    const steps = record.terms.ramp.steps.filter((s) => s.trafficPercent < 100);
    const previous = record.state.phase === 'progressing' ? record.state : undefined;
    const weight = trafficPercent ?? previous?.trafficPercent ?? steps[0]?.trafficPercent ?? 0;
    let stepIndex = 0;
    steps.forEach((s, i) => {
      if (s.trafficPercent <= weight) stepIndex = i;
    });
    const newStep = !previous || previous.stepIndex !== stepIndex;
    if (newStep && record.history.length > 0) record.stepStartIndex = record.history.length;
    record.history.push(metrics);
    record.lastIntervalEnd = metrics.end;
    // The one judge configuration the built-in guardian's worker, `chaos simulate` and `chaos replay` share.
    const judge = guardianJudgeConfiguration(record.terms, this.options.policy ? { policy: this.options.policy } : {});
    const result = judgeInterval({
      guardrails: judge.guardrails,
      step: {
        index: stepIndex,
        trafficPercent: weight,
        minRequests: steps[stepIndex]?.minRequests ?? 0,
        startIntervalIndex: record.stepStartIndex,
        nextTrafficPercent: steps[stepIndex + 1]?.trafficPercent ?? 100,
      },
      history: record.history,
      errorBudget: judge.errorBudget,
      limits: judge.limits,
      ...(record.judgeState ? { previous: record.judgeState } : {}),
      options: judge.options,
    });
    const at = now.toISOString();
    const canaryRequests = metrics.canary?.requests ?? 0;
    record.judgeState = result.state;
    record.latestVerdict = result.verdict;
    record.latestReasons = result.reasons;
    record.latestChecks = checksOf(result);
    record.state = {
      phase: 'progressing',
      stepIndex,
      trafficPercent: weight,
      stepStartedAt: newStep ? at : (previous?.stepStartedAt ?? at),
      deadlineFrom: newStep ? at : (previous?.deadlineFrom ?? at),
      stepRequests: (newStep ? 0 : (previous?.stepRequests ?? 0)) + canaryRequests,
      evaluations: (newStep ? 0 : (previous?.evaluations ?? 0)) + 1,
      lastVerdict: result.verdict,
      activeAlerts: result.alerts.map((a) => a.kind),
    };
    this.options.onVerdict?.(record, result);
    return result;
  }

  /** Posts the alerts that were not active at the previous judgement, the FAIL, and the status card. */
  private async report(record: RolloutRecord, result: JudgeResult, alertsBefore: Set<string>, now: Date) {
    for (const alert of result.alerts) {
      if (!alertsBefore.has(alert.kind)) await this.options.notifier.alert(record, alert);
    }
    const engine = ENGINE_LABEL[record.engine ?? 'flagger'];
    const weight = record.state.phase === 'progressing' ? record.state.trafficPercent : 0;
    this.log(
      record,
      now,
      `judged at ${weight} %: ${result.verdict}${result.reasons[0] ? ` — ${result.reasons[0]}` : ''}`,
    );
    if (result.verdict === 'FAIL') {
      const reason = result.reasons.slice(0, 3).join('; ') || 'the judge failed the canary';
      record.state = {
        phase: 'rolling_back',
        startedAt: now.toISOString(),
        reason,
        by: 'judge',
        endsAs: 'rolled_back',
      };
      await this.options.notifier.alert(record, {
        severity: 'critical',
        kind: 'judge_failed',
        message: `judge FAIL: ${reason}. ${engine} is told to roll back.`,
      });
    }
    record.report = (await this.options.notifier.status(record, `judged: ${result.verdict}`)) ?? record.report;
  }

  private log(record: RolloutRecord, now: Date, line: string): void {
    record.log = [...record.log, `${now.toISOString().slice(11, 19)} ${line}`].slice(-MAX_LOG_LINES);
  }

  /**
   * Claims the one record, lets `change` edit it (returning false leaves it unchanged), saves it under the lease and
   * releases it. Undefined when another call holds the lease or the change declined.
   */
  private async saveUnderLease(
    id: string,
    change: (record: RolloutRecord) => Promise<boolean | undefined> | boolean | undefined,
    commands: 'keep-commands' | 'consume-commands' = 'keep-commands',
  ): Promise<RolloutRecord | undefined> {
    const now = this.clock();
    const claim = await this.options.repository.claim(id, this.options.workerId, now, this.options.leaseMs ?? 30_000);
    if (!claim) return undefined;
    const { record, leaseToken } = claim;
    try {
      const changed = await change(record);
      if (changed === false) return undefined;
      record.updatedAt = now.toISOString();
      record.nextDueAt = ENGINE_NEVER_DUE;
      const consumed = commands === 'consume-commands' ? record.pendingCommands.length : 0;
      const ok = await this.options.repository.save(record, leaseToken, consumed);
      return ok
        ? { ...record, pendingCommands: commands === 'consume-commands' ? [] : record.pendingCommands }
        : undefined;
    } finally {
      await this.options.repository.release(id, leaseToken);
    }
  }
}

/**
 * Why the engine may not widen the canary yet although the judge passes it: the approved ramp's current step has
 * a minimum duration and a minimum of canary requests (the contract's terms), whoever moves the traffic.
 */
export function stepHold(record: RolloutRecord, now: Date): string | undefined {
  const state = record.state;
  if (state.phase !== 'progressing') return undefined;
  const step = record.terms.ramp.steps.filter((s) => s.trafficPercent < 100)[state.stepIndex];
  if (!step) return undefined;
  const elapsedSeconds = Math.floor((now.getTime() - Date.parse(state.stepStartedAt)) / 1000);
  if (elapsedSeconds < step.minDurationSeconds) {
    return `step ${state.stepIndex + 1} (${step.trafficPercent} %) has run ${elapsedSeconds} s of the contract's ${step.minDurationSeconds} s`;
  }
  if (state.stepRequests < step.minRequests) {
    return `step ${state.stepIndex + 1} (${step.trafficPercent} %) has served ${state.stepRequests} of the contract's ${step.minRequests} canary requests`;
  }
  return undefined;
}

function checksOf(result: JudgeResult): RolloutRecord['latestChecks'] {
  const status = { pass: 'pass', hold: 'hold', fail: 'fail', recovering: 'hold', suppressed: 'hold' } as const;
  return result.evidence
    .filter((e) => e.outcome !== 'not_applicable')
    .map((e) => ({ metric: e.metric, detail: e.message, status: status[e.outcome as keyof typeof status] ?? 'hold' }));
}
