/**
 * Engine-driven rollout records on the real store (PGlite): the worker's claim never takes them (the engine moves
 * the traffic), a judging call claims the one record it judges, a retry within the interval is answered from the
 * record, a rollback asked for in chat waits for the engine and is consumed when the engine reports the end.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineView } from '../../src/app/guardian.js';
import { assessDeployment } from '../../src/domain/contract.js';
import type { IntervalMetrics, MetricProvider, MetricQuery } from '../../src/domain/metrics.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseDeploymentRequest } from '../../src/domain/request.js';
import { EngineRollouts } from '../../src/guardian/engineRollouts.js';
import type { RolloutRecord } from '../../src/guardian/repository.js';
import type { RolloutNotifier } from '../../src/guardian/worker.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';

let store: PersistentStore;
let now = Date.parse('2026-12-07T10:00:00Z');
const queries: MetricQuery[] = [];
const alerts: string[] = [];

/** A provider answering every interval with steady traffic on both workloads. */
const provider: MetricProvider = {
  name: 'steady',
  async fetchInterval(query): Promise<IntervalMetrics> {
    queries.push(query);
    const seconds = (query.end.getTime() - query.start.getTime()) / 1000;
    const stats = (rps: number) => ({
      requests: Math.round(rps * seconds),
      failures: 0,
      latency: { p50Ms: 40, p95Ms: 90, p99Ms: 140 },
    });
    return { start: query.start.toISOString(), end: query.end.toISOString(), canary: stats(20), baseline: stats(380) };
  },
};

const notifier: RolloutNotifier = {
  status: async (record) => record.report,
  alert: async (_record, alert) => {
    alerts.push(`${alert.kind}: ${alert.message}`);
  },
};

function contract(): Contract {
  const seed = JSON.parse(readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8'));
  const request = parseDeploymentRequest({
    ...seed,
    service_name: 'podinfo',
    target: { kind: 'kubernetes', namespace: 'test', resource_name: 'podinfo' },
  });
  return { ...assessDeployment(request, DEFAULT_POLICY, { now: new Date(now) }), state: 'approved' };
}

beforeAll(async () => {
  store = await openPersistentStore({ dataDir: 'memory://' });
});
afterAll(async () => {
  await store?.close();
});

describe('engine-driven rollout records', () => {
  it('are never claimed by the worker, judged by the engine call, and finished by the engine', async () => {
    const engines = new EngineRollouts({
      repository: store.rollouts,
      metricsFor: () => provider,
      notifier,
      workerId: 'test',
      clock: () => new Date(now),
    });
    const approved = contract();
    const object = {
      engine: 'flagger' as const,
      namespace: 'test',
      name: 'podinfo',
      canaryWorkload: 'podinfo',
      baselineWorkload: 'podinfo-primary',
    };
    const record = await engines.begin(approved, object);
    expect(record).toMatchObject({ engine: 'flagger', state: { phase: 'progressing' } });
    // Starting again (Flagger retries confirm-rollout) returns the same rollout.
    expect((await engines.begin(approved, object)).id).toBe(record.id);

    const far = new Date(now + 365 * 86_400_000);
    expect(await store.rollouts.claimDue('worker', far, 60_000, 100)).toEqual([]);

    now += 60_000;
    const first = await engines.judge(record, 5);
    expect(first.fresh).toBe(true);
    expect(queries.at(-1)).toMatchObject({
      namespace: 'test',
      canaryVersion: 'podinfo',
      baselineVersion: 'podinfo-primary',
    });
    // A retry 10 s later is answered from the record, without a query.
    now += 10_000;
    const asked = queries.length;
    const retry = await engines.judge(first.record, 5);
    expect(retry).toMatchObject({ fresh: false, verdict: first.verdict });
    expect(queries).toHaveLength(asked);

    // "Roll back now" from chat: queued on the record, reported to the engine, not picked up by the worker.
    await store.rollouts.enqueueCommand(
      record.id,
      { type: 'rollback_now', actor: 'Sam', reason: 'pressed' },
      new Date(now),
    );
    expect(await store.rollouts.claimDue('worker', far, 60_000, 100)).toEqual([]);
    const queued = (await store.rollouts.get(record.id)) as RolloutRecord;
    expect(engineView(approved, queued, new Date(now)).rollbackRequested).toBe(true);

    const finished = await engines.finish(queued, 'rolled_back', 'Flagger rolled back on request');
    expect(finished.state.phase).toBe('rolled_back');
    const stored = (await store.rollouts.get(record.id)) as RolloutRecord;
    expect(stored.pendingCommands).toEqual([]);
    expect(stored.history.length).toBeGreaterThanOrEqual(1);
    expect(alerts.some((a) => a.startsWith('rolled_back:'))).toBe(true);
  });

  it('holds a claimed record for one caller at a time', async () => {
    const approved = { ...contract(), id: 'ctr-lease-1' };
    const engines = new EngineRollouts({
      repository: store.rollouts,
      metricsFor: () => provider,
      notifier,
      workerId: 'a',
      clock: () => new Date(now),
    });
    const record = await engines.begin(approved, {
      engine: 'argo-rollouts',
      namespace: 'shop',
      name: 'checkout',
      canaryWorkload: 'checkout-canary',
      baselineWorkload: 'checkout-stable',
    });
    const held = await store.rollouts.claim(record.id, 'other', new Date(now), 60_000);
    expect(held).toBeDefined();
    now += 120_000;
    // The judging call finds the lease held: it answers from the record instead of judging twice.
    const judged = await engines.judge(record);
    expect(judged.fresh).toBe(false);
    await store.rollouts.release(record.id, held?.leaseToken as string);
    expect((await engines.judge(record)).fresh).toBe(true);
  });
});
