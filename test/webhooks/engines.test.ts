/**
 * The Flagger and Argo Rollouts endpoints against a port double: authentication as each engine can carry it,
 * payload validation, and which hook answers what. Payloads follow Flagger's CanaryWebhookPayload
 * (pkg/apis/flagger/v1beta1; pkg/controller/webhook.go merges the hook's metadata into the payload's) and Argo's web
 * metric provider (metricproviders/webmetric/webmetric.go: GET with the template's headers). The whole path, with
 * the store, the judge and a metric provider, is in engineRollouts.e2e.test.ts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createArgoRouter } from '../../src/webhooks/argo.js';
import type { EngineEvent, EngineObjectRef, EnginePort, EngineRolloutView } from '../../src/webhooks/enginePort.js';
import { createFlaggerRouter, decideHook, FLAGGER_HOOKS } from '../../src/webhooks/flagger.js';

const TOKEN = 'flagger-shared-token';
let views: Map<string, EngineRolloutView>;
const events: EngineEvent[] = [];
const calls: { method: string; ref: EngineObjectRef; extra?: unknown }[] = [];

const key = (ref: EngineObjectRef) => `${ref.namespace}/${ref.name}`;
const port: EnginePort = {
  findByTarget: async (ref) => views.get(key(ref)) ?? null,
  findByContractId: async (id) => [...views.values()].find((v) => v.contractId === id) ?? null,
  start: async (ref) => {
    calls.push({ method: 'start', ref });
    return views.get(key(ref)) ?? null;
  },
  judge: async (ref, options) => {
    calls.push({ method: 'judge', ref, extra: options });
    if (options?.contractId) return [...views.values()].find((v) => v.contractId === options.contractId) ?? null;
    return views.get(key(ref)) ?? null;
  },
  finish: async (ref, outcome, reason) => {
    calls.push({ method: 'finish', ref, extra: { outcome, reason } });
    return views.get(key(ref)) ?? null;
  },
  postEvent: async (event) => {
    events.push(event);
    return views.has(`${event.namespace}/${event.name}`);
  },
};

const view = (overrides: Partial<EngineRolloutView> = {}): EngineRolloutView => ({
  contractId: 'ctr-podinfo-1-ab12',
  revision: 2,
  contractState: 'approved',
  rolloutPhase: null,
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
  calls.length = 0;
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** What Flagger 1.x posts for a `rollout` hook whose spec has `metadata: { token }` (CallWebhook). */
const flaggerPayload = {
  name: 'podinfo',
  namespace: 'test',
  phase: 'Progressing',
  checksum: '6d6d5c6b4f',
  buildId: '',
  type: 'rollout',
  failedChecks: 0,
  canaryWeight: 10,
  iterations: 0,
  remainingTime: 0,
  metadata: {
    timestamp: '1733600000000',
    phase: 'Progressing',
    failedChecks: '0',
    canaryWeight: '10',
    iterations: '0',
    lastBuildId: '',
    lastAppliedSpec: '5b7b8c9d',
    lastPromotedSpec: '4a6a7b8c',
    token: TOKEN,
  },
};

describe('decideHook', () => {
  it.each([
    ['confirm-rollout', view({ contractState: 'negotiating' }), 403],
    ['confirm-rollout', view({ contractState: 'approved' }), 200],
    ['pre-rollout', view({ contractState: 'rejected' }), 403],
    ['rollout', view({ contractState: 'rolling_out', latestVerdict: 'HOLD' }), 200],
    ['rollout', view({ contractState: 'rolling_out', latestVerdict: null }), 200],
    ['rollout', view({ contractState: 'rolling_out', latestVerdict: 'FAIL' }), 403],
    ['rollout', view({ contractState: 'rolling_out', rollbackRequested: true, latestVerdict: 'PASS' }), 403],
    ['confirm-traffic-increase', view({ contractState: 'rolling_out', latestVerdict: 'HOLD' }), 403],
    ['confirm-traffic-increase', view({ contractState: 'rolling_out', latestVerdict: 'PASS' }), 200],
    ['confirm-promotion', view({ contractState: 'rolling_out', latestVerdict: 'HOLD' }), 403],
    ['confirm-promotion', view({ contractState: 'rolling_out', latestVerdict: 'PASS' }), 200],
    ['confirm-promotion', view({ contractState: 'rejected', latestVerdict: 'PASS' }), 403],
    ['rollback', view({ latestVerdict: 'HOLD' }), 403],
    ['rollback', view({ latestVerdict: 'FAIL', verdictEvidence: ['error rate 2.1 % > 0.3 %'] }), 200],
    ['rollback', view({ rollbackRequested: true }), 200],
    ['post-rollout', null, 200],
    ['confirm-rollout', null, 403],
    ['rollback', null, 403],
  ] as const)('%s with %o answers %i', (hook, v, status) => {
    expect(decideHook(hook, v, 'test/podinfo').status).toBe(status);
  });
});

