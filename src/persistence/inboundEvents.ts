/**
 * The inbound-event ledger on SQL (both engines): a claim is one insert-if-absent that also takes over a claim whose
 * lease ran out (its claimant crashed) or a done row past the de-duplication TTL. PostgreSQL locks the conflicting
 * row for the `on conflict … do update … where`, so of two replicas claiming at once exactly one gets the row. Leases
 * run on the database's clock, the one clock every replica shares.
 */
import type { EventClaim } from '../chat/inboundEvents.js';
import type { SqlExecutor } from './driver.js';

export async function claimInboundEvent(
  db: SqlExecutor,
  event: { source: string; key: string; holder: string; leaseMs: number; doneBefore: Date },
): Promise<EventClaim> {
  // Twice at most: the row seen by the second statement may have been released in between.
  for (let attempt = 0; attempt < 2; attempt++) {
    const claimed = await db.query(
      `insert into inbound_events as e (source, event_id, seen_at, state, holder, lease_until)
       values ($1, $2, $3, 'claimed', $4, now() + $5::integer * interval '1 millisecond')
       on conflict (source, event_id) do update
         set seen_at = excluded.seen_at, state = 'claimed', holder = excluded.holder, lease_until = excluded.lease_until
         where (e.state = 'claimed' and e.lease_until <= now()) or (e.state = 'done' and e.seen_at < $6)
       returning 1`,
      [event.source, event.key, new Date(), event.holder, Math.round(event.leaseMs), event.doneBefore],
    );
    if (claimed.length > 0) return 'claimed';
    const [row] = await db.query<{ state: 'claimed' | 'done' }>(
      'select state from inbound_events where source = $1 and event_id = $2',
      [event.source, event.key],
    );
    if (row) return row.state === 'done' ? 'done' : 'busy';
  }
  return 'busy';
}

export async function finishInboundEvent(db: SqlExecutor, source: string, key: string): Promise<void> {
  await db.query(
    `insert into inbound_events (source, event_id, seen_at, state) values ($1, $2, $3, 'done')
     on conflict (source, event_id) do update set seen_at = excluded.seen_at, state = 'done', holder = null,
       lease_until = null`,
    [source, key, new Date()],
  );
}

export async function releaseInboundEvent(db: SqlExecutor, source: string, key: string, holder: string) {
  await db.query(
    `delete from inbound_events where source = $1 and event_id = $2 and state = 'claimed' and holder = $3`,
    [source, key, holder],
  );
}
