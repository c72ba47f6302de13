/**
 * Slow requests per interval — the latency guardrails' evidence — from a histogram or from reported quantiles alone.
 *
 * A latency guardrail pXX < T is a statement about a count: fewer than (1 − XX %) of requests are slower than T. With
 * a histogram the count is read from the buckets (certainly slower, to FAIL; interpolated in T's bucket, to PASS).
 * Most real sources (Application Insights, Container Apps metrics, CloudWatch) report quantiles only; then the
 * interval's share slower than T is read off its reported quantiles (p50, p95, p99): on a normal-quantile scale
 * against log latency, the quantiles lie on a line for a log-normal distribution, and T's share is interpolated
 * between the two reported quantiles around it (extrapolated along the nearest pair beyond them). The estimate is an
 * estimate of the interval's *empirical* count above T, whose sampling variation is binomial, so intervals pool into
 * one window count and the same binomial tests apply: a conclusive pooled window can pass or fail without every
 * interval agreeing, and no single interval has to carry p99 alone.
 */
import { countAboveInterpolated, countCertainlyAbove } from './histogram.js';
import type { IntervalView, VersionView } from './intervals.js';

export interface SlowCount {
  /** Requests certainly slower than T (FAIL evidence). */
  certain: number;
  /** Requests slower than T, interpolated (PASS evidence). */
  possible: number;
  /** Requests the count is out of. */
  n: number;
  /** Read off reported quantiles rather than counted in a histogram. */
  estimated: boolean;
}

/** Standard normal quantiles of the reported percentiles. */
const Z: ReadonlyArray<readonly [number, number]> = [
  [0.5, 0],
  [0.95, 1.6448536269514722],
  [0.99, 2.3263478740408408],
];

function normalUpper(z: number): number {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), ample for an estimated count.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Points (log ms, z) of the reported quantiles, increasing in both; fewer than two when they cannot be used. */
function quantilePoints(s: VersionView): { x: number; z: number }[] {
  const values = [s.p50Ms, s.p95Ms, s.p99Ms];
  const points: { x: number; z: number }[] = [];
  Z.forEach(([, z], i) => {
    const ms = values[i];
    if (ms === null || ms === undefined || !(ms > 0) || !Number.isFinite(ms)) return;
    const x = Math.log(ms);
    const last = points[points.length - 1];
    if (last && x <= last.x) return; // a flat or inverted pair carries no slope
    points.push({ x, z });
  });
  return points;
}

/** Estimated share of requests slower than `thresholdMs` from the reported quantiles; null with fewer than two. */
export function shareAboveFromQuantiles(s: VersionView, thresholdMs: number): number | null {
  return shareAboveQuantiles(quantilePoints(s), thresholdMs);
}

/**
 * Share slower than `thresholdMs` given known quantiles (p → ms), e.g. today's p95 and p99 of a service; null with
 * fewer than two usable ones.
 */
export function shareAboveKnownQuantiles(known: ReadonlyArray<readonly [number, number]>, thresholdMs: number) {
  const points: { x: number; z: number }[] = [];
  for (const [p, ms] of [...known].sort((a, b) => a[0] - b[0])) {
    const z = Z.find(([q]) => q === p)?.[1];
    if (z === undefined || !(ms > 0)) continue;
    const x = Math.log(ms);
    const last = points[points.length - 1];
    if (last && x <= last.x) continue;
    points.push({ x, z });
  }
  return shareAboveQuantiles(points, thresholdMs);
}

function shareAboveQuantiles(points: readonly { x: number; z: number }[], thresholdMs: number): number | null {
  if (points.length < 2 || !(thresholdMs > 0)) return null;
  const x = Math.log(thresholdMs);
  let i = 0;
  while (i < points.length - 2 && x > (points[i + 1] as { x: number }).x) i++;
  const a = points[i] as { x: number; z: number };
  const b = points[i + 1] as { x: number; z: number };
  const z = a.z + ((b.z - a.z) * (x - a.x)) / (b.x - a.x);
  return normalUpper(z);
}

/** The interval's slow-request count against T for one version; null when it has neither histogram nor quantiles. */
export function slowCount(s: VersionView | null, thresholdMs: number): SlowCount | null {
  if (!s) return null;
  if (s.histogram) {
    return {
      certain: countCertainlyAbove(s.histogram, thresholdMs),
      possible: countAboveInterpolated(s.histogram, thresholdMs),
      n: s.histogram.total,
      estimated: false,
    };
  }
  const share = shareAboveFromQuantiles(s, thresholdMs);
  if (share === null) return null;
  const x = share * s.requests;
  return { certain: x, possible: x, n: s.requests, estimated: true };
}

export interface PooledSlowCount extends SlowCount {
  /** Intervals that contributed. */
  intervals: number;
}

/** Sum of the intervals' slow counts for one version. */
export function pooledSlowCount(
  views: readonly IntervalView[],
  side: 'canary' | 'baseline',
  thresholdMs: number,
): PooledSlowCount {
  const out: PooledSlowCount = { certain: 0, possible: 0, n: 0, estimated: false, intervals: 0 };
  for (const v of views) {
    const c = slowCount(v[side], thresholdMs);
    if (!c) continue;
    out.certain += c.certain;
    out.possible += c.possible;
    out.n += c.n;
    out.estimated ||= c.estimated;
    out.intervals++;
  }
  return out;
}

/** Whole requests for a test: FAIL evidence rounds down, PASS evidence up (an estimate never helps either side). */
export const certainCount = (c: SlowCount) => Math.floor(c.certain + 1e-9);
export const possibleCount = (c: SlowCount) => Math.ceil(c.possible - 1e-9);

/**
 * The pooled q-quantile of the intervals' latency (what the card shows): the latency T at which the pooled share
 * slower than T is 1 − q, by bisection on log T. Null when no interval has latency data.
 */
export function pooledQuantile(views: readonly IntervalView[], side: 'canary' | 'baseline', q: number): number | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const v of views) {
    const s = v[side];
    if (!s) continue;
    for (const ms of [s.p50Ms, s.p95Ms, s.p99Ms]) {
      if (ms !== null && ms > 0) {
        lo = Math.min(lo, ms);
        hi = Math.max(hi, ms);
      }
    }
    if (s.histogram) {
      lo = Math.min(lo, s.histogram.edges[0] as number);
      hi = Math.max(hi, s.histogram.edges[s.histogram.edges.length - 1] as number);
    }
  }
  if (!(hi > 0) || !Number.isFinite(lo)) return null;
  lo /= 4;
  hi *= 4;
  const share = (t: number) => {
    const p = pooledSlowCount(views, side, t);
    return p.n > 0 ? p.possible / p.n : null;
  };
  if (share(hi) === null) return null;
  for (let i = 0; i < 40; i++) {
    const mid = Math.sqrt(lo * hi);
    if ((share(mid) as number) > 1 - q) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}
