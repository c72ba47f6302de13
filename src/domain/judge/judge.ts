/**
 * The rollout judge: one verdict per analysis interval (PASS / HOLD / FAIL) with the evidence behind it.
 *
 * Layers (each a small check with its own tests):
 * 1. absolute guardrails from the contract (guardrailChecks.ts),
 * 2. comparison with the concurrent baseline (baselineChecks.ts),
 * 3. the canary-scoped burn-rate kill switch (killSwitch.ts).
 *
 * How a failed check becomes a FAIL verdict (the flaky-metric rules):
 * - a check fails only when its evidence is statistically significant (window test at α split across the checks,
 *   or the rollout-long sequential test) AND the current interval itself breaches it; a significant window whose
 *   latest interval looks healthy is `recovering`, which counts for nothing;
 * - `persistence` is the number of consecutive most-recent intervals that individually breach the check. FAIL when a
 *   failing check's persistence reaches `consecutiveFailureLimit`: a single noisy interval never rolls back, because
 *   its persistence is 1, below any limit ≥ 2 (the default policy uses 2 or 3; a contract with limit 1 asks for
 *   single-interval rollbacks), while a regression present since the canary started is caught the moment the
 *   minimum evidence exists (its persistence already covers the whole evidence window). When only the rollout-long
 *   sequential test is significant, persistence also counts no more evaluations than the test has stayed across its
 *   boundary (context.ts `failingPersistence`): a healthy canary's chance excursion is not failed on the spot;
 * - FAIL when the number of intervals with a failing check reaches `cumulativeFailureLimit` (flapping regressions);
 * - FAIL at once when the kill switch fires (strong evidence of a fast burn, see killSwitch.ts);
 * - a latency guardrail on a quantile-only source is also failing when the reported quantile is above its threshold
 *   in at least two consecutive intervals after warm-up that hold its minimum requests (guardrailChecks.ts
 *   `reportedQuantileRun`); the run is its persistence, so the consecutive-failure limit applies as to any check;
 * - no single interval fails a check on its own (limit ≥ 2): a window test must stay significant without its most
 *   damning interval (guardrailChecks.ts), and one interval adds at most one boundary's worth of evidence to a
 *   sequential test, so from the floor the test needs at least two intervals to cross. A shared 5xx burst next to
 *   an interval that breaches the threshold by a hair is not "two intervals in a row", even at 100 % where no baseline
 *   is left to attribute the burst;
 * - no single interval decides a sequential test either, in either direction: it crosses its boundary, and accepts
 *   "not worse", only when the statistic without its most decisive interval does (context.ts `sequentialState`). One
 *   freak minute (a canary-only chance cluster of failures, or one interval in which a 2× worse canary happens to fail
 *   less than the baseline) can no longer roll a healthy canary back or carry a regressed one to 100 %.
 * Never FAIL on missing data: a check without enough requests or intervals HOLDs; an interval without canary data
 * has persistence 0. When the baseline breaches the same guardrail and the canary is not significantly worse than the
 * baseline, the canary's failure is attributed to a shared cause: `suppressed`, HOLD and a `shared_degradation`
 * alert, never a rollback. When the baseline's data is missing for one or two intervals while it should exist, canary
 * guardrail failures and the kill switch wait (HOLD) because attribution is impossible (`baselineBlind`). At 100 %,
 * where no concurrent baseline is left, the stable version's own intervals earlier in this rollout are the control:
 * a guardrail failure (or kill-switch burn) whose canary level is within `relativeMargin` of the worst shared incident
 * the stable version itself suffered in this rollout (`baselineIncident`) may be another such incident, so it is
 * `suppressed` with a `shared_degradation` alert (HOLD, a person decides); a breach beyond anything the stable
 * version showed still rolls back.
 *
 * Multiple testing: the fixed-window tests share `alpha` per interval (Bonferroni over the configured checks); the
 * sequential tests share `sequentialAlpha` over the whole rollout (anytime-valid by Ville's inequality, bounded to
 * [−boundary, 2·boundary] so old evidence neither masks nor outlives a change).
 *
 * PASS needs every guardrail to PASS (upper confidence bound below the threshold) and no baseline check failing,
 * recovering or significant. When passing may move the canary to 100 % (`step.nextTrafficPercent`, unknown counts
 * as yes), the comparison with the baseline ends for good, so each sequential baseline comparison that can run must
 * PASS in the strong sense: its test has accepted "not k× worse" (Wald's lower boundary at `passAlpha`; see
 * baselineChecks.ts). Until it decides, the step HOLDs — a 2× error regression under the absolute guardrail is
 * caught by the rollout-long test instead of being carried into the bake undecided. Earlier steps need only "not
 * significantly worse", since the test goes on at a larger share.
 *
 * Deterministic: no clock, no randomness; the state between intervals is explicit and replayable.
 */
