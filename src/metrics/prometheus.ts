/**
 * Prometheus HTTP API provider (`/api/v1/query` for one interval, `/api/v1/query_range` for a backfill).
 * PromQL comes from templates in configuration; `{{service}}`, `{{namespace}}`, `{{version}}` and `{{window}}`
 * are substituted with validated values.
 */
import type { IntervalMetrics, LatencyStats, MetricProvider, MetricQuery, VersionStats } from '../domain/metrics.js';
import { MetricProviderError } from '../domain/metrics.js';
import { quantileFromBuckets, safeQueryValue } from './queryValues.js';

export interface PromQlTemplates {
  /** Requests in the window (a scalar or a single-series vector). */
  requests: string;
  /** Failed requests in the window. */
  failures: string;
  /** Cumulative latency buckets in SECONDS, one series per `le`. */
  latencyBuckets: string;
}

export const DEFAULT_PROMQL_TEMPLATES: PromQlTemplates = {
  requests:
    'sum(increase(http_requests_total{service="{{service}}",namespace="{{namespace}}",version="{{version}}"}[{{window}}]))',
  failures:
    'sum(increase(http_requests_total{service="{{service}}",namespace="{{namespace}}",version="{{version}}",code=~"5.."}[{{window}}]))',
  latencyBuckets:
    'sum by (le) (increase(http_request_duration_seconds_bucket{service="{{service}}",namespace="{{namespace}}",version="{{version}}"}[{{window}}]))',
};

export interface PrometheusProviderOptions {
  baseUrl: string;
  templates?: Partial<PromQlTemplates>;
  bearerToken?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface PromMatrixSample {
  metric: Record<string, string>;
  values: [number, string][];
}

export class PrometheusMetricProvider implements MetricProvider {
  readonly name = 'prometheus';
  private readonly templates: PromQlTemplates;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: PrometheusProviderOptions) {
    this.templates = { ...DEFAULT_PROMQL_TEMPLATES, ...options.templates };
    this.doFetch = options.fetch ?? fetch;
  }

  async fetchInterval(query: MetricQuery): Promise<IntervalMetrics> {
    const windowSeconds = Math.max(1, Math.round((query.end.getTime() - query.start.getTime()) / 1000));
    const [canary, baseline] = await Promise.all([
      this.versionStats(query, query.canaryVersion, windowSeconds),
      query.baselineVersion ? this.versionStats(query, query.baselineVersion, windowSeconds) : Promise.resolve(null),
    ]);
    return { start: query.start.toISOString(), end: query.end.toISOString(), canary, baseline };
  }

  /** Request and failure counts for consecutive windows of `stepSeconds`, from one query_range call each. */
  async fetchRange(query: MetricQuery, stepSeconds: number): Promise<IntervalMetrics[]> {
    const vars = this.variables(query, query.canaryVersion, stepSeconds);
    const [requests, failures] = await Promise.all([
      this.queryRange(render(this.templates.requests, vars), query.start, query.end, stepSeconds),
      this.queryRange(render(this.templates.failures, vars), query.start, query.end, stepSeconds),
    ]);
    const failuresAt = new Map((failures[0]?.values ?? []).map(([t, v]) => [t, Number(v)]));
    return (requests[0]?.values ?? []).map(([t, v]) => {
      const count = Math.round(Number(v));
      return {
        start: new Date((t - stepSeconds) * 1000).toISOString(),
        end: new Date(t * 1000).toISOString(),
        canary:
          count > 0
            ? {
                requests: count,
                failures: Math.round(failuresAt.get(t) ?? 0),
                latency: { p50Ms: null, p95Ms: null, p99Ms: null },
              }
            : null,
        baseline: null,
      };
    });
  }

  private variables(query: MetricQuery, version: string, windowSeconds: number): Record<string, string> {
    return {
      service: safeQueryValue('serviceName', query.serviceName),
      namespace: safeQueryValue('namespace', query.namespace),
      version: safeQueryValue('version', version),
      window: `${windowSeconds}s`,
    };
  }

