import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { type BotRequestHandler, createHttpApp, type HealthReport, listen } from '../../src/server/http.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

async function start(teams?: BotRequestHandler, health?: () => Promise<HealthReport>) {
  const { lines, logger } = sink();
  const app = createHttpApp({
    logger,
    metrics: createMetrics({ collectDefaults: false }),
    ...(teams ? { teams } : {}),
    health: health ?? (async () => ({ status: 'ok', checks: { store: { ok: true } } })),
  });
  const server = await listen(app, '127.0.0.1', 0);
  closers.push(() => server.close());
  return { url: server.url, lines };
}

const activity = {
  type: 'message',
  serviceUrl: 'http://127.0.0.1:9/',
  channelId: 'msteams',
  conversation: { id: 'c1' },
  from: { id: 'u1' },
};

describe('HTTP server', () => {
  it('serves /healthz (503 when down) and /metrics', async () => {
    const { url } = await start();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    await fetch(`${url}/nope`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'chaos_http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"} 1',
    );
    expect(metrics).toContain('route="unmatched",status_code="404"');
    const down = await start(undefined, async () => ({
      status: 'down',
      checks: { store: { ok: false, detail: 'x' } },
    }));
    expect((await fetch(`${down.url}/healthz`)).status).toBe(503);
  });

  it('passes valid activities to the bot and refuses the rest with a reason', async () => {
    const seen: unknown[] = [];
    const { url } = await start(async (req, res) => {
      seen.push(req.body);
      res.status(200).end();
    });
    const post = (body: string, type = 'application/json') =>
      fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post(JSON.stringify(activity))).status).toBe(200);
    expect(seen).toHaveLength(1);

    const cases: [string, string, number, string][] = [
      ['{"type":', 'application/json', 400, 'not valid JSON'],
      [JSON.stringify({ ...activity, type: '' }), 'application/json', 400, 'type'],
      [JSON.stringify({ ...activity, serviceUrl: 'javascript:alert(1)' }), 'application/json', 400, 'serviceUrl'],
      [JSON.stringify({ ...activity, conversation: {} }), 'application/json', 400, 'conversation.id'],
      ['"just a string"', 'application/json', 400, 'body'],
      [JSON.stringify(activity), 'text/plain', 415, 'application/json'],
      [JSON.stringify({ ...activity, text: 'x'.repeat(300_000) }), 'application/json', 413, 'larger'],
    ];
    for (const [body, type, status, message] of cases) {
      const response = await post(body, type);
      expect(response.status, body.slice(0, 40)).toBe(status);
      expect(await response.text()).toContain(message);
    }
    expect(seen).toHaveLength(1);
    expect((await fetch(`${url}/api/messages`)).status).toBe(405);
  });

  it('answers a failing handler with a generic 500, logs it, and keeps serving', async () => {
    let calls = 0;
    const { url, lines } = await start(async () => {
      calls += 1;
      throw new Error('database password=hunter2 exploded');
    });
    const response = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('at ');
    expect(lines.join('')).toContain('unhandled error in HTTP handler');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('answers 503 on /api/messages when Teams is not enabled', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    expect(response.status).toBe(503);
  });
});