import type { Guardrail } from '../model.js';
import {
  type BaselineEvidenceRules,
  baselineRules,
  canaryWorseOnErrors,
  checkRelativeErrorRate,
  checkRelativeLatencyDistribution,
  checkRelativeLatencyTail,
  errorIncident,
  relativeErrorLlr,
  relativeTailLlr,
} from './baselineChecks.js';
import { advanceSequential, type CheckContext, type CheckReport, pct } from './context.js';
import {
  baselineBreachesErrorRate,
  baselineBreachesLatency,
  canaryRunLevel,
  checkErrorRate,
  checkLatency,
  errorRateLlr,
  guardrailCheckId,
  latencyLlr,
  worstStableIncident,
} from './guardrailChecks.js';
import { type IntervalView, toViews } from './intervals.js';
import { checkKillSwitch } from './killSwitch.js';
import {
  type CheckId,
  type JudgeAlert,
  type JudgeInput,
  JudgeInputError,
  type JudgeOptions,
  type JudgeResult,
  type JudgeState,
  type Verdict,
} from './types.js';

export const DEFAULT_JUDGE_OPTIONS: Readonly<JudgeOptions> = Object.freeze({
  alpha: 0.001,
  passAlpha: 0.1,
  sequentialAlpha: 0.01,
  sequentialEffect: 2,
  relativeMargin: 1.5,
  distributionMargin: 0.05,
  tailQuantile: 0.95,
  killBurnRate: 14.4,
  killStrongBurnRate: 6,
  killAlpha: 0.01,
  killMinRequests: null,
  warmupIntervals: 0,
  defaultWindowSeconds: 300,
  evidenceBounds: true,
});

export const INITIAL_JUDGE_STATE: Readonly<JudgeState> = Object.freeze({
  intervalsJudged: 0,
  failedIntervals: 0,
  sequential: {},
  crossedRuns: {},
  sequentialWithoutOne: {},
});

/** Judges the last interval of `input.history`. */
export function judgeInterval(input: JudgeInput): JudgeResult {
  validate(input);
  const options = resolveOptions(input.options);
  const n = input.history.length;
  let previous = input.previous;
  if (previous) {
    if (previous.intervalsJudged !== n - 1) {
      throw new JudgeInputError(
        'judge_state_mismatch',
        `previous state covers ${previous.intervalsJudged} interval(s) but history has ${n} (expected ${n - 1} before the current one)`,
      );
    }
  } else {
    previous = rebuildState(input, options);
  }
  return judgeWithState(input, options, previous, true);
}

/** Judges every prefix of the history in order: the decision log of a whole rollout, replayed from its inputs. */
export function replayJudge(input: Omit<JudgeInput, 'previous'>): JudgeResult[] {
  validate({ ...input, history: input.history.length > 0 ? input.history : [intervalForValidationOnly()] });
  const options = resolveOptions(input.options);
  const results: JudgeResult[] = [];
  let state: JudgeState = INITIAL_JUDGE_STATE;
  for (let i = 1; i <= input.history.length; i++) {
    const r = judgeWithState({ ...input, history: input.history.slice(0, i) }, options, state, true);
    results.push(r);
    state = r.state;
  }
  return results;
}

