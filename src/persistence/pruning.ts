/**
 * Keeps the de-duplication tables bounded: an inbound event id (Slack retries, Teams redeliveries) is remembered for
 * a TTL, as the in-memory twin does (src/chat/inboundEvents.ts), and an announced delivery for a retention period;
 * older rows are deleted in batches on a timer, on both engines (on PostgreSQL every replica prunes; the deletes are
 * idempotent).
 */
import type { SqlDriver } from './driver.js';

export const DEFAULT_EVENT_TTL_MS = 60 * 60_000;
export const DEFAULT_ANNOUNCEMENT_RETENTION_MS = 30 * 24 * 60 * 60_000;
const BATCH = 5_000;

export interface PruneOptions {
  /** How long an inbound event id is remembered (default 1 hour). */
  eventTtlMs?: number;
  /** How long a delivery → contract entry of the announcement ledger is kept (default 30 days). */
  announcementRetentionMs?: number;
  /** How often old rows are deleted (default: the event TTL, at most every 10 minutes). */
  everyMs?: number;
  onError?: (error: unknown) => void;
  now?: () => number;
}

export interface PruneResult {
  inboundEvents: number;
  announcements: number;
}

export class DedupPruner {
  readonly eventTtlMs: number;
  readonly announcementRetentionMs: number;
  private readonly everyMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneResult> | undefined;

  constructor(
    private readonly driver: SqlDriver,
    options: PruneOptions = {},
  ) {
    this.eventTtlMs = options.eventTtlMs ?? DEFAULT_EVENT_TTL_MS;
    this.announcementRetentionMs = options.announcementRetentionMs ?? DEFAULT_ANNOUNCEMENT_RETENTION_MS;
    this.everyMs = options.everyMs ?? Math.min(this.eventTtlMs, 10 * 60_000);
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.pruneNow().catch(this.onError);
    }, this.everyMs);
    this.timer.unref();
  }

  /** Deletes every row past its TTL or retention; returns how many of each. One prune at a time. */
  pruneNow(): Promise<PruneResult> {
    this.running ??= this.prune().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async prune(): Promise<PruneResult> {
    const now = this.now();
    return {
      inboundEvents: await this.deleteOlder('inbound_events', 'seen_at', new Date(now - this.eventTtlMs)),
      announcements: await this.deleteOlder(
        'announcements',
        'created_at',
        new Date(now - this.announcementRetentionMs),
      ),
    };
  }

  /** In batches, so one prune never holds many row locks or one long transaction. */
  private async deleteOlder(table: string, column: string, before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.driver.execute(
        `delete from ${table} where ctid = any(array(select ctid from ${table} where ${column} < $1 limit ${BATCH}))`,
        [before],
      );
      total += deleted;
      if (deleted < BATCH) return total;
    }
  }
}
