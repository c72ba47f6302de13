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
 * With a histogram the judge counts slow requests (certainly slower to FAIL, interpolated in the bucket to PASS) and
 * runs the same binomial tests. With quantiles only it falls back to a conservative rule: every interval of the window with
 * at least 10 expected tail requests must agree, and the fallback never uses a sequential test.
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
import { countAboveInterpolated, countCertainlyAbove, type Histogram, histogramQuantile } from './histogram.js';
import { type Aggregate, aggregate, type IntervalView, persistence, windowAtLeast, windowViews } from './intervals.js';
import type { CheckId, EvidenceItem } from './types.js';

const MIN_TAIL_SAMPLES = 10;

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
  if (!b.histogram) return false;
  return (
    binomialUpperTail(countCertainlyAbove(b.histogram, g.threshold), b.histogram.total, 1 - quantileOf(g)) <= alpha
  );
}

/** A version's level against guardrail `g` in one interval: its error rate, or its share slower than the threshold. */
function breachLevel(g: Guardrail, s: IntervalView['canary']): number | null {
  if (!s) return null;
  if (g.metric === 'error_rate') return s.failures / s.requests;
  return s.histogram ? countCertainlyAbove(s.histogram, g.threshold) / s.histogram.total : null;
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
  const h = v.canary?.histogram;
  if (!h || v.warmup || baselineIncident(g, v, alpha)) return null;
  const q0 = 1 - quantileOf(g);
  const q1 = Math.min(0.5, q0 * effect);
  return bernoulliLogLikelihoodRatio(countCertainlyAbove(h, g.threshold), h.total, q0, q1);
}

/** PASS evidence: the pass window without shared-incident intervals. */
function ownViews(ctx: CheckContext, g: Guardrail, views: readonly IntervalView[]): IntervalView[] {
  return views.filter((v) => !baselineIncident(g, v, ctx.alphaPerCheck));
}

/** The more conclusive of two PASS evidence sets (smaller p-value); the first when neither can be tested. */
function bestPassSet(a: [Aggregate, number | null], b: [Aggregate, number | null]): [Aggregate, number | null] {
  if (a[1] === null) return b[1] === null ? a : b;
  if (b[1] === null) return a;
  return b[1] < a[1] ? b : a;
}

function slowFraction(h: Histogram, threshold: number): number {
  return countCertainlyAbove(h, threshold) / h.total;
}

