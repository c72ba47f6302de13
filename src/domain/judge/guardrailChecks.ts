/**
 * Absolute guardrails from the contract, with minimum evidence.
 *
 * Error rate: exact one-sided binomial tests. FAIL needs the Clopper–Pearson lower bound over the guardrail window to
 * exceed the threshold (equivalently P(X ≥ x | threshold) ≤ α) or the rollout-long sequential test (SPRT of
 * p = threshold against p = k × threshold) to cross; PASS needs the upper bound (at 1 − passAlpha) over the guardrail
 * window or over the step so far, whichever is more conclusive, to be below the threshold, with the recent window's
 * rate below it too. Intervals in which the baseline alone breaches the threshold (a shared incident) are left out of
 * the PASS evidence and of the sequential test. Anything else is HOLD.
 *
 * No single interval fails a guardrail on its own (when the contract's consecutive-failure limit is 2 or more): the
 * window test must stay significant without its most damning interval. Persistence alone does not guarantee this — a
 * 5xx burst can make the window significant while the next interval breaches the threshold by a hair (0.31 % against
 * 0.3 %), and at 100 % traffic no baseline is left to attribute the burst to a shared cause.
 *
 * Latency pXX < T is the same question about a proportion: "fewer than (1 − XX %) of requests are slower than T".
 * The judge counts slow requests per interval (latencyEvidence.ts: from the histogram, certainly slower to FAIL and
 * interpolated in the bucket to PASS; or, for quantile-only sources, read off the reported p50/p95/p99), pools them
 * over the window (or the step, to PASS) and runs the same binomial and sequential tests as for errors. A conclusive
 * pooled window decides without every interval agreeing; no single interval decides (see below). A quantile-only
 * source also fails when its reported quantile is above the threshold in consecutive intervals (`reportedQuantileRun`:
 * the measured figure itself, since the count read off it is an interpolation and real intervals vary far more than
 * request sampling).
 */
import type { Guardrail } from '../model.js';
import {
  type CheckContext,
  type CheckReport,
  decide,
  failingPersistence,
  passViews,
  round,
  sequentialState,
} from './context.js';
import {
  bernoulliLogLikelihoodRatio,
  binomialLowerTail,
  binomialUpperTail,
  clopperPearsonLower,
  clopperPearsonUpper,
} from './distributions.js';
import { histogramQuantile } from './histogram.js';
import { type Aggregate, aggregate, type IntervalView, persistence, windowAtLeast, windowViews } from './intervals.js';
import {
  certainCount,
  type PooledSlowCount,
  pooledQuantile,
  pooledSlowCount,
  possibleCount,
  slowCount,
} from './latencyEvidence.js';
import type { CheckId, EvidenceItem } from './types.js';

export function guardrailCheckId(g: Guardrail): CheckId {
  return `guardrail:${g.metric}`;
}

export function quantileOf(g: Guardrail): number {
  return g.metric === 'latency_p99' ? 0.99 : 0.95;
}

// ---------------------------------------------------------------------------------------------------------------
// No single interval decides

interface Count {
  x: number;
  n: number;
}

/**
 * P(X ≥ x | p0) of the evidence without its most damning interval: the largest of the leave-one-out p-values (1 when
 * fewer than two intervals remain to stand on).
 */
export function withoutWorstIntervalPValue(counts: readonly Count[], p0: number): number {
  if (counts.length < 2) return 1;
  const x = counts.reduce((a, c) => a + c.x, 0);
  const n = counts.reduce((a, c) => a + c.n, 0);
  let worst = 0;
  for (const c of counts) worst = Math.max(worst, binomialUpperTail(x - c.x, n - c.n, p0));
  return worst;
}

/**
 * Is the window's significance robust to dropping any one interval? The evidence set is the guardrail window,
 * extended backwards to two intervals with data when the window is a single interval, so a one-interval window
 * still needs a second significant interval. A contract with a consecutive-failure limit of 1 asks for
 * single-interval rollbacks and skips this.
 */
