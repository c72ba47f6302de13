/**
 * The one rule of an inbound chat event's claim (src/chat/inboundEvents.ts), whichever ledger keeps it: both SQL
 * engines read the row under a row lock with the database's clock and write what this returns; the in-memory ledger
 * does the same with its own clock. A claim is held by the holder it names for as long as it stays claimed; its lease
 * only says when someone else may take it over (its holder crashed or lost the database). So only the holder renews
 * it, marks it done or releases it, and a holder whose claim was taken over can do none of these.
 */

/** `claimed`: this caller does the work; `done`: it was done; `busy`: another claimant is doing it now. */
export type EventClaim = 'claimed' | 'done' | 'busy';

/** An event's row in the ledger; times in epoch milliseconds. */
export interface EventClaimRow {
  state: 'claimed' | 'done';
  /** When it was claimed or done (the de-duplication TTL counts from a done row's). */
  seenAt: number;
  holder?: string;
  leaseUntil?: number;
}

/** What the ledger does: write `next` (a new or replaced row), delete the row, or leave it as it is. */
export interface ClaimStep<Outcome> {
  outcome: Outcome;
  next: EventClaimRow | 'delete' | 'keep';
}

/** True while `holder`'s claim stands, lease run out or not, until someone else takes it over. */
export function holdsClaim(row: EventClaimRow | undefined, holder: string): boolean {
  return row?.state === 'claimed' && row.holder === holder;
}

/**
 * Before the work: an absent event, a claim whose lease ran out, or a done event past the de-duplication TTL is
 * claimed for `leaseMs`; a done event within it is a duplicate; a live claim is busy, even for its own holder (a
 * redelivery to the same replica is not run twice at once).
 */
export function claimStep(
  row: EventClaimRow | undefined,
  request: { holder: string; leaseMs: number; doneTtlMs: number },
  now: number,
): ClaimStep<EventClaim> {
  if (row?.state === 'done' && now - row.seenAt < request.doneTtlMs) return { outcome: 'done', next: 'keep' };
  if (row?.state === 'claimed' && (row.leaseUntil ?? 0) > now) return { outcome: 'busy', next: 'keep' };
  const next = { state: 'claimed', seenAt: now, holder: request.holder, leaseUntil: now + request.leaseMs } as const;
  return { outcome: 'claimed', next };
}

/** While the work runs: the holder extends its lease to `leaseMs` from now; false once its claim is not its own. */
export function renewStep(
  row: EventClaimRow | undefined,
  request: { holder: string; leaseMs: number },
  now: number,
): ClaimStep<boolean> {
  if (!row || !holdsClaim(row, request.holder)) return { outcome: false, next: 'keep' };
  return { outcome: true, next: { ...row, leaseUntil: now + request.leaseMs } };
}

/** The work is stored: the holder marks the event done; a claim taken over is left to its new holder (false). */
export function finishStep(row: EventClaimRow | undefined, holder: string, now: number): ClaimStep<boolean> {
  if (!holdsClaim(row, holder)) return { outcome: false, next: 'keep' };
  return { outcome: true, next: { state: 'done', seenAt: now } };
}

/** The work failed: the holder's claim is removed so a redelivery may take it at once; anyone else's is kept. */
export function releaseStep(row: EventClaimRow | undefined, holder: string): ClaimStep<boolean> {
  return holdsClaim(row, holder) ? { outcome: true, next: 'delete' } : { outcome: false, next: 'keep' };
}
