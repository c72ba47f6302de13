/**
 * The guardian's one judge configuration: everything `judgeInterval` needs besides the history and the step, derived
 * from the rollout's approved terms, the analysis interval and the policy. Production (the rollout worker built by
 * src/app/guardian.ts), `chaos simulate`, `chaos replay` and every benchmark call this function, so what is measured
 * is what runs.
 *
 *   guardianJudgeConfiguration(terms, { intervalSeconds?, policy? }) → { guardrails, limits, errorBudget, options }
 *
 * - `terms`: the rollout's terms (guardrails, ramp, the service's target error rate), as the worker stores them.
 * - `intervalSeconds`: the analysis interval the series is judged at; default `terms.ramp.analysisIntervalSeconds`
 *   (`chaos replay --interval` passes the spacing of its rows).
 * - `policy`: the policy the contract was drafted under; default DEFAULT_POLICY. It gives the default window.
 *
 * What is derived, and why:
 * - cold start: the first `COLD_START_SECONDS` of the rollout (a new version's first minute: JIT, caches, connection
 *   pools) are warm-up for every check except the kill switch, whatever the interval: ⌈60 s / interval⌉ intervals;
 * - windows: a guardrail's window must hold its minimum number of intervals (`minimumEvidence.minIntervals`), or the
 *   check could never gather evidence; a window shorter than that is widened to minIntervals × interval here, and the
 *   judge refuses one that is not (judge.ts `validate`);
 * - limits come from the ramp (the contract's consecutive and cumulative failure limits), the error budget from the
 *   service's SLO;
 * - statistical settings (test levels, kill-switch burn rates) are the judge's defaults: one configuration for every
 *   service and interval, never tuned per scenario or data set.
 */

import type { Guardrail, RampSchedule } from '../model.js';
import { DEFAULT_POLICY, type Policy } from '../policy.js';
import { planRollout, type RolloutPlan } from '../rollout/plan.js';
import { DEFAULT_JUDGE_OPTIONS } from './judge.js';
import { requestsBeforeFirstPass, type ServiceToday } from './passEvidence.js';
import { JudgeInputError, type JudgeOptions } from './types.js';

/** A new version's cold start: left out of every check except the kill switch. */
export const COLD_START_SECONDS = 60;

/** The part of a rollout's terms the judge depends on (the worker's RolloutTermsSnapshot has them). */
export interface GuardianJudgeTerms {
  guardrails: readonly Guardrail[];
  ramp: Pick<RampSchedule, 'analysisIntervalSeconds' | 'consecutiveFailureLimit' | 'cumulativeFailureLimit'>;
  targetErrorRatePercent: number;
}

export interface GuardianJudgeConfiguration {
  /** The contract's guardrails, each window widened to hold at least its minimum number of intervals. */
  guardrails: Guardrail[];
  limits: { consecutiveFailureLimit: number; cumulativeFailureLimit: number };
  errorBudget: { targetErrorRatePercent: number };
  options: JudgeOptions;
  intervalSeconds: number;
}

export function guardianJudgeConfiguration(
  terms: GuardianJudgeTerms,
  context: { intervalSeconds?: number; policy?: Policy } = {},
): GuardianJudgeConfiguration {
  const intervalSeconds = context.intervalSeconds ?? terms.ramp.analysisIntervalSeconds;
  if (!(Number.isFinite(intervalSeconds) && intervalSeconds > 0)) {
    throw new JudgeInputError(
      'judge_invalid_limits',
      `the analysis interval must be a positive number of seconds (got ${intervalSeconds})`,
    );
  }
  const policy = context.policy ?? DEFAULT_POLICY;
  const guardrails = terms.guardrails.map((g) => ({
    ...g,
    windowSeconds: Math.max(g.windowSeconds, windowHolding(g.minimumEvidence.minIntervals, intervalSeconds)),
  }));
  const minIntervals = Math.max(1, ...terms.guardrails.map((g) => g.minimumEvidence.minIntervals));
  const options: JudgeOptions = {
    ...DEFAULT_JUDGE_OPTIONS,
    warmupIntervals: Math.ceil(COLD_START_SECONDS / intervalSeconds),
    defaultWindowSeconds: Math.max(policy.guardrailWindowSeconds, windowHolding(minIntervals, intervalSeconds)),
  };
  return {
    guardrails,
    limits: {
      consecutiveFailureLimit: terms.ramp.consecutiveFailureLimit,
      cumulativeFailureLimit: terms.ramp.cumulativeFailureLimit,
    },
    errorBudget: { targetErrorRatePercent: terms.targetErrorRatePercent },
    options,
    intervalSeconds,
  };
}

/** The shortest window that holds `intervals` whole intervals. */
export function windowHolding(intervals: number, intervalSeconds: number): number {
  return intervals * intervalSeconds;
}

/**
 * The rollout's planned time under the guardian's configuration (rollout/plan.ts): the warm-up and evidence windows
 * this configuration needs before the first PASS, the requests a canary as healthy as `today` needs for that PASS
 * (judge/passEvidence.ts, at this configuration's passAlpha and the policy's power), each step's minimum requests at
 * the canary's rate, whole intervals. `serviceQps` is the service's request rate (the contract's current qps; unknown
 * or 0: requests add no time). The canary serves its step's share of it, except when `canaryServesAllTraffic` (a
 * replay: the recorded rows are the canary's metrics whatever weight the guardian chose). Without `today` (a rollout
 * stored before the plan knew it) only the minimum requests count.
 */
export function guardianRolloutPlan(
  terms: GuardianJudgeTerms & { ramp: Pick<RampSchedule, 'steps' | 'bakeTimeSeconds'> },
  context: {
    intervalSeconds?: number;
    policy?: Policy;
    serviceQps?: number;
    today?: ServiceToday;
    canaryServesAllTraffic?: boolean;
  } = {},
): RolloutPlan {
  const configuration = guardianJudgeConfiguration(terms, context);
  const qps = context.serviceQps ?? 0;
  const policy = context.policy ?? DEFAULT_POLICY;
  const firstPassRequests = context.today
    ? requestsBeforeFirstPass(configuration.guardrails, context.today, {
        passAlpha: configuration.options.passAlpha,
        power: policy.canaryEvidence.power,
      })
    : null;
  return planRollout({
    ramp: { ...terms.ramp, analysisIntervalSeconds: configuration.intervalSeconds },
    warmupIntervals: configuration.options.warmupIntervals,
    evidenceIntervals: Math.max(1, ...configuration.guardrails.map((g) => g.minimumEvidence.minIntervals)),
    canaryRequestsPerSecond: (percent) =>
      qps > 0 ? (context.canaryServesAllTraffic ? qps : (qps * percent) / 100) : null,
    firstPassRequests,
  });
}
