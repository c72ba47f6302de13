/**
 * One process per PGlite data directory. PGlite takes no lock of its own: a second process (a `chaos` command
 * while the server runs, a restart before the old process is gone) opens the same directory without complaint,
 * both write, and every later open aborts (`RuntimeError: Aborted()`). The lock is a file beside the directory
 * holding the owner's pid; a lock whose process is gone (SIGKILL, power loss) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { StoreError } from './driver.js';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  const path = `${dataDir.replace(/[/\\]+$/, '')}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      const release = () => {
        if (ownerOf(path) === process.pid) unlinkSafely(path);
        process.removeListener('exit', release);
      };
      process.once('exit', release);
      return { path, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError('store_unavailable', `cannot lock ${dataDir}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const owner = ownerOf(path);
      if (owner !== undefined && alive(owner)) {
        const who = owner === process.pid ? 'this process already has it open' : `process ${owner} has it open`;
        throw new StoreError(
          'store_unavailable',
          `the PGlite data directory ${dataDir} is in use (${who}; lock ${path}). PGlite serves one process: stop it, or use DATABASE_URL (PostgreSQL) for several.`,
        );
      }
      unlinkSafely(path); // stale: its process is gone
    }
  }
  throw new StoreError('store_unavailable', `cannot lock ${dataDir}: another process took the lock at the same time`);
}

function unlinkSafely(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
