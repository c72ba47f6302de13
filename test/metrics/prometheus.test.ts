import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusMetricProvider } from '../../src/metrics/prometheus.js';
import { quantileFromBuckets } from '../../src/metrics/queryValues.js';

interface SeenQuery {
  path: string;
  params: URLSearchParams;
  authorization: string | undefined;
}

let server: Server;
let baseUrl: string;
const seen: SeenQuery[] = [];
let answer: (q: SeenQuery) => { status: number; body: unknown } = () => ({ status: 500, body: {} });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => resolve(raw));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const q = {
      path: new URL(req.url ?? '/', 'http://x').pathname,
      params: new URLSearchParams(await readBody(req)),
      authorization: req.headers.authorization,
    };
    seen.push(q);
    const { status, body } = answer(q);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const query = {
  serviceName: 'checkout',
  namespace: 'shop',
  canaryVersion: '2.4.0',
  baselineVersion: '2.3.9',
  start: new Date('2026-11-24T10:00:00Z'),
  end: new Date('2026-11-24T10:01:00Z'),
};

const vector = (samples: { metric?: Record<string, string>; value: number }[]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: samples.map((s) => ({ metric: s.metric ?? {}, value: [1764000060, String(s.value)] })),
  },
});

describe('Prometheus provider (HTTP API on a local fake)', () => {
  it('renders the PromQL templates per version and reads counts and latency buckets', async () => {
    answer = ({ params }) => {
      const promql = params.get('query') ?? '';
      const canary = promql.includes('version="2.4.0"');
      if (promql.includes('_bucket')) {
        return {
          status: 200,
          body: vector([
            { metric: { le: '0.1' }, value: canary ? 500 : 5000 },
            { metric: { le: '0.5' }, value: canary ? 950 : 9900 },
            { metric: { le: '+Inf' }, value: canary ? 1000 : 10000 },
          ]),
        };
      }
      if (promql.includes('code=~"5.."')) return { status: 200, body: vector([{ value: canary ? 12 : 9 }]) };
      return { status: 200, body: vector([{ value: canary ? 1000 : 10000 }]) };
    };
    const provider = new PrometheusMetricProvider({ baseUrl, bearerToken: 'prom-token' });
    const result = await provider.fetchInterval(query);
    expect(seen.every((q) => q.path === '/api/v1/query' && q.authorization === 'Bearer prom-token')).toBe(true);
    expect(seen.some((q) => q.params.get('query')?.includes('[60s]'))).toBe(true);
    expect(result.canary?.requests).toBe(1000);
    expect(result.canary?.failures).toBe(12);
    expect(result.canary?.latency.p50Ms).toBeCloseTo(100, 5);
    expect(result.canary?.latency.p95Ms).toBe(500);
    expect(result.baseline?.failures).toBe(9);
  });

  it('returns null for a version with no traffic and uses query_range for a backfill', async () => {
    answer = ({ path }) => {
      if (path === '/api/v1/query') return { status: 200, body: vector([]) };
      return {
        status: 200,
        body: {
          status: 'success',
          data: {
            resultType: 'matrix',
            result: [
              {
                metric: {},
                values: [
                  [1764000060, '600'],
                  [1764000120, '0'],
                ],
              },
            ],
          },
        },
      };
    };
    const provider = new PrometheusMetricProvider({ baseUrl });
    expect((await provider.fetchInterval(query)).canary).toBeNull();
    const range = await provider.fetchRange({ ...query, end: new Date('2026-11-24T10:02:00Z') }, 60);
    expect(seen.at(-1)?.path).toBe('/api/v1/query_range');
    expect(seen.at(-1)?.params.get('step')).toBe('60s');
    expect(range).toHaveLength(2);
    expect(range[0]?.canary?.requests).toBe(600);
    expect(range[1]?.canary).toBeNull();
  });

  it('maps errors to typed provider errors', async () => {
    const provider = new PrometheusMetricProvider({ baseUrl });
    answer = () => ({ status: 503, body: { status: 'error', error: 'overloaded' } });
    await expect(provider.fetchInterval(query)).rejects.toMatchObject({ code: 'metrics_provider_unavailable' });
    answer = () => ({ status: 400, body: { status: 'error', error: 'parse error' } });
    await expect(provider.fetchInterval(query)).rejects.toMatchObject({ code: 'metrics_provider_bad_response' });
    const unreachable = new PrometheusMetricProvider({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 500 });
    await expect(unreachable.fetchInterval(query)).rejects.toMatchObject({ code: 'metrics_provider_unavailable' });
    await expect(provider.fetchInterval({ ...query, serviceName: 'a"}[1m]) or vector(1' })).rejects.toThrow(
      /cannot be used in a metric query/,
    );
  });
});

describe('quantileFromBuckets', () => {
  it('interpolates inside the bucket like histogram_quantile', () => {
    const buckets = [
      { leMs: 100, count: 50 },
      { leMs: 200, count: 100 },
      { leMs: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(quantileFromBuckets(buckets, 0.5)).toBe(100);
    expect(quantileFromBuckets(buckets, 0.75)).toBe(150);
    expect(quantileFromBuckets([], 0.5)).toBeNull();
  });
});
