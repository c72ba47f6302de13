/**
 * Engine-driven canaries end to end, through the composed app: a deployment is announced (signed CI intake), its
 * card lands in the service's Teams channel (fake Bot Connector), two approvers approve it, and then Flagger or Argo
 * Rollouts drive the canary while the bot judges it live from a fake Prometheus on 127.0.0.1 holding the canary and
 * primary (stable) series.
 *
 * The calls are the engines' own: Flagger's hook sequence (pkg/controller/scheduler.go and scheduler_hooks.go:
 * confirm-rollout until 200, pre-rollout, then every interval the rollback hooks, the rollout hooks and, before a
 * weight increase, confirm-traffic-increase; confirm-promotion at max weight; post-rollout and events at the end),
 * with the payload CallWebhook / CallEventWebhook build (pkg/controller/webhook.go: the hook's metadata, which
 * carries the token, merged into Flagger's); and Argo's AnalysisRun measurements (the `web` metric of the exported
 * AnalysisTemplate that `chaos export argo --contract-id --server` reads from this bot: its URL and headers with the
 * arguments substituted, the token as the Secret would give it) followed by the notification Argo's notification
 * controller sends.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { AuditEntry } from '../../src/chat/store.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { run as runCli } from '../cli/cliHarness.js';
import { actionActivity, cardOf, type FakeConnector, sendToBot, startFakeConnector } from '../harness/fakeConnector.js';
import {
  type FakePrometheus,
  type FakeSeries,
  HEALTHY_LATENCY,
  startFakePrometheus,
} from '../harness/fakePrometheus.js';
import { APPROVER_A, APPROVER_B, startTestBot, type TestBot } from '../teams/support.js';

const SECRET = 'intake-secret-0123456789abcdef-0123456789';
const ENGINE_TOKEN = 'engine-token-0123456789abcdef';
const INTERVAL_MS = 60_000;
const TOTAL_RPS = 400;
const seed = JSON.parse(
  readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

let connector: FakeConnector;
let prometheus: FakePrometheus;
let store: PersistentStore;
let bot: TestBot;
let now = Date.parse('2026-12-07T10:00:00.000Z');
const statuses: { call: string; status: number }[] = [];

const channelOf = (service: string) => `19:${service}@thread.tacv2`;
const SERVICES = {
  podinfo: { engine: 'flagger', namespace: 'test' },
  cartapi: { engine: 'flagger', namespace: 'test' },
  checkout: { engine: 'argo', namespace: 'shop' },
  search: { engine: 'argo', namespace: 'shop' },
} as const;

beforeAll(async () => {
  connector = await startFakeConnector();
  prometheus = await startFakePrometheus();
  store = await openPersistentStore({ dataDir: 'memory://' });
  const dir = mkdtempSync(join(tmpdir(), 'chaos-engines-'));
  const servicesFile = join(dir, 'services.yaml');
  writeFileSync(
    servicesFile,
    `services:\n${Object.entries(SERVICES)
      .map(
        ([name, route]) =>
          `  ${name}:\n    teams:\n      conversationId: "${channelOf(name)}"\n      serviceUrl: "${connector.serviceUrl}"\n    engine: ${route.engine}\n    namespace: ${route.namespace}\n`,
      )
      .join('')}`,
  );
  bot = await startTestBot(
    store,
    {
      CHAOS_INTAKE_SECRET: SECRET,
      CHAOS_ENGINE_WEBHOOK_TOKEN: ENGINE_TOKEN,
      CHAOS_SERVICES_FILE: servicesFile,
      METRICS_PROVIDER: 'prometheus',
      PROMETHEUS_URL: prometheus.url,
    },
    { clock: () => new Date(now) },
  );
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
  await prometheus?.close();
});

/** Announces a deployment of `service` targeting `namespace/name`, and approves it in its thread. */
async function announceAndApprove(service: keyof typeof SERVICES, kind: string, name: string) {
  const body = JSON.stringify({
    ...seed,
    deployment_id: `deploy-${service}-1`,
    service_name: service,
    target: { kind, namespace: SERVICES[service].namespace, resource_name: name },
  });
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const response = await fetch(`${bot.url}/api/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
    body,
  });
  expect(response.status).toBe(202);
  const { contractId } = (await response.json()) as { contractId: string };
  const channel = channelOf(service);
  const posted = await connector.waitFor((a) => a.method === 'POST' && a.conversationId === channel);
  const card = cardOf(posted.body) as { actions?: { verb?: string; data?: Record<string, unknown> }[] };
  const approve = card.actions?.find((a) => a.verb === 'contract.approve');
  const thread = { id: `${channel};messageid=${posted.id}`, type: 'channel' as const };
  for (const approver of [APPROVER_A, APPROVER_B]) {
    const click = await sendToBot(
      bot.url,
      actionActivity(connector.serviceUrl, thread, approver, posted.id, 'contract.approve', approve?.data ?? {}),
    );
    expect(click.status).toBe(200);
  }
  return { contractId, thread: thread.id };
}

/** Canary and baseline series of one workload pair, the canary carrying `weight` % of the traffic. */
function serve(labels: { canary: Record<string, string>; baseline: Record<string, string> }, canaryErrorShare: number) {
  const canary: FakeSeries = {
    labels: labels.canary,
    requestsPerSecond: 0,
    errorShare: canaryErrorShare,
    latency: HEALTHY_LATENCY,
  };
  const baseline: FakeSeries = {
    labels: labels.baseline,
    requestsPerSecond: TOTAL_RPS,
    errorShare: 0.0002,
    latency: HEALTHY_LATENCY,
  };
  prometheus.series.push(canary, baseline);
  return (weight: number) => {
    canary.requestsPerSecond = (TOTAL_RPS * weight) / 100;
    baseline.requestsPerSecond = (TOTAL_RPS * (100 - weight)) / 100;
  };
}

/** What Flagger posts for a hook of `type` whose spec carries `metadata: { token }` (CallWebhook). */
function flaggerPayload(name: string, type: string, phase: string, weight: number, extra: Record<string, string> = {}) {
  return {
    name,
    namespace: 'test',
    phase,
    checksum: '7f6b5c4d3e',
    buildId: '',
    type,
    failedChecks: 0,
    canaryWeight: weight,
    iterations: 0,
    remainingTime: 0,
    metadata: {
      ...extra,
      timestamp: String(now),
      phase,
      failedChecks: '0',
      canaryWeight: String(weight),
      iterations: '0',
      lastBuildId: '',
      lastAppliedSpec: 'a1b2c3',
      lastPromotedSpec: 'd4e5f6',
      token: ENGINE_TOKEN,
    },
  };
}

async function flagger(name: string, hook: string, phase: string, weight: number, extra: Record<string, string> = {}) {
  const response = await fetch(`${bot.url}/webhooks/flagger/${hook}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(flaggerPayload(name, hook, phase, weight, extra)),
  });
  statuses.push({ call: `flagger ${name} ${hook}`, status: response.status });
  return response.status;
}

