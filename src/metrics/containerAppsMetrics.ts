/**
 * Azure Container Apps platform metrics through @azure/monitor-query-metrics (metrics:getBatch): request
 * counts and 5xx failures per revision. Platform metrics carry no latency quantiles, so latency is null here;
 * use the Application Insights provider when latency guardrails must be judged.
 */
import type { MetricsClient, MetricsQueryResult } from '@azure/monitor-query-metrics';
import type { IntervalMetrics, MetricProvider, MetricQuery, VersionStats } from '../domain/metrics.js';
import { asProviderError } from './appInsights.js';
import { safeQueryValue } from './queryValues.js';

export interface ContainerAppsProviderOptions {
  client: Pick<MetricsClient, 'queryResources'>;
  /** Full resource id of the Container App. */
  resourceId: string;
  /** Revision name for a version; by default Container Apps' `<app>--<suffix>` convention with the version as suffix. */
  revisionForVersion?: (version: string) => string;
}

export class ContainerAppsMetricProvider implements MetricProvider {
  readonly name = 'azure-monitor-metrics';

  constructor(private readonly options: ContainerAppsProviderOptions) {}

  async fetchInterval(query: MetricQuery): Promise<IntervalMetrics> {
    const revisionOf =
      this.options.revisionForVersion ??
      ((version: string) =>
        `${safeQueryValue('serviceName', query.serviceName)}--${safeQueryValue('version', version)}`);
    const canaryRevision = revisionOf(query.canaryVersion);
    const baselineRevision = query.baselineVersion ? revisionOf(query.baselineVersion) : undefined;
    let results: MetricsQueryResult[];
    try {
      results = await this.options.client.queryResources(
        [this.options.resourceId],
        ['Requests'],
        'Microsoft.App/containerApps',
        {
          startTime: query.start,
          endTime: query.end,
          aggregation: 'Total',
          filter: "revisionName eq '*' and statusCodeCategory eq '*'",
        },
      );
    } catch (error) {
      throw asProviderError(error);
    }
    const perRevision = sumByRevision(results);
    return {
      start: query.start.toISOString(),
      end: query.end.toISOString(),
      canary: perRevision.get(canaryRevision) ?? null,
      baseline: baselineRevision ? (perRevision.get(baselineRevision) ?? null) : null,
    };
  }
}

function sumByRevision(results: MetricsQueryResult[]): Map<string, VersionStats> {
  const totals = new Map<string, { requests: number; failures: number }>();
  for (const result of results) {
    for (const metric of result.metrics) {
      for (const series of metric.timeseries ?? []) {
        const dims = new Map(
          (series.metadatavalues ?? []).map((m) => [String(m.name ?? '').toLowerCase(), m.value ?? '']),
        );
        const revision = dims.get('revisionname');
        if (!revision) continue;
        const sum = (series.data ?? []).reduce((acc, point) => acc + (point.total ?? 0), 0);
        const entry = totals.get(revision) ?? { requests: 0, failures: 0 };
        entry.requests += sum;
        if (dims.get('statuscodecategory') === '5xx') entry.failures += sum;
        totals.set(revision, entry);
      }
    }
  }
  const stats = new Map<string, VersionStats>();
  for (const [revision, { requests, failures }] of totals) {
    if (requests <= 0) continue;
    stats.set(revision, {
      requests: Math.round(requests),
      failures: Math.round(failures),
      latency: { p50Ms: null, p95Ms: null, p99Ms: null },
    });
  }
  return stats;
}