function robustToOneInterval(
  ctx: CheckContext,
  g: Guardrail,
  count: (v: IntervalView) => Count | null,
  p0: number,
): boolean {
  if (ctx.consecutiveFailureLimit < 2) return true;
  const views = windowAtLeast(ctx.views, g.windowSeconds, 2, (v) => count(v) !== null);
  const counts = views.map(count).filter((c): c is Count => c !== null);
  return withoutWorstIntervalPValue(counts, p0) <= ctx.alphaPerCheck;
}

// ---------------------------------------------------------------------------------------------------------------
// Error rate

/**
 * A shared incident in interval `v` for guardrail `g`: the baseline alone is significantly beyond the threshold in
 * that interval. Such intervals say nothing about the canary, so they are left out of the canary's sequential test
 * and of its PASS evidence (never out of the FAIL window, where attribution decides). The rule looks only at the
 * baseline, so leaving intervals out cannot bias the canary's evidence either way.
 */
export function baselineIncident(g: Guardrail, v: IntervalView, alpha: number): boolean {
  const b = v.baseline;
  if (!b) return false;
  if (g.metric === 'error_rate') return binomialUpperTail(b.failures, b.requests, g.threshold / 100) <= alpha;
  const slow = slowCount(b, g.threshold);
  return slow !== null && binomialUpperTail(certainCount(slow), slow.n, 1 - quantileOf(g)) <= alpha;
}

/** A version's level against guardrail `g` in one interval: its error rate, or its share slower than the threshold. */
function breachLevel(g: Guardrail, s: IntervalView['canary']): number | null {
  if (!s) return null;
  if (g.metric === 'error_rate') return s.failures / s.requests;
  const slow = slowCount(s, g.threshold);
  return slow ? slow.certain / slow.n : null;
}

export interface StableIncident {
  /** History index of the stable version's worst shared-incident interval. */
  index: number;
  /** Its level (error rate, or share slower than the threshold) as a fraction. */
  level: number;
}

/**
 * The stable version's worst breach of `g` earlier in this rollout, while it still served traffic: among the intervals
 * in which it alone was significantly beyond the threshold (`baselineIncident`, a shared incident it suffered), the
 * one with the highest level; null when it had none. Warm-up intervals count: the stable version has no cold start.
 */
export function worstStableIncident(
  g: Guardrail,
  views: readonly IntervalView[],
  alpha: number,
): StableIncident | null {
  let worst: StableIncident | null = null;
  for (const v of views) {
    if (!baselineIncident(g, v, alpha)) continue;
    const level = breachLevel(g, v.baseline);
    if (level !== null && (worst === null || level > worst.level)) worst = { index: v.index, level };
  }
  return worst;
}

/**
 * The canary's worst level over its `run` most recent intervals with data (at least the current one): what a
 * failing run of the guardrail consists of.
 */
export function canaryRunLevel(g: Guardrail, views: readonly IntervalView[], run: number): number | null {
  let worst: number | null = null;
  let seen = 0;
  for (let i = views.length - 1; i >= 0 && seen < Math.max(1, run); i--) {
    const level = breachLevel(g, (views[i] as IntervalView).canary);
    if (level === null) continue;
    seen++;
    if (worst === null || level > worst) worst = level;
  }
  return worst;
}

/** The interval's contribution to the sequential test, or null when it carries no canary evidence. */
export function errorRateLlr(g: Guardrail, effect: number, alpha: number, v: IntervalView): number | null {
  if (!v.canary || v.warmup || baselineIncident(g, v, alpha)) return null;
  const p0 = g.threshold / 100;
  const p1 = Math.min(0.999, p0 * effect);
  return bernoulliLogLikelihoodRatio(v.canary.failures, v.canary.requests, p0, p1);
}

