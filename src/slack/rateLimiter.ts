/**
 * Slack allows about one posted message per second per channel (https://docs.slack.dev/apis/web-api/rate-limits).
 * Every post goes through a per-channel queue that sends at most one message per interval. Text lines for the same
 * thread that pile up meanwhile (rollout alerts, negotiation replies) are COALESCED into one message, in order, up to
 * a size cap; a card is never merged and never overtaken by later lines of its thread. A 429 from the Web API pauses
 * the channel for its `retry-after` and the batch is sent again (picking up lines that arrived meanwhile).
 *
 * Edits (chat.update) are a different method with a different limit: they are not paced, but a newer edit of the same
 * message replaces one still waiting, so a status card edited ten times in a second is sent at most twice.
 */
import type { SlackBlock } from './blocks.js';
import { retryAfterSeconds, SlackSurfaceError } from './errors.js';

export interface OutgoingPost {
  channel: string;
  threadTs?: string;
  /** mrkdwn; the whole message when there are no blocks, the fallback otherwise. */
  text: string;
  blocks?: SlackBlock[];
  /** A text line that may share a message with other such lines of the same thread. */
  coalesce?: boolean;
}

export interface OutgoingUpdate {
  channel: string;
  ts: string;
  text: string;
  blocks?: SlackBlock[];
}

export interface PostedMessage {
  channel: string;
  ts: string;
  /** How many posts the message carried (1 unless lines were coalesced). */
  carried: number;
}

export interface ChannelRateLimiterOptions {
  post(post: OutgoingPost): Promise<{ ts: string }>;
  update(update: OutgoingUpdate): Promise<void>;
  /** Minimum time between two posts in one channel; default 1,000 ms. */
  intervalMs?: number;
  /** Largest coalesced message, in characters; default 3,500. */
  maxCoalescedChars?: number;
  /** Attempts per message when Slack answers 429; default 5. */
  maxAttempts?: number;
  /** Longest retry-after honoured before giving up on a message; default 120 s. */
  maxRetryAfterSeconds?: number;
  onRateLimited?: (info: {
    channel: string;
    method: 'chat.postMessage' | 'chat.update';
    retryAfterSeconds: number;
  }) => void;
}

interface QueuedPost {
  post: OutgoingPost;
  attempts: number;
  resolve(message: PostedMessage): void;
  reject(error: unknown): void;
}

interface ChannelState {
  queue: QueuedPost[];
  draining: boolean;
  /** Earliest time (ms epoch) the next post may start. */
  nextAt: number;
}

interface PendingUpdate {
  update: OutgoingUpdate;
  waiters: { resolve(): void; reject(error: unknown): void }[];
}

interface MessageUpdates {
  inFlight: Promise<void> | undefined;
  next: PendingUpdate | undefined;
}

export class ChannelRateLimiter {
  private readonly channels = new Map<string, ChannelState>();
  private readonly updates = new Map<string, MessageUpdates>();
  private readonly work = new Set<Promise<void>>();
  private readonly intervalMs: number;
  private readonly maxChars: number;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private closed = false;

  constructor(private readonly options: ChannelRateLimiterOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxChars = options.maxCoalescedChars ?? 3500;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxRetryAfterMs = (options.maxRetryAfterSeconds ?? 120) * 1000;
  }

  /** Queues a post; resolves with the message that carried it once it is sent. */
  post(post: OutgoingPost): Promise<PostedMessage> {
    if (this.closed)
      return Promise.reject(new SlackSurfaceError('slack_limiter_closed', 'the Slack sender is shut down'));
    return new Promise<PostedMessage>((resolve, reject) => {
      const state = this.channel(post.channel);
      state.queue.push({ post, attempts: 0, resolve, reject });
      if (!state.draining) this.track(this.drain(post.channel, state));
    });
  }

  /** Edits a message; a newer edit of the same message replaces one that has not started yet. */
  update(update: OutgoingUpdate): Promise<void> {
    if (this.closed)
      return Promise.reject(new SlackSurfaceError('slack_limiter_closed', 'the Slack sender is shut down'));
    const key = `${update.channel}:${update.ts}`;
    let entry = this.updates.get(key);
    if (!entry) {
      entry = { inFlight: undefined, next: undefined };
      this.updates.set(key, entry);
    }
    const slot = entry;
    return new Promise<void>((resolve, reject) => {
      if (slot.next) {
        slot.next.update = update;
        slot.next.waiters.push({ resolve, reject });
        return;
      }
      slot.next = { update, waiters: [{ resolve, reject }] };
      const previous = slot.inFlight ?? Promise.resolve();
      const run = previous.then(() => this.runUpdate(key, slot));
      slot.inFlight = run;
      this.track(run);
    });
  }

