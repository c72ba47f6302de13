/**
 * At-least-once inbound chat events. Teams and Slack redeliver a message (a lost or late answer, a retry after a
 * crash), and several replicas may receive the same redelivery. Before handling one, a replica claims the event in
 * the store (insert-if-absent with a lease): one claimant does the work; the others ignore it while the claim holds.
 * The event is marked done only once the work is stored, so a redelivery after a crash (the claim's lease ran out)
 * or a failure (the claim was released) does the unfinished work, and a redelivery of finished work is ignored.
 *
 * Keys are scoped as each platform makes ids unique: Teams activity ids per conversation, Slack event ids per
 * workspace (the surface is the ledger's `source`).
 */
import { randomUUID } from 'node:crypto';

/** `claimed`: this caller does the work; `done`: it was done; `busy`: another claimant is doing it now. */
export type EventClaim = 'claimed' | 'done' | 'busy';

/** The store's side (both engines and the in-memory ledger): a claim names its holder and lasts `leaseMs`. */
export interface InboundEventStore {
  claimEvent(source: string, key: string, holder: string, leaseMs: number): Promise<EventClaim>;
  /** The work is stored: every later delivery is a duplicate (until the de-duplication TTL). */
  finishEvent(source: string, key: string): Promise<void>;
  /** The work failed: a redelivery may claim the event at once (only the holder's own claim is removed). */
  releaseEvent(source: string, key: string, holder: string): Promise<void>;
}

/**
 * How long a claim keeps other replicas off an event. A chat turn's stored work (drafting, a pull-request read, one
 * transaction, one post) takes seconds; Slack retries at once, after 1 and after 5 minutes: a crashed claimant's
 * event is redone by the retry after a minute.
 */
export const DEFAULT_EVENT_LEASE_MS = 30_000;

/** `continuing`: the turn is answered and its work goes on; the event is marked done when that work is. */
export type EventOutcome = 'done' | 'continuing' | 'duplicate' | 'in-progress';

/** What a message's work may leave running after its turn (src/chat/port.ts MessageHandled). */
export interface ContinuingWork {
  continuing?: Promise<void>;
}

/** One process's view of the ledger: its own holder id, so only its claims are released. */
export class InboundEvents {
  readonly holder: string;
  private readonly leaseMs: number;

  constructor(
    private readonly store: InboundEventStore,
    options: { holder?: string; leaseMs?: number } = {},
  ) {
    this.holder = options.holder ?? randomUUID();
    this.leaseMs = options.leaseMs ?? DEFAULT_EVENT_LEASE_MS;
  }

  /**
   * Runs `work` unless the event is done or claimed by someone else; marks it done once `work` resolves (it resolves
   * once its effects are stored) and releases the claim when it throws (the error propagates). Work that goes on
   * after the turn (`continuing`, a negotiation turn) is waited for in the background, the claim held meanwhile, and
   * the event is done when it settles: a crash before that leaves the claim to its lease, so a redelivery redoes the
   * turn; a failure is not redone, because the turn has told the thread (and a turn whose revision was stored before
   * its reply failed must not apply a relative change twice). A ledger write that fails leaves the claim to its lease.
   */
  async once(source: string, key: string, work: () => Promise<ContinuingWork | undefined>): Promise<EventOutcome> {
    const claim = await this.store.claimEvent(source, key, this.holder, this.leaseMs);
    if (claim === 'done') return 'duplicate';
    if (claim === 'busy') return 'in-progress';
    let continuing: Promise<void> | undefined;
    try {
      continuing = (await work())?.continuing;
    } catch (error) {
      await this.store.releaseEvent(source, key, this.holder).catch(() => undefined);
      throw error;
    }
    if (!continuing) {
      await this.store.finishEvent(source, key);
      return 'done';
    }
    void continuing
      .catch(() => undefined)
      .then(() => this.store.finishEvent(source, key))
      .catch(() => undefined);
    return 'continuing';
  }
}

interface MemoryEntry {
  at: number;
  state: 'claimed' | 'done';
  holder?: string;
  leaseUntil?: number;
}

/** The ledger in memory, for single-process development and tests; the same rules as the SQL one. */
export class MemoryInboundEventStore implements InboundEventStore {
  private readonly entries = new Map<string, MemoryEntry>();

  constructor(
    /** How long a done event is remembered (Slack retries within minutes). */
    private readonly ttlMs = 60 * 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claimEvent(source: string, key: string, holder: string, leaseMs: number): Promise<EventClaim> {
    const id = `${source}\u0000${key}`;
    const at = this.now();
    const previous = this.entries.get(id);
    if (previous?.state === 'done' && at - previous.at < this.ttlMs) return 'done';
    if (previous?.state === 'claimed' && (previous.leaseUntil ?? 0) > at) return 'busy';
    this.entries.delete(id);
    this.entries.set(id, { at, state: 'claimed', holder, leaseUntil: at + leaseMs });
    this.evict(at);
    return 'claimed';
  }

  async finishEvent(source: string, key: string): Promise<void> {
    const id = `${source}\u0000${key}`;
    this.entries.delete(id);
    this.entries.set(id, { at: this.now(), state: 'done' });
  }

  async releaseEvent(source: string, key: string, holder: string): Promise<void> {
    const id = `${source}\u0000${key}`;
    const entry = this.entries.get(id);
    if (entry?.state === 'claimed' && entry.holder === holder) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(at: number): void {
    // Entries are in insertion order, so the oldest come first.
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && at - entry.at < this.ttlMs) break;
      this.entries.delete(id);
    }
  }
}
