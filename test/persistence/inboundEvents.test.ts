/**
 * The inbound-event ledger (src/chat/inboundEvents.ts) on every engine: the in-memory one, PGlite, and PostgreSQL
 * when DATABASE_URL is set. A claim is taken once; a done event is a duplicate; a released claim or one whose lease
 * ran out (its claimant crashed) is taken again; concurrent claims of one event leave exactly one claimant. A holder
 * renews its claim while the work runs, so work longer than the lease keeps it; once renewals stop, the claim is taken
 * over after the lease, and the old holder can neither renew it nor mark it done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClaimLogger,
  type InboundEventStore,
  InboundEvents,
  MemoryInboundEventStore,
} from '../../src/chat/inboundEvents.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { DATABASE_URL, uniqueSchema } from './backends.js';

interface Engine {
  name: string;
  /** Two handles on one ledger, as two replicas have (the in-memory one is one process's: the same object). */
  open(): Promise<{ a: InboundEventStore; b: InboundEventStore; close(): Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: 'memory',
    open: async () => {
      const store = new MemoryInboundEventStore();
      return { a: store, b: store, close: async () => undefined };
    },
  },
  {
    name: 'pglite',
    open: async () => {
      const store = await openPersistentStore({ dataDir: 'memory://' });
      return { a: store, b: store, close: () => store.close() };
    },
  },
  ...(DATABASE_URL
    ? [
        {
          name: 'postgres (two pools on one schema)',
          open: async () => {
            const schema = uniqueSchema('inbound');
            const a: PersistentStore = await openPersistentStore({ databaseUrl: DATABASE_URL, schema });
            const b: PersistentStore = await openPersistentStore({ databaseUrl: DATABASE_URL, schema });
            return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
          },
        },
      ]
    : []),
];

