/**
 * Start-up checks of the PGlite data directory, so that a directory the server cannot use stops it with a message
 * naming the directory, the problem (not a directory, read-only, not writable, full) and the fix, instead of what
 * PGlite's file layer says (`ENOENT … mkdir`, "PGlite failed to initialize properly", `#<ErrnoError>`).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StoreError } from './storeError.js';

/** Below this much free space, a failed first start is put down to a full disk (a new database takes about 40 MB). */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;

const FIX_DIRECTORY =
  'set CHAOS_DATA_DIR to a writable directory (or mount a writable volume there), or use DATABASE_URL';

function dataDirError(dataDir: string, problem: string, fix: string, cause?: unknown): StoreError {
  return new StoreError(
    'store_unavailable',
    `cannot use the data directory ${resolve(dataDir)}: ${problem}. Fix: ${fix}.`,
    {
      cause,
    },
  );
}

function user(): string {
  return typeof process.getuid === 'function' ? `user ${process.getuid()}` : 'this user';
}

/** What an errno says about a directory, in the operator's words; undefined for anything else. */
function describeErrno(dataDir: string, error: unknown, doing: string): StoreError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EROFS':
      return dataDirError(dataDir, `the file system is read-only (${doing})`, FIX_DIRECTORY, error);
    case 'EACCES':
    case 'EPERM':
      return dataDirError(
        dataDir,
        `${user()} may not write there (${doing}: ${code})`,
        `give ${user()} write access to it (in a container: chown the volume to the image's user), or ${FIX_DIRECTORY}`,
        error,
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return dataDirError(
        dataDir,
        `the file system is full (${doing}: ${code})`,
        'free space on that volume or give it more',
        error,
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return dataDirError(dataDir, 'it, or one of its parents, is a file, not a directory', FIX_DIRECTORY, error);
    default:
      return undefined;
  }
}

/**
 * Node's recursive mkdir reports ENOENT for a read-only parent: the real error comes from creating the first missing
 * level by itself under the deepest parent that exists.
 */
function firstMkdirFailure(dataDir: string, error: unknown): { error: unknown; parent: string } {
  let missing = resolve(dataDir);
  while (dirname(missing) !== missing && !existsSync(dirname(missing))) missing = dirname(missing);
  try {
    mkdirSync(missing);
  } catch (direct) {
    return { error: direct, parent: dirname(missing) };
  }
  return { error, parent: dirname(missing) };
}

/** Creates the directory when missing and proves it takes a write; throws a StoreError that says what to do. */
export function prepareDataDir(dataDir: string): void {
  try {
    if (!statSync(dataDir).isDirectory()) {
      throw dataDirError(dataDir, 'it is a file, not a directory', FIX_DIRECTORY);
    }
  } catch (error) {
    if (error instanceof StoreError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw describeErrno(dataDir, error, 'stat') ?? error;
    }
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (mkdirError) {
      const { error: cause, parent } = firstMkdirFailure(dataDir, mkdirError);
      throw describeErrno(dataDir, cause, `creating it in ${parent}`) ?? cause;
    }
  }
  // Random: two containers whose servers are both PID 1 may probe one volume at the same moment.
  const probe = join(dataDir, `.chaos-write-check-${randomBytes(6).toString('hex')}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'ok\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (error) {
    throw describeErrno(dataDir, error, 'writing a file in it') ?? error;
  }
}

/**
 * Explains a failure of PGlite to create or open the database: a full disk (PGlite reports only `#<ErrnoError>`),
 * else the original message with the directory named. Always a StoreError.
 */
export function explainOpenFailure(dataDir: string, error: unknown, creating: boolean): StoreError {
  if (error instanceof StoreError) return error;
  const free = freeBytes(dataDir);
  if (free !== undefined && free < MIN_FREE_BYTES) {
    return dataDirError(
      dataDir,
      `the file system is full (${Math.floor(free / 1024)} KiB free; ${creating ? 'a new database needs about 40 MB' : 'the database cannot write'})`,
      `free space on that volume or give it more${creating ? ', then start again (the half-created database was removed)' : ''}`,
      error,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return dataDirError(
    dataDir,
    `PGlite could not ${creating ? 'create' : 'open'} the database (${message})`,
    creating
      ? 'check that the volume is writable and not full, then start again'
      : 'check the volume; if the directory was damaged, restore it from a backup',
    error,
  );
}

function freeBytes(dataDir: string): number | undefined {
  try {
    const stats = statfsSync(dataDir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return undefined;
  }
}
