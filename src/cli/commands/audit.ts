/**
 * `chaos audit verify [--data-dir DIR] [--anchor SEQ:HASH | --anchor-log FILE]`: walks the audit hash chain of the
 * store (DATABASE_URL, else the embedded PGlite under the data directory), checks the HMACs with CHAOS_AUDIT_KEY when
 * set, and checks the head against an anchor kept outside the database (the server logs one after every seal), which
 * is what catches a deleted tail with the head moved back. Prints which checks ran. Exit 0 when intact, 3 when broken.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type AuditAnchor,
  openPersistentStore,
  type PersistentStore,
  parseAuditAnchor,
  StoreError,
} from '../../persistence/index.js';
import { type CliDeps, CliExitError, CliInputError } from '../deps.js';

interface VerifyOptions {
  dataDir?: string;
  databaseUrl?: string;
  anchor?: string;
  anchorLog?: string;
}

export function registerAuditCommand(program: Command, deps: CliDeps): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('verify the audit hash chain and name the first broken entry')
    .option('--data-dir <dir>', 'data directory of the embedded store (default: CHAOS_DATA_DIR or .data)')
    .option('--database-url <url>', 'PostgreSQL connection string (default: DATABASE_URL)')
    .option('--anchor <seq:hash>', 'a head recorded outside the database ("anchor …" in the server log)')
    .option('--anchor-log <file>', "the server's log: its newest audit anchor is checked")
    .action(async (options: VerifyOptions) => {
      const anchor = readAnchor(options);
      // An explicit --data-dir wins over DATABASE_URL from the environment.
      const databaseUrl = options.databaseUrl ?? (options.dataDir ? undefined : deps.env.DATABASE_URL);
      const dataDir = join(options.dataDir ?? deps.env.CHAOS_DATA_DIR ?? join(deps.cwd(), '.data'), 'pglite');
      const where = databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${dataDir}`;
      const auditKey = deps.env.CHAOS_AUDIT_KEY;
      let store: PersistentStore;
      try {
        store = await openPersistentStore({
          ...(databaseUrl ? { databaseUrl } : { dataDir }),
          ...(auditKey ? { auditKey } : {}),
        });
      } catch (error) {
        if (error instanceof StoreError && error.code === 'store_unavailable') {
          throw new CliInputError(`cannot open the store (${where}): ${error.message}`);
        }
        throw error;
      }
      deps.io.stdout(`verifying the audit log of ${where}\n`);
      try {
        const result = await store.verifyAudit(anchor ? { anchor } : {});
        const checks = result.checks.map((check) => `  checked: ${check}\n`).join('');
        if (result.ok) {
          deps.io.stdout(`audit chain intact: ${result.entries} entries, head ${result.head.slice(0, 24)}…\n${checks}`);
          return;
        }
        deps.io.stderr(
          `audit chain BROKEN at entry ${result.brokenAt}: ${result.reason} (${result.entries} entries verified before it)\n${checks}`,
        );
        throw new CliExitError(3, 'audit chain broken');
      } finally {
        await store.close();
      }
    });
}

function readAnchor(options: VerifyOptions): AuditAnchor | undefined {
  if (options.anchor !== undefined && options.anchorLog !== undefined) {
    throw new CliInputError('give --anchor or --anchor-log, not both');
  }
  if (options.anchor !== undefined) {
    const anchor = parseAuditAnchor(options.anchor);
    if (!anchor) {
      throw new CliInputError(
        `--anchor "${options.anchor}" must be <seq>:<hash> as the server logs it (for example 42:hmac-sha256:<64 hex digits>)`,
      );
    }
    return anchor;
  }
  if (options.anchorLog === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(options.anchorLog, 'utf8');
  } catch (error) {
    throw new CliInputError(`cannot read --anchor-log ${options.anchorLog}: ${(error as Error).message}`);
  }
  const anchor = newestAnchor(text);
  if (!anchor) {
    throw new CliInputError(
      `--anchor-log ${options.anchorLog} holds no audit anchor (the server logs "audit chain sealed to entry N: anchor N:<hash>")`,
    );
  }
  return anchor;
}

/** The anchor with the highest sequence number among the log's lines (JSON or plain text). */
export function newestAnchor(log: string): AuditAnchor | undefined {
  let newest: AuditAnchor | undefined;
  for (const match of log.matchAll(/anchor (\d+:(?:hmac-sha256:)?[0-9a-f]{64})/g)) {
    const anchor = parseAuditAnchor(match[1] as string);
    if (anchor && (!newest || anchor.seq > newest.seq)) newest = anchor;
  }
  return newest;
}
