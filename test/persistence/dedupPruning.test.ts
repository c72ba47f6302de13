/**
 * Issue 18, item 6: the de-duplication tables are bounded. An inbound event id counts as seen for a TTL (as the
 * in-memory twin, src/chat/inboundEvents.ts), and rows past it, and announced deliveries past their retention, are
 * deleted by the store's pruner, on both engines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { DATABASE_URL, uniqueSchema } from './backends.js';

const ENGINES = [
  { name: 'pglite', options: { dataDir: 'memory://' } },
  ...(DATABASE_URL
    ? [{ name: 'postgres', options: { databaseUrl: DATABASE_URL, schema: uniqueSchema('dedup') } }]
    : []),
];

describe.each(ENGINES)('bounded de-duplication on $name', ({ options }) => {
  let store: PersistentStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('remembers an event id for the TTL only, and prunes what is past it', async () => {
    store = await openPersistentStore({ ...options, eventTtlMs: 60_000, announcementRetentionMs: 24 * 3600_000 });
    const s = store;
    /** Claims an event and marks it done at once, as a handled message is; true when it was not done already. */
    const handle = async (source: string, id: string) => {
      if ((await s.claimEvent(source, id, 'replica-a', 30_000)) !== 'claimed') return false;
      await s.finishEvent(source, id, 'replica-a');
      return true;
    };
    expect(await handle('slack', 'Ev-fresh')).toBe(true);
    expect(await handle('slack', 'Ev-fresh')).toBe(false);
    expect(await handle('teams', 'Ev-fresh')).toBe(true); // per source

    // 2,000 ids seen two minutes ago (past the TTL), and 2 announcements two days old next to a fresh one.
    const old = new Date(Date.now() - 120_000);
    await store.driver.execute(
      `insert into inbound_events (source, event_id, seen_at) select 'slack', 'Ev-old-' || i, $1 from generate_series(1, 2000) i`,
      [old],
    );
    await store.driver.execute(
      `insert into announcements (key, contract_id, created_at) values ('a1', 'c1', $1), ('a2', 'c2', $1), ('a3', 'c3', now())`,
      [new Date(Date.now() - 2 * 24 * 3600_000)],
    );
    // Expired but not pruned yet: it counts as new again, and is remembered afresh.
    expect(await handle('slack', 'Ev-old-1')).toBe(true);
    expect(await handle('slack', 'Ev-old-1')).toBe(false);

    expect(await store.pruneDedup()).toEqual({ inboundEvents: 1999, announcements: 2 });
    const [events] = await store.driver.query<{ n: number }>('select count(*)::int as n from inbound_events');
    expect(events?.n).toBe(3); // Ev-fresh twice (two sources) and Ev-old-1
    expect(await store.announcements.lookup('a3')).toBe('c3');
    expect(await store.announcements.lookup('a1')).toBeUndefined();
    expect(await store.pruneDedup()).toEqual({ inboundEvents: 0, announcements: 0 });
  }, 60_000);

  it('prunes on its own timer', async () => {
    store = await openPersistentStore({ ...options, eventTtlMs: 60_000, pruneEveryMs: 50 });
    await store.driver.execute(
      `insert into inbound_events (source, event_id, seen_at) values ('slack', 'Ev-stale', $1)`,
      [new Date(Date.now() - 120_000)],
    );
    const s = store;
    await expect
      .poll(
        async () => (await s.driver.query('select 1 from inbound_events where event_id = $1', ['Ev-stale'])).length,
        {
          timeout: 10_000,
        },
      )
      .toBe(0);
  }, 60_000);
});