interface WebMetric {
  url: string;
  headers: { key: string; value: string }[];
}

/** The judge's web metric of the AnalysisTemplate `chaos export argo --contract-id --server` writes. */
async function exportedJudgeMetric(contractId: string): Promise<WebMetric & { args: Record<string, unknown>[] }> {
  const exported = await runCli(
    ['export', 'argo', '--contract-id', contractId, '--server', bot.url, '--prometheus', prometheus.url],
    { env: { CHAOS_API_TOKEN: SECRET } },
  );
  expect(exported).toMatchObject({ code: 0, stderr: '' });
  // biome-ignore lint/suspicious/noExplicitAny: the YAML document is read back untyped
  const template = parseAllDocuments(exported.stdout)[0]?.toJS() as any;
  const judge = template.spec.metrics.find((m: { name: string }) => m.name === 'chaos-judge');
  return { ...judge.provider.web, args: template.spec.args };
}

/** What Argo's AnalysisRun controller does with the web metric: substitute the args, GET with the headers. */
function resolveArgs(text: string, args: Record<string, string>) {
  return text.replace(/\{\{args\.([\w-]+)\}\}/g, (_, name: string) => {
    const value = args[name];
    if (value === undefined) throw new Error(`argument ${name} is not declared`);
    return value;
  });
}

async function argoMeasurement(metric: WebMetric, args: Record<string, string>, rollout: string) {
  const headers = Object.fromEntries(metric.headers.map((h) => [h.key, resolveArgs(h.value, args)]));
  const response = await fetch(resolveArgs(metric.url, args), { headers });
  statuses.push({ call: `argo ${rollout} verdict`, status: response.status });
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdict: string }).verdict;
}

async function argoNotification(namespace: string, rollout: string, event: string, message: string) {
  const response = await fetch(`${bot.url}/api/argo/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ENGINE_TOKEN}` },
    body: JSON.stringify({ rollout, namespace, event, message }),
  });
  statuses.push({ call: `argo ${rollout} ${event}`, status: response.status });
  expect(response.status).toBe(202);
}

const threadTexts = (thread: string) =>
  connector.activities
    .filter((a) => a.method === 'POST' && a.conversationId === thread)
    .map((a) => a.body.text ?? '')
    .join('\n');

async function contractState(contractId: string) {
  const response = await fetch(`${bot.url}/api/contracts/${contractId}`, {
    headers: { authorization: `Bearer ${SECRET}` },
  });
  return ((await response.json()) as { state: string }).state;
}

