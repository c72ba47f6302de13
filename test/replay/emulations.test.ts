import { describe, expect, it } from 'vitest';
import { FlaggerController } from '../../bench/emulations/flagger.js';
import { classifyIncrease, mannWhitneyShift, wilcoxonDiff } from '../../bench/emulations/kayenta.js';
import type { BenchContract, IntervalSource } from '../../bench/emulations/types.js';
import { zScoreAlarm } from '../../bench/emulations/zscore.js';
import type { IntervalMetrics } from '../../src/domain/metrics.js';

const contract: BenchContract = {
  guardrails: [
    {
      metric: 'error_rate',
      comparator: '<',
      threshold: 1,
      unit: '%',
      windowSeconds: 300,
      minimumEvidence: { minRequests: 0, minIntervals: 1 },
      basis: '',
    },
    {
      metric: 'latency_p95',
      comparator: '<',
      threshold: 300,
      unit: 'ms',
      windowSeconds: 300,
      minimumEvidence: { minRequests: 0, minIntervals: 1 },
      basis: '',
    },
    {
      metric: 'latency_p99',
      comparator: '<',
      threshold: 600,
      unit: 'ms',
      windowSeconds: 300,
      minimumEvidence: { minRequests: 0, minIntervals: 1 },
      basis: '',
    },
  ],
  steps: [
    { percent: 10, intervals: 7, minRequests: 0 },
    { percent: 25, intervals: 7, minRequests: 0 },
    { percent: 50, intervals: 7, minRequests: 0 },
  ],
  bakeIntervals: 30,
  intervalSeconds: 60,
  consecutiveFailureLimit: 2,
  cumulativeFailureLimit: 4,
  targetErrorRatePercent: 0.1,
  warmupIntervals: 1,
  horizonIntervals: 100,
};

function interval(failures: number, p95 = 100): IntervalMetrics {
  return {
    start: '2026-01-01T00:00:00Z',
    end: '2026-01-01T00:01:00Z',
    canary: { requests: 1000, failures, latency: { p50Ms: 50, p95Ms: p95, p99Ms: 200 } },
    baseline: null,
  };
}

function source(bad: (i: number) => boolean): IntervalSource & { weights: number[] } {
  const weights: number[] = [];
  return {
    weights,
    setCanaryPercent(p) {
      weights.push(p);
    },
    generate: (i) => interval(bad(i) ? 50 : 0),
  };
}

describe('Flagger emulation (scheduler.go)', () => {
  it('does not check the first interval (weight 0), then moves one step per passing interval and promotes at maxWeight', () => {
    const s = source((i) => i === 0);
    const run = new FlaggerController(1).run(s, contract);
    expect(run).toMatchObject({ outcome: 'promoted', decisionInterval: 3 });
    expect(s.weights).toEqual([0, 10, 25, 50]);
  });

  it('holds the weight on a failed check and rolls back when failedChecks reaches the threshold (never reset)', () => {
    const s = source((i) => i === 1 || i === 3);
    const run = new FlaggerController(2).run(s, contract);
    expect(run).toMatchObject({ outcome: 'rolled_back', decisionInterval: 3 });
    expect(s.weights).toEqual([0, 10, 10, 25]);
  });
});

describe('Kayenta emulation (MannWhitney.scala)', () => {
  it('standardises the rank sum with the continuity correction', () => {
    // ranks of x: 1, 2, 3 → W − n(n+1)/2 − nm/2 = −4.5; (−4.5 + 0.5) / sqrt(9/12 · 7)
    expect(wilcoxonDiff([1, 2, 3], [4, 5, 6], 0, 0)).toBeCloseTo(-4 / Math.sqrt(5.25), 12);
  });

  it('corrects the variance for ties', () => {
    // pooled 1, 1, 1, 2: average rank 2 for the tie of 3; sigma² = 4/12 · (5 − 24/12) = 1
    expect(wilcoxonDiff([1, 1], [1, 2], 0, 0)).toBeCloseTo(-0.5, 12);
  });

  it("matches R's asymptotic wilcox.test interval (an independent implementation with scipy) on tied data", () => {
    const canary = [108, 108, 101, 131, 91, 74, 109, 109, 114, 108];
    const control = [
      99, 103, 110, 96, 96, 119, 105, 90, 123, 108, 94, 88, 103, 92, 89, 87, 95, 111, 96, 86, 107, 101, 108, 112, 98,
      99, 100, 89, 107, 114,
    ];
    const shift = mannWhitneyShift(canary, control, 0.98);
    expect(shift.lower).toBeCloseTo(-5, 6);
    expect(shift.upper).toBeCloseTo(16, 6);
    expect(shift.estimate).toBeCloseTo(6, 6);
  });

  it('gives an interval around its estimate that excludes 0 for a clear shift and contains it for none', () => {
    const control = Array.from({ length: 40 }, (_, i) => 100 + ((i * 37) % 23));
    const shifted = control.slice(0, 20).map((v) => v + 30);
    const shift = mannWhitneyShift(shifted, control);
    expect(shift.lower).toBeGreaterThan(0);
    expect(shift.lower).toBeLessThanOrEqual(shift.estimate);
    expect(shift.estimate).toBeLessThanOrEqual(shift.upper);
    expect(classifyIncrease(shifted, control)).toBe('high');
    const same = mannWhitneyShift(control.slice(0, 20), control);
    expect(same.lower).toBeLessThan(0);
    expect(same.upper).toBeGreaterThan(0);
    expect(classifyIncrease(control.slice(0, 20), control)).toBe('pass');
  });
});

describe('rolling z-score', () => {
  const window = Array.from({ length: 50 }, (_, i) => interval(i % 2, 100 + (i % 5)));
  it('alarms above mean + 3 sd of the window only', () => {
    expect(zScoreAlarm(interval(0, 104), window, 3)).toBe(false);
    expect(zScoreAlarm(interval(0, 110), window, 3)).toBe(true);
    expect(zScoreAlarm(interval(9, 100), window, 3)).toBe(true);
  });
});
