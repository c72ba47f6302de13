/**
 * The append-only, hash-chained audit log, in two stages so that the chain stays off the commit path:
 *
 * 1. `appendAudit` inserts the entry into `audit_pending` inside the caller's transaction. Nothing is locked, so a
 *    decision and its audit entry commit together (one cannot exist without the other) and concurrent decisions, on
 *    one replica or several, commit in parallel.
 * 2. The `AuditChainer` seals pending entries in batches: under the `audit_head` row lock it numbers them, chains
 *    each to the hash of the one before it, moves them into `audit_log` and advances the head, in one transaction.
 *    `for update skip locked` on the head lets one chainer at a time work while the others move on; every replica
 *    runs one, kicked after each write and swept on a timer, so entries a crashed replica left pending are sealed by
 *    the next chainer to run (and by every store at start-up).
 *
 * Tamper evidence starts when an entry is sealed (tens of milliseconds after its commit). Editing or deleting a
 * sealed row breaks the chain at that entry, and verifyAuditChain names it.
 *
 * Two defences against someone who can write to the database itself:
 * - A keyed chain: with CHAOS_AUDIT_KEY set, each entry's hash is an HMAC-SHA256 under that key (`hmac-sha256:<hex>`),
 *   so rewriting an entry and recomputing the hashes after it needs the key, which is not in the database. Entries
 *   sealed before a key was set keep their plain SHA-256; a plain entry after a keyed one is reported (a downgrade).
 * - An anchor outside the database: every seal reports the new head (seq and hash) to `onSealed`, which the server
 *   writes to its log and exports as an audit event. Deleting the tail and moving `audit_head` back (or emptying the
 *   log and resetting the head to genesis) leaves a chain that is consistent in itself; only a head recorded
 *   elsewhere shows it, and `verifyAuditChain` takes one (`anchor`).
 */
import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from '../domain/canonicalJson.js';
import type { SqlDriver, SqlExecutor } from './driver.js';

export interface AuditRecord {
  at: Date;
  actor: string;
  action: string;
  subject?: string;
  payload: Record<string, unknown>;
}

export interface StoredAuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  payload: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

const KEYED_PREFIX = 'hmac-sha256:';

/** The hash of an entry: an HMAC-SHA256 under `key` (prefixed `hmac-sha256:`), or a plain SHA-256 without one. */
export function hashAuditEntry(entry: Omit<StoredAuditEntry, 'hash'>, key?: Buffer): string {
  const content = canonicalJson({
    seq: entry.seq,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    payload: entry.payload,
    prev: entry.prevHash,
  });
  if (key) return `${KEYED_PREFIX}${createHmac('sha256', key).update(content).digest('hex')}`;
  return createHash('sha256').update(content).digest('hex');
}

/** A head recorded outside the database (the server's log, an exported audit event): `seq` had hash `hash`. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/** Reads `<seq>:<hash>` as printed in the log (`audit chain sealed to entry …`). */
export function parseAuditAnchor(text: string): AuditAnchor | undefined {
  const match = /^(\d+):((?:hmac-sha256:)?[0-9a-f]{64}|genesis)$/.exec(text.trim());
  return match ? { seq: Number(match[1]), hash: match[2] as string } : undefined;
}

/** What an entry's hash covers: the row's content, its place in the chain and its predecessor's hash. */
function chainEntry(
  seq: number,
  row: Pick<StoredAuditEntry, 'at' | 'actor' | 'action' | 'subject' | 'payload'>,
  prevHash: string,
): Omit<StoredAuditEntry, 'hash'> {
  return {
    seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    payload: row.payload,
    prevHash,
  };
}

/** Stages an entry within the caller's transaction (or as its own statement); the chainer seals it. */
export async function appendAudit(executor: SqlExecutor, record: AuditRecord): Promise<void> {
  await executor.query('insert into audit_pending (at, actor, action, subject, payload) values ($1, $2, $3, $4, $5)', [
    record.at.toISOString(),
    record.actor,
    record.action,
    record.subject ?? null,
    JSON.stringify(record.payload),
  ]);
}

interface PendingRow {
  id: string | number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  payload: Record<string, unknown>;
}

/**
 * Seals up to `limit` pending entries in one transaction. Returns how many it sealed, or `undefined` when another
 * chainer holds the head (it will seal them).
 */
export async function sealPendingAudit(
  driver: SqlDriver,
  limit = 500,
  key?: Buffer,
  onSealed?: (head: AuditAnchor) => void,
): Promise<number | undefined> {
  let head: AuditAnchor | undefined;
  const sealed = await sealBatch(driver, limit, key, (h) => {
    head = h;
  });
  if (head && onSealed) onSealed(head);
  return sealed;
}

