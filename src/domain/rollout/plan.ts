/**
 * The rollout's planned time: what the guardian actually needs to walk the ramp when every verdict PASSes, in whole
 * analysis intervals (a step can only end at an interval's verdict). The contract shows it before sign-off, the state
 * machine asks a person when a rollout runs past it (stateMachine.ts), and the benchmarks count rollouts promoted
 * within it.
 *
 * Each canary step lasts the longest of
 * - its minimum duration, rounded up to whole intervals;
 * - the time its minimum canary requests take at the canary's request rate at that step, when the rate is known;
 * - one interval (a step ends at a verdict);
 * and the first phase (the first step, or the bake when there is none) at least the warm-up intervals plus the longer
 * of the intervals a guardrail window must hold before the judge can PASS and the time a canary as healthy as the
 * service is today takes to gather the requests of its first PASS at that phase's rate (judge/passEvidence.ts), so
 * the plan is what a healthy canary needs, not the fastest a rollout could conceivably go; that time lengthens the
 * plan by at most FIRST_PASS_EXTENSION_LIMIT × the plan without it. The bake lasts its time rounded up to intervals.
 * At a 5-minute interval a high-risk ramp (three 420 s steps, 1,800 s bake, 1 warm-up interval, windows of 3) is
 * 4 + 2 + 2 + 6 = 14 intervals, not the 10.2 the minimum durations alone add up to.
 */
import type { RampSchedule } from '../model.js';

export interface RolloutPlanInput {
  ramp: Pick<RampSchedule, 'steps' | 'bakeTimeSeconds' | 'analysisIntervalSeconds'>;
  /** Intervals at the start the judge leaves out as cold start. */
  warmupIntervals: number;
  /** Intervals a guardrail window must hold before a verdict can PASS (the largest minimum interval count). */
  evidenceIntervals: number;
  /** The canary's requests per second at a step's traffic share; null when unknown (requests then add no time). */
  canaryRequestsPerSecond: (trafficPercent: number) => number | null;
  /**
   * Requests a canary as healthy as today needs before its first PASS (judge/passEvidence.ts); null or absent when
   * unknown or when no guardrail can pass (then they add no time).
   */
  firstPassRequests?: number | null;
}

export interface PlannedPhase {
  /** Canary share of the step; 100 for the bake. */
  trafficPercent: number;
  intervals: number;
  /** What sets its length. */
  setBy: 'duration' | 'requests' | 'evidence';
}

export interface RolloutPlan {
  steps: PlannedPhase[];
  bake: PlannedPhase;
  intervals: number;
  seconds: number;
}

/**
 * The most the first PASS's requests may lengthen the plan, as a multiple of the plan without them. A healthy canary
 * that needs longer than that (a guardrail barely above today's figures, a thin first step) is one the contract's
 * evidence block already calls inadequate before sign-off; the rollout then asks a person once this much time has
 * passed, with the requests gathered so far, instead of holding silently for days.
 */
export const FIRST_PASS_EXTENSION_LIMIT = 1;

export function planRollout(input: RolloutPlanInput): RolloutPlan {
  const interval = input.ramp.analysisIntervalSeconds;
  const whole = (seconds: number) => Math.max(1, Math.ceil(seconds / interval - 1e-9));
  const windowsOnly = phases(input, whole, () => 0);
  const limit = Math.floor(total(windowsOnly) * FIRST_PASS_EXTENSION_LIMIT);
  const requests = input.firstPassRequests ?? null;
  const plan = phases(input, whole, (trafficPercent) => {
    const rate = input.canaryRequestsPerSecond(trafficPercent);
    if (rate === null || !(rate > 0) || requests === null || !(requests > 0)) return 0;
    const needed = input.warmupIntervals + whole(requests / rate);
    const first = windowsOnly.steps[0] ?? windowsOnly.bake;
    return Math.min(needed, first.intervals + limit);
  });
  const intervals = total(plan);
  return { ...plan, intervals, seconds: intervals * interval };
}

/** The phases, the first one at least `firstPassAt(its share)` intervals long (and the windows' first verdict). */
function phases(
  input: RolloutPlanInput,
  whole: (seconds: number) => number,
  firstPassAt: (trafficPercent: number) => number,
): Pick<RolloutPlan, 'steps' | 'bake'> {
  const firstVerdictAt = (trafficPercent: number) =>
    Math.max(1, input.warmupIntervals + input.evidenceIntervals, firstPassAt(trafficPercent));
  const steps: PlannedPhase[] = input.ramp.steps
    .filter((s) => s.trafficPercent < 100)
    .map((s, index) => {
      let phase: PlannedPhase = {
        trafficPercent: s.trafficPercent,
        intervals: whole(s.minDurationSeconds),
        setBy: 'duration',
      };
      const rate = input.canaryRequestsPerSecond(s.trafficPercent);
      if (rate !== null && rate > 0 && s.minRequests > 0) {
        const forRequests = whole(s.minRequests / rate);
        if (forRequests > phase.intervals) phase = { ...phase, intervals: forRequests, setBy: 'requests' };
      }
      const firstVerdict = index === 0 ? firstVerdictAt(s.trafficPercent) : 0;
      if (firstVerdict > phase.intervals) phase = { ...phase, intervals: firstVerdict, setBy: 'evidence' };
      return phase;
    });
  let bake: PlannedPhase = { trafficPercent: 100, intervals: whole(input.ramp.bakeTimeSeconds), setBy: 'duration' };
  const bakeVerdict = steps.length === 0 ? firstVerdictAt(100) : 0;
  if (bakeVerdict > bake.intervals) bake = { ...bake, intervals: bakeVerdict, setBy: 'evidence' };
  return { steps, bake };
}

function total(plan: Pick<RolloutPlan, 'steps' | 'bake'>): number {
  return plan.steps.reduce((a, s) => a + s.intervals, 0) + plan.bake.intervals;
}
