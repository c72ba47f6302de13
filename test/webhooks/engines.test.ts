import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createArgoRouter } from '../../src/webhooks/argo.js';
import type { EngineEvent, EnginePort, EngineRolloutView } from '../../src/webhooks/enginePort.js';
import { createFlaggerRouter, decideGate } from '../../src/webhooks/flagger.js';

const TOKEN = 'flagger-shared-token';
let views: Map<string, EngineRolloutView>;
const events: EngineEvent[] = [];

const port: EnginePort = {
  findByTarget: async (_engine, namespace, name) => views.get(`${namespace}/${name}`) ?? null,
  findByContractId: async (id) => [...views.values()].find((v) => v.contractId === id) ?? null,
  postEvent: async (event) => {
    events.push(event);
    return views.has(`${event.namespace}/${event.name}`);
  },
};

const view = (overrides: Partial<EngineRolloutView> = {}): EngineRolloutView => ({
  contractId: 'ctr-podinfo-1',
  revision: 2,
  contractState: 'approved',
  latestVerdict: null,
  verdictEvidence: [],
  rollbackRequested: false,
  ...overrides,
});

let server: Server;
let base: string;
beforeAll(async () => {
  const app = express();
  app.use(express.json({ limit: '64kb' }));
  app.use('/webhooks/flagger', createFlaggerRouter(port, { token: TOKEN }));
  app.use('/api/argo', createArgoRouter(port, { token: TOKEN }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  views = new Map();
  events.length = 0;
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

// The documented Flagger webhook payload (docs/gitbook/usage/webhooks.md), with the token in metadata.
const flaggerPayload = {
  name: 'podinfo',
  namespace: 'test',
  phase: 'Progressing',
  metadata: { test: 'all', token: TOKEN },
};

describe('decideGate', () => {
  it.each([
    ['confirm-rollout', view({ contractState: 'negotiating' }), 403],
    ['confirm-rollout', view({ contractState: 'approved' }), 200],
    ['confirm-rollout', view({ contractState: 'rejected' }), 403],
    ['confirm-promotion', view({ contractState: 'rolling_out', latestVerdict: 'HOLD' }), 403],
    ['confirm-promotion', view({ contractState: 'rolling_out', latestVerdict: 'PASS' }), 200],
    ['confirm-promotion', view({ contractState: 'rejected', latestVerdict: 'PASS' }), 403],
    ['rollback', view({ latestVerdict: 'HOLD' }), 403],
    ['rollback', view({ latestVerdict: 'FAIL', verdictEvidence: ['error rate 2.1 % > 0.3 %'] }), 200],
    ['rollback', view({ rollbackRequested: true }), 200],
    ['confirm-rollout', null, 403],
    ['rollback', null, 403],
  ] as const)('%s with %o answers %i', (gate, v, status) => {
    expect(decideGate(gate, v, 'test/podinfo').status).toBe(status);
  });
});

describe('Flagger webhooks over HTTP', () => {
  it('holds the rollout until the contract is approved', async () => {
    const res = await post('/webhooks/flagger/confirm-rollout', flaggerPayload);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/no contract governs test\/podinfo/);
    views.set('test/podinfo', view({ contractState: 'negotiating' }));
    expect((await post('/webhooks/flagger/confirm-rollout', flaggerPayload)).status).toBe(403);
    views.set('test/podinfo', view({ contractState: 'approved' }));
    expect((await post('/webhooks/flagger/confirm-rollout', flaggerPayload)).status).toBe(200);
  });

  it('rolls back when pressed in chat', async () => {
    views.set('test/podinfo', view({ contractState: 'rolling_out', rollbackRequested: true }));
    expect((await post('/webhooks/flagger/rollback', flaggerPayload)).status).toBe(200);
  });

  it('refuses calls without the token, with a wrong token, or with a malformed body', async () => {
    views.set('test/podinfo', view());
    const { token: _omit, ...noToken } = flaggerPayload.metadata;
    expect((await post('/webhooks/flagger/confirm-rollout', { ...flaggerPayload, metadata: noToken })).status).toBe(
      401,
    );
    expect(
      (await post('/webhooks/flagger/confirm-rollout', { ...flaggerPayload, metadata: { token: 'wrong' } })).status,
    ).toBe(401);
    const bad = await post(
      '/webhooks/flagger/confirm-rollout',
      { namespace: 'test' },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/name/);
  });

  it('streams the documented event payload into the thread', async () => {
    views.set('test/podinfo', view());
    const res = await post(
      '/webhooks/flagger/event',
      {
        name: 'podinfo',
        namespace: 'test',
        phase: 'Progressing',
        metadata: {
          eventMessage: 'New revision detected! Scaling up podinfo.test',
          eventType: 'Normal',
          timestamp: '1578607635167',
        },
      },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ delivered: true });
    expect(events[0]).toMatchObject({
      engine: 'flagger',
      message: 'New revision detected! Scaling up podinfo.test',
      severity: 'info',
      at: new Date(1578607635167),
    });
  });
});

describe('Argo Rollouts endpoints over HTTP', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('serves the judge verdict to the web metric provider', async () => {
    views.set(
      'shop/checkout',
      view({ contractId: 'ctr-checkout-7', contractState: 'rolling_out', latestVerdict: 'PASS' }),
    );
    let res = await fetch(`${base}/api/argo/verdict/ctr-checkout-7`, { headers: auth });
    expect(await res.json()).toMatchObject({ verdict: 'PASS', revision: 2 });
    views.set('shop/checkout', view({ contractId: 'ctr-checkout-7', rollbackRequested: true, latestVerdict: 'PASS' }));
    res = await fetch(`${base}/api/argo/verdict/ctr-checkout-7`, { headers: auth });
    expect(((await res.json()) as { verdict: string }).verdict).toBe('FAIL');
    expect((await fetch(`${base}/api/argo/verdict/nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/api/argo/verdict/ctr-checkout-7`)).status).toBe(401);
  });

  it('accepts notifications and marks failures as errors', async () => {
    views.set('shop/checkout', view());
    const res = await post(
      '/api/argo/notifications',
      { rollout: 'checkout', namespace: 'shop', event: 'on-rollout-aborted', message: 'Rollout aborted by analysis' },
      auth,
    );
    expect(res.status).toBe(202);
    expect(events[0]).toMatchObject({ engine: 'argo-rollouts', severity: 'error', phase: 'on-rollout-aborted' });
    expect((await post('/api/argo/notifications', { rollout: 'checkout' }, auth)).status).toBe(400);
  });
});
