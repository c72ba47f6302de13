/**
 * Store benchmark for src/persistence (issue 3): decisions per second and lease-claim latency on the embedded
 * PGlite (a file data directory, as in production) and on PostgreSQL (DATABASE_URL, else 127.0.0.1:5432 when it
 * answers; an own schema, dropped at the end).
 *
 *   decision   what an Approve click costs the store: recordDecision — row lock, idempotency, quorum and the
 *              staged audit entry, in one transaction (the chainer seals entries into the hash chain in batches
 *              meanwhile, in the same process). Contracts need 3 approvals, so every third decision approves its
 *              contract. Parallel decisions run in two orders: spread (the decisions in flight are on different
 *              contracts, as when many teams approve at once; the goal row) and contended (the three approvers of
 *              a contract click at the same moment, so their decisions queue on the contract's row lock).
 *   claim      claimDue(limit 1) of a due rollout among BENCH_ROLLOUTS (records carry 20 judged intervals), then
 *              save + release as the worker does; the latency is the claim call alone.
 *
 * Diagnostic rows (PostgreSQL): BENCH_CONCURRENCY parallel transactions that each update one row and commit, once
 * all on one shared row (what a lock every decision holds until it commits allows: the audit chain head did that
 * before entries were staged) and once on a row each (what the server's group commit allows).
 *
 * Goals: ≥ 1,000 decisions/s on PostgreSQL (the parallel, spread row: one caller at a time measures commit latency),
 * ≥ 300/s on PGlite (one connection: sequential and in flight); claim p99 < 20 ms.
 * Env: BENCH_DECISIONS (3000), BENCH_CONCURRENCY (16), BENCH_ROLLOUTS (1000), BENCH_PG=0 to skip PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ChatActor } from '../src/chat/port.js';
import { assessDeployment } from '../src/domain/contract.js';
import type { Contract } from '../src/domain/model.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { parseDeploymentJson } from '../src/domain/request.js';
import type { RolloutRecord } from '../src/guardian/repository.js';
import { createSimulator } from '../src/metrics/simulator.js';
import { openPersistentStore, type PersistentStore } from '../src/persistence/index.js';

const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 1000);
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';
const GOAL_DECISIONS = { pglite: 300, postgres: 1000 } as const;
const GOAL_CLAIM_P99_MS = 20;

const seed = readFileSync(new URL('../test/fixtures/deployment-example.json', import.meta.url), 'utf8');
const REQUESTER: ChatActor = { id: 'dev-1', displayName: 'Dana Dev', surface: 'teams' };
const T0 = new Date('2026-11-24T10:00:00Z');
const template = assessDeployment(parseDeploymentJson(seed), DEFAULT_POLICY, { now: T0 });

interface Row {
  backend: string;
  measure: string;
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  goal: string;
  met: boolean | null;
}

const rows: Row[] = [];
const notes: string[] = [];

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

async function timed<T>(work: () => Promise<T>, into: number[]): Promise<T> {
  const started = performance.now();
  const result = await work();
  into.push(performance.now() - started);
  return result;
}

function contract(id: string): Contract {
  return { ...template, id, state: 'negotiating', terms: { ...template.terms, approvalsRequired: 3 } };
}

async function createContracts(store: PersistentStore, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(ids.slice(i, i + 32).map((id) => store.saveRevision(contract(id), REQUESTER)));
  }
  return ids;
}

interface DecisionRun {
  wallMs: number;
  latencies: number[];
}

type DecisionOrder = 'spread' | 'contended';

/**
 * `count` decisions, `concurrency` in flight, three approvers per contract. `spread` takes the first approver of
 * every contract, then the second, then the third; `contended` takes a contract's three approvers one after another.
 */
async function decide(
  store: PersistentStore,
  prefix: string,
  count: number,
  concurrency: number,
  order: DecisionOrder = 'spread',
): Promise<DecisionRun> {
  const contracts = Math.ceil(count / 3);
  const ids = await createContracts(store, prefix, contracts);
  const run: DecisionRun = { wallMs: 0, latencies: [] };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let n = next++; n < count; n = next++) {
        const [contract, approver] =
          order === 'spread' ? [n % contracts, Math.floor(n / contracts)] : [Math.floor(n / 3), n % 3];
        const contractId = ids[contract] as string;
        const actor: ChatActor = { id: `sre-${approver}`, displayName: `SRE ${approver}`, surface: 'teams' };
        const at = new Date();
        const result = await timed(
          () =>
            store.recordDecision({
              contractId,
              revision: 1,
              decision: 'approve',
              actor,
              idempotencyKey: `${contractId}:1:${actor.id}:contract.approve`,
              at,
              // No approver list (anyone may decide): the same decide() and statements as with one.
              policy: { approvers: { teams: [], slack: [], groups: {} }, openWhenUnconfigured: true },
            }),
          run.latencies,
        );
        if (result.outcome !== 'recorded') throw new Error(`decision ${n} was ${result.outcome}`);
      }
    }),
  );
  run.wallMs = performance.now() - started;
  return run;
}

