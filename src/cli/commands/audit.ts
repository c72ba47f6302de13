/**
 * `chaos audit verify [--data-dir DIR]`: walks the audit hash chain of the store (DATABASE_URL, else the embedded
 * PGlite under the data directory) and names the first entry that was edited or deleted. Exit 0 when intact, 3 when
 * the chain is broken.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { openPersistentStore, type PersistentStore, StoreError } from '../../persistence/index.js';
import { type CliDeps, CliExitError, CliInputError } from '../program.js';

export function registerAuditCommand(program: Command, deps: CliDeps): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('verify the audit hash chain and name the first broken entry')
    .option('--data-dir <dir>', 'data directory of the embedded store (default: CHAOS_DATA_DIR or .data)')
    .option('--database-url <url>', 'PostgreSQL connection string (default: DATABASE_URL)')
    .action(async (options: { dataDir?: string; databaseUrl?: string }) => {
      // An explicit --data-dir wins over DATABASE_URL from the environment.
      const databaseUrl = options.databaseUrl ?? (options.dataDir ? undefined : deps.env.DATABASE_URL);
      const dataDir = join(options.dataDir ?? deps.env.CHAOS_DATA_DIR ?? join(deps.cwd(), '.data'), 'pglite');
      const where = databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${dataDir}`;
      let store: PersistentStore;
      try {
        store = await openPersistentStore(databaseUrl ? { databaseUrl } : { dataDir });
      } catch (error) {
        if (error instanceof StoreError && error.code === 'store_unavailable') {
          throw new CliInputError(`cannot open the store (${where}): ${error.message}`);
        }
        throw error;
      }
      deps.io.stdout(`verifying the audit log of ${where}\n`);
      try {
        const result = await store.verifyAudit();
        if (result.ok) {
          deps.io.stdout(`audit chain intact: ${result.entries} entries, head ${result.head.slice(0, 16)}…\n`);
          return;
        }
        deps.io.stderr(
          `audit chain BROKEN at entry ${result.brokenAt}: ${result.reason} (${result.entries} entries verified before it)\n`,
        );
        throw new CliExitError(3, 'audit chain broken');
      } finally {
        await store.close();
      }
    });
}
