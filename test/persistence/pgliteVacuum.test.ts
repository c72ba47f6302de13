import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { PgliteVacuum } from '../../src/persistence/pgliteVacuum.js';

describe('PGlite vacuum (no autovacuum in single-user mode)', () => {
  let store: PersistentStore;
  beforeEach(async () => {
    store = await openPersistentStore({ dataDir: 'memory://' });
  });
  afterEach(async () => {
    await store.close();
  });

  const size = async () =>
    Number((await store.driver.query<{ n: string }>("select pg_total_relation_size('bot_state') as n"))[0]?.n);

  async function rewriteAll(rows: number) {
    for (let i = 0; i < rows; i++) {
      await store.driver.query(
        `insert into bot_state (key, etag, document, updated_at) values ($1, 'e', $2, now())
         on conflict (key) do update set document = excluded.document, updated_at = excluded.updated_at`,
        [`k${i}`, JSON.stringify({ blob: randomBytes(2_000).toString('base64') })],
      );
    }
  }

  it('keeps a table that is rewritten over and over from growing with dead rows', async () => {
    const vacuum = new PgliteVacuum(store.driver);
    await rewriteAll(60);
    await vacuum.vacuumNow();
    const start = await size();
    for (let round = 0; round < 6; round++) await rewriteAll(60);
    const grownWithout = (await size()) - start;

    await vacuum.vacuumNow();
    const base = await size();
    for (let round = 0; round < 6; round++) {
      await rewriteAll(60);
      await vacuum.vacuumNow();
    }
    const grownWith = (await size()) - base;
    expect(grownWithout).toBeGreaterThan(0);
    expect(grownWith).toBeLessThan(grownWithout / 3);
  });

  it('runs one vacuum at a time and stops cleanly', async () => {
    const vacuum = new PgliteVacuum(store.driver, { everyMs: 5 });
    vacuum.start();
    const [a, b] = [vacuum.vacuumNow(), vacuum.vacuumNow()];
    expect(a).toBe(b);
    await a;
    await vacuum.stop();
  });
});