export function checkErrorRate(ctx: CheckContext, g: Guardrail): CheckReport {
  const id = guardrailCheckId(g);
  const threshold = g.threshold / 100;
  const { minRequests, minIntervals } = g.minimumEvidence;
  const win = windowViews(ctx.views, g.windowSeconds);
  const w = aggregate(win, 'canary');
  const all = aggregate(
    ctx.views.filter((v) => !v.warmup),
    'canary',
  );
  const gateWindow = w.requests >= minRequests && w.intervals >= minIntervals;
  const gateAll = all.requests >= minRequests && all.intervals >= minIntervals;
  const pWindow = gateWindow ? binomialUpperTail(w.failures, w.requests, threshold) : null;
  const seq = sequentialState(ctx, id, gateAll);
  const windowBreached = pWindow !== null && pWindow <= ctx.alphaPerCheck;
  const windowSignificant =
    windowBreached &&
    robustToOneInterval(ctx, g, (v) => (v.canary ? { x: v.canary.failures, n: v.canary.requests } : null), threshold);
  const significant = windowSignificant || seq.crossed;
  const breaches = persistence(ctx.views, (v) => (v.canary ? v.canary.failures / v.canary.requests > threshold : null));
  const run = failingPersistence(ctx, id, breaches, windowSignificant);

  // PASS evidence: the guardrail window or the whole step so far (whichever is more conclusive), without
  // shared-incident intervals; the recent window must also sit below the threshold.
  const windowRate = w.requests > 0 ? w.failures / w.requests : null;
  const own = aggregate(ownViews(ctx, g, win), 'canary');
  const ownRate = own.requests > 0 ? own.failures / own.requests : null;
  const passTest = (a: Aggregate) =>
    a.requests >= minRequests && a.intervals >= minIntervals
      ? binomialLowerTail(a.failures, a.requests, threshold)
      : null;
  const stepSet = aggregate(ownViews(ctx, g, passViews(ctx, win)), 'canary');
  const [ps, pPass] = bestPassSet([own, passTest(own)], [stepSet, passTest(stepSet)]);
  // A window significantly above the threshold is never a PASS, even when a single interval makes it so.
  const passes =
    !windowBreached && pPass !== null && pPass <= ctx.options.passAlpha && ownRate !== null && ownRate <= threshold;

  const outcome = decide({ gateOpen: gateWindow || gateAll, significant, persistence: run, passes });
  const baseline = aggregate(win, 'baseline');
  const bounds = ctx.computeBounds
    ? {
        lower: round(clopperPearsonLower(w.failures, w.requests, ctx.alphaPerCheck) * 100, 5),
        upper: round(clopperPearsonUpper(ps.failures, ps.requests, ctx.options.passAlpha) * 100, 5),
      }
    : null;

  let message: string;
  let confidence: number | null = null;
  let pValue: number | null = null;
  if (!gateWindow && !gateAll) {
    message = `error rate: gathering evidence, ${w.requests}/${minRequests} canary requests in ${w.intervals}/${minIntervals} intervals`;
  } else if (significant) {
    pValue = windowSignificant ? (pWindow as number) : seq.pValue;
    confidence = 1 - (pValue ?? 1);
    const how = windowSignificant
      ? `${w.failures}/${w.requests} failed in the last ${g.windowSeconds} s`
      : `sequential test over the rollout (${all.failures}/${all.requests} failed, likelihood ratio ${round(Math.exp(Math.min(seq.llr, 700)), 1)})`;
    message =
      outcome === 'fail'
        ? `error rate above ${g.threshold} %: ${how}; above the threshold for ${run} interval(s) in a row`
        : `error rate was significantly above ${g.threshold} % (${how}) but the current interval is below it`;
  } else if (passes) {
    pValue = pPass;
    confidence = 1 - ctx.options.passAlpha;
    message = `error rate below ${g.threshold} % with ${round(confidence * 100, 1)} % confidence (${ps.failures}/${ps.requests} failed)`;
  } else {
    pValue = pWindow;
    message = windowBreached
      ? `error rate above ${g.threshold} % in the last ${g.windowSeconds} s (${w.failures}/${w.requests} failed) only because of a single interval: not enough to roll back`
      : `error rate undecided against ${g.threshold} %: ${w.failures}/${w.requests} failed in the window`;
  }

  const evidence: EvidenceItem = {
    check: id,
    metric: 'error_rate',
    observed: windowRate === null ? null : round(windowRate * 100, 5),
    threshold: g.threshold,
    baseline: baseline.requests > 0 ? round((baseline.failures / baseline.requests) * 100, 5) : null,
    unit: '%',
    samples: w.requests,
    baselineSamples: baseline.requests > 0 ? baseline.requests : null,
    windowSeconds: g.windowSeconds,
    confidence: confidence === null ? null : round(confidence, 6),
    pValue,
    bounds,
    persistence: run,
    outcome,
    message,
  };
  return { evidence, family: 'errors', kind: 'guardrail', significant };
}

