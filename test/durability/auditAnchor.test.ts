/**
 * Issue 18, item 5: someone who can write the database deletes the newest audit entries and moves `audit_head` back
 * (or empties the log and resets the head to genesis): the chain is consistent in itself, and only a head kept
 * outside the database shows it. The store is opened the way the server opens it (openAppStore with the
 * configuration and a logger writing to a file), so the anchor comes from the server's real log; then the real CLI
 * (`node bin/chaos.js audit verify`) checks the tampered store with and without `--anchor-log`. A chain rewritten
 * without the HMAC key is caught by the keyed check.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppStore } from '../../src/app/storeAdapter.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { hashAuditEntry } from '../../src/persistence/auditLog.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';
import { dropSchema, ROOT, runToEnd, startNode, tempDir } from './support.js';

const KEY = 'k'.repeat(40);
const ENTRIES = 10;

interface Target {
  name: string;
  env: Record<string, string>;
  cliArgs: string[];
  open(): Promise<PersistentStore>;
  dispose(): Promise<void>;
}

const dir = tempDir('audit-anchor');

function targets(): Target[] {
  const list: Target[] = [
    {
      name: 'pglite',
      env: { CHAOS_DATA_DIR: dir.path },
      cliArgs: ['--data-dir', dir.path],
      open: () => openPersistentStore({ dataDir: join(dir.path, 'pglite'), auditKey: KEY }),
      dispose: async () => undefined,
    },
  ];
  if (DATABASE_URL) {
    const schema = uniqueSchema('anchor');
    const scoped = new URL(DATABASE_URL);
    scoped.searchParams.set('options', `-c search_path=${schema}`);
    list.push({
      name: 'postgres',
      env: { DATABASE_URL: scoped.toString() },
      cliArgs: ['--database-url', scoped.toString()],
      open: () => openPersistentStore({ databaseUrl: DATABASE_URL as string, schema, auditKey: KEY }),
      dispose: () => dropSchema(DATABASE_URL as string, schema),
    });
  }
  return list;
}

async function verify(target: Target, args: string[], key = KEY) {
  const { DATABASE_URL: _ignored, CHAOS_AUDIT_KEY: _key, ...env } = process.env;
  const cli = startNode(
    [join(ROOT, 'bin/chaos.js'), 'audit', 'verify', ...target.cliArgs, ...args],
    'chaos audit verify',
    [],
    { ...env, ...(key ? { CHAOS_AUDIT_KEY: key } : {}) },
  );
  const exit = await runToEnd(cli, 60_000);
  return { code: exit.code, stdout: cli.lines.join('\n'), stderr: cli.stderr };
}

afterAll(() => dir.remove());

describe.each(targets())('an audit head rewound on $name', (target) => {
  const logFile = join(dir.path, `${target.name}-server.log`);
  let store: PersistentStore;

  async function sql(statement: string, params: unknown[] = []): Promise<void> {
    store = await target.open();
    try {
      await store.driver.execute(statement, params);
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    // The schema exists before the server's own open (which takes the connection string only).
    if (target.name === 'postgres') await (await target.open()).close();
    const config = loadConfig({ ...target.env, CHAOS_AUDIT_KEY: KEY, CHAOS_MODE: 'development' });
    const logger = createLogger({ destination: { write: (line: string) => appendFileSync(logFile, line) } });
    const server = await openAppStore(config, logger);
    for (let i = 1; i <= ENTRIES; i++) {
      await server.audit({
        type: 'contract.approve',
        contractId: `ctr-${i}`,
        at: new Date(Date.UTC(2026, 10, 24, 10, i)),
      });
      await server.sealAudit();
    }
    await server.close();
  }, 120_000);
  afterAll(() => target.dispose());

  it('is caught with the anchor from the server log, and the CLI says which checks ran', async () => {
    expect(readFileSync(logFile, 'utf8')).toMatch(
      new RegExp(`audit chain sealed to entry ${ENTRIES}: anchor ${ENTRIES}:hmac-sha256:[0-9a-f]{64}`),
    );
    const intact = await verify(target, ['--anchor-log', logFile]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toContain(`audit chain intact: ${ENTRIES} entries`);
    expect(intact.stdout).toContain(
      `checked: keyed chain: HMAC-SHA256 under CHAOS_AUDIT_KEY checked on entries 1–${ENTRIES}`,
    );
    expect(intact.stdout).toContain(`checked: anchor: entry ${ENTRIES} with hash hmac-sha256:`);

    // Tail truncation plus head rewind: consistent in itself.
    await sql('delete from audit_log where seq > 8');
    await sql('update audit_head set seq = 8, hash = (select hash from audit_log where seq = 8) where id = 1');
    const withoutAnchor = await verify(target, []);
    expect(withoutAnchor.code).toBe(0);
    expect(withoutAnchor.stdout).toContain('checked: anchor: none given');
    const rewound = await verify(target, ['--anchor-log', logFile]);
    expect(rewound.code).toBe(3);
    expect(rewound.stderr).toContain(
      `audit chain BROKEN at entry 9: the log ends at entry 8 but the anchor kept outside the database names entry ${ENTRIES}: entries 9–${ENTRIES} were removed and the head moved back`,
    );
    expect(rewound.stderr).toContain(`checked: anchor: entry ${ENTRIES}`);

    // Everything deleted and the head reset to genesis.
    await sql('delete from audit_log');
    await sql(`update audit_head set seq = 0, hash = 'genesis' where id = 1`);
    const emptied = await verify(target, ['--anchor-log', logFile]);
    expect(emptied.code).toBe(3);
    expect(emptied.stderr).toContain('BROKEN at entry 1: the log ends at entry 0 but the anchor');
  }, 240_000);

  it('catches a chain recomputed without the key, and a key that is missing or wrong', async () => {
    // Re-seal a clean chain of 3 entries, then rewrite entry 2 and recompute every hash as plain SHA-256.
    await sql('delete from audit_log');
    await sql(`update audit_head set seq = 0, hash = 'genesis' where id = 1`);
    store = await target.open();
    for (let i = 1; i <= 3; i++) await store.audit({ type: 'contract.approve', contractId: `c-${i}`, at: new Date() });
    await store.sealAudit();
    const rows = await store.driver.query<{
      seq: string;
      at: string;
      actor: string;
      action: string;
      subject: string | null;
      payload: Record<string, unknown>;
    }>('select seq, at, actor, action, subject, payload from audit_log order by seq');
    let prevHash = 'genesis';
    for (const row of rows) {
      const seq = Number(row.seq);
      const payload = seq === 2 ? { ...row.payload, reason: 'forged' } : row.payload;
      const hash = hashAuditEntry({
        seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        subject: row.subject,
        payload,
        prevHash,
      });
      await store.driver.execute('update audit_log set payload = $2::jsonb, prev_hash = $3, hash = $4 where seq = $1', [
        seq,
        JSON.stringify(payload),
        prevHash,
        hash,
      ]);
      prevHash = hash;
    }
    await store.driver.execute('update audit_head set seq = 3, hash = $1 where id = 1', [prevHash]);
    await store.close();
    // Entry 1 re-keyed with the real key, the rest plain: a downgrade.
    store = await target.open();
    const [first] = await store.driver.query<{
      at: string;
      actor: string;
      action: string;
      subject: string | null;
      payload: Record<string, unknown>;
    }>('select at, actor, action, subject, payload from audit_log where seq = 1');
    const keyed = hashAuditEntry(
      { seq: 1, ...(first as NonNullable<typeof first>), prevHash: 'genesis' },
      Buffer.from(KEY),
    );
    await store.driver.execute('update audit_log set hash = $1 where seq = 1', [keyed]);
    await store.driver.execute('update audit_log set prev_hash = $1 where seq = 2', [keyed]);
    await store.close();
    const downgraded = await verify(target, []);
    expect(downgraded.code).toBe(3);
    expect(downgraded.stderr).toContain('BROKEN at entry 2: entry 2 has a plain hash after keyed entries');
    const wrongKey = await verify(target, [], 'w'.repeat(40));
    expect(wrongKey.stderr).toContain('BROKEN at entry 1: entry 1 does not match its HMAC');
    const noKey = await verify(target, [], '');
    expect(noKey.stderr).toContain('entry 1 carries an HMAC (keyed chain) and no CHAOS_AUDIT_KEY was given');
  }, 240_000);
});
