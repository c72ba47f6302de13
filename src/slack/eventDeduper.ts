/**
 * Slack redelivers an Events API event (with `X-Slack-Retry-Num`) when it did not get a 200 within 3 s, or when the
 * first answer was lost: the same `event_id` then arrives again and must not be handled twice. Production passes the
 * store's durable `rememberEvent(source, id)` (shared by replicas and restarts); the in-memory one below serves tests
 * and single-process development.
 */

/** True the first time an id is seen for a source, false for every repeat. */
export type RememberEvent = (source: string, id: string) => Promise<boolean>;

export class MemoryEventDeduper {
  private readonly seen = new Map<string, number>();

  constructor(
    /** How long an id is remembered; Slack retries within minutes. */
    private readonly ttlMs = 60 * 60_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  readonly remember: RememberEvent = async (source, id) => {
    const key = `${source}\u0000${id}`;
    const at = this.now();
    const previous = this.seen.get(key);
    if (previous !== undefined && at - previous < this.ttlMs) return false;
    this.seen.delete(key);
    this.seen.set(key, at);
    this.evict(at);
    return true;
  };

  get size(): number {
    return this.seen.size;
  }

  private evict(at: number): void {
    // Entries are in insertion order, so the oldest come first.
    for (const [key, when] of this.seen) {
      if (this.seen.size <= this.maxEntries && at - when < this.ttlMs) break;
      this.seen.delete(key);
    }
  }
}