async function auditTypes(contractId: string): Promise<string[]> {
  const entries: AuditEntry[] = await store.recentAudit(contractId, 100);
  return entries.map((e) => e.type);
}

/**
 * Flagger's analysis loop for one canary: each interval the rollback hook, then the rollout hook (judged), then
 * confirm-traffic-increase before stepping the weight. Returns once Flagger would promote or roll back.
 */
async function runFlaggerAnalysis(name: string, setWeight: (w: number) => void, maxIntervals: number) {
  const steps = [5, 10, 25, 50];
  let stepIndex = 0;
  let failedChecks = 0;
  setWeight(steps[0] as number);
  for (let i = 0; i < maxIntervals; i++) {
    now += INTERVAL_MS;
    const weight = steps[stepIndex] as number;
    if ((await flagger(name, 'rollback', 'Progressing', weight)) === 200) return 'rolled_back' as const;
    if ((await flagger(name, 'rollout', 'Progressing', weight)) !== 200) {
      failedChecks++;
      if (failedChecks >= 1) return 'rolled_back' as const;
      continue;
    }
    if (stepIndex === steps.length - 1) {
      if ((await flagger(name, 'confirm-promotion', 'Progressing', weight)) === 200) return 'promoted' as const;
      continue;
    }
    if ((await flagger(name, 'confirm-traffic-increase', 'Progressing', weight)) === 200) {
      stepIndex++;
      setWeight(steps[stepIndex] as number);
      await flagger(name, 'event', 'Progressing', weight, {
        eventMessage: `Advance ${name}.test canary weight ${steps[stepIndex]}`,
        eventType: 'Normal',
      });
    }
  }
  return 'timed_out' as const;
}

