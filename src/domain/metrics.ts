/**
 * What a metric provider returns for one analysis interval, and the port every provider implements.
 * Pure types: providers (Azure Monitor, Prometheus, simulator) live in src/metrics/.
 */
import type { AreaCode, CodedError } from '../errors.js';

/** Latency of one interval. Histogram buckets are cumulative counts of requests at or below `leMs`. */
export interface LatencyStats {
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  histogram?: { leMs: number; count: number }[];
}

export interface VersionStats {
  requests: number;
  failures: number;
  latency: LatencyStats;
}

export interface IntervalMetrics {
  start: string;
  end: string;
  /** null when the provider had no data for that version (never zero-filled). */
  canary: VersionStats | null;
  baseline: VersionStats | null;
}

export interface MetricQuery {
  serviceName: string;
  namespace: string;
  canaryVersion: string;
  baselineVersion?: string;
  start: Date;
  end: Date;
}

/** Typed provider failures; the guardian retries them and then HOLDs, never rolls back on missing data. */
export class MetricProviderError extends Error implements CodedError {
  constructor(
    readonly code: Exclude<AreaCode<'metrics'>, 'metrics_simulator_invalid_config'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MetricProviderError';
  }
}

export interface MetricProvider {
  readonly name: string;
  fetchInterval(query: MetricQuery): Promise<IntervalMetrics>;
}
