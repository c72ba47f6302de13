import { describe, expect, it } from 'vitest';
import type { IntervalMetrics } from '../../src/domain/metrics.js';
import { createSimulator, mulberry32, SCENARIO_NAMES, SimulatorConfigError } from '../../src/metrics/simulator.js';

const series = (scenario: (typeof SCENARIO_NAMES)[number], seed: number, n = 12, percent = 20, extra = {}) => {
  const sim = createSimulator({ scenario, seed, noise: 'realistic', ...extra });
  sim.setCanaryPercent(percent);
  return Array.from({ length: n }, (_, i) => sim.generate(i));
};

const rate = (ms: IntervalMetrics[], side: 'canary' | 'baseline') => {
  let f = 0;
  let n = 0;
  for (const m of ms) {
    f += m[side]?.failures ?? 0;
    n += m[side]?.requests ?? 0;
  }
  return f / n;
};

describe('simulator', () => {
  it('mulberry32 follows the canonical one-liner and stays in [0, 1)', () => {
    // The widely published form: t = a += 0x6D2B79F5; t = imul(t ^ t >>> 15, t | 1); t ^= t + imul(t ^ t >>> 7, t | 61).
    let a = 12345;
    const reference = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const next = mulberry32(12345);
    const ours = Array.from({ length: 1000 }, () => next());
    expect(ours).toEqual(Array.from({ length: 1000 }, reference));
    expect(Math.min(...ours)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ours)).toBeLessThan(1);
  });

  it('same seed → same series, different seed → different series, for every scenario', () => {
    for (const scenario of SCENARIO_NAMES) {
      expect(series(scenario, 42)).toEqual(series(scenario, 42));
      if (scenario !== 'no-data') expect(series(scenario, 42)).not.toEqual(series(scenario, 43));
    }
  });

  it('an interval does not depend on the order intervals are generated in', () => {
    const sim = createSimulator({ scenario: 'healthy', seed: 9, noise: 'realistic', canaryPercent: 30 });
    const forward = [0, 1, 2, 3].map((i) => sim.generate(i));
    const backward = [3, 2, 1, 0].map((i) => sim.generate(i)).reverse();
    expect(backward).toEqual(forward);
  });

  it('serves as a MetricProvider with query times and the actuator-controlled split', async () => {
    const sim = createSimulator({ scenario: 'healthy', seed: 3, qps: 100 });
    const q = (minute: number) => ({
      serviceName: 'checkout',
      namespace: 'prod',
      canaryVersion: '2.0',
      baselineVersion: '1.9',
      start: new Date(Date.UTC(2026, 0, 1, 0, minute)),
      end: new Date(Date.UTC(2026, 0, 1, 0, minute + 1)),
    });
    const atZero = await sim.fetchInterval(q(0));
    expect(atZero.canary).toBeNull(); // 0 % canary: no requests, never zero-filled
    sim.setCanaryPercent(25);
    const m = await sim.fetchInterval(q(1));
    expect(m.start).toBe('2026-01-01T00:01:00.000Z');
    const total = (m.canary?.requests ?? 0) + (m.baseline?.requests ?? 0);
    expect(total).toBeGreaterThan(5000);
    expect(total).toBeLessThan(7000);
    expect((m.canary?.requests ?? 0) / total).toBeCloseTo(0.25, 1);
    expect(m.canary?.latency.histogram?.length).toBeGreaterThan(10);
    expect(sim.canaryPercent).toBe(25);
  });

  it('histograms are cumulative and consistent with the reported quantiles', () => {
    const m = series('healthy', 5, 2, 50)[1]; // interval 0 is the canary's cold start
    const c = m?.canary;
    expect(c).toBeTruthy();
    const h = c?.latency.histogram ?? [];
    for (let i = 1; i < h.length; i++)
      expect((h[i] as { count: number }).count).toBeGreaterThanOrEqual((h[i - 1] as { count: number }).count);
    expect((h[h.length - 1] as { count: number }).count).toBeLessThanOrEqual(c?.requests ?? 0);
    expect(c?.latency.p50Ms).toBeGreaterThan(80);
    expect(c?.latency.p50Ms).toBeLessThan(125);
    expect(c?.latency.p95Ms).toBeGreaterThan(c?.latency.p50Ms ?? 0);
  });

  it('scenarios move the canary the way their names say', () => {
    const healthy = series('healthy', 1, 20, 50, { noise: 'none' });
    expect(rate(healthy, 'canary')).toBeCloseTo(0.001, 3);
    const spike = series('error-spike', 1, 20, 50, { noise: 'none' });
    expect(rate(spike, 'canary')).toBeCloseTo(0.03, 2);
    expect(rate(spike, 'baseline')).toBeLessThan(0.002);
    const latency = series('latency-spike', 1, 5, 50, { noise: 'none' });
    expect((latency[4]?.canary?.latency.p50Ms ?? 0) / (latency[4]?.baseline?.latency.p50Ms ?? 1)).toBeGreaterThan(1.7);
    const variance = series('variance-only', 1, 5, 50, { noise: 'none' });
    const v = variance[4];
    expect(Math.abs((v?.canary?.latency.p50Ms ?? 0) - (v?.baseline?.latency.p50Ms ?? 0))).toBeLessThan(10);
    expect(v?.canary?.latency.p99Ms ?? 0).toBeGreaterThan((v?.baseline?.latency.p99Ms ?? 0) * 1.2);
    expect(series('no-data', 1, 5).every((m) => m.canary === null && m.baseline !== null)).toBe(true);
    const outage = series('shared-outage', 1, 12, 50, { noise: 'none' });
    expect(rate(outage.slice(6, 10), 'canary')).toBeCloseTo(0.05, 2);
    expect(rate(outage.slice(6, 10), 'baseline')).toBeCloseTo(0.05, 2);
    expect(rate(outage.slice(0, 6), 'baseline')).toBeLessThan(0.002);
    const leak = series('slow-leak', 1, 20, 50, { noise: 'none' });
    expect(rate(leak.slice(15), 'canary')).toBeGreaterThan(3 * rate(leak.slice(0, 10), 'canary'));
    const quiet = series('low-traffic', 1, 10, 50);
    expect(quiet.reduce((a, m) => a + (m.canary?.requests ?? 0) + (m.baseline?.requests ?? 0), 0)).toBeLessThan(600);
  });

  it('describes itself, including the healthy quantiles used to draft guardrails', () => {
    const d = createSimulator({ scenario: 'slow-leak', seed: 1 }).describe();
    expect(d.parameters.onsetMinute).toBe(10);
    expect(d.healthyQuantilesMs.p95).toBeCloseTo(100 * Math.exp(1.6449 * 0.42), 0);
  });

  it('rejects bad configuration with a clear message', () => {
    expect(() => createSimulator({ scenario: 'nope' as never, seed: 1 })).toThrow(/unknown scenario "nope"/);
    expect(() => createSimulator({ scenario: 'healthy', seed: 1.5 })).toThrow(SimulatorConfigError);
    expect(() => createSimulator({ scenario: 'healthy', seed: 1, qps: 0 })).toThrow(/qps/);
    expect(() => createSimulator({ scenario: 'healthy', seed: 1 }).setCanaryPercent(120)).toThrow(/0..100/);
  });
});
