import { describe, expect, it } from 'vitest';
import {
  minimumDetectableEffect,
  planCanaryEvidence,
  planErrorPassEvidence,
  planLatencyEvidence,
  requestsNeeded,
} from '../../src/domain/canaryEvidence.js';
import { normalQuantile } from '../../src/domain/judge/distributions.js';
import { guardrail } from './judge/fixtures.js';

const base = { alpha: 0.05, power: 0.8 };

describe('normalQuantile', () => {
  it('matches tabulated quantiles', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5);
    expect(normalQuantile(0.8)).toBeCloseTo(0.841621, 5);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 5);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('requestsNeeded / minimumDetectableEffect', () => {
  it('reproduces a hand calculation: p0 0.02 %, p1 0.2 %', () => {
    // (1.6449·√(0.0002·0.9998) + 0.8416·√(0.002·0.998))² / 0.0018² ≈ 1143
    expect(requestsNeeded(0.0002, 0.002, 1.644854, 0.841621)).toBeCloseTo(1143.3, 0);
    expect(requestsNeeded(0.002, 0.002, 1.6, 0.8)).toBe(Number.POSITIVE_INFINITY);
  });

  it('is the inverse of requestsNeeded', () => {
    const n = 50_000;
    const mde = minimumDetectableEffect(0.001, n, 1.644854, 0.841621);
    expect(requestsNeeded(0.001, 0.001 + mde, 1.644854, 0.841621)).toBeCloseTo(n, -1);
    expect(minimumDetectableEffect(0.001, 0, 1.64, 0.84)).toBe(0.999);
  });
});

describe('planCanaryEvidence', () => {
  it('is adequate for the seed example (15k qps, 5 % for 600 s)', () => {
    const plan = planCanaryEvidence({
      ...base,
      baselineErrorRatePercent: 0.02,
      thresholdPercent: 0.2,
      qps: 15000,
      firstStepPercent: 5,
      durationSeconds: 600,
    });
    expect(plan).toMatchObject({ requestsNeededAtFirstStep: 1144, secondsNeededAtFirstStep: 2, adequate: true });
    expect(plan.minimumDetectableEffectPercent).toBeGreaterThan(0);
    expect(plan.minimumDetectableEffectPercent).toBeLessThan(0.01);
    expect(plan.note).toContain('450,000 requests');
  });

  it('says what to change when the step is too short', () => {
    const plan = planCanaryEvidence({
      ...base,
      baselineErrorRatePercent: 0.1,
      thresholdPercent: 0.2,
      qps: 20,
      firstStepPercent: 5,
      durationSeconds: 600,
    });
    expect(plan.adequate).toBe(false);
    expect(plan.secondsNeededAtFirstStep).toBeGreaterThan(600);
    expect(plan.minimumDetectableEffectPercent).toBeGreaterThan(0.1);
    expect(plan.note).toMatch(
      /not enough: lengthen the first step to at least \d+ (?:h|min|s)\b.* or start it at \d+ % or more/,
    );
    const bake = planCanaryEvidence({
      ...base,
      baselineErrorRatePercent: 0.1,
      thresholdPercent: 0.2,
      qps: 1,
      firstStepPercent: null,
      durationSeconds: 600,
    });
    expect(bake.note).toMatch(/bake at 100 %.*lengthen the bake/);
  });

  it('reports unknowns as -1 with the reason', () => {
    const noTraffic = planCanaryEvidence({
      ...base,
      baselineErrorRatePercent: 0.02,
      thresholdPercent: 0.2,
      qps: 0,
      firstStepPercent: 5,
      durationSeconds: 600,
    });
    expect(noTraffic).toMatchObject({
      secondsNeededAtFirstStep: -1,
      adequate: false,
      minimumDetectableEffectPercent: 99.98,
    });
    expect(noTraffic.requestsNeededAtFirstStep).toBe(1144);
    expect(noTraffic.note).toContain('no traffic figure was given');
    const over = planCanaryEvidence({
      ...base,
      baselineErrorRatePercent: 0.5,
      thresholdPercent: 0.2,
      qps: 100,
      firstStepPercent: 10,
      durationSeconds: 300,
    });
    expect(over).toMatchObject({ requestsNeededAtFirstStep: -1, secondsNeededAtFirstStep: -1, adequate: false });
    expect(over.note).toContain('already at or above the guardrail');
  });

  it('needs more time for a smaller share, a lower α or higher power', () => {
    const at = (o: Partial<Parameters<typeof planCanaryEvidence>[0]>) =>
      planCanaryEvidence({
        ...base,
        baselineErrorRatePercent: 0.05,
        thresholdPercent: 0.3,
        qps: 100,
        firstStepPercent: 10,
        durationSeconds: 600,
        ...o,
      }).secondsNeededAtFirstStep;
    expect(at({ firstStepPercent: 5 })).toBeGreaterThan(at({}));
    expect(at({ alpha: 0.01 })).toBeGreaterThan(at({}));
    expect(at({ power: 0.95 })).toBeGreaterThan(at({}));
  });
});

describe('planLatencyEvidence', () => {
  const p99 = {
    metric: 'latency_p99' as const,
    comparator: '<' as const,
    threshold: 627,
    unit: 'ms' as const,
    windowSeconds: 900,
    minimumEvidence: { minRequests: 1000, minIntervals: 3 },
    basis: 'test',
  };
  const plan = (qps: number, extra: Partial<Parameters<typeof planLatencyEvidence>[0]> = {}) =>
    planLatencyEvidence({
      guardrail: p99,
      currentP95Ms: 290,
      currentP99Ms: 480,
      qps,
      firstStepPercent: 10,
      durationSeconds: 420,
      plannedSeconds: 3060,
      intervalSeconds: 300,
      passAlpha: 0.1,
      power: 0.8,
      ...extra,
    });

  it('reads today’s slow share off the current p95/p99 and sizes the requests a healthy canary needs', () => {
    const busy = plan(500);
    // p99 480 ms, threshold 627 ms: a little under 0.4 % of requests are slower today (log-normal between p95 and p99).
    expect(busy.expectedSlowPercent).toBeGreaterThan(0.2);
    expect(busy.expectedSlowPercent).toBeLessThan(0.5);
    expect(busy.requestsNeeded).toBeGreaterThanOrEqual(1000);
    // 50 requests/s at the first step: 1,000 requests in 20 s, but three intervals of 300 s are needed anyway.
    expect(busy.secondsNeeded).toBe(900);
    expect(busy.adequate).toBe(false);
    expect(busy.withinPlannedTime).toBe(true);
    expect(busy.note).toContain('within the planned');
  });

  it('at the PetShop’s 1.6 requests/s a p99 cannot conclude in the planned time: the note says a person will be asked', () => {
    const quiet = plan(1.6);
    expect(quiet.secondsNeeded).toBeGreaterThan(3060);
    expect(quiet.withinPlannedTime).toBe(false);
    expect(quiet.note).toContain('will ask a person at the planned time');
  });

  it('a guardrail today’s latency already breaks can never pass', () => {
    const broken = plan(500, { currentP99Ms: 700 });
    expect(broken.requestsNeeded).toBe(-1);
    expect(broken.adequate).toBe(false);
    expect(broken.note).toContain('can never pass');
  });
});

describe('planErrorPassEvidence: how long a canary as healthy as today takes to PASS the error guardrail', () => {
  const errorGuardrail = guardrail('error_rate', 0.4, 500, 3);
  const plan = (qps: number, currentErrorRatePercent = 0.226) =>
    planErrorPassEvidence({
      currentErrorRatePercent,
      guardrail: errorGuardrail,
      qps,
      firstStepPercent: 10,
      durationSeconds: 420,
      plannedSeconds: 4200,
      passAlpha: 0.1,
      power: 0.8,
    });

  it('PetSite (0.226 % today against 0.4 %): thousands of requests, beyond the plan at 10 % of 1.6 requests/s', () => {
    const quiet = plan(1.6);
    // (1.28·√(0.004·0.996) + 0.84·√(0.00226·0.99774))² / 0.00174² ≈ 4,800 requests.
    expect(quiet.requestsNeeded).toBeGreaterThan(4500);
    expect(quiet.requestsNeeded).toBeLessThan(5200);
    expect(quiet.secondsNeeded).toBeGreaterThan(4200);
    expect(quiet.note).toContain('will ask a person at the planned time');
  });

  it('a busy service passes within the first step; the margin sets the requests', () => {
    expect(plan(500).note).toContain('within the first step');
    expect(plan(500, 0.05).requestsNeeded).toBeLessThan(plan(500, 0.2).requestsNeeded);
  });

  it('today at or above the guardrail can never show it is below', () => {
    expect(plan(500, 0.4).requestsNeeded).toBe(-1);
    expect(plan(500, 0.4).note).toContain('can never show it is below 0.4 %');
  });
});
