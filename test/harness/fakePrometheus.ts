/**
 * A Prometheus HTTP API on 127.0.0.1 (`POST /api/v1/query`, form-encoded like the real one) holding request counters
 * and latency histograms for labelled series (pods, services). It evaluates the PromQL shapes the bot sends
 * (`sum(increase(m{…}[Ns]))` and `sum by (le) (increase(m_bucket{…}[Ns]))`) by really matching the label
 * selectors, `=~` regexes fully anchored as Prometheus does, so a query that names the wrong workload finds
 * nothing. Each series serves `requestsPerSecond`, a share of 5xx, and a latency distribution given as cumulative
 * shares per bucket; the increase over a window is the rate times the window.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSeries {
  labels: Record<string, string>;
  requestsPerSecond: number;
  errorShare: number;
  /** Cumulative share of requests at or below each bucket bound (seconds); +Inf is 1. */
  latency: { le: number; share: number }[];
}

export interface FakePrometheus {
  url: string;
  series: FakeSeries[];
  queries: string[];
  close(): Promise<void>;
}

export const HEALTHY_LATENCY = [
  { le: 0.05, share: 0.4 },
  { le: 0.1, share: 0.85 },
  { le: 0.2, share: 0.99 },
  { le: 0.4, share: 0.999 },
  { le: 0.8, share: 1 },
];

interface Matcher {
  label: string;
  op: '=' | '=~' | '!=';
  value: string;
}

function parseSelector(text: string): Matcher[] {
  const matchers: Matcher[] = [];
  const re = /(\w+)\s*(=~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
  for (const m of text.matchAll(re)) {
    matchers.push({
      label: m[1] as string,
      op: m[2] as Matcher['op'],
      value: (m[3] as string).replace(/\\(.)/g, '$1'),
    });
  }
  return matchers;
}

function matches(labels: Record<string, string>, matcher: Matcher): boolean {
  const value = labels[matcher.label] ?? '';
  if (matcher.op === '=') return value === matcher.value;
  if (matcher.op === '!=') return value !== matcher.value;
  return new RegExp(`^(?:${matcher.value})$`).test(value);
}

function evaluate(series: FakeSeries[], query: string) {
  const selector = /(\w+)\{([^}]*)\}\[(\d+)s\]/.exec(query);
  if (!selector) throw new Error(`unsupported query: ${query}`);
  const [, metric, labelText, window] = selector as unknown as [string, string, string, string];
  const matchers = parseSelector(labelText);
  const codeMatcher = matchers.find((m) => m.label === 'code');
  const seriesMatchers = matchers.filter((m) => m.label !== 'code');
  const chosen = series.filter((s) => seriesMatchers.every((m) => matches(s.labels, m)));
  const seconds = Number(window);
  if (metric.endsWith('_bucket')) {
    if (chosen.length === 0) return [];
    const bounds = [...new Set(chosen.flatMap((s) => s.latency.map((b) => b.le)))].sort((a, b) => a - b);
    const total = (s: FakeSeries) => s.requestsPerSecond * seconds;
    const at = (s: FakeSeries, le: number) =>
      s.latency.filter((b) => b.le <= le).reduce((best, b) => Math.max(best, b.share), 0) * total(s);
    return [
      ...bounds.map((le) => ({ metric: { le: String(le) }, value: chosen.reduce((sum, s) => sum + at(s, le), 0) })),
      { metric: { le: '+Inf' }, value: chosen.reduce((sum, s) => sum + total(s), 0) },
    ];
  }
  if (chosen.length === 0) return [];
  const failuresOnly = codeMatcher !== undefined && matches({ code: '500' }, codeMatcher);
  const value = chosen.reduce((sum, s) => sum + s.requestsPerSecond * seconds * (failuresOnly ? s.errorShare : 1), 0);
  return [{ metric: {}, value }];
}

export async function startFakePrometheus(series: FakeSeries[] = []): Promise<FakePrometheus> {
  const state: FakeSeries[] = series;
  const queries: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const params = new URLSearchParams(req.method === 'POST' ? body : url.search);
      const query = params.get('query') ?? '';
      const time = Number(params.get('time') ?? Date.now() / 1000);
      res.setHeader('content-type', 'application/json');
      if (url.pathname !== '/api/v1/query') {
        res.statusCode = 404;
        res.end(JSON.stringify({ status: 'error', error: 'not found' }));
        return;
      }
      queries.push(query);
      try {
        const result = evaluate(state, query).map((r) => ({ metric: r.metric, value: [time, String(r.value)] }));
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      } catch (error) {
        res.statusCode = 400;
        res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: (error as Error).message }));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    series: state,
    queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