describe('Flagger drives the canary, the bot judges it', () => {
  it('promotes a healthy canary: every hook answered as Flagger expects, no 401', async () => {
    const { contractId, thread } = await announceAndApprove('podinfo', 'kubernetes', 'podinfo');
    const setWeight = serve(
      {
        canary: { namespace: 'test', pod: 'podinfo-5d8f7c9b6d-x2k4p' },
        baseline: { namespace: 'test', pod: 'podinfo-primary-7c9d8b6f5-q8w2e' },
      },
      0.0002,
    );
    expect(await flagger('podinfo', 'confirm-rollout', 'Progressing', 0)).toBe(200);
    expect(await flagger('podinfo', 'pre-rollout', 'Progressing', 0)).toBe(200);
    await flagger('podinfo', 'event', 'Progressing', 0, {
      eventMessage: 'New revision detected! Scaling up podinfo.test',
      eventType: 'Normal',
    });
    expect(await contractState(contractId)).toBe('rolling_out');

    expect(await runFlaggerAnalysis('podinfo', setWeight, 60)).toBe('promoted');

    expect(await flagger('podinfo', 'post-rollout', 'Succeeded', 0)).toBe(200);
    await flagger('podinfo', 'event', 'Succeeded', 0, {
      eventMessage: 'Promotion completed! Scaling down podinfo.test',
      eventType: 'Normal',
    });
    expect(await contractState(contractId)).toBe('promoted');
    expect(threadTexts(thread)).toMatch(/New revision detected/);
    expect(threadTexts(thread)).toMatch(/Flagger promoted test\/podinfo/);
    expect(statuses.filter((s) => s.call.startsWith('flagger podinfo') && s.status === 401)).toEqual([]);
    expect(statuses.filter((s) => s.call === 'flagger podinfo rollout' && s.status !== 200)).toEqual([]);
    // The contract's ramp paces Flagger: a step widens only after its minimum duration (600 s) under a PASS.
    expect(
      statuses.filter((s) => s.call === 'flagger podinfo confirm-traffic-increase' && s.status === 200),
    ).toHaveLength(3);
    expect(statuses.filter((s) => s.call === 'flagger podinfo rollout').length).toBeGreaterThanOrEqual(40);
    // The judge really read the canary's and the primary's pods.
    expect(prometheus.queries.some((q) => q.includes('pod=~"podinfo-primary-'))).toBe(true);
    expect(await auditTypes(contractId)).toEqual(expect.arrayContaining(['rollout.started', 'rollout.promoted']));
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
  });

  it('rolls back a canary serving errors: the rollout hook fails, the rollback hook fires, alerts in the thread', async () => {
    const { contractId, thread } = await announceAndApprove('cartapi', 'kubernetes', 'cartapi');
    const setWeight = serve(
      {
        canary: { namespace: 'test', pod: 'cartapi-6c7d8e9f0a-b1c2d' },
        baseline: { namespace: 'test', pod: 'cartapi-primary-5b6c7d8e9-f0a1b' },
      },
      0.08,
    );
    expect(await flagger('cartapi', 'confirm-rollout', 'Progressing', 0)).toBe(200);
    expect(await runFlaggerAnalysis('cartapi', setWeight, 20)).toBe('rolled_back');
    expect(await flagger('cartapi', 'rollback', 'Progressing', 5)).toBe(200);
    await flagger('cartapi', 'event', 'Failed', 0, {
      eventMessage: 'Canary failed! Scaling down cartapi.test',
      eventType: 'Warning',
    });
    expect(await flagger('cartapi', 'post-rollout', 'Failed', 0)).toBe(200);
    expect(await contractState(contractId)).toBe('rolled_back');
    const texts = threadTexts(thread);
    expect(texts).toMatch(/judge FAIL/);
    expect(texts).toMatch(/Canary failed! Scaling down cartapi\.test/);
    expect(texts).toMatch(/rolled back test\/cartapi/);
    expect(await auditTypes(contractId)).toEqual(
      expect.arrayContaining(['rollout.started', 'rollout.judge_failed', 'rollout.rolled_back']),
    );
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('Argo Rollouts drives the canary, the bot judges it', () => {
  /** Argo measures the web metric every interval; HOLD is Inconclusive, only FAIL fails the AnalysisRun. */
  async function runAnalysisRun(contractId: string, rollout: string, setWeight: (w: number) => void, max: number) {
    const metric = await exportedJudgeMetric(contractId);
    // The Secret behind the chaos-token argument holds the bot's engine token.
    const args: Record<string, string> = { 'chaos-token': ENGINE_TOKEN };
    for (const arg of metric.args) if (typeof arg.value === 'string') args[arg.name as string] = arg.value;
    const measure = () => argoMeasurement(metric, args, rollout);
    const verdicts: string[] = [];
    setWeight(5);
    for (let i = 0; i < max; i++) {
      now += INTERVAL_MS;
      const verdict = await measure();
      verdicts.push(verdict);
      if (verdict === 'FAIL') return { outcome: 'failed' as const, verdicts, measure };
      // The Rollout's steps advance on their pauses; the analysis keeps measuring in the background.
      if (i === 3) setWeight(25);
      if (i === 6) setWeight(50);
      if (verdict === 'PASS' && i >= 8) return { outcome: 'successful' as const, verdicts, measure };
    }
    return { outcome: 'running' as const, verdicts, measure };
  }

  it('promotes a healthy Rollout', async () => {
    const { contractId, thread } = await announceAndApprove('checkout', 'argo-rollouts', 'checkout');
    const setWeight = serve(
      {
        canary: { namespace: 'shop', service: 'checkout-canary' },
        baseline: { namespace: 'shop', service: 'checkout-stable' },
      },
      0.0002,
    );
    const run = await runAnalysisRun(contractId, 'checkout', setWeight, 30);
    expect(run.outcome).toBe('successful');
    expect(run.verdicts).not.toContain('FAIL');
    await argoNotification('shop', 'checkout', 'on-rollout-completed', 'Rollout checkout completed');
    expect(await contractState(contractId)).toBe('promoted');
    expect(threadTexts(thread)).toMatch(/Argo Rollouts promoted shop\/checkout/);
    expect(statuses.filter((s) => s.call.startsWith('argo checkout') && s.status >= 400)).toEqual([]);
    expect(await auditTypes(contractId)).toEqual(expect.arrayContaining(['rollout.started', 'rollout.promoted']));
  });

  it('fails the AnalysisRun of a Rollout serving errors, and records the abort', async () => {
    const { contractId, thread } = await announceAndApprove('search', 'argo-rollouts', 'search');
    const setWeight = serve(
      {
        canary: { namespace: 'shop', service: 'search-canary' },
        baseline: { namespace: 'shop', service: 'search-stable' },
      },
      0.08,
    );
    const run = await runAnalysisRun(contractId, 'search', setWeight, 20);
    expect(run.outcome).toBe('failed');
    // Argo measures again before it notices the failed run: still FAIL.
    now += INTERVAL_MS;
    expect(await run.measure()).toBe('FAIL');
    await argoNotification('shop', 'search', 'on-rollout-aborted', 'Rollout aborted: metric chaos-judge failed');
    expect(await contractState(contractId)).toBe('rolled_back');
    const texts = threadTexts(thread);
    expect(texts).toMatch(/judge FAIL/);
    expect(texts).toMatch(/Rollout aborted/);
    expect(await auditTypes(contractId)).toEqual(
      expect.arrayContaining(['rollout.started', 'rollout.judge_failed', 'rollout.rolled_back']),
    );
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
  });
});
