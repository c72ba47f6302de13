import { readFileSync } from 'node:fs';
import { sign } from '@octokit/webhooks-methods';
import { afterEach, describe, expect, it } from 'vitest';
import { createIntakeRouter, type IntakeRouterOptions } from '../../src/announce/intakeRouter.js';
import { createMemoryLedger } from '../../src/announce/memoryStores.js';
import { MemoryAnnouncer } from './memoryAnnouncer.js';
import { type Served, serve } from './serve.js';

const SECRET = 'intake-secret-0123456789abcdef0123456789abcdef';
const example = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function start(overrides: Partial<IntakeRouterOptions> = {}) {
  const announcer = new MemoryAnnouncer();
  const router = createIntakeRouter({ secret: SECRET, announcer, rateLimit: false, ...overrides });
  served = await serve(router);
  return { announcer, url: served.url };
}

async function post(url: string, body: string, headers: Record<string, string> = {}, secret = SECRET) {
  const signature = await sign(secret, body);
  return fetch(`${url}/api/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, ...headers },
    body,
  });
}

describe('POST /api/deployments', () => {
  it('accepts a signed request, announces it once and answers 202 with the status URL', async () => {
    const { announcer, url } = await start();
    const res = await post(url, example, { 'x-delivery-id': 'run-1-1' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ revision: 1, state: 'negotiating', duplicate: false });
    expect(body.statusUrl).toBe(`/api/contracts/${body.contractId as string}`);
    expect(res.headers.get('location')).toBe(body.statusUrl);
    expect(announcer.announcements).toHaveLength(1);
    const [announcement] = announcer.announcements;
    expect(announcement?.origin).toEqual({ kind: 'ci-intake', deliveryId: 'run-1-1' });
    expect(announcement?.request.serviceName).toBe('payment-service');
    expect(announcement?.request.source).toEqual({ kind: 'webhook', ref: 'ci:run-1-1' });
  });

  it('answers 401 and records nothing for a missing, wrong or foreign signature', async () => {
    const { announcer, url } = await start();
    const unsigned = await fetch(`${url}/api/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: example,
    });
    expect(unsigned.status).toBe(401);
    const wrongSecret = await post(url, example, {}, 'another-secret-of-sufficient-length-xx');
    expect(wrongSecret.status).toBe(401);
    const tampered = await fetch(`${url}/api/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': await sign(SECRET, example) },
      body: example.replace('payment-service', 'payment-servicf'),
    });
    expect(tampered.status).toBe(401);
    const sha1Style = await post(url, example, { 'x-hub-signature-256': 'sha1=0123456789abcdef' });
    expect(sha1Style.status).toBe(401);
    expect(((await tampered.json()) as { error: string }).error).toBe('unauthorized');
    expect(announcer.announcements).toHaveLength(0);
  });

  it('answers 413 for a body over the limit, before reading it as a request', async () => {
    const { announcer, url } = await start({ bodyLimitBytes: 1024 });
    const big = JSON.stringify({ ...JSON.parse(example), padding: 'x'.repeat(2000) });
    const res = await post(url, big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toMatch(/larger than 1024 bytes/);
    expect(announcer.announcements).toHaveLength(0);
  });

  it('defaults the limit to 256 KiB', async () => {
    const { url } = await start();
    const big = JSON.stringify({ ...JSON.parse(example), padding: 'x'.repeat(256 * 1024) });
    expect((await post(url, big)).status).toBe(413);
  });

  it('answers 400 naming line and column for malformed JSON', async () => {
    const { announcer, url } = await start();
    const res = await post(url, '{\n  "deployment_id": "d1",\n  "service_name": checkout\n}');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('invalid_json');
    expect(body.message).toMatch(/line 3, column 19/);
    expect(announcer.announcements).toHaveLength(0);
  });

  it('answers 400 with the field path and rule for an invalid request', async () => {
    const { url } = await start();
    const request = JSON.parse(example) as { changes: { lines_changed: unknown }[] };
    (request.changes[1] as { lines_changed: unknown }).lines_changed = -4;
    const res = await post(url, JSON.stringify(request));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: string; rule: string }[] };
    expect(body.error).toBe('invalid_request');
    expect(body.issues[0]).toMatchObject({ path: 'changes[1].lines_changed', rule: 'minimum' });
  });

  it('answers 415 for a body that is not JSON', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/api/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-hub-signature-256': await sign(SECRET, example) },
      body: example,
    });
    expect(res.status).toBe(415);
  });

  it('answers a repeated delivery or deployment id with the existing contract, never a second card', async () => {
    const { announcer, url } = await start();
    const first = await post(url, example, { 'x-delivery-id': 'run-7-1' });
    const again = await post(url, example, { 'x-delivery-id': 'run-7-1' });
    const sameDeployment = await post(url, example, { 'x-delivery-id': 'run-7-2' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(sameDeployment.status).toBe(200);
    const bodies = await Promise.all(
      [first, again, sameDeployment].map(async (r) => (await r.json()) as { contractId: string; duplicate: boolean }),
    );
    expect(new Set(bodies.map((b) => b.contractId)).size).toBe(1);
    expect(bodies.map((b) => b.duplicate)).toEqual([false, true, true]);
    expect(announcer.announcements).toHaveLength(1);
  });

  it('announces once when the same delivery arrives concurrently', async () => {
    const { announcer, url } = await start();
    announcer.delayMs = 100;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post(url, example, { 'x-delivery-id': 'burst-1' })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(announcer.announcements).toHaveLength(1);
  });

  it('remembers deliveries in the ledger it is given (shared between replicas)', async () => {
    const ledger = createMemoryLedger();
    const announcer = new MemoryAnnouncer();
    const a = await serve(createIntakeRouter({ secret: SECRET, announcer, ledger, rateLimit: false }));
    const b = await serve(createIntakeRouter({ secret: SECRET, announcer, ledger, rateLimit: false }));
    try {
      expect((await post(a.url, example, { 'x-delivery-id': 'r-1' })).status).toBe(202);
      expect((await post(b.url, example, { 'x-delivery-id': 'r-1' })).status).toBe(200);
      expect(announcer.announcements).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rate-limits each client with 429', async () => {
    const { announcer, url } = await start({ rateLimit: { windowMs: 60_000, limit: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const body = JSON.stringify({ ...JSON.parse(example), deployment_id: `rl-${i}` });
      statuses.push((await post(url, body)).status);
    }
    expect(statuses).toEqual([202, 202, 429, 429]);
    expect(announcer.announcements).toHaveLength(2);
  });

  it('keeps a separate budget per client key', async () => {
    const { url } = await start({
      rateLimit: { windowMs: 60_000, limit: 1, keyGenerator: (req) => req.get('x-client') ?? 'anonymous' },
    });
    const send = async (client: string, i: number) =>
      (await post(url, JSON.stringify({ ...JSON.parse(example), deployment_id: `k-${i}` }), { 'x-client': client }))
        .status;
    expect([await send('ci-a', 1), await send('ci-b', 2), await send('ci-a', 3)]).toEqual([202, 202, 429]);
  });

  it('checks the signature before any limit: a flood of unsigned requests never blocks a signed one', async () => {
    const { announcer, url } = await start({
      rateLimit: { windowMs: 60_000, limit: 2 },
      unauthenticatedRateLimit: { windowMs: 60_000, limit: 3 },
    });
    const junk: number[] = [];
    for (let i = 0; i < 10; i++)
      junk.push((await post(url, example, {}, 'not-the-intake-secret-but-long-enough')).status);
    expect(junk).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    expect((await post(url, example)).status).toBe(202);
    expect(announcer.announcements).toHaveLength(1);
  });

  it('keys the signed budget by the service named in the signed body', async () => {
    const { url } = await start({ rateLimit: { windowMs: 60_000, limit: 1 } });
    const send = async (service: string, i: number) =>
      (await post(url, JSON.stringify({ ...JSON.parse(example), service_name: service, deployment_id: `s-${i}` })))
        .status;
    expect([await send('payment-service', 1), await send('payment-service', 2), await send('checkout', 3)]).toEqual([
      202, 429, 202,
    ]);
  });

  it('answers 422 when the service has no channel, and 503 when the announcer fails', async () => {
    const { announcer, url } = await start();
    announcer.unknownServices.add('payment-service');
    const res = await post(url, example);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toMatch(/no channel/);
    announcer.unknownServices.clear();
    announcer.announce = async () => {
      throw new Error('Teams is down: token xyz');
    };
    const failed = await post(url, example);
    expect(failed.status).toBe(503);
    expect(await failed.text()).not.toMatch(/token xyz/);
  });

  it('rejects a malformed X-Delivery-Id', async () => {
    const { url } = await start();
    expect((await post(url, example, { 'x-delivery-id': 'a b' })).status).toBe(400);
  });
});

describe('GET /api/contracts/:id', () => {
  it('needs the intake secret or a read token as bearer token', async () => {
    const { url } = await start({ readTokens: ['read-only-token-1234567890'] });
    const created = (await (await post(url, example)).json()) as { statusUrl: string; contractId: string };
    expect((await fetch(`${url}${created.statusUrl}`)).status).toBe(401);
    const wrong = await fetch(`${url}${created.statusUrl}`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    for (const token of [SECRET, 'read-only-token-1234567890']) {
      const res = await fetch(`${url}${created.statusUrl}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }
  });

  it('reports id, revision, state, content hash, risk and the decision', async () => {
    const { announcer, url } = await start();
    const created = (await (await post(url, example)).json()) as { statusUrl: string; contractId: string };
    const read = async () =>
      (await (
        await fetch(`${url}${created.statusUrl}`, { headers: { authorization: `Bearer ${SECRET}` } })
      ).json()) as Record<string, unknown>;
    const contract = announcer.contract(created.contractId);
    expect(await read()).toEqual({
      id: created.contractId,
      revision: 1,
      state: 'negotiating',
      contentHash: contract.contentHash,
      risk: { score: contract.risk.score, level: contract.risk.level },
      decidedBy: [],
      reason: null,
    });
    announcer.decide(created.contractId, 'rejected', ['Ana (SRE)'], 'no rollback plan for the schema change');
    expect(await read()).toMatchObject({
      state: 'rejected',
      decidedBy: ['Ana (SRE)'],
      reason: 'no rollback plan for the schema change',
    });
  });

  it('answers 404 for an unknown contract and 400 for a malformed id', async () => {
    const { url } = await start();
    const auth = { authorization: `Bearer ${SECRET}` };
    expect((await fetch(`${url}/api/contracts/ctr-nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/api/contracts/${encodeURIComponent('../x')}`, { headers: auth })).status).toBe(400);
  });
});
