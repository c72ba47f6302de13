import { LogsQueryClient } from '@azure/monitor-query-logs';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricProviderError } from '../../src/domain/metrics.js';
import { AppInsightsMetricProvider, buildRequestsKql } from '../../src/metrics/appInsights.js';
import { ContainerAppsMetricProvider } from '../../src/metrics/containerAppsMetrics.js';
import { type FakeAzureMonitor, fakeCredential, startFakeAzureMonitor } from '../harness/fakeAzureMonitor.js';

const query = {
  serviceName: 'checkout',
  namespace: 'shop',
  canaryVersion: '2.4.0',
  baselineVersion: '2.3.9',
  start: new Date('2026-11-24T10:00:00Z'),
  end: new Date('2026-11-24T10:01:00Z'),
};

let fake: FakeAzureMonitor;
beforeAll(async () => {
  fake = await startFakeAzureMonitor();
});
afterAll(async () => fake.close());

function logsClient(): LogsQueryClient {
  return new LogsQueryClient(fakeCredential, {
    endpoint: `${fake.url}/v1`,
    retryOptions: { maxRetries: 0 },
    tlsOptions: { ca: fake.caCert },
  });
}

const BUCKETS = [100, 250, 500];

function logsTable(rows: unknown[][]) {
  return {
    tables: [
      {
        name: 'PrimaryResult',
        columns: [
          { name: 'AppVersion', type: 'string' },
          { name: 'requests', type: 'long' },
          { name: 'failures', type: 'long' },
          { name: 'p50', type: 'real' },
          { name: 'p95', type: 'real' },
          { name: 'p99', type: 'real' },
          ...BUCKETS.map((b) => ({ name: `le_${b}`, type: 'long' })),
        ],
        rows,
      },
    ],
  };
}

describe('Application Insights provider (LogsQueryClient over HTTPS to a local fake)', () => {
  it('queries the workspace with a bearer token and maps canary and baseline rows', async () => {
    fake.respondWith(() => ({
      status: 200,
      body: logsTable([
        ['2.4.0', 1200, 6, 40, 180, 420, 900, 1150, 1190],
        ['2.3.9', 10800, 20, 38, 170, 400, 8200, 10500, 10750],
      ]),
    }));
    const provider = new AppInsightsMetricProvider({
      client: logsClient(),
      workspaceId: 'ws-1',
      latencyBucketsMs: BUCKETS,
    });
    const result = await provider.fetchInterval(query);

    const sent = fake.requests.at(-1)!;
    expect(sent.url).toBe('/v1/workspaces/ws-1/query');
    expect(sent.headers.authorization).toBe('Bearer fake-token');
    const body = sent.body as { query: string; timespan: string };
    expect(body.query).toContain("AppRoleName == 'checkout'");
    expect(body.query).toContain("AppVersion in ('2.4.0', '2.3.9')");
    expect(body.timespan).toBe('2026-11-24T10:00:00.000Z/2026-11-24T10:01:00.000Z');

    expect(result.canary).toEqual({
      requests: 1200,
      failures: 6,
      latency: {
        p50Ms: 40,
        p95Ms: 180,
        p99Ms: 420,
        histogram: [
          { leMs: 100, count: 900 },
          { leMs: 250, count: 1150 },
          { leMs: 500, count: 1190 },
          { leMs: Number.POSITIVE_INFINITY, count: 1200 },
        ],
      },
    });
    expect(result.baseline?.requests).toBe(10800);
  });

  it('returns null (never zeros) for a version without rows', async () => {
    fake.respondWith(() => ({ status: 200, body: logsTable([['2.3.9', 500, 1, 38, 170, 400, 400, 480, 495]]) }));
    const provider = new AppInsightsMetricProvider({
      client: logsClient(),
      workspaceId: 'ws-1',
      latencyBucketsMs: BUCKETS,
    });
    const result = await provider.fetchInterval(query);
    expect(result.canary).toBeNull();
    expect(result.baseline?.failures).toBe(1);
  });

  it('maps 403 to metrics_provider_auth and 503 to metrics_provider_unavailable', async () => {
    const provider = new AppInsightsMetricProvider({ client: logsClient(), workspaceId: 'ws-1' });
    fake.respondWith(() => ({
      status: 403,
      body: { error: { code: 'InsufficientAccessError', message: 'no access' } },
    }));
    await expect(provider.fetchInterval(query)).rejects.toMatchObject({ code: 'metrics_provider_auth' });
    fake.respondWith(() => ({ status: 503, body: { error: { code: 'ServiceUnavailable', message: 'busy' } } }));
    await expect(provider.fetchInterval(query)).rejects.toMatchObject({ code: 'metrics_provider_unavailable' });
  });

  it('refuses a service name that would change the KQL', () => {
    expect(() => buildRequestsKql({ ...query, serviceName: "x' or 1==1 //" }, BUCKETS)).toThrow(MetricProviderError);
  });
});

describe('Container Apps platform metrics (MetricsClient over HTTPS to a local fake)', () => {
  const resourceId = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.App/containerApps/checkout';

  function series(revision: string, category: string, totals: number[]) {
    return {
      metadatavalues: [
        { name: { value: 'revisionName' }, value: revision },
        { name: { value: 'statusCodeCategory' }, value: category },
      ],
      data: totals.map((total, i) => ({ timeStamp: `2026-11-24T10:00:${String(i * 10).padStart(2, '0')}Z`, total })),
    };
  }

  it('sums requests and 5xx per revision from metrics:getBatch', async () => {
    fake.respondWith((req) => {
      expect(req.url).toContain('/subscriptions/sub-1/metrics:getBatch');
      expect(req.url).toContain('metricnames=Requests');
      return {
        status: 200,
        body: {
          values: [
            {
              starttime: '2026-11-24T10:00:00Z',
              endtime: '2026-11-24T10:01:00Z',
              interval: 'PT1M',
              namespace: 'Microsoft.App/containerApps',
              resourceregion: 'westeurope',
              resourceid: resourceId,
              value: [
                {
                  id: `${resourceId}/providers/Microsoft.Insights/metrics/Requests`,
                  type: 'Microsoft.Insights/metrics',
                  name: { value: 'Requests', localizedValue: 'Requests' },
                  unit: 'Count',
                  timeseries: [
                    series('checkout--2.4.0', '2xx', [100, 120]),
                    series('checkout--2.4.0', '5xx', [3, 4]),
                    series('checkout--2.3.9', '2xx', [900, 950]),
                  ],
                },
              ],
            },
          ],
        },
      };
    });
    const client = new MetricsClient(fake.url, fakeCredential, {
      retryOptions: { maxRetries: 0 },
      tlsOptions: { ca: fake.caCert },
    });
    const provider = new ContainerAppsMetricProvider({ client, resourceId });
    const result = await provider.fetchInterval(query);
    expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer fake-token');
    expect(result.canary).toEqual({ requests: 227, failures: 7, latency: { p50Ms: null, p95Ms: null, p99Ms: null } });
    expect(result.baseline).toEqual({
      requests: 1850,
      failures: 0,
      latency: { p50Ms: null, p95Ms: null, p99Ms: null },
    });
  });
});