  /** How many posts wait in a channel's queue. */
  queued(channel: string): number {
    return this.channels.get(channel)?.queue.length ?? 0;
  }

  /** Resolves when every queued post and edit has been sent (or has failed). */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Refuses new work and waits for what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private channel(channel: string): ChannelState {
    let state = this.channels.get(channel);
    if (!state) {
      state = { queue: [], draining: false, nextAt: 0 };
      this.channels.set(channel, state);
    }
    return state;
  }

  private track(promise: Promise<void>): void {
    const tracked = promise.catch(() => undefined);
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  private async drain(channel: string, state: ChannelState): Promise<void> {
    state.draining = true;
    try {
      while (state.queue.length > 0) {
        const wait = state.nextAt - Date.now();
        if (wait > 0) await sleep(wait);
        const batch = this.takeBatch(state.queue);
        const message = mergePosts(batch.map((b) => b.post));
        state.nextAt = Date.now() + this.intervalMs;
        try {
          const { ts } = await this.options.post(message);
          // Slack counts a message when it arrives: the next one leaves a whole interval after this one was answered,
          // so no delay on the way can bring two arrivals closer than the interval.
          state.nextAt = Math.max(state.nextAt, Date.now() + this.intervalMs);
          for (const item of batch) item.resolve({ channel, ts, carried: batch.length });
        } catch (error) {
          const retryAfter = retryAfterSeconds(error);
          const attempts = Math.max(...batch.map((b) => ++b.attempts));
          if (retryAfter !== undefined && attempts < this.maxAttempts && retryAfter * 1000 <= this.maxRetryAfterMs) {
            this.options.onRateLimited?.({ channel, method: 'chat.postMessage', retryAfterSeconds: retryAfter });
            state.nextAt = Date.now() + Math.max(retryAfter * 1000, this.intervalMs);
            state.queue.unshift(...batch);
          } else {
            for (const item of batch) item.reject(error);
          }
        }
      }
    } finally {
      state.draining = false;
      // The pacing must survive an empty queue: forget the channel only once its next slot has come.
      if (state.queue.length === 0 && Date.now() >= state.nextAt) this.channels.delete(channel);
    }
  }

  /**
   * The head of the queue, plus — when it is a text line — the following lines of the same thread up to the size
   * cap. A card of that thread is a barrier (lines after it stay after it); other threads' posts are skipped over.
   */
  private takeBatch(queue: QueuedPost[]): QueuedPost[] {
    const head = queue.shift();
    if (!head) return [];
    if (!isCoalescible(head.post)) return [head];
    const batch = [head];
    let size = head.post.text.length;
    for (let i = 0; i < queue.length; ) {
      const item = queue[i] as QueuedPost;
      if (item.post.threadTs !== head.post.threadTs) {
        i++;
        continue;
      }
      if (!isCoalescible(item.post) || size + 1 + item.post.text.length > this.maxChars) break;
      size += 1 + item.post.text.length;
      batch.push(item);
      queue.splice(i, 1);
    }
    return batch;
  }

  private async runUpdate(key: string, slot: MessageUpdates): Promise<void> {
    const pending = slot.next;
    slot.next = undefined;
    if (!pending) return;
    let attempts = 0;
    try {
      for (;;) {
        try {
          await this.options.update(pending.update);
          for (const waiter of pending.waiters) waiter.resolve();
          return;
        } catch (error) {
          const retryAfter = retryAfterSeconds(error);
          attempts++;
          if (retryAfter === undefined || attempts >= this.maxAttempts || retryAfter * 1000 > this.maxRetryAfterMs) {
            for (const waiter of pending.waiters) waiter.reject(error);
            return;
          }
          this.options.onRateLimited?.({
            channel: pending.update.channel,
            method: 'chat.update',
            retryAfterSeconds: retryAfter,
          });
          await sleep(retryAfter * 1000);
        }
      }
    } finally {
      if (slot.next === undefined && this.updates.get(key) === slot) {
        // Only forget the slot once nothing is chained behind this run.
        queueMicrotask(() => {
          if (slot.next === undefined && this.updates.get(key) === slot) this.updates.delete(key);
        });
      }
    }
  }
}

function isCoalescible(post: OutgoingPost): boolean {
  return post.coalesce === true && (post.blocks === undefined || post.blocks.length === 0);
}

function mergePosts(posts: OutgoingPost[]): OutgoingPost {
  const [first] = posts;
  if (!first) throw new Error('empty batch');
  if (posts.length === 1) return first;
  return { ...first, text: posts.map((p) => p.text).join('\n') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