describe('Flagger webhooks over HTTP', () => {
  it('serves every hook type Flagger has; only rollback refuses a healthy canary', async () => {
    views.set('test/podinfo', view({ contractState: 'rolling_out', latestVerdict: 'PASS' }));
    for (const hook of FLAGGER_HOOKS) {
      const res = await post(`/webhooks/flagger/${hook}`, { ...flaggerPayload, type: hook });
      if (hook === 'rollback') expect(res.status).toBe(403);
      else expect(res.status, hook).toBeLessThanOrEqual(202);
    }
  });

  it('holds the rollout until the contract is approved, then starts the rollout record', async () => {
    const res = await post('/webhooks/flagger/confirm-rollout', flaggerPayload);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/no contract governs test\/podinfo/);
    views.set('test/podinfo', view({ contractState: 'negotiating' }));
    expect((await post('/webhooks/flagger/confirm-rollout', flaggerPayload)).status).toBe(403);
    expect(calls.filter((c) => c.method === 'start')).toHaveLength(0);
    views.set('test/podinfo', view({ contractState: 'approved' }));
    expect((await post('/webhooks/flagger/confirm-rollout', flaggerPayload)).status).toBe(200);
    expect(calls).toContainEqual({ method: 'start', ref: { engine: 'flagger', namespace: 'test', name: 'podinfo' } });
  });

  it('judges on the rollout hook with the canary weight Flagger reports', async () => {
    views.set('test/podinfo', view({ contractState: 'rolling_out', latestVerdict: 'FAIL', verdictEvidence: ['x'] }));
    const res = await post('/webhooks/flagger/rollout', flaggerPayload);
    expect(res.status).toBe(403);
    expect(calls[0]).toMatchObject({ method: 'judge', extra: { trafficPercent: 10 } });
  });

  it('records the outcome from post-rollout', async () => {
    views.set('test/podinfo', view({ contractState: 'rolling_out' }));
    await post('/webhooks/flagger/post-rollout', { ...flaggerPayload, phase: 'Succeeded' });
    await post('/webhooks/flagger/post-rollout', { ...flaggerPayload, phase: 'Failed' });
    expect(calls.map((c) => (c.extra as { outcome: string }).outcome)).toEqual(['promoted', 'rolled_back']);
  });

  it('accepts the token in the URL, since Flagger cannot send headers', async () => {
    views.set('test/podinfo', view());
    const { token: _omit, ...noToken } = flaggerPayload.metadata;
    const body = { ...flaggerPayload, metadata: noToken };
    expect((await post(`/webhooks/flagger/confirm-rollout?token=${TOKEN}`, body)).status).toBe(200);
    expect((await post('/webhooks/flagger/confirm-rollout?token=wrong', body)).status).toBe(401);
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
    const bad = await post('/webhooks/flagger/confirm-rollout', { namespace: 'test', metadata: { token: TOKEN } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/name/);
  });

  it('authenticates the event payload by the token Flagger merges into its metadata', async () => {
    views.set('test/podinfo', view());
    // CallEventWebhook: the event's own keys, then the hook's metadata (the token) for keys not set.
    const res = await post('/webhooks/flagger/event', {
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: '6d6d5c6b4f',
      type: 'event',
      metadata: {
        eventMessage: 'New revision detected! Scaling up podinfo.test',
        eventType: 'Normal',
        timestamp: '1578607635167',
        phase: 'Progressing',
        failedChecks: '0',
        canaryWeight: '0',
        iterations: '0',
        token: TOKEN,
      },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ hook: 'event', delivered: true });
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

  it('judges for the Rollout named in the web metric URL', async () => {
    views.set(
      'shop/checkout',
      view({ contractId: 'ctr-checkout-7-x1', contractState: 'rolling_out', latestVerdict: 'PASS' }),
    );
    let res = await fetch(`${base}/api/argo/verdict/ctr-checkout-7-x1?namespace=shop&rollout=checkout`, {
      headers: auth,
    });
    expect(await res.json()).toMatchObject({ verdict: 'PASS', revision: 2 });
    expect(calls[0]).toMatchObject({
      method: 'judge',
      ref: { engine: 'argo-rollouts', namespace: 'shop', name: 'checkout' },
      extra: { contractId: 'ctr-checkout-7-x1' },
    });
    views.set(
      'shop/checkout',
      view({
        contractId: 'ctr-checkout-7-x1',
        contractState: 'rolling_out',
        rollbackRequested: true,
        latestVerdict: 'PASS',
      }),
    );
    res = await fetch(`${base}/api/argo/verdict/ctr-checkout-7-x1`, { headers: auth });
    expect(((await res.json()) as { verdict: string }).verdict).toBe('FAIL');
    expect((await fetch(`${base}/api/argo/verdict/nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/api/argo/verdict/ctr-checkout-7-x1`)).status).toBe(401);
    expect((await fetch(`${base}/api/argo/verdict/ctr-checkout-7-x1?rollout=Bad_Name`, { headers: auth })).status).toBe(
      400,
    );
  });

  it('answers HOLD while the contract awaits approval and FAIL once it is rejected', async () => {
    views.set('shop/checkout', view({ contractId: 'ctr-c-1', contractState: 'negotiating' }));
    let res = await fetch(`${base}/api/argo/verdict/ctr-c-1`, { headers: auth });
    expect(((await res.json()) as { verdict: string }).verdict).toBe('HOLD');
    views.set('shop/checkout', view({ contractId: 'ctr-c-1', contractState: 'rejected' }));
    res = await fetch(`${base}/api/argo/verdict/ctr-c-1`, { headers: auth });
    expect(((await res.json()) as { verdict: string }).verdict).toBe('FAIL');
    expect(calls).toHaveLength(0);
  });

  it('accepts notifications, marks failures as errors and records the outcome', async () => {
    views.set('shop/checkout', view());
    const res = await post(
      '/api/argo/notifications',
      { rollout: 'checkout', namespace: 'shop', event: 'on-rollout-aborted', message: 'Rollout aborted by analysis' },
      auth,
    );
    expect(res.status).toBe(202);
    expect(events[0]).toMatchObject({ engine: 'argo-rollouts', severity: 'error', phase: 'on-rollout-aborted' });
    expect(calls[0]).toMatchObject({ method: 'finish', extra: { outcome: 'rolled_back' } });
    expect((await post('/api/argo/notifications', { rollout: 'checkout' }, auth)).status).toBe(400);
  });
});
