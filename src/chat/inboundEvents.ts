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
import {
  type ClaimStep,
  claimStep,
  type EventClaim,
  type EventClaimRow,
  finishStep,
  releaseStep,
  renewStep,
} from '../domain/eventClaim.js';

export type { EventClaim } from '../domain/eventClaim.js';

/**
 * The store's side (both engines and the in-memory ledger), each following src/domain/eventClaim.ts: a claim names
 * its holder and lasts `leaseMs` unless renewed; only its holder renews it, marks it done or releases it.
 */
export interface InboundEventStore {
  claimEvent(source: string, key: string, holder: string, leaseMs: number): Promise<EventClaim>;
  /** The work goes on: the lease runs `leaseMs` from now. False when the claim is no longer `holder`'s. */
  renewEvent(source: string, key: string, holder: string, leaseMs: number): Promise<boolean>;
  /**
   * The work is stored: every later delivery is a duplicate (until the de-duplication TTL). False, and nothing
   * written, when the claim is no longer `holder`'s (another claimant took it over and does the work).
   */
  finishEvent(source: string, key: string, holder: string): Promise<boolean>;
  /** The work failed: a redelivery may claim the event at once (only the holder's own claim is removed). */
  releaseEvent(source: string, key: string, holder: string): Promise<boolean>;
}

/**
 * How long a claim keeps other replicas off an event after its holder was last heard from. The holder renews it
 * while the work runs (a negotiation turn may outlast it), so the lease is only how long a crashed claimant's event
 * waits: Slack retries at once, after 1 and after 5 minutes, so the retry after a minute redoes it.
 */
export const DEFAULT_EVENT_LEASE_MS = 30_000;

/** `continuing`: the turn is answered and its work goes on; the event is marked done when that work is. */
export type EventOutcome = 'done' | 'continuing' | 'duplicate' | 'in-progress';

/** What a message's work may leave running after its turn (src/chat/port.ts MessageHandled). */
export interface ContinuingWork {
  continuing?: Promise<void>;
}

/** Where a holder says it lost a claim or could not renew it (a pino logger fits). */
export interface ClaimLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

const silentLogger: ClaimLogger = { warn: () => undefined };

/** One process's view of the ledger: its own holder id, so only its claims are renewed, finished and released. */
export class InboundEvents {
  readonly holder: string;
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private readonly logger: ClaimLogger;

  constructor(
    private readonly store: InboundEventStore,
    options: { holder?: string; leaseMs?: number; renewEveryMs?: number; logger?: ClaimLogger } = {},
  ) {
    this.holder = options.holder ?? randomUUID();
    this.leaseMs = options.leaseMs ?? DEFAULT_EVENT_LEASE_MS;
    // A third of the lease: two renewals may fail or be late before another replica may take the event over.
    this.renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(this.leaseMs / 3));
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Runs `work` unless the event is done or claimed by someone else; marks it done once `work` resolves (it resolves
   * once its effects are stored) and releases the claim when it throws (the error propagates). Work that goes on
   * after the turn (`continuing`, a negotiation turn) is waited for in the background, the claim held meanwhile, and
   * the event is done when it settles: a crash before that leaves the claim to its lease, so a redelivery redoes the
   * turn; a failure is not redone, because the turn has told the thread (and a turn whose revision was stored before
   * its reply failed must not apply a relative change twice). A ledger write that fails leaves the claim to its lease.
   * The claim is renewed until the work settles; a claim lost meanwhile (renewals failed for a whole lease and
   * another replica took the event over) is neither renewed nor marked done by this holder any more.
   */
  async once(source: string, key: string, work: () => Promise<ContinuingWork | undefined>): Promise<EventOutcome> {
    const claim = await this.store.claimEvent(source, key, this.holder, this.leaseMs);
    if (claim === 'done') return 'duplicate';
    if (claim === 'busy') return 'in-progress';
    const renewal = this.keepClaimed(source, key);
    let continuing: Promise<void> | undefined;
    try {
      continuing = (await work())?.continuing;
    } catch (error) {
      renewal.stop();
      await this.store.releaseEvent(source, key, this.holder).catch(() => undefined);
      throw error;
    }
    if (!continuing) {
      await this.finish(source, key, renewal);
      return 'done';
    }
    void continuing
      .catch(() => undefined)
      .then(() => this.finish(source, key, renewal))
      .catch(() => undefined);
    return 'continuing';
  }

