/**
 * Normalised view of the interval history: parsed times, per-version counts and histograms, warm-up flags, and the
 * window and aggregation helpers every check uses.
 */
import type { IntervalMetrics, VersionStats } from '../metrics.js';
import { type Histogram, mergeHistograms, toHistogram } from './histogram.js';
import { JudgeInputError } from './types.js';

export interface VersionView {
  requests: number;
  failures: number;
  histogram: Histogram | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface IntervalView {
  index: number;
  startMs: number;
  endMs: number;
  warmup: boolean;
  /** null when the provider had no data or the version served no requests. */
  canary: VersionView | null;
  baseline: VersionView | null;
}

function toVersionView(stats: VersionStats | null, path: string): VersionView | null {
  if (stats === null || stats === undefined) return null;
  const { requests, failures } = stats;
  if (!Number.isFinite(requests) || requests < 0 || !Number.isInteger(requests)) {
    throw new JudgeInputError('judge_invalid_interval', `${path}.requests must be a non-negative integer`);
  }
  if (!Number.isFinite(failures) || failures < 0 || !Number.isInteger(failures) || failures > requests) {
    throw new JudgeInputError('judge_invalid_interval', `${path}.failures must be an integer between 0 and requests`);
  }
  if (requests === 0) return null;
  return {
    requests,
    failures,
    histogram: toHistogram(stats.latency, requests),
    p50Ms: stats.latency?.p50Ms ?? null,
    p95Ms: stats.latency?.p95Ms ?? null,
    p99Ms: stats.latency?.p99Ms ?? null,
  };
}

export function toViews(history: readonly IntervalMetrics[], warmupIntervals: number): IntervalView[] {
  return history.map((m, index) => {
    const startMs = Date.parse(m.start);
    const endMs = Date.parse(m.end);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) {
      throw new JudgeInputError(
        'judge_invalid_interval',
        `history[${index}] needs ISO start < end (got ${JSON.stringify(m.start)} → ${JSON.stringify(m.end)})`,
      );
    }
    return {
      index,
      startMs,
      endMs,
      warmup: index < warmupIntervals,
      canary: toVersionView(m.canary, `history[${index}].canary`),
      baseline: toVersionView(m.baseline, `history[${index}].baseline`),
    };
  });
}

/**
 * Intervals that end within `windowSeconds` of the current interval's end; warm-up intervals are left out unless
 * `includeWarmup` (the baseline has no cold start, and the kill switch must see a crash loop at once).
 */
export function windowViews(
  views: readonly IntervalView[],
  windowSeconds: number,
  includeWarmup = false,
): IntervalView[] {
  const current = views[views.length - 1];
  if (!current) return [];
  const from = current.endMs - windowSeconds * 1000;
  const out: IntervalView[] = [];
  for (let i = views.length - 1; i >= 0; i--) {
    const v = views[i] as IntervalView;
    if (v.endMs <= from) break;
    if (includeWarmup || !v.warmup) out.push(v);
  }
  return out.reverse();
}

/**
 * The window, extended backwards over earlier (non-warm-up) intervals until it holds at least `minWithData`
 * intervals for which `hasData` is true, or the history runs out.
 */
export function windowAtLeast(
  views: readonly IntervalView[],
  windowSeconds: number,
  minWithData: number,
  hasData: (v: IntervalView) => boolean,
): IntervalView[] {
  const win = windowViews(views, windowSeconds);
  let count = win.filter(hasData).length;
  let i = (win[0]?.index ?? views.length) - 1;
  for (; i >= 0 && count < minWithData; i--) {
    const v = views[i] as IntervalView;
    if (v.warmup) break;
    win.unshift(v);
    if (hasData(v)) count++;
  }
  return win;
}

export interface Aggregate {
  requests: number;
  failures: number;
  /** Intervals that contributed data. */
  intervals: number;
  /** Merged histogram, or null when any contributing interval lacks one or the edges differ. */
  histogram: Histogram | null;
  seconds: number;
}

export function aggregate(views: readonly IntervalView[], side: 'canary' | 'baseline'): Aggregate {
  let requests = 0;
  let failures = 0;
  let intervals = 0;
  let seconds = 0;
  const histograms: Histogram[] = [];
  let histogramsComplete = true;
  for (const v of views) {
    seconds += (v.endMs - v.startMs) / 1000;
    const s = v[side];
    if (!s) continue;
    requests += s.requests;
    failures += s.failures;
    intervals++;
    if (s.histogram) histograms.push(s.histogram);
    else histogramsComplete = false;
  }
  const histogram = histogramsComplete && histograms.length > 0 ? mergeHistograms(histograms) : null;
  return { requests, failures, intervals, histogram, seconds };
}

/** Aggregates both sides over the intervals where both have data (a like-for-like comparison). */
export function pairedAggregate(views: readonly IntervalView[]): { canary: Aggregate; baseline: Aggregate } {
  const both = views.filter((v) => v.canary !== null && v.baseline !== null);
  return { canary: aggregate(both, 'canary'), baseline: aggregate(both, 'baseline') };
}

/**
 * Consecutive most-recent intervals flagged bad, ending at the current one. An interval without data (flag null)
 * ends the run: two breaches separated by a telemetry gap are not "in a row", so a gap can never help a rollback.
 * A current interval without data gives 0: no data never fails.
 */
export function persistence(views: readonly IntervalView[], flag: (v: IntervalView) => boolean | null): number {
  const current = views[views.length - 1];
  if (!current || current.warmup || flag(current) !== true) return 0;
  let run = 0;
  for (let i = views.length - 1; i >= 0; i--) {
    const v = views[i] as IntervalView;
    if (v.warmup) break;
    if (flag(v) !== true) break;
    run++;
  }
  return run;
}
