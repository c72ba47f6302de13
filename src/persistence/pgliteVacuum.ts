/**
 * PGlite runs PostgreSQL in single-user mode, where autovacuum never runs: every rewritten row (a rollout record
 * saved each interval, bot state each turn, the audit head each seal) leaves a dead copy behind and the tables grow
 * without bound (measured: 20 rewrites of 500 5 KiB rows took a table from 112 kB to 53 MB; after a VACUUM, 20 more
 * added 1 MB). This timer vacuums the rewritten tables at start-up and then periodically. PostgreSQL's own
 * autovacuum does this job there, so it is only started on PGlite.
 */
import type { SqlDriver } from './driver.js';

/** The tables whose rows are updated or deleted in place (the de-duplication tables are pruned); insert-only tables do not need it. */
export const REWRITTEN_TABLES = [
  'rollouts',
  'rollout_commands',
  'contracts',
  'contract_revisions',
  'contract_links',
  'conversation_refs',
  'bot_state',
  'audit_head',
  'audit_pending',
  'protection_callbacks',
  'inbound_events',
  'announcements',
] as const;

export interface VacuumOptions {
  everyMs?: number;
  onError?: (error: unknown) => void;
}

export class PgliteVacuum {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly everyMs: number;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly driver: SqlDriver,
    options: VacuumOptions = {},
  ) {
    this.everyMs = options.everyMs ?? 10 * 60_000;
    this.onError = options.onError ?? (() => undefined);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.vacuumNow().catch(this.onError);
    }, this.everyMs);
    this.timer.unref();
  }

  /** One VACUUM of the rewritten tables (not in a transaction: VACUUM cannot run inside one). */
  vacuumNow(): Promise<void> {
    this.running ??= this.driver.exec(`vacuum ${REWRITTEN_TABLES.join(', ')}`).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