  private async finish(source: string, key: string, renewal: { stop(): void }): Promise<void> {
    renewal.stop();
    if (!(await this.store.finishEvent(source, key, this.holder))) {
      this.logger.warn(
        { source, key, holder: this.holder },
        'inbound event claim lost before its work was done: not marked done (its new holder finishes it)',
      );
    }
  }

  /** Renews the claim every `renewEveryMs` until stopped or lost; one renewal in flight at a time. */
  private keepClaimed(source: string, key: string): { stop(): void } {
    let inFlight = false;
    let stopped = false;
    const timer = setInterval(() => {
      if (inFlight || stopped) return;
      inFlight = true;
      this.store
        .renewEvent(source, key, this.holder, this.leaseMs)
        .then((held) => {
          // A renewal still in flight when the work settled may find the event done already: nothing was lost.
          if (held || stopped) return;
          clearInterval(timer);
          this.logger.warn(
            { source, key, holder: this.holder },
            'inbound event claim lost while its work ran: another replica took it over; renewals stopped',
          );
        })
        .catch((err: unknown) => {
          // The lease may still hold: the next renewal tries again.
          if (!stopped)
            this.logger.warn({ err, source, key, holder: this.holder }, 'inbound event claim could not be renewed');
        })
        .finally(() => {
          inFlight = false;
        });
    }, this.renewEveryMs);
    timer.unref();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}

/** The ledger in memory, for single-process development and tests: src/domain/eventClaim.ts on a map. */
export class MemoryInboundEventStore implements InboundEventStore {
  private readonly entries = new Map<string, EventClaimRow>();

  constructor(
    /** How long a done event is remembered (Slack retries within minutes). */
    private readonly ttlMs = 60 * 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claimEvent(source: string, key: string, holder: string, leaseMs: number): Promise<EventClaim> {
    return this.apply(source, key, (row, now) => claimStep(row, { holder, leaseMs, doneTtlMs: this.ttlMs }, now));
  }

  async renewEvent(source: string, key: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.apply(source, key, (row, now) => renewStep(row, { holder, leaseMs }, now));
  }

  async finishEvent(source: string, key: string, holder: string): Promise<boolean> {
    return this.apply(source, key, (row, now) => finishStep(row, holder, now));
  }

  async releaseEvent(source: string, key: string, holder: string): Promise<boolean> {
    return this.apply(source, key, (row) => releaseStep(row, holder));
  }

  get size(): number {
    return this.entries.size;
  }

  private apply<Outcome>(
    source: string,
    key: string,
    step: (row: EventClaimRow | undefined, now: number) => ClaimStep<Outcome>,
  ): Outcome {
    const id = `${source}\u0000${key}`;
    const now = this.now();
    const { outcome, next } = step(this.entries.get(id), now);
    if (next === 'delete') this.entries.delete(id);
    if (typeof next === 'object') {
      const renewed = next.seenAt === this.entries.get(id)?.seenAt;
      // A renewal keeps the entry's place; a new claim or a done event moves it to the end (newest).
      if (!renewed) this.entries.delete(id);
      this.entries.set(id, next);
      if (!renewed) this.evict(now);
    }
    return outcome;
  }

  private evict(at: number): void {
    // Entries are in insertion order, so the oldest come first.
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && at - entry.seenAt < this.ttlMs) break;
      this.entries.delete(id);
    }
  }
}
