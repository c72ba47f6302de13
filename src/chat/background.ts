/**
 * Work that continues after a chat turn was answered (negotiation turns, proactive posts): tracked so shutdown and
 * tests can wait for it, with failures reported instead of lost; and a per-key queue so two turns on the same
 * contract never race to write the same revision.
 */
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly onError: (error: unknown, label: string) => void) {}

  /**
   * Starts `task`; a failure is reported to onError. The returned promise settles as the task does (a caller may
   * ignore it: its rejection is handled here).
   */
  run(label: string, task: () => Promise<void>): Promise<void> {
    const outcome = Promise.resolve().then(task);
    const promise = outcome
      .catch((error: unknown) => this.onError(error, label))
      .finally(() => {
        this.pending.delete(promise);
      });
    this.pending.add(promise);
    return outcome;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves once no task is pending (tasks started meanwhile are waited for too). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of the same key has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