describe.each(ENGINES)('inbound events on $name', (engine) => {
  let opened: Awaited<ReturnType<Engine['open']>> | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  it('claims once, ignores the event while claimed and once done, per source', async () => {
    opened = await engine.open();
    const { a, b } = opened;
    expect(await a.claimEvent('slack', 'T1:Ev1', 'replica-a', 30_000)).toBe('claimed');
    expect(await b.claimEvent('slack', 'T1:Ev1', 'replica-b', 30_000)).toBe('busy');
    expect(await b.claimEvent('slack', 'T2:Ev1', 'replica-b', 30_000)).toBe('claimed'); // another workspace
    expect(await b.claimEvent('teams', 'T1:Ev1', 'replica-b', 30_000)).toBe('claimed'); // another surface
    await b.releaseEvent('slack', 'T1:Ev1', 'replica-b'); // not b's claim: kept
    expect(await b.claimEvent('slack', 'T1:Ev1', 'replica-b', 30_000)).toBe('busy');
    await a.finishEvent('slack', 'T1:Ev1', 'replica-a');
    expect(await b.claimEvent('slack', 'T1:Ev1', 'replica-b', 30_000)).toBe('done');
    expect(await a.claimEvent('slack', 'T1:Ev1', 'replica-a', 30_000)).toBe('done');
  });

  it('a released claim, or one whose lease ran out (a crashed claimant), is claimed again', async () => {
    opened = await engine.open();
    const { a, b } = opened;
    expect(await a.claimEvent('teams', 'conv:1', 'replica-a', 30_000)).toBe('claimed');
    await a.releaseEvent('teams', 'conv:1', 'replica-a');
    expect(await b.claimEvent('teams', 'conv:1', 'replica-b', 100)).toBe('claimed');
    expect(await a.claimEvent('teams', 'conv:1', 'replica-a', 30_000)).toBe('busy');
    await sleep(250);
    expect(await a.claimEvent('teams', 'conv:1', 'replica-a', 30_000)).toBe('claimed');
    expect(await b.claimEvent('teams', 'conv:1', 'replica-b', 30_000)).toBe('busy');
  });

  it('of 20 concurrent claims of one event from two handles, exactly one wins', async () => {
    opened = await engine.open();
    const { a, b } = opened;
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimEvent('slack', 'T1:EvRace', `holder-${i}`, 30_000)),
    );
    expect(claims.filter((c) => c === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c === 'busy')).toHaveLength(19);
  });

  it('InboundEvents.once: runs the work once, marks it done after, and releases it when the work throws', async () => {
    opened = await engine.open();
    const first = new InboundEvents(opened.a);
    const second = new InboundEvents(opened.b);
    let runs = 0;
    const run = async () => {
      runs += 1;
      return undefined;
    };
    await expect(
      first.once('slack', 'T1:EvFail', async () => {
        runs += 1;
        throw new Error('post failed');
      }),
    ).rejects.toThrow('post failed');
    // The failure left the event open: the redelivery does the work.
    expect(await second.once('slack', 'T1:EvFail', run)).toBe('done');
    expect(await first.once('slack', 'T1:EvFail', run)).toBe('duplicate');
    expect(runs).toBe(2);
  });

  it('work that goes on after the turn holds the claim until it settles, then the event is done', async () => {
    opened = await engine.open();
    const events = new InboundEvents(opened.a);
    let finishTurn: () => void = () => undefined;
    const continuing = new Promise<void>((resolve) => {
      finishTurn = resolve;
    });
    expect(await events.once('teams', 'conv:negotiate', async () => ({ continuing }))).toBe('continuing');
    expect(await opened.b.claimEvent('teams', 'conv:negotiate', 'replica-b', 30_000)).toBe('busy');
    finishTurn();
    await expect.poll(() => opened?.b.claimEvent('teams', 'conv:negotiate', 'replica-b', 30_000)).toBe('done');

    // A failed turn has told its thread; it is not redone (its revision may be stored already).
    const failing = async () => ({ continuing: Promise.reject(new Error('model timed out')) });
    expect(await events.once('teams', 'conv:failed', failing)).toBe('continuing');
    await expect.poll(() => opened?.b.claimEvent('teams', 'conv:failed', 'replica-b', 30_000)).toBe('done');
  });

  it('only the holder renews, finishes or releases its claim; a claim taken over is out of its old holder’s hands', async () => {
    opened = await engine.open();
    const { a, b } = opened;
    expect(await a.claimEvent('teams', 'conv:own', 'replica-a', 30_000)).toBe('claimed');
    expect(await b.renewEvent('teams', 'conv:own', 'replica-b', 30_000)).toBe(false);
    expect(await b.finishEvent('teams', 'conv:own', 'replica-b')).toBe(false);
    expect(await b.releaseEvent('teams', 'conv:own', 'replica-b')).toBe(false);
    expect(await b.claimEvent('teams', 'conv:own', 'replica-b', 30_000)).toBe('busy');
    expect(await a.renewEvent('teams', 'conv:own', 'replica-a', 30_000)).toBe(true);
    expect(await b.renewEvent('teams', 'conv:absent', 'replica-b', 30_000)).toBe(false);

    // a's lease runs out and b takes the event over: a's renewal and its late mark-done are refused.
    expect(await a.claimEvent('teams', 'conv:lost', 'replica-a', 100)).toBe('claimed');
    await sleep(250);
    expect(await b.claimEvent('teams', 'conv:lost', 'replica-b', 30_000)).toBe('claimed');
    expect(await a.renewEvent('teams', 'conv:lost', 'replica-a', 30_000)).toBe(false);
    expect(await a.finishEvent('teams', 'conv:lost', 'replica-a')).toBe(false);
    expect(await a.claimEvent('teams', 'conv:lost', 'replica-c', 30_000)).toBe('busy');
    expect(await b.finishEvent('teams', 'conv:lost', 'replica-b')).toBe(true);
    expect(await a.claimEvent('teams', 'conv:lost', 'replica-c', 30_000)).toBe('done');
  });

  it('work running 3 leases keeps its claim; once renewals stop, the claim is taken after the lease', async () => {
    opened = await engine.open();
    const { a, b } = opened;
    const leaseMs = 600;
    const replica = cuttable(a);
    const warnings: string[] = [];
    const logger: ClaimLogger = { warn: (_fields, message) => void warnings.push(message) };
    const events = new InboundEvents(replica.store, {
      holder: 'replica-a',
      leaseMs,
      renewEveryMs: leaseMs / 4,
      logger,
    });
    let finishTurn: () => void = () => undefined;
    const continuing = new Promise<void>((resolve) => {
      finishTurn = resolve;
    });
    expect(await events.once('teams', 'conv:slow', async () => ({ continuing }))).toBe('continuing');

    const heldUntil = Date.now() + 3 * leaseMs;
    const seen: string[] = [];
    while (Date.now() < heldUntil) {
      seen.push(await b.claimEvent('teams', 'conv:slow', 'replica-b', leaseMs));
      await sleep(100);
    }
    expect(seen.length).toBeGreaterThan(3);
    expect(new Set(seen)).toEqual(new Set(['busy']));
    expect(replica.renewals).toBeGreaterThanOrEqual(3);

    // Replica a loses the database: its renewals fail, and the claim is taken over once the lease runs out.
    replica.cut = true;
    expect(await b.claimEvent('teams', 'conv:slow', 'replica-b', 30_000)).toBe('busy');
    await expect
      .poll(() => b.claimEvent('teams', 'conv:slow', 'replica-b', 30_000), { timeout: 15_000, interval: 50 })
      .toBe('claimed');

    // a reaches the database again: its renewal is refused, it stops renewing and says so.
    replica.cut = false;
    await expect
      .poll(() => warnings.some((w) => w.includes('claim lost while its work ran')), { timeout: 10_000 })
      .toBe(true);
    const renewalsWhenLost = replica.renewals;
    await sleep(leaseMs);
    expect(replica.renewals).toBe(renewalsWhenLost);

    // a's turn ends: its mark-done is refused, so the event stays b's until b finishes it.
    finishTurn();
    await expect.poll(() => warnings.some((w) => w.includes('not marked done')), { timeout: 10_000 }).toBe(true);
    expect(await a.claimEvent('teams', 'conv:slow', 'replica-c', 30_000)).toBe('busy');
    expect(await b.finishEvent('teams', 'conv:slow', 'replica-b')).toBe(true);
    expect(await a.claimEvent('teams', 'conv:slow', 'replica-c', 30_000)).toBe('done');
  });

  it('renewals stop when the work settles, done or failed', async () => {
    opened = await engine.open();
    const replica = cuttable(opened.a);
    const leaseMs = 300;
    const warnings: string[] = [];
    const logger: ClaimLogger = { warn: (_fields, message) => void warnings.push(message) };
    const events = new InboundEvents(replica.store, { leaseMs, renewEveryMs: leaseMs / 4, logger });
    const slowly = async () => {
      await sleep(leaseMs);
      return undefined;
    };
    expect(await events.once('slack', 'T1:EvSlow', slowly)).toBe('done');
    const failing = async () => {
      await sleep(leaseMs);
      throw new Error('post failed');
    };
    await expect(events.once('slack', 'T1:EvFailing', failing)).rejects.toThrow('post failed');
    expect(replica.renewals).toBeGreaterThan(0);
    const renewals = replica.renewals;
    await sleep(leaseMs);
    expect(replica.renewals).toBe(renewals);
    expect(warnings).toEqual([]);
  });
});

/** A replica's handle on the ledger whose renewals fail while `cut` (its database connection is lost). */
function cuttable(store: InboundEventStore) {
  const replica = {
    cut: false,
    renewals: 0,
    store: {
      claimEvent: (...args) => store.claimEvent(...args),
      finishEvent: (...args) => store.finishEvent(...args),
      releaseEvent: (...args) => store.releaseEvent(...args),
      renewEvent: async (...args) => {
        replica.renewals += 1;
        if (replica.cut) throw new Error('connection lost');
        return store.renewEvent(...args);
      },
    } satisfies InboundEventStore as InboundEventStore,
  };
  return replica;
}
