/**
 * Issue 18 fault suite, rollouts: real replica processes (test/faults/fixtures/replica.ts: the store and the guardian
 * as the server composes them) against one PostgreSQL, and one PGlite directory used in turn.
 *
 * - 20 contracts, each started 20 times at once (10 starts on each of two replicas): one rollout per contract.
 * - A rollback whose owner is SIGKILLed in the middle of a step: the other replica takes over once the lease
 *   expires on the database's clock, continues the plan after the last recorded step, never runs a step twice, and
 *   takes over within 2 × the lease. Traffic and steps go through a stand-in `kubectl` that logs every call with the
 *   pid of the replica that made it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Contract, RollbackPlan } from '../../src/domain/model.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { approvedContract, REQUESTER, type StoreTarget } from '../durability/fixtures/common.js';
import {
  type Child,
  pgliteLocation,
  postgresLocation,
  runToEnd,
  type StoreLocation,
  startNode,
  tempDir,
} from '../durability/support.js';
import { DATABASE_URL } from '../persistence/backends.js';

const LEASE_MS = 1_500;
const POLL_MS = 100;
const REPLICA = join(import.meta.dirname, 'fixtures', 'replica.ts');

interface KubectlCall {
  event: 'begin' | 'end';
  argv: string;
  replica: number;
  at: number;
}

const STEPS: RollbackPlan['steps'] = [
  {
    order: 1,
    description: 'Roll the deployment back to the previous ReplicaSet',
    command: 'kubectl -n default rollout undo deployment/payment-service',
    expectedDurationSeconds: 5,
    validation: 'previous ReplicaSet serving',
    dependsOn: [],
  },
  {
    order: 2,
    description: 'Wait for the rollout to become available',
    command: 'kubectl -n default rollout status deployment/payment-service --timeout=300s',
    expectedDurationSeconds: 10,
    validation: 'available',
    dependsOn: [1],
  },
  {
    order: 3,
    description: 'Scale the canary to zero',
    command: 'kubectl -n default scale deployment/payment-service-canary --replicas=0',
    expectedDurationSeconds: 10,
    validation: 'no canary pods',
    dependsOn: [2],
  },
  {
    order: 4,
    description: 'Mark the deployment as rolled back',
    command: 'kubectl -n default annotate deployment/payment-service chaos/rolled-back=true --overwrite',
    expectedDurationSeconds: 5,
    validation: 'annotation present',
    dependsOn: [2],
  },
];

function contractWithPlan(id: string): Contract {
  const contract = approvedContract(id, new Date());
  return { ...contract, rollbackPlan: { ...contract.rollbackPlan, possible: true, steps: STEPS } };
}

function targetOf(location: StoreLocation): StoreTarget {
  const [flag, value, , schema] = location.args;
  return flag === '--data-dir' ? { dataDir: value } : { databaseUrl: value, schema };
}

async function seed(location: StoreLocation, contracts: Contract[]): Promise<void> {
  const store = await openPersistentStore(targetOf(location));
  try {
    for (const contract of contracts) await store.saveRevision(contract, REQUESTER);
  } finally {
    await store.close();
  }
}

/** A bin directory whose `kubectl` is the logging stand-in, run by this Node. */
function fakeKubectl(dir: string): { bin: string; log: string; calls(): KubectlCall[] } {
  const bin = join(dir, 'bin');
  const log = join(dir, 'kubectl.log');
  const script = readFileSync(join(import.meta.dirname, 'fixtures', 'fakeKubectl.mjs'), 'utf8');
  writeFileSync(join(dir, 'fakeKubectl.mjs'), script);
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'kubectl'),
    `#!${process.execPath}\nimport(${JSON.stringify(join(dir, 'fakeKubectl.mjs'))});\n`,
  );
  chmodSync(join(bin, 'kubectl'), 0o755);
  return {
    bin,
    log,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as KubectlCall)
        : [],
  };
}

function startReplica(location: StoreLocation, name: string, env: NodeJS.ProcessEnv, extra: string[] = []): Child {
  return startNode([REPLICA, ...location.args, ...extra], name, ['--import', 'tsx'], {
    ...process.env,
    CHAOS_MODE: 'development',
    ROLLOUT_LEASE_MS: String(LEASE_MS),
    ROLLOUT_POLL_MS: String(POLL_MS),
    ...env,
  });
}

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(child: Child): Child {
  cleanups.push(async () => {
    if (child.process.exitCode === null && child.process.signalCode === null) await child.kill();
  });
  return child;
}