function rebuildState(input: JudgeInput, options: JudgeOptions): JudgeState {
  let state: JudgeState = INITIAL_JUDGE_STATE;
  for (let i = 1; i < input.history.length; i++) {
    state = judgeWithState({ ...input, history: input.history.slice(0, i) }, options, state, false).state;
  }
  return state;
}

/** An empty replay has no interval; this one lets the guardrails, limits and budget still be validated. */
function intervalForValidationOnly() {
  return { start: '1970-01-01T00:00:00Z', end: '1970-01-01T00:01:00Z', canary: null, baseline: null };
}

function resolveOptions(partial: Partial<JudgeOptions> | undefined): JudgeOptions {
  const o: JudgeOptions = { ...DEFAULT_JUDGE_OPTIONS, ...(partial ?? {}) };
  const inUnit = (name: keyof JudgeOptions, v: number) => {
    if (!(v > 0 && v < 1)) throw new JudgeInputError('judge_invalid_limits', `options.${name} must be in (0, 1)`);
  };
  inUnit('alpha', o.alpha);
  inUnit('passAlpha', o.passAlpha);
  inUnit('sequentialAlpha', o.sequentialAlpha);
  inUnit('killAlpha', o.killAlpha);
  inUnit('tailQuantile', o.tailQuantile);
  if (!(o.sequentialEffect > 1))
    throw new JudgeInputError('judge_invalid_limits', 'options.sequentialEffect must be > 1');
  if (!(o.relativeMargin >= 1)) throw new JudgeInputError('judge_invalid_limits', 'options.relativeMargin must be ≥ 1');
  if (!(o.distributionMargin >= 0 && o.distributionMargin < 1)) {
    throw new JudgeInputError('judge_invalid_limits', 'options.distributionMargin must be in [0, 1)');
  }
  if (!(o.killBurnRate > 0 && o.killStrongBurnRate > 0)) {
    throw new JudgeInputError('judge_invalid_limits', 'options.killBurnRate and killStrongBurnRate must be > 0');
  }
  if (!(Number.isInteger(o.warmupIntervals) && o.warmupIntervals >= 0)) {
    throw new JudgeInputError('judge_invalid_limits', 'options.warmupIntervals must be a non-negative integer');
  }
  return o;
}

function validate(input: JudgeInput): void {
  if (input.history.length === 0) {
    throw new JudgeInputError('judge_empty_history', 'history must contain at least the current interval');
  }
  const { consecutiveFailureLimit: c, cumulativeFailureLimit: k } = input.limits;
  if (!Number.isInteger(c) || c < 1 || !Number.isInteger(k) || k < 1) {
    throw new JudgeInputError(
      'judge_invalid_limits',
      `limits.consecutiveFailureLimit and cumulativeFailureLimit must be integers ≥ 1 (got ${c}, ${k})`,
    );
  }
  const target = input.errorBudget.targetErrorRatePercent;
  if (!(target > 0 && target < 100)) {
    throw new JudgeInputError(
      'judge_invalid_budget',
      `errorBudget.targetErrorRatePercent must be in (0, 100) (got ${target})`,
    );
  }
  const last = input.history[input.history.length - 1];
  const lengthMs = last ? Date.parse(last.end) - Date.parse(last.start) : Number.NaN;
  const intervalSeconds = Number.isFinite(lengthMs) && lengthMs > 0 ? lengthMs / 1000 : null;
  input.guardrails.forEach((g, i) => {
    const bad = (why: string) =>
      new JudgeInputError('judge_invalid_guardrail', `guardrails[${i}] (${g.metric}): ${why}`);
    if (!(g.threshold > 0)) throw bad('threshold must be > 0');
    if (g.metric === 'error_rate' && !(g.threshold < 100)) throw bad('an error-rate threshold must be < 100 %');
    if (!(g.windowSeconds > 0)) throw bad('windowSeconds must be > 0');
    if (!(g.minimumEvidence.minRequests >= 0) || !(g.minimumEvidence.minIntervals >= 1)) {
      throw bad('minimumEvidence needs minRequests ≥ 0 and minIntervals ≥ 1');
    }
    // A window that cannot hold the minimum number of intervals could never gather evidence: every interval HOLDs.
    if (intervalSeconds !== null && g.windowSeconds < g.minimumEvidence.minIntervals * intervalSeconds) {
      throw bad(
        `windowSeconds ${g.windowSeconds} cannot hold minimumEvidence.minIntervals ${g.minimumEvidence.minIntervals} intervals of ${intervalSeconds} s; widen it to at least ${g.minimumEvidence.minIntervals * intervalSeconds} s (guardianJudgeConfiguration does)`,
      );
    }
  });
  const seen = new Set<string>();
  for (const g of input.guardrails) {
    if (seen.has(g.metric)) {
      throw new JudgeInputError('judge_invalid_guardrail', `more than one guardrail for ${g.metric}`);
    }
    seen.add(g.metric);
  }
}

