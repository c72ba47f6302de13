/**
 * Clicks go ahead of message turns. A click (an Adaptive Card invoke) must be answered within Teams' 5 s budget and
 * a person is waiting on it; a message turn (assess, negotiate) posts its answer whenever it is ready. Node runs one
 * thing at a time, so the lever is when message turns start: a message turn starts only while no click is being
 * handled and fewer than `maxMessages` message turns run; clicks never wait. A message turn that has waited
 * `maxWaitMs` starts anyway, so a steady stream of clicks cannot starve messages.
 */
export interface TurnSchedulerOptions {
  /** Message turns running at once; default 8. */
  maxMessages?: number;
  /** Longest wait of a message turn behind clicks, in ms; default 250. */
  maxWaitMs?: number;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export class TurnScheduler {
  private clicks = 0;
  private messages = 0;
  private readonly waiting: Waiter[] = [];
  private readonly maxMessages: number;
  private readonly maxWaitMs: number;

  constructor(options: TurnSchedulerOptions = {}) {
    this.maxMessages = options.maxMessages ?? 8;
    this.maxWaitMs = options.maxWaitMs ?? 250;
  }

  /** Message turns waiting to start. */
  get queued(): number {
    return this.waiting.length;
  }

  async click<T>(work: () => Promise<T>): Promise<T> {
    this.clicks += 1;
    try {
      return await work();
    } finally {
      this.clicks -= 1;
      this.startWaiting();
    }
  }

  async message<T>(work: () => Promise<T>): Promise<T> {
    if (this.waiting.length === 0 && this.mayStart()) this.messages += 1;
    else await this.enqueue();
    try {
      return await work();
    } finally {
      this.messages -= 1;
      this.startWaiting();
    }
  }

  private mayStart(): boolean {
    return this.clicks === 0 && this.messages < this.maxMessages;
  }

  private enqueue(): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.messages += 1;
          resolve();
        },
        // Waited long enough: start even behind clicks (still within the message limit when possible).
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          waiter.start();
        }, this.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.mayStart()) this.waiting.shift()?.start();
  }
}
