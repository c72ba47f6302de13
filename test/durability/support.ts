/**
 * Child processes for the durability tests: each fixture runs under tsx in its own Node process, talks through
 * stdout lines, and can be SIGKILLed. Every wait has a deadline, and a reopen of a killed PGlite directory runs in
 * a child too: PGlite's WASM start-up (including WAL recovery) is synchronous, so a timer in this process could not
 * interrupt it if it hung.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Child {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    let partial = '';
    process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.notify();
    });
    process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolveExit) => {
      process.on('exit', (code, signal) => {
        if (partial) this.lines.push(partial);
        partial = '';
        this.notify();
        resolveExit({ code, signal });
      });
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  linesStartingWith(prefix: string): string[] {
    return this.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  }

  /** Resolves once `test` holds over the lines read so far; rejects when the child exits first or time runs out. */
  async until(what: string, test: (lines: string[]) => boolean, timeoutMs: number): Promise<void> {
    if (test(this.lines)) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolveWait) => this.waiters.push({ test: () => test(this.lines), resolve: resolveWait })),
        this.exited.then((exit) => {
          if (test(this.lines)) return;
          throw new Error(`${this.name} exited (${exit.code ?? exit.signal}) before ${what}\n${this.describe()}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.describe()}`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, then wait until the process is really gone (its files are free only then). */
  async kill(): Promise<Exit> {
    this.process.kill('SIGKILL');
    return this.exited;
  }

  send(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  describe(): string {
    return `--- stdout (last lines) ---\n${this.lines.slice(-8).join('\n')}\n--- stderr ---\n${this.stderr.slice(-2_000)}`;
  }
}

/** Starts `test/durability/fixtures/<fixture>` with tsx. */
export function startFixture(fixture: string, args: string[], name = fixture): Child {
  return startNode([join(FIXTURES, fixture), ...args], name, ['--import', 'tsx']);
}

export function startNode(
  args: string[],
  name: string,
  nodeOptions: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Child {
  const child = spawn(process.execPath, [...nodeOptions, ...args], {
    cwd: ROOT,
    env: { ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Child(name, child);
}

/** Runs a process to its end; SIGKILLs it and fails when it takes longer than `timeoutMs`. */
export async function runToEnd(child: Child, timeoutMs: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.process.kill('SIGKILL');
      reject(new Error(`${child.name} did not finish within ${timeoutMs} ms and was killed\n${child.describe()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([child.exited, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last stdout line that starts with `result ` parsed as JSON. */
export function resultOf<T>(child: Child): T {
  const line = child.linesStartingWith('result ').at(-1);
  if (line === undefined) throw new Error(`${child.name} printed no result\n${child.describe()}`);
  return JSON.parse(line) as T;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `chaos-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Where a store lives for one test: a fresh PGlite directory, or a fresh schema on the PostgreSQL of DATABASE_URL. */
export interface StoreLocation {
  backend: 'pglite' | 'postgres';
  args: string[];
  dispose(): Promise<void>;
}

export function pgliteLocation(prefix: string): StoreLocation {
  const dir = tempDir(prefix);
  return {
    backend: 'pglite',
    args: ['--data-dir', join(dir.path, 'pglite')],
    dispose: async () => dir.remove(),
  };
}

export function postgresLocation(prefix: string, url = DATABASE_URL): StoreLocation {
  if (!url) throw new Error('DATABASE_URL is not set');
  const schema = uniqueSchema(prefix);
  return {
    backend: 'postgres',
    args: ['--database-url', url, '--schema', schema],
    dispose: () => dropSchema(url, schema),
  };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/** PGlite always; PostgreSQL too when DATABASE_URL is set. */
export const LOCATIONS: { name: 'pglite' | 'postgres'; make(prefix: string): StoreLocation }[] = [
  { name: 'pglite', make: pgliteLocation },
  ...(DATABASE_URL ? [{ name: 'postgres' as const, make: (prefix: string) => postgresLocation(prefix) }] : []),
];
