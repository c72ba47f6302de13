/**
 * One small SQL interface over two engines: PGlite (in-process PostgreSQL, files under a data directory — the
 * embedded default) and PostgreSQL (several replicas), both through `pg`. Everything above it is the same SQL.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { explainOpenFailure, prepareDataDir } from './dataDirCheck.js';
import { type DataDirLock, lockDataDir } from './dataDirLock.js';
import { PgliteWireStream } from './pgliteWire.js';
import { StoreError } from './storeError.js';

export { StoreError } from './storeError.js';

export interface SqlExecutor {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Rows changed by an UPDATE/DELETE/INSERT. */
  execute(sql: string, params?: unknown[]): Promise<number>;
}

/** Work done since the driver opened, for /metrics and the benchmarks. */
export interface SqlStatistics {
  /** Statements sent (inside transactions too; BEGIN and COMMIT not counted). */
  statements: number;
  transactions: number;
}

export interface SqlDriver extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  statistics(): SqlStatistics;
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on error). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Multi-statement SQL without parameters (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Both engines through `pg`: PostgreSQL over its socket, PGlite over an in-process stream (pgliteWire.ts), so type
 * parsing, error fields and transactions are the same code on both.
 *
 * Statements are prepared once per connection under a name derived from their text (the store's SQL is a fixed set
 * of texts; only parameters vary), so the server parses them once and can reuse a generic plan. On PGlite, where the
 * database runs on the server's own thread, parsing and planning were most of a statement's cost.
 */
class PgDriver implements SqlDriver {
  private readonly counts: SqlStatistics = { statements: 0, transactions: 0 };
  private readonly names = new Map<string, string>();

  constructor(
    readonly kind: 'pglite' | 'postgres',
    private readonly pool: pg.Pool,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {}

  statistics(): SqlStatistics {
    return { ...this.counts };
  }

  /** pg's query config with the statement's name (the first 16 hex digits of the SHA-1 of its text). */
  private prepared(sql: string, params: unknown[]): pg.QueryConfig {
    let name = this.names.get(sql);
    if (name === undefined) {
      name = `chaos_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
      this.names.set(sql, name);
    }
    return { name, text: sql, values: params };
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.counts.statements += 1;
    return (await this.runPrepared(sql, params)).rows as T[];
  }

  async execute(sql: string, params: unknown[] = []): Promise<number> {
    this.counts.statements += 1;
    return (await this.runPrepared(sql, params)).rowCount ?? 0;
  }

  /**
   * Runs a prepared statement. When a migration changed what it returns since it was prepared on that connection
   * (another replica's migration, during a rolling deploy), PostgreSQL refuses it there for as long as the connection
   * lives: the connection is dropped and the statement runs once more on a fresh one, which prepares it again.
   */
  private async runPrepared(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.runOnConnection(sql, params);
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      return this.runOnConnection(sql, params);
    }
  }

  private async runOnConnection(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    const client = await this.pool.connect();
    let stale = false;
    try {
      return await client.query(this.prepared(sql, params));
    } catch (error) {
      stale = isStalePlan(error);
      throw error;
    } finally {
      client.release(stale);
    }
  }

  async exec(sql: string): Promise<void> {
    this.counts.statements += 1;
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const counts = this.counts;
    counts.transactions += 1;
    const client = await this.pool.connect();
    let stale = false;
    try {
      await client.query('BEGIN');
      const result = await fn({
        query: async <R>(sql: string, params: unknown[] = []) => {
          counts.statements += 1;
          return (await client.query(this.prepared(sql, params))).rows as R[];
        },
        execute: async (sql: string, params: unknown[] = []) => {
          counts.statements += 1;
          return (await client.query(this.prepared(sql, params))).rowCount ?? 0;
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      stale = isStalePlan(error);
      throw error;
    } finally {
      // A connection with a stale prepared statement is dropped; the caller's retry gets a fresh one.
      client.release(stale);
    }
  }

  async close(): Promise<void> {
    try {
      await this.pool.end();
    } finally {
      await this.onClose();
    }
  }
}

/** PostgreSQL's refusal to run a prepared statement whose result columns changed since it was prepared. */
function isStalePlan(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

export interface DriverOptions {
  /** PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string;
  /** PGlite data directory; `memory://` keeps everything in memory. */
  dataDir?: string;
  /** PostgreSQL schema to use (created when missing): isolates tests or tenants on one database. */
  schema?: string;
  poolSize?: number;
}

export async function openDriver(options: DriverOptions): Promise<SqlDriver> {
  if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
    throw new StoreError('store_invalid', `schema "${options.schema}" must be a lower-case SQL identifier`);
  }
  if (options.databaseUrl) {
    const schema = options.schema;
    if (schema) {
      const setup = new pg.Client({ connectionString: options.databaseUrl });
      await setup.connect().catch((error: unknown) => {
        throw new StoreError('store_unavailable', `cannot reach PostgreSQL: ${(error as Error).message}`, {
          cause: error,
        });
      });
      try {
        // Under the migrations' lock: replicas creating one schema at once would fail on the catalog (23505).
        await setup.query('begin');
        await setup.query(`select pg_advisory_xact_lock(hashtext('chaos-negotiator-migrations'))`);
        await setup.query(`create schema if not exists ${schema}`);
        await setup.query('commit');
      } finally {
        await setup.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on('error', () => undefined);
    await pool.query('select 1').catch((error: unknown) => {
      throw new StoreError('store_unavailable', `cannot reach PostgreSQL: ${(error as Error).message}`, {
        cause: error,
      });
    });
    return new PgDriver('postgres', pool);
  }
  const dataDir = options.dataDir ?? '.data/pglite';
  let lock: DataDirLock | undefined;
  if (dataDir !== 'memory://') {
    prepareDataDir(dataDir);
    lock = lockDataDir(dataDir);
  }
  let db: PGlite;
  let creating = false;
  try {
    // Loaded only for the embedded store: a server on PostgreSQL never holds PGlite's code.
    const { PGlite } = await import('@electric-sql/pglite');
    // PostgreSQL's default 128 MB of shared buffers is sized for a server; in-process, 16 MB serves this workload.
    const defaults = (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? [];
    const open = () =>
      PGlite.create(dataDir === 'memory://' ? undefined : dataDir, {
        startParams: [...defaults, '-c', 'shared_buffers=16MB'],
      });
    if (dataDir !== 'memory://' && !existsSync(join(dataDir, 'PG_VERSION'))) {
      creating = readdirSync(dataDir).length === 0;
      await initialiseDataDir(dataDir);
    }
    db = await open();
  } catch (error) {
    lock?.release();
    if (dataDir === 'memory://') throw error;
    const explained = explainOpenFailure(dataDir, error, creating);
    // A database that failed half-way through its creation would not open later: the next start creates it anew.
    if (creating) removeContents(dataDir);
    throw explained;
  }
  // PGlite is one session for the life of the instance: one connection, never closed while the store is open (pg's
  // pool queues the other callers, and a transaction holds the connection until it ends).
  const pool = new pg.Pool({
    max: 1,
    idleTimeoutMillis: 0,
    user: 'postgres',
    database: 'template1',
    stream: () => new PgliteWireStream(db) as unknown as Duplex,
  });
  pool.on('error', () => undefined);
  const driver = new PgDriver('pglite', pool, async () => {
    try {
      await db.close();
    } finally {
      lock?.release();
    }
  });
  if (options.schema) {
    await driver.exec(`create schema if not exists ${options.schema}; set search_path to ${options.schema};`);
  }
  return driver;
}

function removeContents(dataDir: string): void {
  for (const entry of readdirSync(dataDir)) rmSync(join(dataDir, entry), { recursive: true, force: true });
}

/**
 * Creates the database of an empty data directory on a throwaway thread. The PGlite instance that runs initdb keeps
 * several hundred megabytes for its life; closed on this thread it gives them back only when the garbage collector
 * gets round to it, while a thread's memory goes when the thread ends. The thread's program is plain JavaScript
 * (evaluated), so it loads the same way under tsx, the test runner and the compiled build.
 */
async function initialiseDataDir(dataDir: string): Promise<void> {
  const program = `
    const { workerData } = require('node:worker_threads');
    const { PGlite } = require(workerData.pglite);
    PGlite.create(workerData.dataDir).then((db) => db.close());
  `;
  const worker = new Worker(program, {
    eval: true,
    execArgv: [],
    workerData: { pglite: createRequire(import.meta.url).resolve('@electric-sql/pglite'), dataDir },
  });
  const failure = await new Promise<Error | undefined>((resolve) => {
    worker.once('error', resolve);
    worker.once('exit', (code) => resolve(code === 0 ? undefined : new Error(`the thread exited with code ${code}`)));
  });
  if (failure) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new Error(`creating the database failed: ${message}`, { cause: failure });
  }
}
