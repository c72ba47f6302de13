import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('holds a pid file beside the directory and refuses a second holder until released', () => {
    const lock = lockDataDir(dataDir);
    expect(lock.path).toBe(`${dataDir}.lock`);
    expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
    expect(() => lockDataDir(`${dataDir}/`)).toThrow(/in use \(this process already has it open/);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lockDataDir(dataDir).release();
  });

  it('takes over a lock whose process is gone, or that holds no pid', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${dataDir}.lock`, `${dead.stdout}\n`);
    const lock = lockDataDir(dataDir);
    expect(readFileSync(lock.path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    writeFileSync(`${dataDir}.lock`, 'garbage');
    lockDataDir(dataDir).release();
  });

  it('names the live process that has the directory open', () => {
    // Our parent stands in for another live process.
    writeFileSync(`${dataDir}.lock`, `${process.ppid}\n`);
    expect(() => lockDataDir(dataDir)).toThrow(new RegExp(`process ${process.ppid} has it open`));
  });

  it('is taken by openPersistentStore and given back by close', async () => {
    const store = await openPersistentStore({ dataDir });
    await expect(openPersistentStore({ dataDir })).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
    const again = await openPersistentStore({ dataDir });
    await again.close();
  }, 60_000);
});
