/**
 * Application Insights (workspace-based) through Log Analytics KQL: per-version request counts, failures,
 * latency quantiles and a cumulative latency histogram for the canary and the baseline.
 */
import type { LogsQueryClient, LogsTable } from '@azure/monitor-query-logs';
import { LogsQueryResultStatus } from '@azure/monitor-query-logs';
import type { IntervalMetrics, MetricProvider, MetricQuery, VersionStats } from '../domain/metrics.js';
import { MetricProviderError } from '../domain/metrics.js';
import { DEFAULT_LATENCY_BUCKETS_MS, safeQueryValue } from './queryValues.js';

export interface AppInsightsProviderOptions {
  client: Pick<LogsQueryClient, 'queryWorkspace'>;
  workspaceId: string;
  /** Seconds the service may spend on the query before giving up. */
  serverTimeoutSeconds?: number;
  latencyBucketsMs?: readonly number[];
}

export function buildRequestsKql(query: MetricQuery, bucketsMs: readonly number[]): string {
  const service = safeQueryValue('serviceName', query.serviceName);
  const versions = [query.canaryVersion, query.baselineVersion]
    .filter((v): v is string => Boolean(v))
    .map((v) => `'${safeQueryValue('version', v)}'`);
  const bucketColumns = bucketsMs.map((edge) => `le_${edge} = countif(DurationMs <= ${edge})`).join(', ');
  return [
    'AppRequests',
    `| where AppRoleName == '${service}' and AppVersion in (${versions.join(', ')})`,
    '| summarize requests = count(), failures = countif(Success == false),',
    '    p50 = percentile(DurationMs, 50), p95 = percentile(DurationMs, 95), p99 = percentile(DurationMs, 99),',
    `    ${bucketColumns}`,
    '    by AppVersion',
  ].join('\n');
}

export class AppInsightsMetricProvider implements MetricProvider {
  readonly name = 'azure-monitor-logs';
  private readonly buckets: readonly number[];

  constructor(private readonly options: AppInsightsProviderOptions) {
    this.buckets = options.latencyBucketsMs ?? DEFAULT_LATENCY_BUCKETS_MS;
  }

  async fetchInterval(query: MetricQuery): Promise<IntervalMetrics> {
    const kql = buildRequestsKql(query, this.buckets);
    let table: LogsTable | undefined;
    try {
      const result = await this.options.client.queryWorkspace(
        this.options.workspaceId,
        kql,
        { startTime: query.start, endTime: query.end },
        { serverTimeoutInSeconds: this.options.serverTimeoutSeconds ?? 30 },
      );
      if (result.status !== LogsQueryResultStatus.Success) {
        throw new MetricProviderError(
          'metrics_provider_bad_response',
          `Log Analytics returned a partial result: ${result.partialError.message ?? 'unknown error'}`,
        );
      }
      table = result.tables[0];
    } catch (error) {
      throw asProviderError(error);
    }
    const byVersion = table ? rowsByVersion(table, this.buckets) : new Map<string, VersionStats>();
    return {
      start: query.start.toISOString(),
      end: query.end.toISOString(),
      canary: byVersion.get(query.canaryVersion) ?? null,
      baseline: query.baselineVersion ? (byVersion.get(query.baselineVersion) ?? null) : null,
    };
  }
}

function rowsByVersion(table: LogsTable, bucketsMs: readonly number[]): Map<string, VersionStats> {
  const column = new Map(table.columnDescriptors.map((c, index) => [c.name ?? '', index]));
  const read = (row: unknown[], name: string): unknown => {
    const index = column.get(name);
    if (index === undefined)
      throw new MetricProviderError('metrics_provider_bad_response', `Log Analytics result has no column ${name}`);
    return row[index];
  };
  const stats = new Map<string, VersionStats>();
  for (const row of table.rows) {
    const version = String(read(row, 'AppVersion'));
    const requests = toCount(read(row, 'requests'), 'requests');
    if (requests === 0) continue;
    stats.set(version, {
      requests,
      failures: toCount(read(row, 'failures'), 'failures'),
      latency: {
        p50Ms: toNullableNumber(read(row, 'p50')),
        p95Ms: toNullableNumber(read(row, 'p95')),
        p99Ms: toNullableNumber(read(row, 'p99')),
        histogram: [
          ...bucketsMs.map((edge) => ({ leMs: edge, count: toCount(read(row, `le_${edge}`), `le_${edge}`) })),
          { leMs: Number.POSITIVE_INFINITY, count: requests },
        ],
      },
    });
  }
  return stats;
}

function toCount(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new MetricProviderError('metrics_provider_bad_response', `${name} is not a count: ${String(value)}`);
  return Math.round(n);
}

function toNullableNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function asProviderError(error: unknown): MetricProviderError {
  if (error instanceof MetricProviderError) return error;
  const status = (error as { statusCode?: number }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  if (status === 401 || status === 403)
    return new MetricProviderError('metrics_provider_auth', message, { cause: error });
  if ((error as { name?: string }).name === 'AbortError' || /timeout/i.test(message)) {
    return new MetricProviderError('metrics_provider_timeout', message, { cause: error });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new MetricProviderError('metrics_provider_bad_response', message, { cause: error });
  }
  return new MetricProviderError('metrics_provider_unavailable', message, { cause: error });
}
