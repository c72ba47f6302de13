/**
 * The SQL driver on both engines: statement counters, PostgreSQL error fields, and transactions that see none of
 * the statements other callers send while they are open (PGlite has one connection: they wait for the transaction).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDriver, type SqlDriver } from '../../src/persistence/driver.js';
import { DATABASE_URL, uniqueSchema } from './backends.js';

const ENGINES: { name: string; open(): Promise<SqlDriver> }[] = [
  { name: 'pglite', open: () => openDriver({ dataDir: 'memory://' }) },
  ...(DATABASE_URL
    ? [{ name: 'postgres', open: () => openDriver({ databaseUrl: DATABASE_URL, schema: uniqueSchema('drv') }) }]
    : []),
];

describe.each(ENGINES)('SQL driver on $name', (engine) => {
  let db: SqlDriver;

  beforeAll(async () => {
    db = await engine.open();
    await db.exec('create table items (id integer primary key, note text)');
  });

  afterAll(async () => {
    await db?.close();
  });

  it('counts statements (inside transactions too) and transactions', async () => {
    const before = db.statistics();
    await db.query('insert into items (id, note) values ($1, $2)', [1, 'one']);
    await db.transaction(async (tx) => {
      await tx.execute('insert into items (id, note) values ($1, $2)', [2, 'two']);
      await tx.query('select note from items where id = $1', [2]);
    });
    expect(db.statistics()).toEqual({
      statements: before.statements + 3,
      transactions: before.transactions + 1,
    });
  });

  it('prepares a statement once per connection and runs it again by name', async () => {
    const sql = 'select note from items where id = $1';
    const prepared = await db.transaction(async (tx) => {
      expect(await tx.query(sql, [1])).toEqual([{ note: 'one' }]);
      expect(await tx.query(sql, [2])).toEqual([{ note: 'two' }]);
      return tx.query<{ name: string }>('select name from pg_prepared_statements where statement = $1', [sql]);
    });
    expect(prepared).toEqual([{ name: expect.stringMatching(/^chaos_[0-9a-f]{16}$/) }]);
  });

  it('prepares a statement again when a migration changed its result since', async () => {
    const sql = 'select note from items where id = $1';
    expect(await db.query(sql, [1])).toEqual([{ note: 'one' }]);
    await db.exec('alter table items alter column note type varchar(40)');
    expect(await db.query(sql, [1])).toEqual([{ note: 'one' }]);
    await db.exec('alter table items alter column note type text');
    await expect(db.transaction((tx) => tx.query(sql, [1]))).rejects.toThrow('cached plan must not change result type');
    expect(await db.transaction((tx) => tx.query(sql, [1]))).toEqual([{ note: 'one' }]);
  });

  it('keeps PostgreSQL error fields', async () => {
    const failure = await db.query('insert into items (id, note) values (1, $1)', ['again']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ code: '23505', constraint: 'items_pkey' });
  });

  // One connection on PGlite: a statement sent while a transaction is open waits for it (on PostgreSQL it runs on
  // another connection and commits at once).
  it.runIf(engine.name === 'pglite')('holds other statements back while a transaction is open', async () => {
    let outsideDone = false;
    const outside: Promise<unknown>[] = [];
    const seen = await db.transaction(async (tx) => {
      await tx.query('insert into items (id, note) values (10, $1)', ['inside']);
      outside.push(
        db.query('insert into items (id, note) values (11, $1)', ['outside']).then(() => {
          outsideDone = true;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 30));
      return tx.query<{ id: number }>('select id from items where id in (10, 11) order by id');
    });
    await Promise.all(outside);
    expect(seen.map((r) => r.id)).toEqual([10]);
    expect(outsideDone).toBe(true);
  });

  it('rolls a transaction back when its function throws', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into items (id, note) values (12, $1)', ['rolled back']);
        throw new Error('give up');
      }),
    ).rejects.toThrow('give up');
    expect(await db.query('select id from items where id = 12')).toEqual([]);
  });
});

describe('PGlite data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'chaos-driver-'));

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('initialises an empty directory, then serves from it and from a reopen', async () => {
    const dataDir = join(root, 'pglite');
    const first = await openDriver({ dataDir });
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    await first.exec('create table kept (id integer)');
    await first.query('insert into kept values (7)');
    await first.close();

    const again = await openDriver({ dataDir });
    try {
      expect(await again.query('select id from kept')).toEqual([{ id: 7 }]);
    } finally {
      await again.close();
    }
  });
});
