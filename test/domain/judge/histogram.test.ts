import { describe, expect, it } from 'vitest';
import {
  countAboveEdge,
  countAboveInterpolated,
  countCertainlyAbove,
  countPossiblyAbove,
  histogramQuantile,
  mergeHistograms,
  pooledQuantileEdge,
  smirnovDPlus,
  toHistogram,
} from '../../../src/domain/judge/histogram.js';

const h = (counts: number[], total: number) =>
  toHistogram(
    {
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
      histogram: [100, 200, 300].map((leMs, i) => ({ leMs, count: counts[i] as number })),
    },
    total,
  );

describe('histogram', () => {
  it('normalises provider buckets and rejects inconsistent ones', () => {
    expect(h([10, 50, 90], 100)).toEqual({ edges: [100, 200, 300], cumulative: [10, 50, 90], total: 100 });
    expect(h([10, 5, 90], 100)).toBeNull(); // not cumulative
    expect(toHistogram({ p50Ms: 1, p95Ms: 2, p99Ms: 3 }, 10)).toBeNull();
    expect(
      toHistogram(
        {
          p50Ms: 1,
          p95Ms: 2,
          p99Ms: 3,
          histogram: [
            { leMs: 300, count: 9 },
            { leMs: 100, count: 1 },
          ],
        },
        10,
      )?.edges,
    ).toEqual([100, 300]);
  });

  it('counts slow requests certainly, possibly and interpolated', () => {
    const x = h([10, 50, 90], 100)!;
    expect(countCertainlyAbove(x, 250)).toBe(10); // above the 300 edge
    expect(countPossiblyAbove(x, 250)).toBe(50); // above the 200 edge
    expect(countAboveInterpolated(x, 250)).toBeCloseTo(30, 10);
    expect(countCertainlyAbove(x, 400)).toBe(0); // no edge ≥ 400: nothing is certain
    expect(countPossiblyAbove(x, 50)).toBe(100);
    expect(countAboveEdge(x, 1)).toBe(50);
  });

  it('merges identical layouts only and interpolates quantiles', () => {
    const x = h([10, 50, 90], 100)!;
    expect(mergeHistograms([x, x])).toEqual({ edges: [100, 200, 300], cumulative: [20, 100, 180], total: 200 });
    const other = toHistogram({ p50Ms: null, p95Ms: null, p99Ms: null, histogram: [{ leMs: 150, count: 1 }] }, 2)!;
    expect(mergeHistograms([x, other])).toBeNull();
    expect(histogramQuantile(x, 0.5)).toBe(200);
    expect(histogramQuantile(x, 0.3)).toBeCloseTo(150, 10);
    expect(histogramQuantile(x, 0.95)).toBe(300); // in the +Inf bucket: the last edge is the best lower bound
  });

  it('D+ sees a wider spread with the same median, and the pooled edge is symmetric', () => {
    const baseline = h([20, 50, 80], 100)!;
    const wider = h([30, 50, 70], 100)!; // same median, more mass in both tails
    expect(smirnovDPlus(wider, baseline)).toBeCloseTo(0.1, 10);
    expect(smirnovDPlus(baseline, baseline)).toBe(0);
    expect(pooledQuantileEdge(baseline, wider, 0.5)).toBe(1);
    expect(pooledQuantileEdge(wider, baseline, 0.5)).toBe(pooledQuantileEdge(baseline, wider, 0.5));
  });
});
