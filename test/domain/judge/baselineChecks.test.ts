import { describe, expect, it } from 'vitest';
import {
  formatP,
  rateRatioPValue,
  smirnovPValue,
  stratifiedSmirnov,
} from '../../../src/domain/judge/baselineChecks.js';
import { toHistogram } from '../../../src/domain/judge/histogram.js';
import { judgeInterval, replayJudge } from '../../../src/domain/judge/judge.js';
import type { EvidenceItem, JudgeResult } from '../../../src/domain/judge/types.js';
import { input, series, version } from './fixtures.js';

const ev = (r: JudgeResult, check: EvidenceItem['check']) => r.evidence.find((e) => e.check === check) as EvidenceItem;

describe('rate-ratio test (errors and slow requests vs the baseline)', () => {
  it('is exact with zero baseline failures (kayenta#799) and sparse counts (kayenta#426)', () => {
    expect(rateRatioPValue([{ xc: 10, nc: 2000, xb: 0, nb: 20000 }], 1.5)).toBeLessThan(1e-8);
    expect(rateRatioPValue([{ xc: 1, nc: 2000, xb: 0, nb: 20000 }], 1.5)).toBeGreaterThan(0.01);
    expect(rateRatioPValue([{ xc: 0, nc: 2000, xb: 0, nb: 20000 }], 1.5)).toBe(1);
  });

  it('is stratified by interval, so a shared outage during a step change is not blamed on the canary', () => {
    // Interval 1: 10 % split, healthy. Interval 2: 50 % split, both versions at 5 % errors.
    const strata = [
      { xc: 1, nc: 1000, xb: 9, nb: 9000 },
      { xc: 250, nc: 5000, xb: 250, nb: 5000 },
    ];
    const pooled = [strata.reduce((a, s) => ({ xc: a.xc + s.xc, nc: a.nc + s.nc, xb: a.xb + s.xb, nb: a.nb + s.nb }))];
    expect(rateRatioPValue(pooled, 1.5)).toBeLessThan(1e-4); // Simpson's paradox: pooled looks like a canary fault
    expect(rateRatioPValue(strata, 1.5)).toBeGreaterThan(0.5);
  });

  it('Smirnov p-values apply the practical margin', () => {
    expect(smirnovPValue(0.04, 1000, 10000, 0.05)).toBe(1);
    expect(smirnovPValue(0.15, 1000, 10000, 0.05)).toBeLessThan(1e-7);
  });

  it('re-weights the baseline to the canary mix of intervals', () => {
    const h = (median: number, n: number) =>
      toHistogram(version({ requests: n, failures: 0, medianMs: median }).latency, n)!;
    // Both versions slow in interval 2 only; the canary carries more of its traffic there.
    const pairs = [
      { hc: h(100, 1000), hb: h(100, 9000) },
      { hc: h(200, 5000), hb: h(200, 5000) },
    ];
    const s = stratifiedSmirnov(pairs)!;
    expect(s.d).toBeLessThan(0.01);
    expect(s.nbEffective).toBeGreaterThan(4000);
  });
});

describe('baseline comparison in the judge', () => {
  const healthyBase = { requests: 18000, failures: 18 };

  it('catches a variance-only regression that every absolute guardrail misses', () => {
    // sigma 0.42 → 0.5 with the same median: p95 ≈ 228 ms and p99 ≈ 320 ms stay under 244 / 372 ms.
    const history = series(5, () => [{ requests: 2000, failures: 2, sigma: 0.5 }, healthyBase]);
    const results = replayJudge(input(history));
    const last = results[4] as JudgeResult;
    expect(ev(last, 'guardrail:latency_p95').outcome).not.toBe('fail');
    expect(ev(last, 'guardrail:latency_p99').outcome).not.toBe('fail');
    expect(['fail']).toContain(ev(last, 'baseline:latency_tail').outcome);
    expect(results.some((r) => r.verdict === 'FAIL')).toBe(true);
    expect(ev(last, 'baseline:latency_tail').message).toMatch(/of canary vs .* of baseline requests slower than/);
  });

  it('flags a canary error rate far above the baseline even under the absolute guardrail', () => {
    // 0.25 % vs 0.01 %: under the 0.3 % guardrail, but 25× the baseline.
    const history = series(5, () => [
      { requests: 4000, failures: 10 },
      { requests: 36000, failures: 4 },
    ]);
    const r = judgeInterval(input(history));
    expect(ev(r, 'guardrail:error_rate').outcome).not.toBe('fail');
    expect(ev(r, 'baseline:error_rate').outcome).toBe('fail');
    expect(r.verdict).toBe('FAIL');
  });

  it('is not applicable without a baseline (100 % traffic) and does not block a PASS', () => {
    const r = judgeInterval(
      input(
        series(5, () => [{ requests: 20000, failures: 20 }, null]),
        { step: { index: 3, trafficPercent: 100, minRequests: 0 } },
      ),
    );
    expect(ev(r, 'baseline:error_rate').outcome).toBe('not_applicable');
    expect(r.verdict).toBe('PASS');
    expect(r.alerts.map((a) => a.kind)).not.toContain('no_baseline_data');
  });
});

describe('formatP', () => {
  it('writes p-values for people', () => {
    expect(formatP(0)).toBe('p < 1e-6');
    expect(formatP(3.2e-9)).toBe('p < 1e-6');
    expect(formatP(0.0123)).toBe('p = 0.012');
    expect(formatP(null)).toBe('p unknown');
  });
});
