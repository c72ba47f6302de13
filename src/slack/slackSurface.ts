/**
 * The Slack implementation of the chat-surface port, over the Web API: `chat.postMessage` (threaded with
 * `thread_ts`), `chat.update` for edits in place, `chat.postEphemeral` for what only the clicker should see,
 * `views.open` for modals and `users.info` for names. Posts and edits go through the per-channel rate limiter.
 *
 * The client rejects rate-limited calls instead of sleeping inside the SDK, so the limiter sees the 429 and its
 * `retry-after`, pauses that channel and coalesces what piles up meanwhile.
 */

import type { types } from '@slack/bolt';
import { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { ChatActor, ChatCard, ChatMessage, ChatSurface, MessageRef, ThreadRef } from '../chat/port.js';
import type { ReplyStream, StreamingSurface } from '../chat/replyStream.js';
import { renderSlackMessage, type SlackMessageContent } from './blocks.js';
import { platformErrorCode, SlackSurfaceError } from './errors.js';
import { clip, markdownToMrkdwn } from './mrkdwn.js';
import { ChannelRateLimiter, type ChannelRateLimiterOptions, type OutgoingPost } from './rateLimiter.js';
import { openSlackReply } from './replyStream.js';
import { parseThreadKey, slackThread } from './threads.js';

export type SlackWebClient = webApi.WebClient;
export type SlackClientOptions = webApi.WebClientOptions;

export interface SlackSurfaceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CreateSlackSurfaceOptions {
  botToken: string;
  /** Web API client options (tests: `slackApiUrl` of a local fake and `retryConfig: { retries: 0 }`). */
  clientOptions?: SlackClientOptions;
  limiter?: Pick<
    ChannelRateLimiterOptions,
    'intervalMs' | 'maxCoalescedChars' | 'maxAttempts' | 'maxRetryAfterSeconds'
  >;
  logger?: SlackSurfaceLogger;
}

/** Network errors are retried a few times within seconds, not the SDK's default of ten times over thirty minutes. */
const DEFAULT_RETRY: webApi.RetryOptions = { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TEXT = 3900;
const USER_CACHE_MS = 10 * 60_000;
const USER_CACHE_LIMIT = 5000;
const RESOLVE_TIMEOUT_MS = 1500;

export function createSlackSurface(options: CreateSlackSurfaceOptions): SlackSurface {
  if (!options.botToken)
    throw new SlackSurfaceError('slack_invalid_configuration', 'a Slack bot token (xoxb-…) is required');
  const clientOptions: SlackClientOptions = {
    retryConfig: DEFAULT_RETRY,
    timeout: DEFAULT_TIMEOUT_MS,
    ...options.clientOptions,
    rejectRateLimitedCalls: true,
  };
  const client = new webApi.WebClient(options.botToken, clientOptions);
  return new SlackSurface(client, clientOptions, options.limiter, options.logger);
}

const usersInfoSchema = z.object({
  user: z
    .object({
      id: z.string(),
      name: z.string().optional(),
      real_name: z.string().optional(),
      profile: z
        .object({
          display_name: z.string().optional(),
          real_name: z.string().optional(),
          email: z.string().optional(),
        })
        .partial()
        .optional(),
    })
    .passthrough(),
});

export class SlackSurface implements ChatSurface, StreamingSurface {
  readonly surface = 'slack' as const;
  readonly limiter: ChannelRateLimiter;
  private readonly users = new Map<string, { actor: ChatActor; expires: number }>();

  constructor(
    readonly client: SlackWebClient,
    /** The options the client was built with, for Bolt's own client. */
    readonly clientOptions: SlackClientOptions,
    limiterOptions: CreateSlackSurfaceOptions['limiter'] = {},
    private readonly log?: SlackSurfaceLogger,
  ) {
    this.limiter = new ChannelRateLimiter({
      ...limiterOptions,
      post: (post) => this.send(post),
      update: async (update) => {
        await this.client.chat.update({
          channel: update.channel,
          ts: update.ts,
          text: update.text,
          ...(update.blocks ? { blocks: update.blocks } : { blocks: [] }),
        });
      },
      onRateLimited: (info) => this.log?.warn(info, 'Slack rate limit: waiting for retry-after'),
    });
  }

  async postCard(thread: ThreadRef, card: ChatCard, fallbackText?: string): Promise<MessageRef> {
    return this.postInThread(thread, { card, ...(fallbackText ? { text: fallbackText } : {}) });
  }

  async postInThread(thread: ThreadRef, message: ChatMessage): Promise<MessageRef> {
    const where = parseThreadKey(thread.key);
    const content = toContent(message);
    const posted = await this.limiter.post({
      channel: where.channel,
      ...(where.threadTs ? { threadTs: where.threadTs } : {}),
      text: content.text,
      ...(message.card ? { blocks: content.blocks } : { coalesce: true }),
    });
    // Posting into the channel itself starts a thread at the new message.
    const landed = where.threadTs ? thread : slackThread(where.channel, posted.ts);
    return { thread: landed, messageId: posted.ts };
  }

  /** A reply still being written: a placeholder edited as the answer arrives (./replyStream.ts). */
  openReply(thread: ThreadRef, onError: (error: unknown) => void = () => undefined): ReplyStream {
    return openSlackReply(
      {
        postAlone: async (t, text) => {
          const where = parseThreadKey(t.key);
          const posted = await this.limiter.post({
            channel: where.channel,
            ...(where.threadTs ? { threadTs: where.threadTs } : {}),
            text,
          });
          return { thread: where.threadTs ? t : slackThread(where.channel, posted.ts), messageId: posted.ts };
        },
        edit: async (ref, message) => {
          const content = toContent(message);
          await this.limiter.update({
            channel: parseThreadKey(ref.thread.key).channel,
            ts: ref.messageId,
            text: content.text,
            ...(content.blocks.length > 0 ? { blocks: content.blocks } : {}),
          });
        },
        postInThread: (t, message) => this.postInThread(t, message),
      },
      thread,
      onError,
    );
  }

  async updateCard(message: MessageRef, card: ChatCard): Promise<void> {
    const { channel } = parseThreadKey(message.thread.key);
    if (!message.messageId) throw new SlackSurfaceError('slack_update_failed', 'the message to update has no ts');
    const content = renderSlackMessage(card);
    await this.limiter.update({ channel, ts: message.messageId, text: content.text, blocks: content.blocks });
  }

  /** A message only `user` sees, in the channel (and thread) given. Cards are rendered without buttons. */
  async postEphemeral(channel: string, user: string, message: ChatMessage, threadTs?: string): Promise<void> {
    const content = toContent(message, { interactive: false });
    await this.client.chat.postEphemeral({
      channel,
      user,
      text: content.text,
      ...(message.card ? { blocks: content.blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
  }

  async openModal(triggerId: string, view: types.ModalView): Promise<void> {
    await this.client.views.open({ trigger_id: triggerId, view });
  }

  /**
   * Display name and e-mail of a Slack user (users:read, users:read.email), bounded by a short timeout: it runs inside
   * click handling. An answer is cached for ten minutes; a failed or timed-out lookup is not (the next click asks
   * again), and comes back with `directory: 'failed'` so separation of duties fails closed.
   */
  async resolveUser(_thread: ThreadRef | undefined, userId: string): Promise<ChatActor> {
    const cached = this.users.get(userId);
    if (cached && cached.expires > Date.now()) return cached.actor;
    let actor: ChatActor;
    try {
      actor = await withTimeout(this.lookUp(userId), RESOLVE_TIMEOUT_MS);
    } catch (error) {
      if (platformErrorCode(error) !== 'user_not_found') {
        this.log?.warn({ err: error, userId }, 'could not look up a Slack user');
        return { id: userId, surface: 'slack', directory: 'failed' };
      }
      actor = { id: userId, surface: 'slack', directory: 'not_found' };
    }
    if (this.users.size >= USER_CACHE_LIMIT) this.users.clear();
    this.users.set(userId, { actor, expires: Date.now() + USER_CACHE_MS });
    return actor;
  }

  /** Waits until every queued post and edit has been sent. */
  idle(): Promise<void> {
    return this.limiter.idle();
  }

  close(): Promise<void> {
    return this.limiter.close();
  }

  private async lookUp(userId: string): Promise<ChatActor> {
    const result = usersInfoSchema.safeParse(await this.client.users.info({ user: userId }));
    if (!result.success)
      throw new SlackSurfaceError('slack_lookup_failed', 'users.info answered in an unexpected shape');
    const user = result.data.user;
    const name = user.profile?.display_name || user.profile?.real_name || user.real_name || user.name;
    const email = user.profile?.email;
    return {
      id: user.id,
      surface: 'slack',
      ...(name ? { displayName: name } : {}),
      ...(email ? { aliases: [email] } : {}),
      // Without users:read.email the answer has no e-mail: the author cannot be told apart, as with no answer.
      directory: email ? 'resolved' : 'not_found',
    };
  }

  private async send(post: OutgoingPost): Promise<{ ts: string }> {
    const result = await this.client.chat.postMessage({
      channel: post.channel,
      text: post.text,
      ...(post.blocks ? { blocks: post.blocks } : {}),
      ...(post.threadTs ? { thread_ts: post.threadTs } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    if (typeof result.ts !== 'string' || result.ts === '') {
      throw new SlackSurfaceError('slack_post_failed', `chat.postMessage in ${post.channel} returned no ts`);
    }
    return { ts: result.ts };
  }
}

/** A chat message as Slack content: a card's blocks (with the message text as fallback) or mrkdwn text. */
export function toContent(message: ChatMessage, options: { interactive?: boolean } = {}): SlackMessageContent {
  if (message.card) return renderSlackMessage(message.card, options, message.text);
  return { text: clip(markdownToMrkdwn(message.text), MAX_TEXT), blocks: [] };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
