/**
 * Values interpolated into KQL and PromQL. Neither query API takes bound parameters, so every value is checked
 * against a strict pattern first and refused otherwise: a service name can never change the query's meaning.
 */
import { MetricProviderError } from '../domain/metrics.js';

const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

export function safeQueryValue(field: string, value: string): string {
  if (!SAFE_VALUE.test(value)) {
    throw new MetricProviderError(
      'metrics_provider_bad_response',
      `${field} "${value.slice(0, 60)}" cannot be used in a metric query: only letters, digits and . _ : / @ + - are allowed`,
    );
  }
  return value;
}

/** Latency bucket edges (ms) used when a provider builds its own histogram. */
export const DEFAULT_LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000,
] as const;

/**
 * Quantile from cumulative histogram buckets, interpolating linearly inside the bucket as Prometheus'
 * histogram_quantile does. Returns null when there are no observations.
 */
export function quantileFromBuckets(buckets: { leMs: number; count: number }[], q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a.leMs - b.leMs);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let previousEdge = 0;
  let previousCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.leMs)) return previousEdge;
      const inBucket = bucket.count - previousCount;
      if (inBucket <= 0) return bucket.leMs;
      return previousEdge + ((bucket.leMs - previousEdge) * (rank - previousCount)) / inBucket;
    }
    previousEdge = bucket.leMs;
    previousCount = bucket.count;
  }
  return previousEdge;
}
