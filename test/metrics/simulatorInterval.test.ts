/**
 * The simulator at any analysis interval: scenarios are timed in minutes, so the same seed shows the same world at a
 * 1 s, 60 s or 5 min interval; and each rollout of a process has its own simulator (seed, weight, origin).
 */
import { describe, expect, it } from 'vitest';
import type { IntervalMetrics, MetricQuery } from '../../src/domain/metrics.js';
import { createSimulator, type ScenarioName } from '../../src/metrics/simulator.js';
import { SimulatorFleet } from '../../src/metrics/simulatorFleet.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0);

function query(fromSeconds: number, toSeconds: number, canaryVersion = '2.0'): MetricQuery {
  return {
    serviceName: 'checkout',
    namespace: 'prod',
    canaryVersion,
    baselineVersion: '1.9',
    start: new Date(T0 + fromSeconds * 1000),
    end: new Date(T0 + toSeconds * 1000),
  };
}

/** Every interval of `intervalSeconds` in [fromMinute, toMinute), fetched as the guardian would. */
async function fetchMinutes(
  scenario: ScenarioName,
  intervalSeconds: number,
  fromMinute: number,
  toMinute: number,
): Promise<IntervalMetrics[]> {
  const sim = createSimulator({ scenario, seed: 5, qps: 200, noise: 'realistic', canaryPercent: 20 });
  await sim.fetchInterval(query(0, intervalSeconds)); // the first query fixes the rollout's origin
  const out: IntervalMetrics[] = [];
  for (let s = fromMinute * 60; s < toMinute * 60; s += intervalSeconds) {
    out.push(await sim.fetchInterval(query(s, s + intervalSeconds)));
  }
  return out;
}

const errorRate = (ms: IntervalMetrics[], side: 'canary' | 'baseline') => {
  let f = 0;
  let n = 0;
  for (const m of ms) {
    f += m[side]?.failures ?? 0;
    n += m[side]?.requests ?? 0;
  }
  return f / n;
};

const medianP50 = (ms: IntervalMetrics[]) => {
  const v = ms.map((m) => m.canary?.latency?.p50Ms).filter((x): x is number => typeof x === 'number');
  v.sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] as number;
};

describe('simulator at any analysis interval', () => {
  it.each([1, 60, 300])('error-spike shows a ~3 %% canary error rate at a %i s interval', async (seconds) => {
    const ms = await fetchMinutes('error-spike', seconds, 0, 10);
    expect(errorRate(ms, 'canary')).toBeGreaterThan(0.025);
    expect(errorRate(ms, 'canary')).toBeLessThan(0.035);
    expect(errorRate(ms, 'baseline')).toBeLessThan(0.005);
  });

  it.each([1, 60, 300])('healthy shows the same error rate on both versions at a %i s interval', async (seconds) => {
    const ms = await fetchMinutes('healthy', seconds, 0, 10);
    expect(errorRate(ms, 'canary')).toBeLessThan(0.004);
    expect(Math.abs(errorRate(ms, 'canary') - errorRate(ms, 'baseline'))).toBeLessThan(0.002);
  });

  it.each([1, 60])('shared-outage hits both versions in minutes 6–9 only, at a %i s interval', async (seconds) => {
    const before = await fetchMinutes('shared-outage', seconds, 1, 6);
    const during = await fetchMinutes('shared-outage', seconds, 6, 10);
    const after = await fetchMinutes('shared-outage', seconds, 10, 14);
    for (const side of ['canary', 'baseline'] as const) {
      expect(errorRate(during, side)).toBeGreaterThan(0.04);
      expect(errorRate(before, side)).toBeLessThan(0.01);
      expect(errorRate(after, side)).toBeLessThan(0.01);
    }
  });

  it('the canary cold start lasts the first minute, whatever the interval', async () => {
    const coldSeconds = await fetchMinutes('healthy', 1, 0, 1);
    const warmSeconds = await fetchMinutes('healthy', 1, 1, 3);
    expect(medianP50(coldSeconds) / medianP50(warmSeconds)).toBeGreaterThan(1.3);
    const minutes = await fetchMinutes('healthy', 60, 0, 3);
    expect(minutes[0]?.canary?.latency?.p50Ms ?? 0).toBeGreaterThan(1.3 * (minutes[2]?.canary?.latency?.p50Ms ?? 0));
    // A 5-minute interval holds one cold minute in five: its median rises by far less.
    const five = await fetchMinutes('healthy', 300, 0, 10);
    const ratio = (five[0]?.canary?.latency?.p50Ms ?? 0) / (five[1]?.canary?.latency?.p50Ms ?? 1);
    expect(ratio).toBeGreaterThan(1.02);
    expect(ratio).toBeLessThan(1.3);
  });

  it('requests follow the interval length', async () => {
    const [one] = await fetchMinutes('healthy', 1, 2, 3);
    const [five] = await fetchMinutes('healthy', 300, 5, 10);
    expect((one?.canary?.requests ?? 0) + (one?.baseline?.requests ?? 0)).toBeLessThan(300);
    expect((five?.canary?.requests ?? 0) + (five?.baseline?.requests ?? 0)).toBeGreaterThan(30_000);
  });
});

describe('SimulatorFleet', () => {
  it('gives each rollout its own seed, traffic weight and origin', async () => {
    const fleet = new SimulatorFleet({ scenario: 'healthy', seed: 1, qps: 200, noise: 'realistic' });
    const a = { serviceName: 'checkout', namespace: 'prod', canaryVersion: '2.0' };
    const b = { serviceName: 'checkout', namespace: 'prod', canaryVersion: '2.1' };
    fleet.setCanaryPercent(a, 50);
    const first = await fleet.fetchInterval(query(0, 60, '2.0'));
    const other = await fleet.fetchInterval(query(0, 60, '2.1'));
    expect(first.canary?.requests ?? 0).toBeGreaterThan(4000);
    expect(other.canary).toBeNull(); // rollout b is still at 0 %
    fleet.setCanaryPercent(b, 50);
    const again = await fleet.fetchInterval(query(0, 60, '2.1'));
    expect(again.canary?.requests).not.toBe(first.canary?.requests); // another seed
    expect(fleet.simulatorFor(a).canaryPercent).toBe(50);
    // Rollout b started later: its own origin, so its first minute is its cold start.
    const late = new SimulatorFleet({ scenario: 'error-spike', seed: 1, qps: 200, noise: 'none' });
    const c = { serviceName: 'cart', namespace: 'prod', canaryVersion: '3.0' };
    late.setCanaryPercent(c, 50);
    const startLate = await late.fetchInterval({ ...query(3600, 3660), ...c });
    expect((startLate.canary?.failures ?? 0) / (startLate.canary?.requests ?? 1)).toBeGreaterThan(0.02);
  });
});
