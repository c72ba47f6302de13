/**
 * Issue 18, item 8: the server (src/main.ts, as `npm start` runs it) on a data directory it cannot use stops with a
 * non-zero exit and a message naming the directory, the problem and the fix. Read-only and full file systems are real:
 * a tmpfs mounted read-only, or 1 MiB small, inside a private mount namespace (`unshare --mount`, root only; those
 * two cases are skipped elsewhere).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Child, ROOT, runToEnd, tempDir } from '../durability/support.js';

const MOUNTS = spawnSync('unshare', ['--mount', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
const MAIN = join(ROOT, 'src/main.ts');

/** The server with CHAOS_DATA_DIR=dataDir; `mount` is a shell snippet run first in a private mount namespace. */
function startServer(dataDir: string, mount?: string): Child {
  const { DATABASE_URL: _unused, ...env } = process.env;
  const node = [process.execPath, '--import', 'tsx', MAIN];
  const [command, ...args] = mount
    ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-ec', `${mount}\nexec "$@"`, 'sh', ...node]
    : node;
  const child = spawn(command as string, args, {
    cwd: ROOT,
    env: { ...env, NODE_NO_WARNINGS: '1', CHAOS_MODE: 'development', CHAOS_DATA_DIR: dataDir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Child(`server on ${dataDir}`, child);
}

async function startupFailure(child: Child): Promise<string> {
  const exit = await runToEnd(child, 120_000);
  expect(exit.code, child.describe()).not.toBe(0);
  expect(exit.code).not.toBeNull();
  return child.stderr;
}

describe('start-up errors of the data directory', () => {
  const dir = tempDir('faults-startup');
  afterAll(() => dir.remove());

  it('names the directory, the problem and the fix, and exits non-zero', async () => {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'not a directory');
    const pgliteFile = join(dir.path, 'pglite-is-a-file');
    mkdirSync(pgliteFile);
    writeFileSync(join(pgliteFile, 'pglite'), 'not a directory');
    const locked = join(dir.path, 'locked');
    mkdirSync(join(locked, 'pglite'), { recursive: true });
    const lockPath = join(locked, 'pglite.lock');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const { tryLock } = require(${JSON.stringify(createRequire(import.meta.url).resolve('fs-native-extensions'))});
         const fd = fs.openSync(${JSON.stringify(lockPath)}, 'a+');
         if (!tryLock(fd)) process.exit(9);
         fs.writeFileSync(${JSON.stringify(lockPath)}, '7 other-host 2026-01-01T00:00:00.000Z\\n');
         process.stdout.write('locked\\n');
         setTimeout(() => {}, 120000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolveLocked) => holder.stdout.once('data', resolveLocked));

    const readOnly = join(dir.path, 'read-only');
    const readOnlyPglite = join(dir.path, 'read-only-pglite');
    const full = join(dir.path, 'full');
    for (const path of [readOnly, readOnlyPglite, full]) mkdirSync(path);
    try {
      const cases = [
        {
          name: 'not a directory',
          child: startServer(file),
          expect: /a-file\/pglite: it, or one of its parents, is a file, not a directory\. Fix: set CHAOS_DATA_DIR/,
        },
        {
          name: 'pglite is a file',
          child: startServer(pgliteFile),
          expect: /pglite-is-a-file\/pglite: it is a file, not a directory\. Fix: set CHAOS_DATA_DIR/,
        },
        {
          name: 'locked',
          child: startServer(locked),
          expect:
            /locked\/pglite is in use \(held by process 7 on host other-host since 2026-01-01T00:00:00.000Z.*stop the other process or container, or use DATABASE_URL/,
        },
        ...(MOUNTS
          ? [
              {
                name: 'read-only, empty',
                child: startServer(readOnly, `mount -t tmpfs -o ro,size=1m tmpfs ${readOnly}`),
                expect:
                  /read-only\/pglite: the file system is read-only \(creating it in .*read-only\)\. Fix: set CHAOS_DATA_DIR to a writable directory/,
              },
              {
                name: 'read-only pglite subdirectory',
                child: startServer(
                  readOnlyPglite,
                  `mount -t tmpfs -o size=1m tmpfs ${readOnlyPglite}\nmkdir ${readOnlyPglite}/pglite\nmount -o remount,ro ${readOnlyPglite}`,
                ),
                expect: /read-only-pglite\/pglite: the file system is read-only \(writing a file in it\)\. Fix:/,
              },
              {
                name: 'full on first start',
                child: startServer(full, `mount -t tmpfs -o size=2m tmpfs ${full}`),
                expect:
                  /full\/pglite: the file system is full \(\d+ KiB free; a new database needs about 40 MB\)\. Fix: free space on that volume or give it more, then start again/,
              },
            ]
          : []),
      ];
      const outcomes = await Promise.all(cases.map(async (c) => ({ ...c, stderr: await startupFailure(c.child) })));
      for (const outcome of outcomes) {
        expect(outcome.stderr, outcome.name).toMatch(
          /chaos-negotiator failed to start: cannot use the data directory|chaos-negotiator failed to start: the PGlite data directory/,
        );
        expect(outcome.stderr, outcome.name).toMatch(outcome.expect);
      }
      if (!MOUNTS)
        process.stdout.write('start-up errors: no mount namespaces here, read-only and full cases skipped\n');
    } finally {
      holder.kill('SIGKILL');
    }
  }, 300_000);
});
