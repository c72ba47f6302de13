import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/persistence/dataDirLock.js';
import { openPersistentStore } from '../../src/persistence/index.js';

describe('PGlite data directory lock', () => {
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'chaos-lock-'));
    dataDir = join(root, 'pglite');
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('is an OS lock on a file beside the directory, refused to a second holder until released', () => {
    const lock = lockDataDir(dataDir);
    expect(lock.path).toBe(`${dataDir}.lock`);
    expect(readFileSync(lock.path, 'utf8')).toMatch(new RegExp(`^${process.pid} ${hostname()} \\d{4}-`));
    expect(() => lockDataDir(`${dataDir}/`)).toThrow(/in use \(this process already has it open/);
    lock.release();
    lock.release(); // twice is harmless
    expect(existsSync(lock.path)).toBe(true); // never deleted: the kernel lock, not the file, is what counts
    lockDataDir(dataDir).release();
  });

  it('is refused while another process holds it, whatever pid the file names, and free once that process ends', () => {
    // The other process takes the lock through the same library and stays alive while we try.
    const holderScript = `
      const fs = require('node:fs');
      const { tryLock } = require(${JSON.stringify(createRequire(import.meta.url).resolve('fs-native-extensions'))});
      const fd = fs.openSync(${JSON.stringify(`${dataDir}.lock`)}, 'a+');
      if (!tryLock(fd)) process.exit(9);
      fs.writeFileSync(${JSON.stringify(`${dataDir}.lock`)}, '1 other-container 2026-01-01T00:00:00.000Z\\n');
      process.stdout.write('locked\\n');
      setTimeout(() => {}, 60000);
    `;
    const holder = spawn(process.execPath, ['-e', holderScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise<void>((resolveTest, rejectTest) => {
      holder.stdout.once('data', () => {
        try {
          expect(() => lockDataDir(dataDir)).toThrow(
            /in use \(held by process 1 on host other-container since 2026-01-01T00:00:00.000Z; the pid is that process's own, possibly in another container; lock .*pglite\.lock\)/,
          );
        } catch (error) {
          holder.kill('SIGKILL');
          rejectTest(error);
          return;
        }
        holder.kill('SIGKILL');
        holder.once('exit', () => {
          try {
            lockDataDir(dataDir).release();
            resolveTest();
          } catch (error) {
            rejectTest(error);
          }
        });
      });
    });
  }, 30_000);

  it('takes a lock file left by a process that is gone (the pid in it does not matter)', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${dataDir}.lock`, `${dead.stdout} somewhere 2026-01-01T00:00:00.000Z\n`);
    lockDataDir(dataDir).release();
    // Our own pid in the file (a restarted PID 1 finds its own pid there) is no obstacle either.
    writeFileSync(`${dataDir}.lock`, `${process.pid} ${hostname()} 2026-01-01T00:00:00.000Z\n`);
    lockDataDir(dataDir).release();
  });

  it('refuses to start, and says why, on a file system without file locks', () => {
    const noLocks = {
      tryLock: (): boolean => {
        throw Object.assign(new Error('ENOLCK: no locks available'), { code: 'ENOLCK' });
      },
    };
    expect(() => lockDataDir(dataDir, noLocks)).toThrow(
      /does not support file locks \(ENOLCK\).*so the store does not start: put CHAOS_DATA_DIR on a local disk/,
    );
    lockDataDir(dataDir).release(); // nothing was left held
  });

  it('is taken by openPersistentStore and given back by close', async () => {
    const store = await openPersistentStore({ dataDir });
    await expect(openPersistentStore({ dataDir })).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
    const again = await openPersistentStore({ dataDir });
    await again.close();
  }, 60_000);
});
