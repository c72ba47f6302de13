/**
 * Migrations on every back-end: a store created before migration 4 keeps its contract documents and rollout records
 * when they move from jsonb to uncompressed json, and applying again does nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDriver, type SqlDriver } from '../../src/persistence/driver.js';
import { MIGRATIONS, migrate } from '../../src/persistence/migrations.js';
import { DATABASE_URL, uniqueSchema } from './backends.js';

const ENGINES: { name: string; open(): Promise<SqlDriver> }[] = [
  { name: 'pglite', open: () => openDriver({ dataDir: 'memory://' }) },
  ...(DATABASE_URL
    ? [{ name: 'postgres', open: () => openDriver({ databaseUrl: DATABASE_URL, schema: uniqueSchema('mig') }) }]
    : []),
];

describe.each(ENGINES)('migrations on $name', (engine) => {
  let db: SqlDriver | undefined;
  afterEach(async () => {
    await db?.close();
  });

  it('moves documents and records written before migration 4 to uncompressed json, unchanged', async () => {
    db = await engine.open();
    expect(await migrate(db, MIGRATIONS.slice(0, 3))).toEqual([1, 2, 3]);
    const document = { id: 'c-1', revision: 1, terms: { approvalsRequired: 2, notes: 'ünïcode ✓' } };
    const record = { id: 'r-1', state: { phase: 'canary' }, intervals: [{ verdict: 'pass', p99: 120.5 }] };
    await db.query(
      `insert into contracts (id, service_name, deployment_id, latest_revision, state, created_at, updated_at)
       values ('c-1', 'checkout', 'd-1', 1, 'draft', now(), now())`,
    );
    await db.query(
      `insert into contract_revisions (contract_id, revision, content_hash, state, document, created_by, created_at)
       values ('c-1', 1, 'h', 'draft', $1::jsonb, 'u', now())`,
      [JSON.stringify(document)],
    );
    await db.query(
      `insert into rollouts (id, contract_id, phase, record, next_due_at, created_at, updated_at)
       values ('r-1', 'c-1', 'canary', $1::jsonb, now(), now(), now())`,
      [JSON.stringify(record)],
    );

    expect(await migrate(db, MIGRATIONS.slice(0, 4))).toEqual([4]);

    const columns = await db.query<{ table_name: string; column_name: string; type: string; storage: string }>(
      `select c.relname as table_name, a.attname as column_name, format_type(a.atttypid, a.atttypmod) as type,
              a.attstorage as storage
       from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.oid in (to_regclass('contract_revisions'), to_regclass('rollouts')) and a.attname in ('document', 'record')
       order by c.relname`,
    );
    expect(columns).toEqual([
      { table_name: 'contract_revisions', column_name: 'document', type: 'json', storage: 'e' },
      { table_name: 'rollouts', column_name: 'record', type: 'json', storage: 'e' },
    ]);
    expect(await db.query('select document from contract_revisions')).toEqual([{ document }]);
    expect(await db.query('select record from rollouts')).toEqual([{ record }]);
    // The one query that looks inside a document still works on json.
    expect(
      await db.query(`select contract_id from contract_revisions where document -> 'terms' ->> 'notes' = $1`, [
        'ünïcode ✓',
      ]),
    ).toEqual([{ contract_id: 'c-1' }]);
    expect(await migrate(db, MIGRATIONS.slice(0, 4))).toEqual([]);
  });
});
