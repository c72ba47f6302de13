/**
 * At most one announcement per key (delivery id, deployment id, GitHub deployment): a key already in the ledger
 * answers with its contract, and concurrent deliveries of the same key share one in-flight announcement, so a
 * retried or doubly delivered request never posts a second card.
 */
import type { AnnouncementLedger, AnnounceResult, ContractStatus, DeploymentAnnouncer } from './port.js';

export interface OnceOutcome {
  contract: AnnounceResult | ContractStatus;
  /** True when the contract existed already (ledger hit or a concurrent delivery announced it). */
  duplicate: boolean;
}

const RECENT_LIMIT = 2_000;

export class AnnouncementOnce {
  /** Announcements in flight and the most recent finished ones, by key. */
  private readonly inFlight = new Map<string, Promise<AnnounceResult>>();

  constructor(
    private readonly ledger: AnnouncementLedger,
    private readonly announcer: DeploymentAnnouncer,
  ) {}

  /** The existing contract for any of `keys`, or undefined. */
  async existing(keys: readonly string[]): Promise<OnceOutcome | undefined> {
    for (const key of keys) {
      const pending = this.inFlight.get(key);
      if (pending) return { contract: await pending, duplicate: true };
    }
    for (const key of keys) {
      const contractId = await this.ledger.lookup(key);
      if (contractId === undefined) continue;
      const status = await this.announcer.status(contractId);
      // A ledger entry whose contract is gone (store reset) does not block a fresh announcement.
      if (status) return { contract: status, duplicate: true };
    }
    return undefined;
  }

  async run(keys: readonly string[], announce: () => Promise<AnnounceResult>): Promise<OnceOutcome> {
    const found = await this.existing(keys);
    if (found) return found;
    // Re-check synchronously: another delivery may have started while we awaited the ledger.
    for (const key of keys) {
      const pending = this.inFlight.get(key);
      if (pending) return { contract: await pending, duplicate: true };
    }
    const promise = (async () => {
      const result = await announce();
      for (const key of keys) await this.ledger.record(key, result.contractId);
      return result;
    })();
    for (const key of keys) {
      this.inFlight.delete(key);
      this.inFlight.set(key, promise);
    }
    try {
      return { contract: await promise, duplicate: false };
    } catch (error) {
      // A failed announcement may be retried; a successful one stays here (bounded) so a delivery that checked the
      // ledger just before it was recorded still finds it.
      for (const key of keys) if (this.inFlight.get(key) === promise) this.inFlight.delete(key);
      throw error;
    } finally {
      while (this.inFlight.size > RECENT_LIMIT) {
        const oldest = this.inFlight.keys().next();
        if (oldest.done) break;
        this.inFlight.delete(oldest.value);
      }
    }
  }
}