/** Is the baseline itself significantly above the error guardrail over the window? (shared-cause detection) */
export function baselineBreachesErrorRate(ctx: CheckContext, g: Guardrail): boolean {
  const w = aggregate(windowViews(ctx.views, g.windowSeconds, true), 'baseline');
  if (w.requests < g.minimumEvidence.minRequests) return false;
  return binomialUpperTail(w.failures, w.requests, g.threshold / 100) <= ctx.alphaPerCheck;
}

// ---------------------------------------------------------------------------------------------------------------
// Latency quantiles

export function latencyLlr(g: Guardrail, effect: number, alpha: number, v: IntervalView): number | null {
  if (v.warmup || baselineIncident(g, v, alpha)) return null;
  const slow = slowCount(v.canary, g.threshold);
  if (!slow) return null;
  const q0 = 1 - quantileOf(g);
  const q1 = Math.min(0.5, q0 * effect);
  return bernoulliLogLikelihoodRatio(certainCount(slow), slow.n, q0, q1);
}

/** PASS evidence: the pass window without shared-incident intervals. */
function ownViews(ctx: CheckContext, g: Guardrail, views: readonly IntervalView[]): IntervalView[] {
  return views.filter((v) => !baselineIncident(g, v, ctx.alphaPerCheck));
}

/** The more conclusive of two PASS evidence sets (smaller p-value); the first when neither can be tested. */
function bestPassSet<T>(a: [T, number | null], b: [T, number | null]): [T, number | null] {
  if (a[1] === null) return b[1] === null ? a : b;
  if (b[1] === null) return a;
  return b[1] < a[1] ? b : a;
}

