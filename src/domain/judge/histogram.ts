/**
 * Latency histograms as the providers report them: cumulative counts of requests at or below `leMs` (Prometheus
 * `le` buckets). Requests above the last edge are `total − last count` (the implicit +Inf bucket).
 *
 * Because only bucket edges are known, a count "above T" is read in one of three ways: certainly slower than T (above
 * the first edge ≥ T), possibly slower (above the last edge ≤ T), or interpolated inside T's bucket. The judge FAILs
 * only on the certain count, so binning can never cause a rollback; it PASSes on the interpolated count (as
 * Prometheus' histogram_quantile does), since a threshold rarely sits on an edge.
 */
import type { LatencyStats } from '../metrics.js';

export interface Histogram {
  /** Strictly increasing bucket edges (ms). */
  edges: number[];
  /** Cumulative counts per edge, non-decreasing, each ≤ total. */
  cumulative: number[];
  total: number;
}

/** Normalises a provider histogram; null when it is absent, empty or inconsistent (then the judge uses quantiles). */
export function toHistogram(latency: LatencyStats | undefined, requests: number): Histogram | null {
  const raw = latency?.histogram;
  if (!raw || raw.length === 0) return null;
  const sorted = [...raw]
    .filter((b) => Number.isFinite(b.leMs) && Number.isFinite(b.count))
    .sort((x, y) => x.leMs - y.leMs);
  const edges: number[] = [];
  const cumulative: number[] = [];
  for (const bucket of sorted) {
    if (bucket.count < 0) return null;
    const last = cumulative[cumulative.length - 1];
    if (last !== undefined && bucket.count < last) return null;
    if (edges[edges.length - 1] === bucket.leMs) {
      cumulative[cumulative.length - 1] = Math.max(last ?? 0, bucket.count);
      continue;
    }
    edges.push(bucket.leMs);
    cumulative.push(bucket.count);
  }
  const total = Math.max(requests, cumulative[cumulative.length - 1] ?? 0);
  if (total <= 0 || edges.length === 0) return null;
  return { edges, cumulative, total };
}

/** Sums histograms with identical edges; null when the edges differ (the caller falls back to one interval). */
export function mergeHistograms(list: readonly Histogram[]): Histogram | null {
  const first = list[0];
  if (!first) return null;
  const cumulative = [...first.cumulative];
  let total = first.total;
  for (let i = 1; i < list.length; i++) {
    const h = list[i] as Histogram;
    if (h.edges.length !== first.edges.length) return null;
    for (let j = 0; j < h.edges.length; j++) {
      if (h.edges[j] !== first.edges[j]) return null;
      cumulative[j] = (cumulative[j] as number) + (h.cumulative[j] as number);
    }
    total += h.total;
  }
  return { edges: [...first.edges], cumulative, total };
}

/** Requests certainly slower than `thresholdMs`: above the first edge ≥ threshold (none when no such edge). */
export function countCertainlyAbove(h: Histogram, thresholdMs: number): number {
  for (let i = 0; i < h.edges.length; i++) {
    if ((h.edges[i] as number) >= thresholdMs) return h.total - (h.cumulative[i] as number);
  }
  return 0;
}

/** Requests possibly slower than `thresholdMs`: above the last edge ≤ threshold (all of them when no such edge). */
export function countPossiblyAbove(h: Histogram, thresholdMs: number): number {
  let above = h.total;
  for (let i = 0; i < h.edges.length; i++) {
    if ((h.edges[i] as number) <= thresholdMs) above = h.total - (h.cumulative[i] as number);
    else break;
  }
  return above;
}

/**
 * Requests above `thresholdMs` with linear interpolation inside the bucket that contains it (what Prometheus'
 * histogram_quantile assumes). Used to PASS when the threshold falls between edges; FAIL keeps the certain count.
 */
export function countAboveInterpolated(h: Histogram, thresholdMs: number): number {
  let prevEdge = 0;
  let prevCum = 0;
  for (let i = 0; i < h.edges.length; i++) {
    const edge = h.edges[i] as number;
    const cum = h.cumulative[i] as number;
    if (edge >= thresholdMs) {
      const below = prevCum + ((cum - prevCum) * (thresholdMs - prevEdge)) / (edge - prevEdge);
      return h.total - below;
    }
    prevEdge = edge;
    prevCum = cum;
  }
  return h.total - prevCum;
}

/** Requests above the edge at `index`. */
export function countAboveEdge(h: Histogram, index: number): number {
  return h.total - (h.cumulative[index] ?? h.total);
}

/** Quantile by linear interpolation inside the bucket (display only; decisions use counts). */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const rank = q * h.total;
  let prevEdge = 0;
  let prevCount = 0;
  for (let i = 0; i < h.edges.length; i++) {
    const edge = h.edges[i] as number;
    const count = h.cumulative[i] as number;
    if (count >= rank) {
      if (count === prevCount) return edge;
      return prevEdge + ((edge - prevEdge) * (rank - prevCount)) / (count - prevCount);
    }
    prevEdge = edge;
    prevCount = count;
  }
  // The quantile lies in the open +Inf bucket: the last edge is the best lower bound we can state.
  return h.edges[h.edges.length - 1] ?? null;
}

/**
 * The bucket edge at which a `q` fraction of the pooled requests of both versions are at or below it. Pooling keeps
 * the choice symmetric between canary and baseline, so it cannot favour either side under "no difference".
 */
export function pooledQuantileEdge(a: Histogram, b: Histogram, q: number): number | null {
  if (a.edges.length !== b.edges.length) return null;
  const total = a.total + b.total;
  for (let i = 0; i < a.edges.length; i++) {
    if (a.edges[i] !== b.edges[i]) return null;
    const below = (a.cumulative[i] as number) + (b.cumulative[i] as number);
    if (below >= q * total) return i;
  }
  return null;
}

/**
 * One-sided two-sample Smirnov statistic D+ = max over edges of (F_baseline − F_canary): how much more of the canary's
 * mass sits above some latency than the baseline's. Positive when the canary is slower anywhere in the distribution,
 * which covers a wider spread with the same median (kayenta#780) as well as a shift. Edges must match.
 */
export function smirnovDPlus(canary: Histogram, baseline: Histogram): number | null {
  if (canary.edges.length !== baseline.edges.length) return null;
  let d = 0;
  for (let i = 0; i < canary.edges.length; i++) {
    if (canary.edges[i] !== baseline.edges[i]) return null;
    const diff = (baseline.cumulative[i] as number) / baseline.total - (canary.cumulative[i] as number) / canary.total;
    if (diff > d) d = diff;
  }
  return d;
}