function rollout(index: number, history: RolloutRecord['history']): RolloutRecord {
  const at = T0.toISOString();
  return {
    id: `ro-bench-${index}`,
    contractId: `claim-${index}`,
    revision: 1,
    target: {
      serviceName: 'payment-service',
      namespace: 'default',
      resourceName: 'payment-service',
      canaryVersion: 'v3',
    },
    terms: {
      guardrails: template.terms.guardrails,
      ramp: template.terms.ramp,
      targetErrorRatePercent: 0.1,
      rollbackPlan: template.rollbackPlan,
    },
    state: {
      phase: 'progressing',
      stepIndex: 1,
      trafficPercent: 10,
      stepStartedAt: at,
      deadlineFrom: at,
      stepRequests: 0,
      evaluations: 0,
      lastVerdict: 'PASS',
      activeAlerts: [],
    },
    history,
    lastIntervalEnd: at,
    stepStartIndex: 10,
    nextDueAt: at,
    pendingCommands: [],
    latestVerdict: 'PASS',
    latestReasons: [],
    latestChecks: [],
    log: [],
    createdAt: at,
    updatedAt: at,
  };
}

/** Claims every due rollout one at a time (claim timed), saving each far ahead and releasing it. */
async function claimAll(store: PersistentStore, claimers: number): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  const now = new Date(T0.getTime() + 60_000);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: claimers }, async (_, w) => {
      for (;;) {
        const claimStarted = performance.now();
        const [claim] = await store.rollouts.claimDue(`bench-${w}`, now, 60_000, 1);
        // The final, empty claim of each claimer is not the claim of a due rollout.
        if (!claim) return;
        latencies.push(performance.now() - claimStarted);
        const saved = await store.rollouts.save(
          { ...claim.record, nextDueAt: '2999-01-01T00:00:00.000Z' },
          claim.leaseToken,
          0,
        );
        if (!saved) throw new Error(`lost the lease on ${claim.record.id}`);
        await store.rollouts.release(claim.record.id, claim.leaseToken);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

async function seedRollouts(store: PersistentStore): Promise<number> {
  const simulator = createSimulator({ scenario: 'healthy', seed: 3, qps: 400, origin: T0, intervalSeconds: 60 });
  simulator.setCanaryPercent(10);
  const history = Array.from({ length: 20 }, (_, i) => simulator.generate(i));
  await store.driver.execute('delete from rollout_evaluations');
  await store.driver.execute('delete from rollouts');
  for (let i = 0; i < ROLLOUTS; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, ROLLOUTS - i) }, (_, k) => store.rollouts.create(rollout(i + k, history))),
    );
  }
  return JSON.stringify(rollout(0, history)).length;
}

