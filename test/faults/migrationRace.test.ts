/**
 * Issue 18: "migrate() from two replicas at once failed in 19 of 20 rounds (23505 pg_type_typname_nsp_index)". Each
 * round starts several stores at the same instant on one fresh schema of the PostgreSQL of DATABASE_URL, each with
 * its own connection pool (as separate replicas have), through the production `openPersistentStore`.
 */
import { describe, expect, it } from 'vitest';
import { openPersistentStore } from '../../src/persistence/index.js';
import { MIGRATIONS } from '../../src/persistence/migrations.js';
import { dropSchema } from '../durability/support.js';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';

const ROUNDS = 20;
const REPLICAS = 4;

describe.skipIf(!DATABASE_URL)('migrations from several replicas at once (PostgreSQL)', () => {
  it(`${REPLICAS} replicas starting together on an empty schema all start, ${ROUNDS} rounds`, async () => {
    const url = DATABASE_URL as string;
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const schema = uniqueSchema('race');
      try {
        const starts = await Promise.allSettled(
          Array.from({ length: REPLICAS }, () => openPersistentStore({ databaseUrl: url, schema, poolSize: 2 })),
        );
        for (const start of starts) {
          if (start.status === 'rejected') failures.push(`round ${round}: ${(start.reason as Error).message}`);
          else await start.value.close();
        }
        if (starts.every((start) => start.status === 'fulfilled')) {
          const check = await openPersistentStore({ databaseUrl: url, schema, poolSize: 1 });
          try {
            const rows = await check.driver.query<{ version: number }>(
              'select version from schema_migrations order by version',
            );
            expect(rows.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
          } finally {
            await check.close();
          }
        }
      } finally {
        await dropSchema(url, schema);
      }
    }
    const failedRounds = new Set(failures.map((failure) => failure.split(':')[0])).size;
    process.stdout.write(
      `migration race: ${ROUNDS} rounds x ${REPLICAS} replicas: ${failedRounds} rounds failed, ${failures.length} failed starts\n`,
    );
    expect(failures).toEqual([]);
  }, 120_000);
});
