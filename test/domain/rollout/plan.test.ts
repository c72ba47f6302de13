import { describe, expect, it } from 'vitest';
import { guardianRolloutPlan } from '../../../src/domain/judge/configuration.js';
import type { RampSchedule } from '../../../src/domain/model.js';
import { planRollout } from '../../../src/domain/rollout/plan.js';
import { guardrail } from '../judge/fixtures.js';

/** The default policy's high-risk ramp. */
const high = (analysisIntervalSeconds: number): RampSchedule => ({
  steps: [10, 25, 50].map((trafficPercent) => ({ trafficPercent, minDurationSeconds: 420, minRequests: 1000 })),
  bakeTimeSeconds: 1800,
  analysisIntervalSeconds,
  consecutiveFailureLimit: 2,
  cumulativeFailureLimit: 4,
});

describe('planRollout: the time the guardian needs when every verdict passes', () => {
  it('rounds to whole intervals and gives the first step the warm-up and evidence windows (5-minute intervals)', () => {
    const plan = planRollout({
      ramp: high(300),
      warmupIntervals: 1,
      evidenceIntervals: 3,
      canaryRequestsPerSecond: () => null,
    });
    expect(plan.steps.map((s) => [s.intervals, s.setBy])).toEqual([
      [4, 'evidence'],
      [2, 'duration'],
      [2, 'duration'],
    ]);
    expect(plan.bake.intervals).toBe(6);
    expect(plan.intervals).toBe(14);
    expect(plan.seconds).toBe(4200);
  });

  it('lengthens a step to its minimum requests at the canary’s rate', () => {
    // PetSite's 1.6 requests/s, all of it on the canary (a replay): 1000 requests take 625 s, three intervals.
    const replay = planRollout({
      ramp: high(300),
      warmupIntervals: 1,
      evidenceIntervals: 3,
      canaryRequestsPerSecond: () => 1.6,
    });
    expect(replay.steps.map((s) => s.intervals)).toEqual([4, 3, 3]);
    expect(replay.intervals).toBe(16);
    // In production the canary serves its share: 10 % of 1.6/s needs 6250 s for 1000 requests.
    const live = planRollout({
      ramp: high(300),
      warmupIntervals: 1,
      evidenceIntervals: 3,
      canaryRequestsPerSecond: (percent) => (1.6 * percent) / 100,
    });
    expect(live.steps.map((s) => [s.intervals, s.setBy])).toEqual([
      [21, 'requests'],
      [9, 'requests'],
      [5, 'requests'],
    ]);
  });

  it('at a 1-minute interval the minimum durations set the plan', () => {
    const plan = planRollout({
      ramp: high(60),
      warmupIntervals: 1,
      evidenceIntervals: 3,
      canaryRequestsPerSecond: () => null,
    });
    expect(plan.steps.map((s) => s.intervals)).toEqual([7, 7, 7]);
    expect(plan.seconds).toBe(3 * 420 + 1800);
  });

  it('without a canary step the bake holds the warm-up and evidence windows', () => {
    const plan = planRollout({
      ramp: { ...high(300), steps: [], bakeTimeSeconds: 600 },
      warmupIntervals: 1,
      evidenceIntervals: 3,
      canaryRequestsPerSecond: () => null,
    });
    expect(plan.bake).toEqual({ trafficPercent: 100, intervals: 4, setBy: 'evidence' });
  });

  it('guardianRolloutPlan takes the warm-up and windows from the guardian’s judge configuration', () => {
    const guardrails = (['error_rate', 'latency_p95', 'latency_p99'] as const).map((metric) => ({
      metric,
      comparator: '<' as const,
      threshold: metric === 'error_rate' ? 0.4 : 500,
      unit: metric === 'error_rate' ? ('%' as const) : ('ms' as const),
      windowSeconds: 300,
      minimumEvidence: { minRequests: 200, minIntervals: 3 },
      basis: 'test',
    }));
    const terms = { guardrails, ramp: high(300), targetErrorRatePercent: 0.1 };
    expect(guardianRolloutPlan(terms).intervals).toBe(14);
    expect(guardianRolloutPlan(terms, { serviceQps: 1.6, canaryServesAllTraffic: true }).intervals).toBe(16);
    // At 60 s the cold start is one interval and the windows fit in the 420 s steps.
    expect(guardianRolloutPlan(terms, { intervalSeconds: 60 }).seconds).toBe(3060);
  });

  it('plans the time a canary as healthy as today needs for its first PASS, not only the windows', () => {
    // PetSite as the replay benchmark drafts it: 0.226 % errors today against a 0.4 % guardrail, 1.61 requests/s.
    const guardrails = [guardrail('error_rate', 0.4, 500, 3)];
    const terms = { guardrails, ramp: high(300), targetErrorRatePercent: 0.1 };
    const today = { currentErrorRatePercent: 0.226, currentP95LatencyMs: 319, currentP99LatencyMs: 483 };
    const qps = 1.61;
    const without = guardianRolloutPlan(terms, { serviceQps: qps, canaryServesAllTraffic: true });
    const withToday = guardianRolloutPlan(terms, { serviceQps: qps, canaryServesAllTraffic: true, today });
    expect(without.steps[0]).toEqual({ trafficPercent: 10, intervals: 4, setBy: 'evidence' });
    // 4,825 requests (judge/passEvidence.ts) at 483 an interval: ten intervals after the warm-up one.
    expect(withToday.steps[0]).toEqual({ trafficPercent: 10, intervals: 11, setBy: 'evidence' });
    expect(withToday.intervals).toBe(without.intervals + 7);
    // Live, the 10 % canary sees a tenth of it: 4,825 requests at 0.161/s would take 100 intervals plus the warm-up,
    // but the first PASS may at most double the plan (41 intervals without it): the first step gets 21 + 41, and a
    // rollout still undecided then asks a person instead of holding for hours more.
    const liveWithout = guardianRolloutPlan(terms, { serviceQps: qps });
    const live = guardianRolloutPlan(terms, { serviceQps: qps, today });
    expect(liveWithout.intervals).toBe(41);
    expect(live.steps[0]).toEqual({ trafficPercent: 10, intervals: 21 + 41, setBy: 'evidence' });
    expect(live.intervals).toBe(2 * liveWithout.intervals);
    // A service already at its guardrail can never pass: the plan cannot help, the rollout asks a person at it.
    const hopeless = guardianRolloutPlan(terms, {
      serviceQps: qps,
      canaryServesAllTraffic: true,
      today: { ...today, currentErrorRatePercent: 0.5 },
    });
    expect(hopeless.intervals).toBe(without.intervals);
  });
});