  private async versionStats(query: MetricQuery, version: string, windowSeconds: number): Promise<VersionStats | null> {
    const vars = this.variables(query, version, windowSeconds);
    const [requests, failures, buckets] = await Promise.all([
      this.queryInstant(render(this.templates.requests, vars), query.end),
      this.queryInstant(render(this.templates.failures, vars), query.end),
      this.queryInstant(render(this.templates.latencyBuckets, vars), query.end),
    ]);
    const requestCount = Math.round(sumSamples(requests));
    if (requests.length === 0 || requestCount <= 0) return null;
    return {
      requests: requestCount,
      failures: Math.round(sumSamples(failures)),
      latency: latencyFromBuckets(buckets),
    };
  }

  private async queryInstant(promql: string, at: Date): Promise<PromVectorSample[]> {
    const params = new URLSearchParams({ query: promql, time: (at.getTime() / 1000).toString() });
    const data = await this.call('/api/v1/query', params);
    if (data.resultType === 'scalar') {
      const [t, v] = data.result as [number, string];
      return [{ metric: {}, value: [t, v] }];
    }
    if (data.resultType !== 'vector') {
      throw new MetricProviderError(
        'metrics_provider_bad_response',
        `expected a vector from Prometheus, got ${data.resultType}`,
      );
    }
    return data.result as PromVectorSample[];
  }

  private async queryRange(promql: string, start: Date, end: Date, stepSeconds: number): Promise<PromMatrixSample[]> {
    const params = new URLSearchParams({
      query: promql,
      start: (start.getTime() / 1000).toString(),
      end: (end.getTime() / 1000).toString(),
      step: `${stepSeconds}s`,
    });
    const data = await this.call('/api/v1/query_range', params);
    if (data.resultType !== 'matrix') {
      throw new MetricProviderError(
        'metrics_provider_bad_response',
        `expected a matrix from Prometheus, got ${data.resultType}`,
      );
    }
    return data.result as PromMatrixSample[];
  }

  private async call(path: string, params: URLSearchParams): Promise<{ resultType: string; result: unknown }> {
    const url = new URL(path, this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`);
    let response: Response;
    try {
      response = await this.doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(this.options.bearerToken ? { authorization: `Bearer ${this.options.bearerToken}` } : {}),
        },
        body: params.toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new MetricProviderError(
        timedOut ? 'metrics_provider_timeout' : 'metrics_provider_unavailable',
        `Prometheus at ${url.origin} did not answer: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const body = (await response.json().catch(() => null)) as {
      status?: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    } | null;
    if (response.status === 401 || response.status === 403) {
      throw new MetricProviderError('metrics_provider_auth', `Prometheus refused the credentials (${response.status})`);
    }
    if (!response.ok || body?.status !== 'success' || !body.data) {
      const code = response.status >= 500 ? 'metrics_provider_unavailable' : 'metrics_provider_bad_response';
      throw new MetricProviderError(
        code,
        `Prometheus ${path} failed (${response.status}): ${body?.error ?? 'unreadable body'}`,
      );
    }
    return body.data;
  }
}

function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined)
      throw new MetricProviderError('metrics_provider_bad_response', `unknown PromQL placeholder {{${name}}}`);
    return value;
  });
}

function sumSamples(samples: PromVectorSample[]): number {
  return samples.reduce((acc, s) => acc + (Number.isFinite(Number(s.value[1])) ? Number(s.value[1]) : 0), 0);
}

function latencyFromBuckets(samples: PromVectorSample[]): LatencyStats {
  const histogram = samples
    .map((s) => ({
      leMs: s.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.metric.le) * 1000,
      count: Number(s.value[1]),
    }))
    .filter((b) => !Number.isNaN(b.leMs) && Number.isFinite(b.count))
    .sort((a, b) => a.leMs - b.leMs);
  if (histogram.length === 0) return { p50Ms: null, p95Ms: null, p99Ms: null };
  return {
    p50Ms: quantileFromBuckets(histogram, 0.5),
    p95Ms: quantileFromBuckets(histogram, 0.95),
    p99Ms: quantileFromBuckets(histogram, 0.99),
    histogram,
  };
}
