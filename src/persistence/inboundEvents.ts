/**
 * The inbound-event ledger on SQL (both engines). Each operation is one transaction that reads the event's row under
 * a row lock, with the database's clock (the one clock every replica shares), asks src/domain/eventClaim.ts what to
 * do, and writes that. An absent row cannot be locked: it is inserted if still absent, and when a concurrent claimant
 * inserted it first (PostgreSQL waits for that transaction to end) the row is read again, locked, and the rule asked
 * again, so of two replicas claiming at once exactly one gets the event.
 */
import {
  type ClaimStep,
  claimStep,
  type EventClaim,
  type EventClaimRow,
  finishStep,
  releaseStep,
  renewStep,
} from '../domain/eventClaim.js';
import type { SqlDriver, SqlExecutor } from './driver.js';

interface LockedRow {
  now: Date | string;
  state: 'claimed' | 'done' | null;
  holder: string | null;
  lease_until: Date | string | null;
  seen_at: Date | string | null;
}

const epochMs = (value: Date | string): number => new Date(value).getTime();

async function readLocked(tx: SqlExecutor, source: string, key: string) {
  const [read] = await tx.query<LockedRow>(
    `with locked as materialized (
       select state, holder, lease_until, seen_at from inbound_events where source = $1 and event_id = $2 for update)
     select clock_timestamp() as now, locked.* from (values (1)) as one left join locked on true`,
    [source, key],
  );
  if (!read) throw new Error('inbound_events: the locking read returned no row');
  const row: EventClaimRow | undefined =
    read.state && read.seen_at
      ? {
          state: read.state,
          seenAt: epochMs(read.seen_at),
          ...(read.holder ? { holder: read.holder } : {}),
          ...(read.lease_until ? { leaseUntil: epochMs(read.lease_until) } : {}),
        }
      : undefined;
  return { row, now: epochMs(read.now) };
}

/** Applies one step of the claim rule to an event's row; see the module comment. */
async function applyStep<Outcome>(
  db: SqlDriver,
  source: string,
  key: string,
  step: (row: EventClaimRow | undefined, now: number) => ClaimStep<Outcome>,
): Promise<Outcome> {
  return db.transaction(async (tx) => {
    // Twice at most: the second read finds the row a concurrent claimant inserted, locked.
    for (let attempt = 0; attempt < 2; attempt++) {
      const { row, now } = await readLocked(tx, source, key);
      const { outcome, next } = step(row, now);
      if (next === 'keep') return outcome;
      if (next === 'delete') {
        await tx.execute('delete from inbound_events where source = $1 and event_id = $2', [source, key]);
        return outcome;
      }
      const values = [source, key, next.state, new Date(next.seenAt), next.holder ?? null, leaseOf(next)];
      if (row) {
        await tx.execute(
          `update inbound_events set state = $3, seen_at = $4, holder = $5, lease_until = $6
           where source = $1 and event_id = $2`,
          values,
        );
        return outcome;
      }
      const inserted = await tx.execute(
        `insert into inbound_events (source, event_id, state, seen_at, holder, lease_until)
         values ($1, $2, $3, $4, $5, $6) on conflict (source, event_id) do nothing`,
        values,
      );
      if (inserted > 0) return outcome;
    }
    throw new Error(`inbound_events: the row of ${source} ${key} changed twice while being claimed`);
  });
}

const leaseOf = (row: EventClaimRow): Date | null => (row.leaseUntil === undefined ? null : new Date(row.leaseUntil));

export function claimInboundEvent(
  db: SqlDriver,
  event: { source: string; key: string; holder: string; leaseMs: number; doneTtlMs: number },
): Promise<EventClaim> {
  const request = { holder: event.holder, leaseMs: event.leaseMs, doneTtlMs: event.doneTtlMs };
  return applyStep(db, event.source, event.key, (row, now) => claimStep(row, request, now));
}

export function renewInboundEvent(
  db: SqlDriver,
  event: { source: string; key: string; holder: string; leaseMs: number },
): Promise<boolean> {
  const request = { holder: event.holder, leaseMs: event.leaseMs };
  return applyStep(db, event.source, event.key, (row, now) => renewStep(row, request, now));
}

export function finishInboundEvent(db: SqlDriver, source: string, key: string, holder: string): Promise<boolean> {
  return applyStep(db, source, key, (row, now) => finishStep(row, holder, now));
}

export function releaseInboundEvent(db: SqlDriver, source: string, key: string, holder: string): Promise<boolean> {
  return applyStep(db, source, key, (row) => releaseStep(row, holder));
}
