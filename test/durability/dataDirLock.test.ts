/**
 * PGlite serves one process, and nothing in PGlite itself stops a second one: two processes on one data directory
 * both open it, both write, and the directory is unreadable afterwards (RuntimeError: Aborted()). The store's
 * lock makes a second process — here the `chaos audit verify` CLI and a second store — fail with the holder's pid
 * and leave the data intact; once the holder is SIGKILLed, its stale lock is taken over.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditVerification } from '../../src/persistence/index.js';
import { ROOT, resultOf, runToEnd, startFixture, startNode, tempDir } from './support.js';

describe('one process per PGlite data directory', () => {
  const dir = tempDir('lock');
  afterEach(() => dir.remove());

  it('refuses a second process while the first is alive, and recovers after it is killed', async () => {
    const dataDir = join(dir.path, 'pglite');
    const holder = startFixture('decisionBurst.ts', ['--data-dir', dataDir, '--concurrency', '1'], 'holder');
    try {
      await holder.until('20 acks', (lines) => lines.filter((l) => l.startsWith('ack ')).length >= 20, 60_000);
      const { DATABASE_URL: _ignored, ...env } = process.env;
      const cli = startNode([join(ROOT, 'bin/chaos.js'), 'audit', 'verify', '--data-dir', dir.path], 'cli', [], env);
      const cliExit = await runToEnd(cli, 60_000);
      expect(cliExit.code).not.toBe(0);
      expect(cli.stderr).toContain(`is in use (held by process ${holder.process.pid} on host`);

      const second = startFixture('inspectDecisions.ts', ['--data-dir', dataDir], 'second store');
      expect((await runToEnd(second, 60_000)).code).not.toBe(0);
      expect(second.stderr).toContain(`held by process ${holder.process.pid} on host`);
    } finally {
      await holder.kill();
    }

    const acked = holder.linesStartingWith('ack ');
    const after = startFixture('inspectDecisions.ts', ['--data-dir', dataDir], 'after the kill');
    expect((await runToEnd(after, 90_000)).code, after.describe()).toBe(0);
    const result = resultOf<{ decisionKeys: string[]; verifyAfterCrash: AuditVerification }>(after);
    expect(acked.filter((key) => !result.decisionKeys.includes(key))).toEqual([]);
    expect(result.verifyAfterCrash.ok).toBe(true);
  }, 180_000);
});
