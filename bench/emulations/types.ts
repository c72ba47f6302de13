/**
 * Shared vocabulary of the judge benchmark: the contract every controller applies, the ramp plan and the outcome of
 * one simulated rollout.
 */
import type { ServiceToday } from '../../src/domain/judge/passEvidence.js';
import type { IntervalMetrics } from '../../src/domain/metrics.js';
import type { Guardrail } from '../../src/domain/model.js';

/**
 * Where a controller's intervals come from: the seeded simulator (bench:judge, whose noise follows the traffic split)
 * or a recorded series (bench:replay, where the split changes nothing). `generate(i)` is interval i of the rollout.
 */
export interface IntervalSource {
  setCanaryPercent(percent: number): void;
  generate(index: number): IntervalMetrics;
  /** Up to `count` intervals before the rollout started (a recorded series only): rolling windows and controls. */
  preceding?(count: number): readonly IntervalMetrics[];
}

export interface BenchContract {
  guardrails: Guardrail[];
  /** Canary steps (percent and length in analysis intervals), then 100 % for `bakeIntervals`. */
  steps: { percent: number; intervals: number; minRequests: number }[];
  bakeIntervals: number;
  intervalSeconds: number;
  consecutiveFailureLimit: number;
  cumulativeFailureLimit: number;
  targetErrorRatePercent: number;
  /** Cold-start intervals each tool may skip (Argo initialDelay, Kayenta warm-up, our warmupIntervals). */
  warmupIntervals: number;
  /** Intervals a rollout may take before it is counted as stalled. */
  horizonIntervals: number;
  /**
   * The service's requests per second as the contract states it (its plan's traffic); absent: unknown. Our guardian
   * plans the rollout from it as the worker does (guardianRolloutPlan), so it asks a person at the same time.
   */
  serviceQps?: number;
  /** The service's error rate and latency as the contract states them (the healthy canary its plan expects). */
  today?: ServiceToday;
  /** The rows are recorded, not served at the guardian's weights (a replay): the canary serves all the traffic. */
  canaryServesAllTraffic?: boolean;
}

export interface RolloutRun {
  outcome: 'promoted' | 'rolled_back' | 'stalled';
  /** Interval index of the rollback or promotion decision. */
  decisionInterval: number | null;
  /** Canary requests per interval actually served (for the minimum-evidence point). */
  canaryRequests: number[];
}

export interface Controller {
  readonly name: string;
  run(source: IntervalSource, contract: BenchContract): RolloutRun;
}

export function threshold(contract: BenchContract, metric: Guardrail['metric']): number {
  const g = contract.guardrails.find((x) => x.metric === metric);
  if (!g) throw new Error(`bench contract lacks a ${metric} guardrail`);
  return g.threshold;
}

/** Weight of the fixed, time-based plan at interval i (Argo steps, Kayenta stages): canary steps then 100 %. */
export function plannedWeight(contract: BenchContract, i: number): number | null {
  let start = 0;
  for (const s of contract.steps) {
    if (i < start + s.intervals) return s.percent;
    start += s.intervals;
  }
  return i < start + contract.bakeIntervals ? 100 : null;
}

export function plannedLength(contract: BenchContract): number {
  return contract.steps.reduce((a, s) => a + s.intervals, 0) + contract.bakeIntervals;
}