/**
 * The baseline should be there (traffic below 100 %) but its data is missing in the current interval and at most the
 * one before: a telemetry gap, or a baseline query that has not returned yet at the start. Canary guardrail failures
 * and the kill switch wait rather than act, since a shared outage cannot be told apart without it. Longer gaps are
 * treated as "no baseline" (absolute guardrails alone), so a provider that lost the baseline for good cannot block a
 * rollback for more than two intervals.
 */
export function baselineBlind(views: readonly IntervalView[], trafficPercent: number): boolean {
  if (trafficPercent >= 100) return false;
  const current = views[views.length - 1];
  if (!current || current.baseline !== null || current.canary === null) return false;
  let missing = 0;
  for (let i = views.length - 1; i >= 0 && (views[i] as IntervalView).baseline === null; i--) missing++;
  return missing <= 2;
}

interface SequentialSpec {
  id: CheckId;
  llr: (v: IntervalView) => number | null;
}

function sequentialSpecs(guardrails: readonly Guardrail[], o: JudgeOptions, alpha: number): SequentialSpec[] {
  const specs: SequentialSpec[] = [];
  const incident = errorIncident(baselineRules(guardrails, 'errors', o.defaultWindowSeconds), alpha);
  for (const g of guardrails) {
    specs.push({
      id: guardrailCheckId(g),
      llr:
        g.metric === 'error_rate'
          ? (v) => errorRateLlr(g, o.sequentialEffect, alpha, v)
          : (v) => latencyLlr(g, o.sequentialEffect, alpha, v),
    });
  }
  specs.push({ id: 'baseline:error_rate', llr: (v) => relativeErrorLlr(o.sequentialEffect, v, incident) });
  specs.push({ id: 'baseline:latency_tail', llr: (v) => relativeTailLlr(o.sequentialEffect, o.tailQuantile, v) });
  return specs;
}

