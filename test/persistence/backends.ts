/**
 * The store suites run on every available back-end: PGlite in memory always, PostgreSQL when DATABASE_URL is set
 * (each open gets its own schema, so parallel test files never collide).
 */
import { randomBytes } from 'node:crypto';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';

export interface Backend {
  name: string;
  open(): Promise<PersistentStore>;
}

export const DATABASE_URL = process.env.DATABASE_URL;

export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export const BACKENDS: Backend[] = [
  { name: 'pglite', open: () => openPersistentStore({ dataDir: 'memory://' }) },
  ...(DATABASE_URL
    ? [{ name: 'postgres', open: () => openPersistentStore({ databaseUrl: DATABASE_URL, schema: uniqueSchema() }) }]
    : []),
];
