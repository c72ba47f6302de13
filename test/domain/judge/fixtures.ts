/**
 * Deterministic interval builders for judge tests: counts are given, latency histograms are the expected counts of a
 * log-normal distribution (no randomness), so every test states exactly what the judge sees.
 */
import type { JudgeInput } from '../../../src/domain/judge/types.js';
import type { IntervalMetrics, VersionStats } from '../../../src/domain/metrics.js';
import type { Guardrail } from '../../../src/domain/model.js';

export const EDGES = [25, 50, 75, 100, 125, 150, 175, 200, 250, 300, 400, 500, 750, 1000, 2500];

function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export interface VersionSpec {
  requests: number;
  failures: number;
  /** Log-normal latency: median (ms) and sigma. Default 100 ms, 0.42 (p95 ≈ 200 ms). */
  medianMs?: number;
  sigma?: number;
  /** Leave the histogram out (quantiles only). */
  noHistogram?: boolean;
}

export function version(spec: VersionSpec): VersionStats {
  const median = spec.medianMs ?? 100;
  const sigma = spec.sigma ?? 0.42;
  const cdf = (ms: number) => normalCdf((Math.log(ms) - Math.log(median)) / sigma);
  const histogram = EDGES.map((leMs) => ({ leMs, count: Math.round(spec.requests * cdf(leMs)) }));
  const q = (z: number) => Math.round(median * Math.exp(sigma * z) * 100) / 100;
  return {
    requests: spec.requests,
    failures: spec.failures,
    latency: {
      p50Ms: q(0),
      p95Ms: q(1.6449),
      p99Ms: q(2.3263),
      ...(spec.noHistogram ? {} : { histogram }),
    },
  };
}

const T0 = Date.parse('2026-03-01T12:00:00Z');

export function interval(index: number, canary: VersionSpec | null, baseline: VersionSpec | null): IntervalMetrics {
  return {
    start: new Date(T0 + index * 60_000).toISOString(),
    end: new Date(T0 + (index + 1) * 60_000).toISOString(),
    canary: canary ? version(canary) : null,
    baseline: baseline ? version(baseline) : null,
  };
}

/** n intervals built by `f(i)`. */
export function series(n: number, f: (i: number) => [VersionSpec | null, VersionSpec | null]): IntervalMetrics[] {
  return Array.from({ length: n }, (_, i) => interval(i, ...f(i)));
}

export function guardrail(
  metric: Guardrail['metric'],
  threshold: number,
  minRequests = 500,
  minIntervals = 3,
): Guardrail {
  return {
    metric,
    comparator: '<',
    threshold,
    unit: metric === 'error_rate' ? '%' : 'ms',
    windowSeconds: 300,
    minimumEvidence: { minRequests, minIntervals },
    basis: 'test',
  };
}

export const GUARDRAILS: Guardrail[] = [
  guardrail('error_rate', 0.3, 500, 3),
  guardrail('latency_p95', 244, 200, 3),
  guardrail('latency_p99', 372, 1000, 3),
];

export function input(history: IntervalMetrics[], overrides: Partial<JudgeInput> = {}): JudgeInput {
  return {
    guardrails: GUARDRAILS,
    step: { index: 0, trafficPercent: 10, minRequests: 1000 },
    history,
    errorBudget: { targetErrorRatePercent: 0.1 },
    limits: { consecutiveFailureLimit: 2, cumulativeFailureLimit: 4 },
    ...overrides,
  };
}
