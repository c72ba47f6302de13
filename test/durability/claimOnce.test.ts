/**
 * Issue 6: "Two worker processes against one PostgreSQL claim 1,000 due rollouts between them: each is claimed
 * exactly once." PostgreSQL only — PGlite is one process's embedded database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRecord } from '../../src/guardian/repository.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';
import { approvedContract } from './fixtures/common.js';
import { dropSchema, runToEnd, startFixture } from './support.js';

const ROLLOUTS = 1_000;

function rollout(index: number, due: Date): RolloutRecord {
  const contract = approvedContract(`claim-${index}`, due);
  const at = due.toISOString();
  return {
    id: `ro-claim-${index}`,
    contractId: contract.id,
    revision: 1,
    target: {
      serviceName: 'payment-service',
      namespace: 'default',
      resourceName: 'payment-service',
      canaryVersion: 'v3',
    },
    terms: {
      guardrails: contract.terms.guardrails,
      ramp: contract.terms.ramp,
      targetErrorRatePercent: 0.1,
      rollbackPlan: contract.rollbackPlan,
    },
    state: {
      phase: 'progressing',
      stepIndex: 0,
      trafficPercent: 5,
      stepStartedAt: at,
      deadlineFrom: at,
      stepRequests: 0,
      evaluations: 0,
      lastVerdict: null,
      activeAlerts: [],
    },
    history: [],
    lastIntervalEnd: at,
    stepStartIndex: 0,
    nextDueAt: at,
    pendingCommands: [],
    latestVerdict: null,
    latestReasons: [],
    latestChecks: [],
    log: [],
    createdAt: at,
    updatedAt: at,
  };
}

describe.skipIf(!DATABASE_URL)('two worker processes on one PostgreSQL', () => {
  const url = DATABASE_URL as string;
  const schema = uniqueSchema('claim');
  let store: PersistentStore;

  beforeAll(async () => {
    store = await openPersistentStore({ databaseUrl: url, schema });
    const due = new Date(Date.now() - 60_000);
    for (let i = 0; i < ROLLOUTS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, ROLLOUTS - i) }, (_, k) => store.rollouts.create(rollout(i + k, due))),
      );
    }
  });

  afterAll(async () => {
    await store?.close();
    await dropSchema(url, schema);
  });

  it('claims each of 1,000 due rollouts exactly once between them', async () => {
    const args = ['--database-url', url, '--schema', schema];
    const workers = ['A', 'B'].map((w) => startFixture('claimWorker.ts', [...args, '--worker', w], `worker ${w}`));
    try {
      await Promise.all(workers.map((w) => w.until('ready', (lines) => lines.includes('ready'), 30_000)));
      for (const w of workers) w.send('go');
      for (const w of workers) expect((await runToEnd(w, 60_000)).code, w.describe()).toBe(0);
    } finally {
      for (const w of workers) if (w.process.exitCode === null) await w.kill();
    }

    const [a, b] = workers.map((w) => w.linesStartingWith('claimed ')) as [string[], string[]];
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    const all = [...a, ...b];
    expect(all).toHaveLength(ROLLOUTS);
    expect(new Set(all).size).toBe(ROLLOUTS);

    // The stored records agree: every one carries exactly one worker's mark, and nothing is due or leased.
    const rows = await store.driver.query<{ id: string; log: string[]; leased: boolean }>(
      `select id, record->'log' as log, lease_token is not null as leased from rollouts
       where next_due_at <= now() or lease_token is not null or json_array_length(record->'log') <> 1`,
    );
    expect(rows).toEqual([]);
    const marks = await store.driver.query<{ mark: string; n: string }>(
      `select record->'log'->>0 as mark, count(*)::text as n from rollouts group by 1 order by 1`,
    );
    expect(marks).toEqual([
      { mark: 'claimed by A', n: String(a.length) },
      { mark: 'claimed by B', n: String(b.length) },
    ]);
  }, 120_000);
});
