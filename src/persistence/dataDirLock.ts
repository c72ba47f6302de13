/**
 * One process per PGlite data directory. PGlite takes no lock of its own: a second process (a `chaos` command while
 * the server runs, a second container on the same volume) opens the same directory without complaint, both write,
 * and the directory is damaged.
 *
 * The lock is an OS advisory lock (Linux open-file-description lock, LockFileEx on Windows, flock on macOS, through
 * `fs-native-extensions`) on a file beside the directory, held by an open file descriptor for the life of the store.
 * The kernel drops it when the descriptor closes, also on SIGKILL or power loss, so there is no stale lock to judge
 * by a pid: a restarted PID 1 in a container takes it at once, and a process in another PID namespace on the same
 * volume is refused whatever its pid. The file is never deleted (deleting a lock file lets two processes lock two
 * different files of one name); it holds the holder's pid and host only to make the refusal readable.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { StoreError } from './storeError.js';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** The part of fs-native-extensions used here: true when the lock was taken, false when another holder has it. */
export interface FileLocks {
  tryLock(fd: number): boolean;
}

/** Error codes of a file system that has no advisory locks (some network and FUSE file systems). */
const NO_LOCKS = new Set(['ENOLCK', 'EOPNOTSUPP', 'ENOTSUP', 'ENOSYS', 'EINVAL']);

let nativeLocks: FileLocks | undefined;

function loadNativeLocks(dataDir: string): FileLocks {
  if (nativeLocks) return nativeLocks;
  try {
    const native = createRequire(import.meta.url)('fs-native-extensions') as {
      tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
    };
    nativeLocks = { tryLock: (fd) => native.tryLock(fd, 0, 0, { shared: false }) };
    return nativeLocks;
  } catch (error) {
    throw new StoreError(
      'store_unavailable',
      `cannot lock the PGlite data directory ${dataDir}: the file-lock library fs-native-extensions did not load on ${process.platform}-${process.arch} (${(error as Error).message}). Without a lock a second process could open the directory and damage it, so the store does not start: use DATABASE_URL (PostgreSQL) on this platform.`,
      { cause: error },
    );
  }
}

/** Lock files this process holds: a second open from the same process is named as such. */
const heldHere = new Set<string>();

export function lockDataDir(dataDir: string, locks?: FileLocks): DataDirLock {
  const path = `${dataDir.replace(/[/\\]+$/, '')}.lock`;
  const key = resolve(path);
  if (heldHere.has(key)) throw inUse(dataDir, path, 'this process already has it open');
  const fileLocks = locks ?? loadNativeLocks(dataDir);
  let fd: number;
  try {
    fd = openSync(path, 'a+');
  } catch (error) {
    throw new StoreError('store_unavailable', `cannot create the lock file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let taken: boolean;
  try {
    taken = fileLocks.tryLock(fd);
  } catch (error) {
    closeSync(fd);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EACCES' || code === 'EAGAIN') throw inUse(dataDir, path, describeHolder(path));
    if (NO_LOCKS.has(code)) {
      throw new StoreError(
        'store_unavailable',
        `the file system of ${path} does not support file locks (${code}). PGlite serves one process per data directory and without a lock a second process could open it and damage it, so the store does not start: put CHAOS_DATA_DIR on a local disk or a volume with POSIX locks, or use DATABASE_URL (PostgreSQL).`,
        { cause: error },
      );
    }
    throw new StoreError('store_unavailable', `cannot lock ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!taken) {
    closeSync(fd);
    throw inUse(dataDir, path, describeHolder(path));
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
  } catch {
    // Only the readable description of the holder is lost; the lock is held.
  }
  heldHere.add(key);
  let released = false;
  return {
    path,
    release: () => {
      if (released) return;
      released = true;
      heldHere.delete(key);
      closeSync(fd); // closing the descriptor drops the lock
    },
  };
}

function describeHolder(path: string): string {
  try {
    const [pid, host, since] = readFileSync(path, 'utf8').trim().split(' ');
    if (pid && host && since) {
      return `held by process ${pid} on host ${host} since ${since}; the pid is that process's own, possibly in another container`;
    }
  } catch {
    // described below
  }
  return 'held by another process';
}

function inUse(dataDir: string, path: string, who: string): StoreError {
  return new StoreError(
    'store_unavailable',
    `the PGlite data directory ${dataDir} is in use (${who}; lock ${path}). PGlite serves one process: stop the other process or container, or use DATABASE_URL (PostgreSQL) for several replicas.`,
  );
}
