/**
 * The append-only audit log. Each entry carries the hash of the one before it; the chain head row is locked for
 * every append, so several replicas write one linear chain. Editing or deleting a row breaks the chain at that
 * entry, and verifyAuditChain names it.
 */
import { createHash } from 'node:crypto';
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

export function hashAuditEntry(entry: Omit<StoredAuditEntry, 'hash'>): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        seq: entry.seq,
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        payload: entry.payload,
        prev: entry.prevHash,
      }),
    )
    .digest('hex');
}

/** Appends within the caller's transaction. */
export async function appendAudit(tx: SqlExecutor, record: AuditRecord): Promise<StoredAuditEntry> {
  const [head] = await tx.query<{ seq: string | number; hash: string }>(
    'select seq, hash from audit_head where id = 1 for update',
  );
  if (!head) throw new Error('audit chain head is missing');
  // JSON round trip so the hash covers exactly what jsonb gives back (no undefined, no class instances).
  const payload = JSON.parse(JSON.stringify(record.payload)) as Record<string, unknown>;
  const entry = {
    seq: Number(head.seq) + 1,
    at: record.at.toISOString(),
    actor: record.actor,
    action: record.action,
    subject: record.subject ?? null,
    payload,
    prevHash: head.hash,
  };
  const hash = hashAuditEntry(entry);
  await tx.query(
    `insert into audit_log (seq, at, actor, action, subject, payload, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [entry.seq, entry.at, entry.actor, entry.action, entry.subject, JSON.stringify(payload), entry.prevHash, hash],
  );
  await tx.query('update audit_head set seq = $1, hash = $2 where id = 1', [entry.seq, hash]);
  return { ...entry, hash };
}

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; brokenAt: number; reason: string };

/** Walks the chain in pages from the first entry; names the first entry that does not fit. */
export async function verifyAuditChain(driver: SqlDriver, pageSize = 2_000): Promise<AuditVerification> {
  let expectedSeq = 1;
  let prevHash = 'genesis';
  let checked = 0;
  for (;;) {
    const rows = await driver.query<{
      seq: string | number;
      at: string;
      actor: string;
      action: string;
      subject: string | null;
      payload: Record<string, unknown>;
      prev_hash: string;
      hash: string;
    }>('select * from audit_log where seq >= $1 order by seq limit $2', [expectedSeq, pageSize]);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        return {
          ok: false,
          entries: checked,
          brokenAt: expectedSeq,
          reason: `entry ${expectedSeq} is missing (next is ${seq})`,
        };
      }
      if (row.prev_hash !== prevHash) {
        return {
          ok: false,
          entries: checked,
          brokenAt: seq,
          reason: `entry ${seq} does not point at the hash of entry ${seq - 1}`,
        };
      }
      const recomputed = hashAuditEntry({
        seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        subject: row.subject,
        payload: row.payload,
        prevHash: row.prev_hash,
      });
      if (recomputed !== row.hash) {
        return {
          ok: false,
          entries: checked,
          brokenAt: seq,
          reason: `entry ${seq} was changed after it was written (hash mismatch)`,
        };
      }
      prevHash = row.hash;
      expectedSeq = seq + 1;
      checked++;
    }
    if (rows.length < pageSize) break;
  }
  const [head] = await driver.query<{ seq: string | number; hash: string }>(
    'select seq, hash from audit_head where id = 1',
  );
  if (head && Number(head.seq) !== checked) {
    return {
      ok: false,
      entries: checked,
      brokenAt: checked + 1,
      reason: `the chain head says ${head.seq} entries but ${checked} follow each other (entries after ${checked} were deleted)`,
    };
  }
  if (head && head.hash !== prevHash) {
    return {
      ok: false,
      entries: checked,
      brokenAt: checked,
      reason: `the last entry ${checked} does not match the chain head`,
    };
  }
  return { ok: true, entries: checked, head: prevHash };
}