describe.skipIf(!DATABASE_URL)('two replicas on one PostgreSQL', () => {
  it('creates one rollout per contract from 20 concurrent starts across two replicas (20 contracts)', async () => {
    const location = postgresLocation('starts');
    cleanups.push(() => location.dispose());
    const contracts = Array.from({ length: 20 }, (_, i) => contractWithPlan(`race-${i}`));
    await seed(location, contracts);
    const replicas = ['A', 'B'].map((name) =>
      track(startReplica(location, `replica ${name}`, {}, ['--worker', 'off'])),
    );
    await Promise.all(replicas.map((r) => r.until('ready', (lines) => lines.includes('ready'), 60_000)));
    for (const contract of contracts) for (const replica of replicas) replica.send(`start ${contract.id} 10`);
    for (const replica of replicas) {
      await replica.until(
        'every start answered',
        (lines) => lines.filter((l) => l.startsWith('started ')).length === contracts.length,
        60_000,
      );
    }
    const answers = replicas.flatMap((r) =>
      r
        .linesStartingWith('start ')
        .map((l) => JSON.parse(l) as { contract: string; rollout: string; created: boolean }),
    );
    expect(answers).toHaveLength(400);

    const store = await openPersistentStore(targetOf(location));
    try {
      const rows = await store.driver.query<{ contract_id: string; n: string }>(
        'select contract_id, count(*)::text as n from rollouts group by contract_id',
      );
      const doubled = rows.filter((r) => r.n !== '1');
      expect(rows).toHaveLength(contracts.length);
      expect(doubled).toEqual([]);
      for (const contract of contracts) {
        const mine = answers.filter((a) => a.contract === contract.id);
        expect(mine.filter((a) => a.created)).toHaveLength(1);
        expect(new Set(mine.map((a) => a.rollout)).size).toBe(1);
        expect((await store.getContract(contract.id))?.state).toBe('rolling_out');
        const started = (await store.recentAudit(contract.id, 50)).filter((e) => e.type === 'rollout.started');
        expect(started).toHaveLength(1);
      }
      console.info(
        `[faults] concurrent starts: ${answers.length} starts of ${contracts.length} contracts on 2 replicas → ${rows.length} rollouts, ${doubled.length} doubled`,
      );
    } finally {
      await store.close();
    }
  }, 180_000);

  it('continues a rollback after its owner is SIGKILLed mid-step: no step twice, takeover within 2 × lease', async () => {
    const location = postgresLocation('takeover');
    cleanups.push(() => location.dispose());
    const dir = tempDir('takeover');
    cleanups.push(() => dir.remove());
    const kubectl = fakeKubectl(dir.path);
    const contract = contractWithPlan('takeover-1');
    await seed(location, [contract]);
    const env = kubectlEnv(kubectl);
    const replicas = ['A', 'B'].map((name) =>
      track(startReplica(location, `replica ${name}`, env, ['--until-finished', contract.id])),
    );
    await Promise.all(replicas.map((r) => r.until('ready', (lines) => lines.includes('ready'), 60_000)));
    const [a, b] = replicas as [Child, Child];
    a.send(`start ${contract.id} 1`);
    await a.until('the start', (lines) => lines.includes(`started ${contract.id}`), 30_000);
    b.send(`rollback ${contract.id}`);
    await b.until('the rollback queued', (lines) => lines.includes(`rolling-back ${contract.id}`), 30_000);

    await until(
      'step 3 to begin',
      () => kubectl.calls().some((c) => c.event === 'begin' && c.argv.includes(' scale ')),
      60_000,
    );
    const ownerPid = kubectl.calls().find((c) => c.argv.includes(' scale '))?.replica;
    const owner = replicas.find((r) => r.process.pid === ownerPid);
    const survivor = replicas.find((r) => r !== owner);
    if (!owner || !survivor) throw new Error(`step 3 was begun by ${ownerPid}, not by a replica`);
    const killedAt = Date.now();
    expect((await owner.kill()).signal).toBe('SIGKILL');
    expect((await runToEnd(survivor, 60_000)).code, survivor.describe()).toBe(0);

    const calls = kubectl.calls();
    const outcome = checkTakeover(calls, ownerPid as number, survivor.process.pid as number, killedAt);
    const continuedAt = Number(
      survivor
        .linesStartingWith('log ')
        .find((l) => l.includes('continuing a rollback'))
        ?.split(' ')[0],
    );
    const takeoverMs = continuedAt - killedAt;
    const store = await openPersistentStore(targetOf(location));
    try {
      await checkRecorded(store, contract.id, outcome);
    } finally {
      await store.close();
    }
    console.info(
      `[faults] takeover on postgres: lease ${LEASE_MS} ms, rollback continued ${takeoverMs} ms after SIGKILL (first effect ${outcome.firstEffectMs} ms), repeated steps ${outcome.repeated}`,
    );
    // Taken over once the lease expired (at most one lease after the owner's last renewal) plus one poll.
    expect(takeoverMs).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThanOrEqual(2 * LEASE_MS);
  }, 180_000);
});

