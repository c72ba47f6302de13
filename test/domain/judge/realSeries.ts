/**
 * Tables of intervals copied from the real PetShop series in /work/shared/data/metric-series (CC-BY-4.0, Hardt et
 * al., CLeaR 2024): PetSite, CloudWatch every 5 minutes, low traffic. Row: requests (Sum), availability (Average, %),
 * latency p50/p95/p99 (seconds) — quantiles only, no histogram, as the source reports them. Mapping as the data's
 * README says: failed requests = requests × (1 − availability / 100). No baseline version exists in this data.
 */
import type { IntervalMetrics } from '../../../src/domain/metrics.js';
import type { Guardrail } from '../../../src/domain/model.js';

type Row = readonly [requests: number, availability: number, p50: number, p95: number, p99: number];

/** noissue rows 300–311 (2023-08-22 03:20–04:15 UTC): normal operation. */
export const HEALTHY: readonly Row[] = [
  [477, 100.0, 0.052395, 0.266963, 0.394088],
  [484, 99.58677, 0.05126, 0.27077, 0.344926],
  [466, 99.7854, 0.050423, 0.288912, 0.481872],
  [516, 98.25581, 0.049371, 0.35792, 0.646281],
  [505, 100.0, 0.049757, 0.333188, 0.488888],
  [468, 100.0, 0.049674, 0.279716, 0.34486],
  [511, 99.60861, 0.048156, 0.292159, 0.510475],
  [476, 100.0, 0.048294, 0.270324, 0.427343],
  [472, 100.0, 0.050375, 0.296366, 0.401544],
  [474, 100.0, 0.05131, 0.278105, 0.409402],
  [490, 100.0, 0.048991, 0.283687, 0.399255],
  [445, 99.55056, 0.048977, 0.306225, 0.456609],
];

/** train/issue_2: PetSite latency (PetSearch fault injected between rows 2 and 3). */
export const LATENCY_ISSUE: readonly Row[] = [
  [462, 100.0, 0.04481, 0.28733, 0.41582],
  [469, 100.0, 0.04454, 0.29613, 0.37925],
  [484, 99.7933, 0.04634, 0.33312, 1.05343],
  [502, 100.0, 0.04911, 1.01336, 1.08505],
  [457, 99.7811, 0.04509, 0.34346, 1.02032],
];

/** test/issue_3: PetSite latency (fault injected between rows 2 and 3): p95 above 530 ms in rows 3 and 4. */
export const SUSTAINED_P95_ISSUE: readonly Row[] = [
  [471, 100.0, 0.04474, 0.31586, 0.54569],
  [443, 100.0, 0.04363, 0.31516, 0.49597],
  [466, 100.0, 0.04524, 0.53346, 0.72805],
  [468, 100.0, 0.04437, 0.54661, 0.76286],
  [467, 100.0, 0.04432, 0.33141, 0.76322],
];

/** test/issue_15: PetSite availability (a bad status-updater deployment, `cdk deploy`). */
export const AVAILABILITY_ISSUE: readonly Row[] = [
  [493, 100.0, 0.04549, 0.29906, 0.40503],
  [460, 99.5652, 0.04429, 0.29766, 0.41214],
  [470, 98.5106, 0.04766, 0.3103, 0.58827],
  [469, 94.8827, 0.04442, 0.28604, 0.43681],
  [494, 92.9149, 0.04344, 0.34469, 0.51462],
];

/**
 * The contract `bench:replay` drafts for PetSite (high risk, from the first 24 h of noissue): error rate < 0.4 %,
 * p95 < 382.5 ms, p99 < 627.2 ms, policy minimum evidence, 300 s windows (widened to 900 s by the configuration).
 */
export const PETSITE_GUARDRAILS: Guardrail[] = [
  g('error_rate', 0.4, '%', 500),
  g('latency_p95', 382.5, 'ms', 200),
  g('latency_p99', 627.2, 'ms', 1000),
];

function g(metric: Guardrail['metric'], threshold: number, unit: Guardrail['unit'], minRequests: number): Guardrail {
  return {
    metric,
    comparator: '<',
    threshold,
    unit,
    windowSeconds: 300,
    minimumEvidence: { minRequests, minIntervals: 3 },
    basis: 'bench:replay PetSite draft',
  };
}

const T0 = Date.parse('2023-08-22T03:20:00Z');

/** Rows as consecutive 300 s intervals of the canary (no baseline, as in the source). */
export function intervals(rows: readonly Row[], baseline: readonly Row[] | null = null): IntervalMetrics[] {
  return rows.map((row, i) => ({
    start: new Date(T0 + i * 300_000).toISOString(),
    end: new Date(T0 + (i + 1) * 300_000).toISOString(),
    canary: stats(row),
    baseline: baseline?.[i] ? stats(baseline[i] as Row) : null,
  }));
}

function stats([requests, availability, p50, p95, p99]: Row) {
  return {
    requests,
    failures: Math.round(requests * (1 - availability / 100)),
    latency: { p50Ms: p50 * 1000, p95Ms: p95 * 1000, p99Ms: p99 * 1000 },
  };
}