export function checkLatency(ctx: CheckContext, g: Guardrail): CheckReport {
  const id = guardrailCheckId(g);
  const q = quantileOf(g);
  const tail = 1 - q;
  const { minRequests, minIntervals } = g.minimumEvidence;
  const win = windowViews(ctx.views, g.windowSeconds);
  const w = pooledSlowCount(win, 'canary', g.threshold);
  const baseline = aggregate(win, 'baseline');
  const mergedCanary = aggregate(win, 'canary').histogram;
  const quantileName = `p${Math.round(q * 100)}`;
  const baselineQuantile = baseline.histogram
    ? histogramQuantile(baseline.histogram, q)
    : pooledQuantile(win, 'baseline', q);

  const all = pooledSlowCount(
    ctx.views.filter((v) => !v.warmup),
    'canary',
    g.threshold,
  );
  const gates = (p: PooledSlowCount) => p.n >= minRequests && p.intervals >= minIntervals;
  const gateWindow = gates(w);
  const gateAll = gates(all);
  const slowCertain = certainCount(w);
  const pWindow = gateWindow ? binomialUpperTail(slowCertain, w.n, tail) : null;
  const seq = sequentialState(ctx, id, gateAll);
  const windowBreached = pWindow !== null && pWindow <= ctx.alphaPerCheck;
  const windowSignificant =
    windowBreached &&
    robustToOneInterval(
      ctx,
      g,
      (v) => {
        const slow = slowCount(v.canary, g.threshold);
        return slow ? { x: certainCount(slow), n: slow.n } : null;
      },
      tail,
    );
  const breaches = persistence(ctx.views, (v) => {
    const slow = slowCount(v.canary, g.threshold);
    return slow ? slow.certain / slow.n > tail : null;
  });
  const reported = reportedQuantileRun(ctx, g);
  const quantileRunConclusive =
    (gateWindow || gateAll) &&
    reported !== null &&
    binomialUpperTail(certainCount(reported.slow), reported.slow.n, tail) <= ctx.options.passAlpha;
  const significant = windowSignificant || seq.crossed || quantileRunConclusive;
  const run = quantileRunConclusive ? breaches : failingPersistence(ctx, id, breaches, windowSignificant);

  const ownWindow = pooledSlowCount(ownViews(ctx, g, win), 'canary', g.threshold);
  const passTest = (p: PooledSlowCount) => (gates(p) ? binomialLowerTail(possibleCount(p), p.n, tail) : null);
  const stepSet = pooledSlowCount(ownViews(ctx, g, passViews(ctx, win)), 'canary', g.threshold);
  const [ps, pPass] = bestPassSet([ownWindow, passTest(ownWindow)], [stepSet, passTest(stepSet)]);
  const windowSlow = ownWindow.n > 0 ? ownWindow.possible / ownWindow.n : null;
  const passes =
    !windowBreached && pPass !== null && pPass <= ctx.options.passAlpha && windowSlow !== null && windowSlow <= tail;
  const outcome = decide({ gateOpen: gateWindow || gateAll, significant, persistence: run, passes });

  const observed = mergedCanary ? histogramQuantile(mergedCanary, q) : pooledQuantile(win, 'canary', q);
  let bounds: EvidenceItem['bounds'] = null;
  if (ctx.computeBounds && mergedCanary) {
    // Distribution-free bounds of the quantile: the latencies at the binomial bounds of its rank.
    const rank = Math.round(q * mergedCanary.total);
    const lowerRank = clopperPearsonLower(rank, mergedCanary.total, ctx.alphaPerCheck);
    const upperRank = clopperPearsonUpper(rank, mergedCanary.total, ctx.alphaPerCheck);
    const lo = histogramQuantile(mergedCanary, Math.max(0, lowerRank));
    const hi = histogramQuantile(mergedCanary, Math.min(1, upperRank));
    bounds = { lower: lo === null ? null : round(lo, 2), upper: hi === null ? null : round(hi, 2) };
  }
  const source = w.estimated ? ' (estimated from reported quantiles)' : '';

  let message: string;
  let confidence: number | null = null;
  let pValue: number | null = null;
  if (!gateWindow && !gateAll) {
    message = `${quantileName} latency: gathering evidence, ${w.n}/${minRequests} canary requests in ${w.intervals}/${minIntervals} intervals`;
  } else if (significant) {
    pValue = windowSignificant ? (pWindow as number) : seq.pValue;
    confidence = 1 - (pValue ?? 1);
    const how = windowSignificant
      ? `${slowCertain}/${w.n} requests slower than ${g.threshold} ms${source} (allowed ${round(tail * 100, 2)} %)`
      : reported !== null && quantileRunConclusive
        ? `the reported ${quantileName} was above it in ${reported.values.length} intervals in a row (${reported.values.map((x) => round(x, 1)).join(', ')} ms; ${reported.requests} requests)`
        : `sequential test over the rollout (likelihood ratio ${round(Math.exp(Math.min(seq.llr, 700)), 1)})`;
    message =
      outcome === 'fail'
        ? `${quantileName} latency above ${g.threshold} ms: ${how}; above for ${run} interval(s) in a row`
        : `${quantileName} latency was significantly above ${g.threshold} ms (${how}) but the current interval is below it`;
  } else if (passes) {
    pValue = pPass;
    confidence = 1 - ctx.options.passAlpha;
    message = `${quantileName} latency below ${g.threshold} ms with ${round(confidence * 100, 1)} % confidence (${possibleCount(ps)}/${ps.n} requests slower${ps.estimated ? ', estimated from reported quantiles' : ', interpolated within the bucket'})`;
  } else {
    pValue = pWindow;
    message = windowBreached
      ? `${quantileName} latency above ${g.threshold} ms in the last ${g.windowSeconds} s (${slowCertain}/${w.n} requests slower${source}) only because of a single interval: not enough to roll back`
      : `${quantileName} latency undecided against ${g.threshold} ms (${slowCertain}/${w.n} requests slower${source})`;
  }

  const evidence: EvidenceItem = {
    check: id,
    metric: g.metric,
    observed: observed === null ? null : round(observed, 2),
    threshold: g.threshold,
    baseline: baselineQuantile === null ? null : round(baselineQuantile, 2),
    unit: 'ms',
    samples: w.n,
    baselineSamples: baseline.requests > 0 ? baseline.requests : null,
    windowSeconds: g.windowSeconds,
    confidence: confidence === null ? null : round(confidence, 6),
    pValue,
    bounds,
    persistence: run,
    outcome,
    message,
  };
  return { evidence, family: 'latency', kind: 'guardrail', significant };
}