describe('one PGlite directory, replicas in turn', () => {
  it('continues a rollback after its owner is SIGKILLed mid-step, without running a step twice', async () => {
    const location = pgliteLocation('takeover');
    cleanups.push(() => location.dispose());
    const dir = tempDir('takeover-pglite');
    cleanups.push(() => dir.remove());
    const kubectl = fakeKubectl(dir.path);
    const contract = contractWithPlan('takeover-1');
    await seed(location, [contract]);
    const env = kubectlEnv(kubectl);
    const owner = track(startReplica(location, 'owner', env));
    await owner.until('ready', (lines) => lines.includes('ready'), 60_000);
    owner.send(`start ${contract.id} 1`);
    await owner.until('the start', (lines) => lines.includes(`started ${contract.id}`), 30_000);
    owner.send(`rollback ${contract.id}`);
    await until(
      'step 3 to begin',
      () => kubectl.calls().some((c) => c.event === 'begin' && c.argv.includes(' scale ')),
      60_000,
    );
    const killedAt = Date.now();
    expect((await owner.kill()).signal).toBe('SIGKILL');

    const successor = track(startReplica(location, 'successor', env, ['--until-finished', contract.id]));
    expect((await runToEnd(successor, 90_000)).code, successor.describe()).toBe(0);
    const outcome = checkTakeover(
      kubectl.calls(),
      owner.process.pid as number,
      successor.process.pid as number,
      killedAt,
    );
    const store = await openPersistentStore(targetOf(location));
    try {
      await checkRecorded(store, contract.id, outcome);
    } finally {
      await store.close();
    }
    console.info(
      `[faults] takeover on pglite: successor's first effect ${outcome.firstEffectMs} ms after SIGKILL (start-up included), repeated steps ${outcome.repeated}`,
    );
  }, 180_000);
});

function kubectlEnv(kubectl: ReturnType<typeof fakeKubectl>): NodeJS.ProcessEnv {
  return {
    PATH: `${kubectl.bin}:${process.env.PATH ?? ''}`,
    FAKE_KUBECTL_LOG: kubectl.log,
    // Step 2 outlasts the lease (the owner must renew it), step 3 is where the owner dies.
    FAKE_KUBECTL_DELAYS: JSON.stringify({ status: Math.round(LEASE_MS * 1.5), scale: LEASE_MS * 3 }),
    ROLLOUT_TARGET: 'kubernetes',
    KUBE_NAMESPACE: 'default',
  };
}

interface TakeoverOutcome {
  /** From the SIGKILL to the survivor's first kubectl call (process start-up of the stand-in included). */
  firstEffectMs: number;
  repeated: number;
}

/** Every plan step begun once; the owner did 1–3, the survivor only 4; nobody else acted while the owner held it. */
function checkTakeover(calls: KubectlCall[], ownerPid: number, survivorPid: number, killedAt: number): TakeoverOutcome {
  const begins = calls.filter((c) => c.event === 'begin');
  const stepBegins = STEPS.map((step) => begins.filter((c) => `kubectl ${c.argv}` === step.command));
  const repeated = stepBegins.reduce((n, list) => n + Math.max(0, list.length - 1), 0);
  expect(stepBegins.map((list) => list.length)).toEqual([1, 1, 1, 1]);
  expect(stepBegins.map((list) => (list[0]?.replica === ownerPid ? 'owner' : 'survivor'))).toEqual([
    'owner',
    'owner',
    'owner',
    'survivor',
  ]);
  // From the owner's first rollback effect to its death (step 2 outlasting the lease included), nobody else acted.
  const rollbackFrom = begins.find((c) => c.replica === ownerPid && c.argv.includes('canary-weight=0'))?.at ?? 0;
  expect(begins.filter((c) => c.at >= rollbackFrom && c.at < killedAt && c.replica !== ownerPid)).toEqual([]);
  const firstBySurvivor = begins.find((c) => c.replica === survivorPid && c.at >= killedAt);
  expect(firstBySurvivor, 'the survivor never acted').toBeDefined();
  // Its first effect is traffic back to the baseline (idempotent), before step 4.
  expect(firstBySurvivor?.argv).toContain('canary-weight=0');
  return { firstEffectMs: (firstBySurvivor?.at ?? Number.NaN) - killedAt, repeated };
}

/** The store's record of the rollback agrees: step 3 interrupted, the others done once, each audited once. */
async function checkRecorded(store: PersistentStore, contractId: string, outcome: TakeoverOutcome): Promise<void> {
  const record = await store.rollouts.findByContract(contractId);
  expect(record?.state.phase).toBe('failed');
  const steps = await store.rollouts.rollbackSteps(record?.id ?? '');
  expect(steps.map((s) => [s.order, s.mark, s.report?.outcome])).toEqual([
    [1, 'done', 'succeeded'],
    [2, 'done', 'succeeded'],
    [3, 'done', 'interrupted'],
    [4, 'done', 'succeeded'],
  ]);
  const audited = (await store.recentAudit(contractId, 200)).filter((e) => e.type === 'rollout.rollback_step');
  expect(audited.map((e) => e.data?.step).sort()).toEqual([1, 2, 3, 4]);
  expect(outcome.repeated).toBe(0);
}
