/**
 * Issue 18, items 1 and 2, on every rollout repository (in memory, PGlite, PostgreSQL when DATABASE_URL is set):
 * one active rollout per contract under concurrent starts, commands reach the active rollout, leases expire on the
 * store's clock and fence effects, and rollback steps are recorded (and audited) as they start and finish.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessDeployment } from '../../src/domain/contract.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseDeploymentJson } from '../../src/domain/request.js';
import { InMemoryRolloutRepository, type RolloutRepository } from '../../src/guardian/repository.js';
import { GuardianService } from '../../src/guardian/service.js';
import type { PersistentStore } from '../../src/persistence/index.js';
import { BACKENDS } from '../persistence/backends.js';

const seed = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');
const actor = { id: 'sre-1', displayName: 'Sam SRE', surface: 'teams' as const };
const T0 = new Date('2026-11-24T10:00:00Z');

function approved(id: string): Contract {
  const draft = assessDeployment({ ...parseDeploymentJson(seed), previousVersion: 'v2.9.0' }, DEFAULT_POLICY, {
    now: T0,
  });
  return { ...draft, id, state: 'approved' };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Subject {
  name: string;
  open(): Promise<{ repository: RolloutRepository; store?: PersistentStore; close(): Promise<void> }>;
}

const SUBJECTS: Subject[] = [
  {
    name: 'memory',
    open: async () => ({ repository: new InMemoryRolloutRepository(), close: async () => {} }),
  },
  ...BACKENDS.map((backend) => ({
    name: backend.name,
    open: async () => {
      const store = await backend.open();
      return { repository: store.rollouts, store, close: () => store.close() };
    },
  })),
];

describe.each(SUBJECTS)('rollout ownership on $name', (subject) => {
  let repository: RolloutRepository;
  let store: PersistentStore | undefined;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ repository, store, close } = await subject.open());
  });
  afterAll(() => close());

  it('creates one rollout from 20 concurrent starts, and every start answers that one', async () => {
    let started = 0;
    // Each start gets its own clock reading, so no two candidates share an id: only the contract can collide.
    let tick = 0;
    const guardian = new GuardianService({
      repository,
      clock: () => new Date(T0.getTime() + tick++),
      onStarted: async () => {
        started++;
      },
    });
    const contract = approved('one-active');
    const results = await Promise.all(Array.from({ length: 20 }, () => guardian.start(contract, actor)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
    expect(started).toBe(1);
    if (store) {
      const rows = await store.driver.query('select id from rollouts where contract_id = $1', [contract.id]);
      expect(rows).toHaveLength(1);
    }
    // A start that reads the contract after it moved on to rolling_out still gets the same rollout.
    const late = await guardian.start({ ...contract, state: 'rolling_out' }, actor);
    expect(late).toEqual({ record: results[0]?.record, created: false });
  });

  it('lets the store itself refuse a second active rollout of a contract', async () => {
    const guardian = new GuardianService({ repository, clock: () => T0 });
    const { record } = await guardian.start(approved('store-refuses'), actor);
    await expect(
      repository.create({ ...record, id: `${record.id}-second`, createdAt: new Date(T0.getTime() + 1).toISOString() }),
    ).rejects.toThrow();
  });

  it('sends commands to the active rollout, not to the newest finished one', async () => {
    let now = T0;
    const guardian = new GuardianService({ repository, clock: () => now });
    const contract = approved('commands-active');
    const first = await guardian.startRollout(contract, actor);
    // The first rollout finishes (rolled back); a second one starts and runs.
    const [claim] = (await repository.claimDue('w', now, 5_000, 50)).filter((c) => c.record.id === first.id);
    expect(claim).toBeDefined();
    const finished = {
      ...first,
      state: { phase: 'rolled_back' as const, at: now.toISOString(), reason: 'x', by: 'y' },
    };
    expect(await repository.save(finished, claim?.leaseToken ?? '', 1)).toBe(true);
    await repository.release(first.id, claim?.leaseToken ?? '');
    // This replica's clock runs a minute behind: the new rollout's createdAt is older than the finished one's.
    now = new Date(T0.getTime() - 60_000);
    const second = await guardian.start(contract, actor);
    expect(second.created).toBe(true);
    expect((await repository.findByContract(contract.id))?.id).toBe(second.record.id);
    await guardian.command({ kind: 'rollback', contract, actor, thread: { surface: 'teams', key: 't' } });
    expect((await repository.get(second.record.id))?.pendingCommands.map((c) => c.type)).toEqual([
      'start',
      'rollback_now',
    ]);
    expect((await repository.get(first.id))?.pendingCommands).toEqual([]);
  });

  it('fences on the lease: renewals hold it, an expired one (store clock) refuses effects and is claimed anew', async () => {
    const guardian = new GuardianService({ repository, clock: () => T0 });
    const { record } = await guardian.start(approved('fence'), actor);
    // Long enough that a renewal every quarter lease holds it on a loaded machine, short enough to watch it expire.
    const leaseMs = 1200;
    const [mine] = (await repository.claimDue('a', T0, leaseMs, 50)).filter((c) => c.record.id === record.id);
    expect(mine).toBeDefined();
    const token = mine?.leaseToken ?? '';
    // Renewing keeps the lease past its first expiry; nobody else can claim it meanwhile.
    for (let i = 0; i < 4; i++) {
      await sleep(leaseMs / 4);
      expect(await repository.renewLease(record.id, token, leaseMs)).toBe(true);
    }
    expect((await repository.claimDue('b', T0, leaseMs, 50)).map((c) => c.record.id)).not.toContain(record.id);
    await sleep(leaseMs + 50);
    expect(await repository.renewLease(record.id, token, leaseMs)).toBe(false);
    expect(await repository.markStepStarted(record.id, token, leaseMs, { order: 1, description: 'x' })).toBe(false);
    const [theirs] = (await repository.claimDue('b', T0, leaseMs, 50)).filter((c) => c.record.id === record.id);
    expect(theirs).toBeDefined();
    expect(await repository.renewLease(record.id, token, leaseMs)).toBe(false);
    expect(await repository.renewLease(record.id, theirs?.leaseToken ?? '', leaseMs)).toBe(true);
  });

  it('records rollback steps as started and done, with one audit entry per executed step', async () => {
    const guardian = new GuardianService({ repository, clock: () => T0 });
    const { record } = await guardian.start(approved('journal'), actor);
    const [claim] = (await repository.claimDue('a', T0, 5_000, 50)).filter((c) => c.record.id === record.id);
    const token = claim?.leaseToken ?? '';
    expect(await repository.markStepStarted(record.id, token, 5_000, { order: 1, description: 'undo' })).toBe(true);
    expect(await repository.markStepStarted(record.id, token, 5_000, { order: 2, description: 'flush' })).toBe(true);
    const report = { order: 1, description: 'undo', command: 'true', outcome: 'succeeded' as const, durationMs: 12 };
    const audit = {
      kind: 'rollback_step' as const,
      contractId: record.contractId,
      revision: record.revision,
      workerId: 'a',
      at: T0,
      data: { step: 1, outcome: 'succeeded' },
    };
    expect(await repository.markStepDone(record.id, token, report, audit)).toBe(true);
    expect(await repository.rollbackSteps(record.id)).toEqual([
      { order: 1, mark: 'done', owner: 'a', report },
      { order: 2, mark: 'started', owner: 'a' },
    ]);
    if (store) {
      const [entry] = await store.recentAudit(record.contractId, 5);
      expect(entry).toMatchObject({ type: 'rollout.rollback_step', data: { rollout: record.id, step: 1 } });
    } else {
      expect((repository as InMemoryRolloutRepository).audited).toContainEqual(audit);
    }
  });
});