function sealBatch(
  driver: SqlDriver,
  limit: number,
  key: Buffer | undefined,
  sealedTo: (head: AuditAnchor) => void,
): Promise<number | undefined> {
  return driver.transaction(async (tx) => {
    const [head] = await tx.query<{ seq: string | number; hash: string }>(
      'select seq, hash from audit_head where id = 1 for update skip locked',
    );
    if (!head) return undefined;
    // Read after the head lock: every entry committed before it was granted is visible, none is sealed twice.
    const pending = await tx.query<PendingRow>(
      'select id, at, actor, action, subject, payload from audit_pending order by id limit $1',
      [limit],
    );
    if (pending.length === 0) return 0;
    let seq = Number(head.seq);
    let prevHash = head.hash;
    const sealed: StoredAuditEntry[] = pending.map((row) => {
      seq += 1;
      const entry = chainEntry(seq, row, prevHash);
      prevHash = hashAuditEntry(entry, key);
      return { ...entry, hash: prevHash };
    });
    await tx.query(
      `insert into audit_log (seq, at, actor, action, subject, payload, prev_hash, hash)
       select seq, at, actor, action, subject, payload::jsonb, prev_hash, hash
       from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
         as staged (seq, at, actor, action, subject, payload, prev_hash, hash)`,
      [
        sealed.map((e) => e.seq),
        sealed.map((e) => e.at),
        sealed.map((e) => e.actor),
        sealed.map((e) => e.action),
        sealed.map((e) => e.subject),
        sealed.map((e) => JSON.stringify(e.payload)),
        sealed.map((e) => e.prevHash),
        sealed.map((e) => e.hash),
      ],
    );
    await tx.query('delete from audit_pending where id = any($1::bigint[])', [pending.map((row) => Number(row.id))]);
    await tx.query('update audit_head set seq = $1, hash = $2 where id = 1', [seq, prevHash]);
    sealedTo({ seq, hash: prevHash });
    return pending.length;
  });
}

export interface AuditChainerOptions {
  /** How long a kick waits before sealing, so a burst of writes is sealed in one transaction. */
  delayMs?: number;
  /** How often pending entries are looked for without a kick (entries of other or crashed replicas). */
  sweepMs?: number;
  batchSize?: number;
  onError?: (error: unknown) => void;
  /** CHAOS_AUDIT_KEY: entries sealed with it carry an HMAC-SHA256 instead of a plain SHA-256. */
  key?: Buffer;
  /** Told the new head after every seal, to keep it outside the database (the log, exported audit events). */
  onSealed?: (head: AuditAnchor) => void;
}

/** Runs `sealPendingAudit` after writes (coalesced) and on a timer; one seal at a time in this process. */
export class AuditChainer {
  private readonly delayMs: number;
  private readonly sweepMs: number;
  private readonly batchSize: number;
  private readonly onError: (error: unknown) => void;
  private readonly key: Buffer | undefined;
  private readonly onSealed: ((head: AuditAnchor) => void) | undefined;
  private kickTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly driver: SqlDriver,
    options: AuditChainerOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 20;
    this.sweepMs = options.sweepMs ?? 1_000;
    this.batchSize = options.batchSize ?? 500;
    this.onError = options.onError ?? (() => undefined);
    this.key = options.key;
    this.onSealed = options.onSealed;
  }

  start(): void {
    if (this.sweepTimer || this.stopped) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.sweepMs);
    this.sweepTimer.unref();
  }

  /** A write staged an entry: seal it soon, together with whatever else arrives meanwhile. */
  kick(): void {
    if (this.stopped || this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      void this.run();
    }, this.delayMs);
    this.kickTimer.unref();
  }

  /** Seals everything pending now; resolves when nothing this process can seal is left. */
  async flush(): Promise<void> {
    if (this.kickTimer) {
      clearTimeout(this.kickTimer);
      this.kickTimer = undefined;
    }
    await this.running;
    await this.sealAll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.flush().catch(this.onError);
  }

  private async sweep(): Promise<void> {
    if (this.running) return;
    try {
      const [row] = await this.driver.query<{ waiting: boolean }>(
        'select exists (select 1 from audit_pending) as waiting',
      );
      if (row?.waiting) await this.run();
    } catch (error) {
      this.onError(error);
    }
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.sealAll();
        } while (this.again);
      } catch (error) {
        this.onError(error);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async sealAll(): Promise<void> {
    for (;;) {
      const sealed = await sealPendingAudit(this.driver, this.batchSize, this.key, this.onSealed);
      if (sealed === undefined || sealed < this.batchSize) return;
    }
  }
}

export type AuditVerification =
  | { ok: true; entries: number; head: string; pending: number; checks: string[] }
  | { ok: false; entries: number; brokenAt: number; reason: string; pending: number; checks: string[] };

export interface VerifyOptions {
  /** CHAOS_AUDIT_KEY: keyed entries are checked with it; without it they cannot be checked. */
  key?: Buffer;
  /** A head recorded outside the database: the log must reach it with that hash. */
  anchor?: AuditAnchor;
  pageSize?: number;
}