/**
 * Quantile-only sources: the run of most-recent intervals (after warm-up, at least two, the current one included) whose
 * reported quantile is above the threshold, with their values and requests; null when there is no such run of at
 * least two intervals holding the guardrail's minimum requests, or when any of them has a histogram.
 *
 * Why a run of reported quantiles decides here: a histogram counts the slow requests, and their count varies from
 * interval to interval as request sampling says, so the pooled binomial test is the right one. A source that reports
 * only quantiles gives one measured figure per interval, the quantile itself; the count above T read off it is an
 * interpolation, and real intervals vary far more than request sampling (PetSite's healthy p95 spans 270–400 ms at
 * ~480 requests an interval), which makes the pooled count both over-confident for a healthy service and blind to a
 * sustained shift (a p95 of 530 ms against T = 380 ms reads as only 8 % slower requests). The guardrail is drafted
 * above today's typical quantile with headroom, so the reported quantile crossing it in `consecutiveFailureLimit`
 * intervals in a row (never one: at least two) is the guardrail's own statement, broken, and kept broken. The caller
 * also asks the run's slow requests (read off the quantiles) to exceed the allowed share beyond request-sampling noise
 * (one-sided binomial at `passAlpha`), so a quantile that crosses by a hair in two thin intervals does not count.
 */
export function reportedQuantileRun(
  ctx: CheckContext,
  g: Guardrail,
): { values: number[]; requests: number; slow: PooledSlowCount } | null {
  const values: number[] = [];
  const run: IntervalView[] = [];
  let requests = 0;
  for (let i = ctx.views.length - 1; i >= 0; i--) {
    const v = ctx.views[i] as IntervalView;
    if (v.warmup || !v.canary || v.canary.histogram) break;
    const reported = g.metric === 'latency_p99' ? v.canary.p99Ms : v.canary.p95Ms;
    if (reported === null || !(reported > g.threshold)) break;
    values.unshift(reported);
    run.push(v);
    requests += v.canary.requests;
  }
  if (values.length < 2 || requests < g.minimumEvidence.minRequests) return null;
  return { values, requests, slow: pooledSlowCount(run, 'canary', g.threshold) };
}

/** Is the baseline itself significantly above the latency guardrail over the window? */
export function baselineBreachesLatency(ctx: CheckContext, g: Guardrail): boolean {
  const w = pooledSlowCount(windowViews(ctx.views, g.windowSeconds, true), 'baseline', g.threshold);
  if (w.n < g.minimumEvidence.minRequests) return false;
  return binomialUpperTail(certainCount(w), w.n, 1 - quantileOf(g)) <= ctx.alphaPerCheck;
}