async function benchBackend(backend: 'pglite' | 'postgres', store: PersistentStore): Promise<void> {
  const goal = GOAL_DECISIONS[backend];
  const parallel = backend === 'pglite' ? `${CONCURRENCY} in flight` : `${CONCURRENCY} parallel`;
  const variants: { label: string; concurrency: number; count: number; order: DecisionOrder; goal: boolean }[] = [
    {
      label: 'sequential',
      concurrency: 1,
      count: Math.min(DECISIONS, backend === 'pglite' ? 1500 : 500),
      order: 'spread',
      // One decision at a time on PostgreSQL measures commit latency, not throughput: the goal is the parallel row.
      goal: backend === 'pglite',
    },
    { label: `${parallel}, spread`, concurrency: CONCURRENCY, count: DECISIONS, order: 'spread', goal: true },
    { label: `${parallel}, contended`, concurrency: CONCURRENCY, count: DECISIONS, order: 'contended', goal: false },
  ];
  await decide(store, 'warm', 150, 4);
  for (const [i, variant] of variants.entries()) {
    const run = await decide(store, `d${i}`, variant.count, variant.concurrency, variant.order);
    const perSecond = (variant.count / run.wallMs) * 1000;
    const sealStarted = performance.now();
    await store.sealAudit();
    const sealMs = performance.now() - sealStarted;
    rows.push({
      backend,
      measure: `decision, ${variant.label}`,
      count: variant.count,
      perSecond,
      ...summary(run.latencies),
      goal: variant.goal ? `≥ ${goal}/s` : '–',
      met: variant.goal ? perSecond >= goal : null,
    });
    notes.push(
      `${backend}: ${variant.label}: the chain was ${sealMs.toFixed(0)} ms behind when the last decision returned`,
    );
  }
  if (backend === 'postgres') await commitCeiling(store);
  const verify = await store.verifyAudit();
  if (!verify.ok) throw new Error(`audit chain broken after the bench: ${verify.reason}`);
  notes.push(`${backend}: audit chain verified after the bench (${verify.entries} entries)`);

  const claimVariants = backend === 'pglite' ? [1] : [1, 4];
  let recordBytes = 0;
  for (const claimers of claimVariants) {
    recordBytes = await seedRollouts(store);
    const { latencies, wallMs } = await claimAll(store, claimers);
    const s = summary(latencies);
    rows.push({
      backend,
      measure: `claim due rollout, ${claimers} claimer${claimers > 1 ? 's' : ''}`,
      count: latencies.length,
      perSecond: (latencies.length / wallMs) * 1000,
      ...s,
      goal: `p99 < ${GOAL_CLAIM_P99_MS} ms`,
      met: s.p99 < GOAL_CLAIM_P99_MS,
    });
  }
  notes.push(`${backend}: rollout record ≈ ${(recordBytes / 1024).toFixed(1)} KiB of JSON (20 judged intervals)`);
}

/** Parallel one-row-update transactions: all on one shared row (like the audit chain head), or a row each. */
async function commitCeiling(store: PersistentStore): Promise<void> {
  await store.driver.exec('create table bench_rows (id int primary key, n bigint not null)');
  await store.driver.execute('insert into bench_rows select g, 0 from generate_series(0, $1::int) g', [CONCURRENCY]);
  const count = DECISIONS;
  for (const shared of [true, false]) {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, lane) => {
        while (next++ < count) {
          await timed(
            () =>
              store.driver.transaction(async (tx) => {
                await tx.query('update bench_rows set n = n + 1 where id = $1', [shared ? 0 : lane + 1]);
              }),
            latencies,
          );
        }
      }),
    );
    const wallMs = performance.now() - started;
    rows.push({
      backend: 'postgres',
      measure: `diagnostic: 1-row tx, ${CONCURRENCY} parallel, ${shared ? 'one shared row' : 'a row each'}`,
      count,
      perSecond: (count / wallMs) * 1000,
      ...summary(latencies),
      goal: '–',
      met: null,
    });
  }
}

async function postgresUrl(): Promise<string | undefined> {
  if (process.env.BENCH_PG === '0') return undefined;
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const answers = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.connect(5432, '127.0.0.1');
  });
  return answers ? DEFAULT_PG : undefined;
}

function print(): void {
  const header = ['backend', 'measure', 'n', 'per s', 'p50 ms', 'p99 ms', 'goal', 'met'];
  const body = rows.map((r) => [
    r.backend,
    r.measure,
    String(r.count),
    r.perSecond.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.goal,
    r.met === null ? '–' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const b of body) console.log(line(b));
  console.log('');
  for (const note of notes) console.log(`  ${note}`);
}

async function main(): Promise<void> {
  console.log(
    `bench:store (src/persistence) — ${DECISIONS} decisions, ${CONCURRENCY} in flight, ${ROLLOUTS} rollouts; node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'chaos-bench-store-'));
  try {
    const store = await openPersistentStore({ dataDir: join(dir, 'pglite') });
    try {
      await benchBackend('pglite', store);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const url = await postgresUrl();
  if (!url) {
    notes.push('PostgreSQL: not measured (no DATABASE_URL and nothing answers on 127.0.0.1:5432)');
  } else {
    const schema = `bench_${randomBytes(5).toString('hex')}`;
    const store = await openPersistentStore({ databaseUrl: url, schema, poolSize: CONCURRENCY });
    try {
      const [sync] = await store.driver.query<{ synchronous_commit: string }>('show synchronous_commit');
      notes.push(`postgres: pool of ${CONCURRENCY} connections, synchronous_commit=${sync?.synchronous_commit}`);
      await benchBackend('postgres', store);
    } finally {
      await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  }
  print();
}

await main();