interface SealedRow {
  seq: string | number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/**
 * Walks the sealed chain in pages from the first entry and names the first entry that does not fit. It reads one
 * snapshot (repeatable read), so a chainer sealing meanwhile cannot look like tampering. Entries still pending are
 * counted apart: they are not part of the chain yet. `checks` says what was checked, so a reader knows what
 * "intact" covers: the hash links, the keyed MACs (with a key), and the anchor (with one).
 */
export function verifyAuditChain(driver: SqlDriver, options: VerifyOptions = {}): Promise<AuditVerification> {
  const { key, anchor } = options;
  const pageSize = options.pageSize ?? 2_000;
  return driver.transaction(async (tx) => {
    await tx.query('set transaction isolation level repeatable read');
    const [head] = await tx.query<{ seq: string | number; hash: string }>(
      'select seq, hash from audit_head where id = 1',
    );
    const [waiting] = await tx.query<{ n: string | number }>('select count(*) as n from audit_pending');
    const pending = Number(waiting?.n ?? 0);
    let expectedSeq = 1;
    let prevHash = 'genesis';
    let checked = 0;
    let firstKeyed: number | undefined;
    let anchorSeen = false;
    const checks = (): string[] => {
      const list = [`hash chain: ${checked} entries each linked to the hash of the one before, and to the head row`];
      if (firstKeyed === undefined) {
        list.push(
          key
            ? 'keyed chain: no entry carries an HMAC yet (all were sealed without CHAOS_AUDIT_KEY)'
            : 'keyed chain: not checked (no CHAOS_AUDIT_KEY); a plain SHA-256 chain can be recomputed by whoever can write the database',
        );
      } else {
        list.push(
          `keyed chain: HMAC-SHA256 under CHAOS_AUDIT_KEY checked on entries ${firstKeyed}–${checked}${firstKeyed > 1 ? ` (1–${firstKeyed - 1} sealed before a key was set: plain SHA-256)` : ''}`,
        );
      }
      list.push(
        anchor
          ? `anchor: entry ${anchor.seq} with hash ${anchor.hash.slice(0, 24)}… (a head kept outside the database): ${anchorSeen || anchor.seq === 0 ? 'present with that hash' : 'not reached'}`
          : 'anchor: none given; deleting the newest entries and moving the head back cannot be told apart from a shorter log without one (--anchor or --anchor-log)',
      );
      return list;
    };
    const broken = (brokenAt: number, reason: string): AuditVerification => ({
      ok: false,
      entries: checked,
      brokenAt,
      reason,
      pending,
      checks: checks(),
    });
    for (;;) {
      const rows = await tx.query<SealedRow>(
        'select seq, at, actor, action, subject, payload, prev_hash, hash from audit_log where seq >= $1 order by seq limit $2',
        [expectedSeq, pageSize],
      );
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expectedSeq) return broken(expectedSeq, `entry ${expectedSeq} is missing (next is ${seq})`);
        if (row.prev_hash !== prevHash) {
          return broken(seq, `entry ${seq} does not point at the hash of entry ${seq - 1}`);
        }
        const keyed = row.hash.startsWith(KEYED_PREFIX);
        if (keyed) {
          firstKeyed ??= seq;
          if (!key) {
            return broken(
              seq,
              `entry ${seq} carries an HMAC (keyed chain) and no CHAOS_AUDIT_KEY was given: it cannot be checked`,
            );
          }
        } else if (firstKeyed !== undefined) {
          return broken(
            seq,
            `entry ${seq} has a plain hash after keyed entries (the chain was rewritten without the key)`,
          );
        }
        const recomputed = hashAuditEntry(chainEntry(seq, row, row.prev_hash), keyed ? key : undefined);
        if (recomputed !== row.hash) {
          return broken(
            seq,
            keyed
              ? `entry ${seq} does not match its HMAC (changed after it was written, or sealed under another key)`
              : `entry ${seq} was changed after it was written (hash mismatch)`,
          );
        }
        if (anchor && seq === anchor.seq) {
          if (row.hash !== anchor.hash) {
            return broken(
              seq,
              `entry ${seq} differs from the anchor kept outside the database (the chain was rewritten)`,
            );
          }
          anchorSeen = true;
        }
        prevHash = row.hash;
        expectedSeq = seq + 1;
        checked++;
      }
      if (rows.length < pageSize) break;
    }
    const headSeq = Number(head?.seq ?? 0);
    if (head && checked < headSeq) {
      return broken(
        checked + 1,
        `the chain head says ${headSeq} entries but ${checked} follow each other (entries after ${checked} were deleted)`,
      );
    }
    if (head && checked > headSeq) {
      return broken(headSeq + 1, `entry ${headSeq + 1} was added after the chain head (${headSeq} entries)`);
    }
    if (head && head.hash !== prevHash) {
      return broken(checked, `the last entry ${checked} does not match the chain head`);
    }
    if (anchor && anchor.seq > checked) {
      return broken(
        checked + 1,
        `the log ends at entry ${checked} but the anchor kept outside the database names entry ${anchor.seq}: entries ${checked + 1}–${anchor.seq} were removed and the head moved back`,
      );
    }
    if (anchor && anchor.seq === 0 && anchor.hash !== 'genesis') {
      return broken(1, 'the anchor names entry 0 with a hash other than genesis');
    }
    return { ok: true, entries: checked, head: prevHash, pending, checks: checks() };
  });
}
