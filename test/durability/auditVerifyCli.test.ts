/**
 * Issue 3: "A hand-edited or deleted audit row makes `chaos audit verify` exit non-zero and name it." The real CLI
 * (`node bin/chaos.js`) runs as a child process against a store whose audit_log rows are changed with plain SQL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';
import { dropSchema, type Exit, ROOT, runToEnd, startNode, tempDir } from './support.js';

const ENTRIES = 10;

interface Target {
  name: string;
  /** CLI arguments after `audit verify`. */
  cliArgs: string[];
  open(): Promise<PersistentStore>;
  dispose(): Promise<void>;
}

function pgliteTarget(): Target {
  const dir = tempDir('audit');
  return {
    name: 'pglite',
    cliArgs: ['--data-dir', dir.path],
    // The CLI keeps the embedded store under <data dir>/pglite.
    open: () => openPersistentStore({ dataDir: join(dir.path, 'pglite') }),
    dispose: async () => dir.remove(),
  };
}

function postgresTarget(url: string): Target {
  const schema = uniqueSchema('audit');
  // The CLI takes a connection string only; the schema travels in it as a search_path option.
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    name: 'postgres',
    cliArgs: ['--database-url', scoped.toString()],
    open: () => openPersistentStore({ databaseUrl: url, schema }),
    dispose: () => dropSchema(url, schema),
  };
}

const TARGETS: (() => Target)[] = [
  pgliteTarget,
  ...(DATABASE_URL ? [() => postgresTarget(DATABASE_URL as string)] : []),
];

async function verify(target: Target): Promise<Exit & { stdout: string; stderr: string }> {
  // DATABASE_URL in the environment would take precedence over --data-dir, so the CLI never sees this test's one.
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const cli = startNode(
    [join(ROOT, 'bin/chaos.js'), 'audit', 'verify', ...target.cliArgs],
    'chaos audit verify',
    [],
    env,
  );
  const exit = await runToEnd(cli, 60_000);
  return { ...exit, stdout: cli.lines.join('\n'), stderr: cli.stderr };
}

describe.each(TARGETS.map((make, i) => ({ name: i === 0 ? 'pglite' : 'postgres', make })))(
  'chaos audit verify on $name',
  ({ make }) => {
    const target = make();
    let store: PersistentStore;

    /** Runs SQL on the store with the CLI closed (PGlite is one process's database at a time). */
    async function sql(statement: string, params: unknown[] = []): Promise<void> {
      store = await target.open();
      try {
        await store.driver.execute(statement, params);
      } finally {
        await store.close();
      }
    }

    beforeAll(async () => {
      store = await target.open();
      for (let i = 1; i <= ENTRIES; i++) {
        await store.audit({
          type: 'contract.approve',
          contractId: `ctr-${i}`,
          revision: 1,
          actor: { id: `sre-${i}`, displayName: `SRE ${i}`, surface: 'teams' },
          at: new Date(Date.UTC(2026, 10, 24, 10, i)),
        });
      }
      await store.close();
    });

    afterAll(async () => {
      await target.dispose();
    });

    it('exits 0 on an intact chain', async () => {
      const result = await verify(target);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`audit chain intact: ${ENTRIES} entries`);
    });

    it('exits 3 and names an edited entry, and 0 again once the edit is undone', async () => {
      await sql(`update audit_log set payload = jsonb_set(payload, '{actorName}', '"Mallory"') where seq = 4`);
      const edited = await verify(target);
      expect(edited.code).toBe(3);
      expect(edited.stderr).toMatch(/audit chain BROKEN at entry 4: entry 4 was changed after it was written/);

      await sql(`update audit_log set payload = jsonb_set(payload, '{actorName}', '"SRE 4"') where seq = 4`);
      expect((await verify(target)).code).toBe(0);

      await sql(`update audit_log set at = '2026-11-24T09:00:00.000Z' where seq = 6`);
      const backdated = await verify(target);
      expect(backdated.code).toBe(3);
      expect(backdated.stderr).toContain('BROKEN at entry 6');
      await sql(`update audit_log set at = '2026-11-24T10:06:00.000Z' where seq = 6`);
    });

    it('exits 3 and names a deleted entry in the middle and at the end', async () => {
      expect((await verify(target)).code).toBe(0);
      await sql('create table audit_saved as select * from audit_log');

      await sql('delete from audit_log where seq = 7');
      const middle = await verify(target);
      expect(middle.code).toBe(3);
      expect(middle.stderr).toMatch(/BROKEN at entry 7: entry 7 is missing/);

      await sql('insert into audit_log select * from audit_saved where seq = 7');
      expect((await verify(target)).code).toBe(0);

      await sql(`delete from audit_log where seq = ${ENTRIES}`);
      const last = await verify(target);
      expect(last.code).toBe(3);
      expect(last.stderr).toContain(`BROKEN at entry ${ENTRIES}`);
    });
  },
  120_000,
);