export function checkLatency(ctx: CheckContext, g: Guardrail): CheckReport {
  const id = guardrailCheckId(g);
  const q = quantileOf(g);
  const tail = 1 - q;
  const { minRequests, minIntervals } = g.minimumEvidence;
  const win = windowViews(ctx.views, g.windowSeconds);
  const w = aggregate(win, 'canary');
  const baseline = aggregate(win, 'baseline');
  const quantileName = `p${Math.round(q * 100)}`;
  const baselineQuantile = baseline.histogram
    ? histogramQuantile(baseline.histogram, q)
    : latestQuantile(win, 'baseline', g.metric);

  if (w.requests > 0 && w.histogram === null) return quantileOnly(ctx, g, win, w.requests, baselineQuantile);

  const all = aggregate(
    ctx.views.filter((v) => !v.warmup),
    'canary',
  );
  const gateWindow = w.histogram !== null && w.requests >= minRequests && w.intervals >= minIntervals;
  const gateAll = all.histogram !== null && all.requests >= minRequests && all.intervals >= minIntervals;
  const slowCertain = w.histogram ? countCertainlyAbove(w.histogram, g.threshold) : 0;
  const pWindow = gateWindow ? binomialUpperTail(slowCertain, w.requests, tail) : null;
  const seq = sequentialState(ctx, id, gateAll);
  const windowBreached = pWindow !== null && pWindow <= ctx.alphaPerCheck;
  const windowSignificant =
    windowBreached &&
    robustToOneInterval(
      ctx,
      g,
      (v) =>
        v.canary?.histogram ? { x: countCertainlyAbove(v.canary.histogram, g.threshold), n: v.canary.requests } : null,
      tail,
    );
  const significant = windowSignificant || seq.crossed;
  const breaches = persistence(ctx.views, (v) =>
    v.canary?.histogram ? slowFraction(v.canary.histogram, g.threshold) > tail : null,
  );
  const run = failingPersistence(ctx, id, breaches, windowSignificant);

  const ownWindow = aggregate(ownViews(ctx, g, win), 'canary');
  const passTest = (a: Aggregate) =>
    a.histogram !== null && a.requests >= minRequests && a.intervals >= minIntervals
      ? binomialLowerTail(Math.ceil(countAboveInterpolated(a.histogram, g.threshold)), a.histogram.total, tail)
      : null;
  const stepSet = aggregate(ownViews(ctx, g, passViews(ctx, win)), 'canary');
  const [ps, pPass] = bestPassSet([ownWindow, passTest(ownWindow)], [stepSet, passTest(stepSet)]);
  const slowPossible = ps.histogram ? Math.ceil(countAboveInterpolated(ps.histogram, g.threshold)) : 0;
  const own = ownWindow.histogram;
  const windowSlow = own ? countAboveInterpolated(own, g.threshold) / own.total : null;
  const passes =
    !windowBreached && pPass !== null && pPass <= ctx.options.passAlpha && windowSlow !== null && windowSlow <= tail;
  const outcome = decide({ gateOpen: gateWindow || gateAll, significant, persistence: run, passes });

  const observed = w.histogram ? histogramQuantile(w.histogram, q) : null;
  let bounds: EvidenceItem['bounds'] = null;
  if (ctx.computeBounds && w.histogram) {
    // Distribution-free bounds of the quantile: the latencies at the binomial bounds of its rank.
    const rank = Math.round(q * w.requests);
    const lowerRank = clopperPearsonLower(rank, w.requests, ctx.alphaPerCheck);
    const upperRank = clopperPearsonUpper(rank, w.requests, ctx.alphaPerCheck);
    const lo = histogramQuantile(w.histogram, Math.max(0, lowerRank));
    const hi = histogramQuantile(w.histogram, Math.min(1, upperRank));
    bounds = { lower: lo === null ? null : round(lo, 2), upper: hi === null ? null : round(hi, 2) };
  }

  let message: string;
  let confidence: number | null = null;
  let pValue: number | null = null;
  if (!gateWindow && !gateAll) {
    message = `${quantileName} latency: gathering evidence, ${w.requests}/${minRequests} canary requests in ${w.intervals}/${minIntervals} intervals`;
  } else if (significant) {
    pValue = windowSignificant ? (pWindow as number) : seq.pValue;
    confidence = 1 - (pValue ?? 1);
    const how = windowSignificant
      ? `${slowCertain}/${w.requests} requests slower than ${g.threshold} ms (allowed ${round(tail * 100, 2)} %)`
      : `sequential test over the rollout (likelihood ratio ${round(Math.exp(Math.min(seq.llr, 700)), 1)})`;
    message =
      outcome === 'fail'
        ? `${quantileName} latency above ${g.threshold} ms: ${how}; above for ${run} interval(s) in a row`
        : `${quantileName} latency was significantly above ${g.threshold} ms (${how}) but the current interval is below it`;
  } else if (passes) {
    pValue = pPass;
    confidence = 1 - ctx.options.passAlpha;
    message = `${quantileName} latency below ${g.threshold} ms with ${round(confidence * 100, 1)} % confidence (${slowPossible}/${ps.requests} requests slower, interpolated within the bucket)`;
  } else {
    pValue = pWindow;
    message = windowBreached
      ? `${quantileName} latency above ${g.threshold} ms in the last ${g.windowSeconds} s (${slowCertain}/${w.requests} requests slower) only because of a single interval: not enough to roll back`
      : `${quantileName} latency undecided against ${g.threshold} ms (${slowCertain}/${w.requests} requests slower)`;
  }

  const evidence: EvidenceItem = {
    check: id,
    metric: g.metric,
    observed: observed === null ? null : round(observed, 2),
    threshold: g.threshold,
    baseline: baselineQuantile === null ? null : round(baselineQuantile, 2),
    unit: 'ms',
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
  return { evidence, family: 'latency', kind: 'guardrail', significant };
}

function latestQuantile(
  win: readonly IntervalView[],
  side: 'canary' | 'baseline',
  metric: Guardrail['metric'],
): number | null {
  for (let i = win.length - 1; i >= 0; i--) {
    const s = (win[i] as IntervalView)[side];
    const value = metric === 'latency_p99' ? s?.p99Ms : s?.p95Ms;
    if (value !== null && value !== undefined) return value;
  }
  return null;
}

/**
 * No histogram: a reported quantile has no confidence interval without the distribution, so the judge only trusts
 * intervals with at least 10 expected tail requests and needs all of them in the window to agree. This path never
 * feeds a sequential test and never states a confidence.
 */
function quantileOnly(
  ctx: CheckContext,
  g: Guardrail,
  win: readonly IntervalView[],
  requests: number,
  baselineQuantile: number | null,
): CheckReport {
  const q = quantileOf(g);
  const quantileName = `p${Math.round(q * 100)}`;
  const minPerInterval = Math.ceil(MIN_TAIL_SAMPLES / (1 - q));
  const value = (v: IntervalView): number | null => {
    const s = v.canary;
    if (!s || s.requests < minPerInterval) return null;
    return (g.metric === 'latency_p99' ? s.p99Ms : s.p95Ms) ?? null;
  };
  const qualifying = win.map(value).filter((x): x is number => x !== null);
  const gateOpen = requests >= g.minimumEvidence.minRequests && qualifying.length >= g.minimumEvidence.minIntervals;
  const allAbove = qualifying.length > 0 && qualifying.every((x) => x > g.threshold);
  const allBelow = qualifying.length > 0 && qualifying.every((x) => x < g.threshold);
  const significant = gateOpen && allAbove;
  const run = persistence(ctx.views, (v) => {
    const x = value(v);
    return x === null ? null : x > g.threshold;
  });
  const outcome = decide({ gateOpen, significant, persistence: run, passes: allBelow });
  const latest = qualifying[qualifying.length - 1] ?? null;
  const message = !gateOpen
    ? `${quantileName} latency (no histogram): gathering evidence, ${qualifying.length}/${g.minimumEvidence.minIntervals} intervals with ≥ ${minPerInterval} requests`
    : allAbove
      ? `${quantileName} latency above ${g.threshold} ms in all ${qualifying.length} qualifying intervals (no histogram: conservative rule, no confidence stated)`
      : allBelow
        ? `${quantileName} latency below ${g.threshold} ms in all ${qualifying.length} qualifying intervals (no histogram)`
        : `${quantileName} latency mixed around ${g.threshold} ms (no histogram)`;
  const evidence: EvidenceItem = {
    check: guardrailCheckId(g),
    metric: g.metric,
    observed: latest,
    threshold: g.threshold,
    baseline: baselineQuantile,
    unit: 'ms',
    samples: requests,
    baselineSamples: null,
    windowSeconds: g.windowSeconds,
    confidence: null,
    pValue: null,
    bounds: null,
    persistence: run,
    outcome,
    message,
  };
  return { evidence, family: 'latency', kind: 'guardrail', significant };
}

/** Is the baseline itself significantly above the latency guardrail over the window? */
export function baselineBreachesLatency(ctx: CheckContext, g: Guardrail): boolean {
  const w = aggregate(windowViews(ctx.views, g.windowSeconds, true), 'baseline');
  if (w.requests < g.minimumEvidence.minRequests) return false;
  if (w.histogram) {
    const slow = countCertainlyAbove(w.histogram, g.threshold);
    return binomialUpperTail(slow, w.histogram.total, 1 - quantileOf(g)) <= ctx.alphaPerCheck;
  }
  const latest = latestQuantile(windowViews(ctx.views, g.windowSeconds, true), 'baseline', g.metric);
  return latest !== null && latest > g.threshold;
}