function judgeWithState(
  input: JudgeInput,
  options: JudgeOptions,
  previous: JudgeState,
  computeBounds: boolean,
): JudgeResult {
  const views = toViews(input.history, options.warmupIntervals);
  const current = views[views.length - 1] as IntervalView;
  const guardrails = input.guardrails;
  const windowTests = guardrails.length + 3;
  const specs = sequentialSpecs(guardrails, options, options.alpha / windowTests);
  const boundary = Math.log(specs.length / options.sequentialAlpha);

  // Sequential statistics, kept within [−boundary, 2·boundary]. The floor stops a long healthy stretch from masking a
  // later regression by more than one boundary's worth of evidence: from the floor the test must climb 2·boundary,
  // so each restart adds at most e^(−2·boundary) of false-alarm probability (Ville's inequality). The ceiling lets
  // the test come back below the boundary within an interval or two once the canary is healthy again; evidence
  // beyond it would only delay that, never change a decision already taken. One interval adds at most one boundary:
  // a burst alone cannot lift the test from the floor across the boundary. Truncating a likelihood-ratio factor
  // keeps its expectation ≤ 1 under the null, so Ville's bound still holds.
  // Each test also keeps the statistic with its most decisive interval left out (context.ts `advanceSequential`):
  // crossing and accepting are decided on that (no single interval decides, in either direction).
  const sequential: Partial<Record<CheckId, number>> = { ...previous.sequential };
  const withoutOne: Partial<Record<CheckId, { low: number; high: number }>> = { ...previous.sequentialWithoutOne };
  const crossedRuns: Partial<Record<CheckId, number>> = {};
  for (const spec of specs) {
    const llr = spec.llr(current);
    if (llr !== null && Number.isFinite(llr)) {
      const value = sequential[spec.id];
      // A state saved before the leave-one-out statistics existed carries only the full one: start them from it.
      const stepped = advanceSequential(
        value === undefined ? null : { value, ...(withoutOne[spec.id] ?? { low: value, high: value }) },
        llr,
        boundary,
      );
      sequential[spec.id] = stepped.value;
      withoutOne[spec.id] = { low: stepped.low, high: stepped.high };
    }
    const crossed = (withoutOne[spec.id]?.low ?? sequential[spec.id] ?? 0) >= boundary;
    crossedRuns[spec.id] = crossed ? (previous.crossedRuns?.[spec.id] ?? 0) + 1 : 0;
  }
  const next = input.step.nextTrafficPercent;

  const ctx: CheckContext = {
    views,
    current,
    options,
    alphaPerCheck: options.alpha / windowTests,
    sequentialBoundary: boundary,
    sequential,
    sequentialWithoutOne: withoutOne,
    crossedRuns,
    stepStartIndex:
      input.step.startIntervalIndex !== undefined && input.step.startIntervalIndex >= 0
        ? input.step.startIntervalIndex
        : null,
    baselineEnds: input.step.trafficPercent < 100 && !(next !== undefined && next < 100),
    consecutiveFailureLimit: input.limits.consecutiveFailureLimit,
    budgetFraction: input.errorBudget.targetErrorRatePercent / 100,
    computeBounds: computeBounds && options.evidenceBounds,
  };

  const errorGuardrail = guardrails.find((g) => g.metric === 'error_rate');
  const errorRules = baselineRules(guardrails, 'errors', options.defaultWindowSeconds);
  const latencyRules: BaselineEvidenceRules = baselineRules(guardrails, 'latency', options.defaultWindowSeconds);

  const guardrailReports = guardrails.map((g) =>
    g.metric === 'error_rate' ? checkErrorRate(ctx, g) : checkLatency(ctx, g),
  );
  const relError = checkRelativeErrorRate(ctx, errorRules);
  const relTail = checkRelativeLatencyTail(ctx, latencyRules);
  const relDist = checkRelativeLatencyDistribution(ctx, latencyRules);
  const budget = ctx.budgetFraction;
  const blind = baselineBlind(views, input.step.trafficPercent);
  const kill = checkKillSwitch(ctx, errorGuardrail, budget, blind);

  // Attribution: a canary breach the baseline shares (and the canary is not significantly worse) is not the canary's.
  const alerts: JudgeAlert[] = [];
  const sharedMessages: string[] = [];
  const errorsShared =
    errorGuardrail !== undefined &&
    baselineBreachesErrorRate(ctx, errorGuardrail) &&
    !canaryWorseOnErrors(ctx, errorRules);
  const latencyCanaryWorse = relTail.significant || relDist.significant;
  guardrails.forEach((g, i) => {
    const report = guardrailReports[i] as CheckReport;
    const shared = g.metric === 'error_rate' ? errorsShared : !latencyCanaryWorse && baselineBreachesLatency(ctx, g);
    if (!shared) return;
    sharedMessages.push(
      `${g.metric} (baseline ${report.evidence.baseline ?? 'n/a'}, canary ${report.evidence.observed ?? 'n/a'} ${report.evidence.unit})`,
    );
    if (report.evidence.outcome === 'fail' || report.evidence.outcome === 'recovering') {
      report.evidence.outcome = 'suppressed';
      report.evidence.message = `${report.evidence.message} — the baseline breaches it too and the canary is not significantly worse: shared cause, not rolled back`;
    }
  });
  if (blind) {
    for (const r of guardrailReports) {
      if (r.evidence.outcome !== 'fail') continue;
      r.evidence.outcome = 'hold';
      r.evidence.message = `${r.evidence.message} — but the baseline's data is missing this interval, so a shared cause cannot be ruled out: waiting for it`;
    }
  }
  // At 100 % no concurrent baseline is left, so the stable version's own intervals earlier in this rollout are the
  // control: a breach no worse (within relativeMargin) than a shared incident the stable version itself suffered in
  // this rollout may be another one, and attribution is impossible — HOLD and alert, never a rollback. A breach
  // beyond anything the stable version showed is still the canary's.
  const noConcurrentBaseline = input.step.trafficPercent >= 100 && current.baseline === null;
  const historicalMessages: string[] = [];
  const withinStableHistory = (g: Guardrail, run: number): string | null => {
    if (!noConcurrentBaseline) return null;
    const incident = worstStableIncident(g, views, ctx.alphaPerCheck);
    if (!incident) return null;
    const canary = canaryRunLevel(g, views, run);
    if (canary === null || canary > options.relativeMargin * incident.level) return null;
    const what = g.metric === 'error_rate' ? 'error rate' : `share slower than ${g.threshold} ms`;
    return `${g.metric}: canary ${what} ${pct(canary)} is within ${options.relativeMargin}× of the ${pct(incident.level)} the stable version itself reached in interval ${incident.index} of this rollout (a shared incident)`;
  };
  guardrails.forEach((g, i) => {
    const report = guardrailReports[i] as CheckReport;
    if (report.evidence.outcome !== 'fail') return;
    const why = withinStableHistory(g, report.evidence.persistence);
    if (why === null) return;
    historicalMessages.push(why);
    report.evidence.outcome = 'suppressed';
    report.evidence.message = `${report.evidence.message} — no concurrent baseline at 100 %, and ${why}: possibly shared, not rolled back`;
  });
  let killFired = kill.fired;
  if (killFired && errorsShared) {
    killFired = false;
    kill.report.evidence.outcome = 'suppressed';
    kill.report.evidence.message = `${kill.report.evidence.message} — the baseline burns too: shared cause, not rolled back`;
  }
  if (killFired && errorGuardrail) {
    const why = withinStableHistory(errorGuardrail, kill.report.evidence.persistence);
    if (why !== null) {
      killFired = false;
      historicalMessages.push(why);
      kill.report.evidence.outcome = 'suppressed';
      kill.report.evidence.message = `${kill.report.evidence.message} — no concurrent baseline at 100 %, and ${why}: possibly shared, not rolled back`;
    }
  }
  if (historicalMessages.length > 0) {
    alerts.push({
      kind: 'shared_degradation',
      severity: 'warning',
      message: `no concurrent baseline is left at 100 % and the degradation is no worse than one the stable version itself suffered earlier in this rollout (${[...new Set(historicalMessages)].join('; ')}): possibly a shared dependency or platform issue; holding the rollout, not rolling back — a person should check before promoting or rolling back`,
    });
  }
  if (sharedMessages.length > 0) {
    alerts.push({
      kind: 'shared_degradation',
      severity: 'warning',
      message: `baseline and canary degrade together on ${sharedMessages.join(', ')}: likely a shared dependency or platform issue; holding the rollout, not rolling back`,
    });
  }

  const reports: CheckReport[] = [...guardrailReports, relError, relTail, relDist, kill.report];
  const failing = reports.filter((r) => r.kind !== 'kill_switch' && r.evidence.outcome === 'fail');
  const consecutive = failing.reduce((m, r) => Math.max(m, r.evidence.persistence), 0);
  const cumulative = previous.failedIntervals + (failing.length > 0 ? 1 : 0);
  const { consecutiveFailureLimit, cumulativeFailureLimit } = input.limits;

  const reasons: string[] = [];
  let verdict: Verdict;
  if (killFired) {
    verdict = 'FAIL';
    reasons.push(`kill switch: ${kill.report.evidence.message}`);
  }
  const byPersistence = failing.filter((r) => r.evidence.persistence >= consecutiveFailureLimit);
  for (const r of byPersistence) reasons.push(`${r.evidence.message} (limit ${consecutiveFailureLimit} in a row)`);
  if (cumulative >= cumulativeFailureLimit) {
    reasons.push(
      `${cumulative} interval(s) with a failed check in this rollout (cumulative limit ${cumulativeFailureLimit})`,
    );
  }
  if (killFired || byPersistence.length > 0 || cumulative >= cumulativeFailureLimit) {
    verdict = 'FAIL';
  } else {
    const guardrailsPass = guardrailReports.every((r) => r.evidence.outcome === 'pass');
    // Only the sequential comparisons can accept "not worse" over the rollout; the distribution test is window-only.
    const sequentialComparisons = [relError, relTail];
    const baselineClear =
      [relError, relTail, relDist].every(
        (r) => r.evidence.outcome !== 'fail' && r.evidence.outcome !== 'recovering' && !r.significant,
      ) &&
      (!ctx.baselineEnds ||
        sequentialComparisons.every((r) => r.evidence.outcome === 'pass' || r.evidence.outcome === 'not_applicable'));
    const anythingChecked =
      guardrails.length > 0 || [relError, relTail, relDist].some((r) => r.evidence.outcome === 'pass');
    verdict = guardrailsPass && baselineClear && anythingChecked ? 'PASS' : 'HOLD';
    if (verdict === 'PASS') {
      reasons.push('every guardrail is met with confidence and the canary is not worse than the baseline');
    } else {
      for (const r of reports) {
        const o = r.evidence.outcome;
        if (r.kind === 'kill_switch' && o !== 'suppressed') continue;
        if (o === 'pass' || o === 'not_applicable') continue;
        reasons.push(r.evidence.message);
      }
      if (reasons.length === 0) reasons.push('no guardrail could be evaluated');
    }
  }

  if (killFired) {
    alerts.push({ kind: 'kill_switch', severity: 'critical', message: kill.report.evidence.message });
  }
  if (failing.length > 0 && verdict !== 'FAIL') {
    alerts.push({
      kind: 'guardrail_failing',
      severity: 'warning',
      message: `${failing.map((r) => r.evidence.check).join(', ')} failing (${consecutive}/${consecutiveFailureLimit} in a row, ${cumulative}/${cumulativeFailureLimit} in this rollout): watching before rolling back`,
    });
  }
  if (!current.canary) {
    alerts.push({
      kind: 'no_canary_data',
      severity: 'warning',
      message: `no canary data for ${input.history[input.history.length - 1]?.start} → ${input.history[input.history.length - 1]?.end}: holding (missing data never rolls back); check the metric provider or whether the canary receives traffic`,
    });
  } else if (!current.baseline && input.step.trafficPercent < 100) {
    alerts.push({
      kind: 'no_baseline_data',
      severity: 'info',
      message: 'no baseline data this interval: judging on absolute guardrails only',
    });
  }
  const judged = views.filter((v) => !v.warmup).length;
  const starved = guardrails.filter((g, i) => {
    const r = guardrailReports[i] as CheckReport;
    return (
      r.evidence.outcome === 'hold' &&
      r.evidence.message.includes('gathering evidence') &&
      judged >= 2 * g.minimumEvidence.minIntervals
    );
  });
  if (starved.length > 0 && current.canary) {
    alerts.push({
      kind: 'insufficient_traffic',
      severity: 'info',
      message: `too little canary traffic to judge ${starved.map((g) => g.metric).join(', ')} yet (${current.canary.requests} requests this interval at ${input.step.trafficPercent} %): holding until the minimum evidence exists`,
    });
  }

  return {
    verdict,
    reasons,
    evidence: reports.map((r) => r.evidence),
    alerts,
    killSwitch: killFired,
    failures: {
      consecutive,
      cumulative,
      consecutiveLimit: consecutiveFailureLimit,
      cumulativeLimit: cumulativeFailureLimit,
    },
    intervalIndex: current.index,
    state: {
      intervalsJudged: views.length,
      failedIntervals: cumulative,
      sequential,
      crossedRuns,
      sequentialWithoutOne: withoutOne,
    },
  };
}
