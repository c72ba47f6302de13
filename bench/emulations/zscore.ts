/**
 * A rolling z-score detector, the textbook anomaly-detection anchor (no canary tool ships it; the metric-series README
 * measured it as "z > 3 over the 24 h reference"): every interval of the rollout, each of error rate, p95 and p99 is
 * compared with the mean and standard deviation of the same metric over the `window` intervals before it (the
 * intervals before the rollout first, then the rollout's own as they come); z > `limit` on any metric in any interval
 * rolls back at once. Time-based plan like Argo's: promoted when the plan's last interval passes.
 * A metric whose window has no spread (standard deviation 0) flags any value above the window's mean.
 */
import type { IntervalMetrics, VersionStats } from '../../src/domain/metrics.js';
import {
  type BenchContract,
  type Controller,
  type IntervalSource,
  plannedLength,
  plannedWeight,
  type RolloutRun,
} from './types.js';

const METRICS: ((s: VersionStats) => number | null)[] = [
  (s) => (s.requests > 0 ? (100 * s.failures) / s.requests : null),
  (s) => s.latency.p95Ms,
  (s) => s.latency.p99Ms,
];

export function zScoreAlarm(current: IntervalMetrics, window: readonly IntervalMetrics[], limit: number): boolean {
  const c = current.canary;
  if (!c) return false;
  return METRICS.some((metric) => {
    const value = metric(c);
    if (value === null || !Number.isFinite(value)) return false;
    const values: number[] = [];
    for (const m of window) {
      const v = m.canary ? metric(m.canary) : null;
      if (v !== null && Number.isFinite(v)) values.push(v);
    }
    if (values.length < 2) return false;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    if (sd === 0) return value > mean;
    return (value - mean) / sd > limit;
  });
}

export class RollingZScoreController implements Controller {
  readonly name: string;

  constructor(
    private readonly window: number,
    private readonly limit = 3,
  ) {
    this.name = `rolling z-score (z > ${limit}, ${window} intervals)`;
  }

  run(source: IntervalSource, contract: BenchContract): RolloutRun {
    const seen: IntervalMetrics[] = [...(source.preceding?.(this.window) ?? [])];
    const canaryRequests: number[] = [];
    let last = -1;
    for (let i = 0; i < contract.horizonIntervals; i++) {
      const weight = plannedWeight(contract, i);
      if (weight === null) break;
      last = i;
      source.setCanaryPercent(weight);
      const m = source.generate(i);
      canaryRequests.push(m.canary?.requests ?? 0);
      if (zScoreAlarm(m, seen.slice(-this.window), this.limit)) {
        return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
      }
      seen.push(m);
    }
    if (last === plannedLength(contract) - 1) return { outcome: 'promoted', decisionInterval: last, canaryRequests };
    return { outcome: 'stalled', decisionInterval: null, canaryRequests };
  }
}
