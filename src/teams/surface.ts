/**
 * The Teams implementation of the chat-surface port. Proactive posts and edits go through the CloudAdapter's
 * continueConversationAsync with the conversation reference stored for the thread, so they work after a restart and
 * from any replica. Cards are rendered to Adaptive Cards here; the port itself knows no Teams types.
 */

import {
  type Activity,
  CardFactory,
  type CloudAdapter,
  type ConversationReference,
  TeamsInfo,
  type TurnContext,
} from 'botbuilder';
import { type AdaptiveCardJson, renderChatCard } from '../cards/index.js';
import type { ChatActor, ChatCard, ChatMessage, ChatSurface, MessageRef, ThreadRef } from '../chat/port.js';
import type { ReplyStream, StreamingSurface } from '../chat/replyStream.js';
import type { AreaCode, CodedError } from '../errors.js';
import { openTeamsReply } from './replyStream.js';

/** Conversation references by key (src/store provides it). */
export interface ReferenceStore {
  saveConversationRef(surface: 'teams', key: string, ref: unknown): Promise<void>;
  getConversationRef(surface: 'teams', key: string): Promise<unknown | undefined>;
}

export class TeamsSurfaceError extends Error implements CodedError {
  readonly code: AreaCode<'teams'>;
  constructor(code: TeamsSurfaceError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TeamsSurfaceError';
    this.code = code;
  }
}

const CACHE_LIMIT = 5000;
const USER_CACHE_MS = 10 * 60_000;
const RESOLVE_TIMEOUT_MS = 1500;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export class TeamsSurface implements ChatSurface, StreamingSurface {
  readonly surface = 'teams' as const;
  /**
   * thread key → the reference as last stored by this process and its JSON: unchanged references are not written
   * again, and proactive sends into a thread this process has seen need no store read.
   */
  private readonly references = new Map<string, { reference: Partial<ConversationReference>; json: string }>();
  private readonly users = new Map<string, { actor: ChatActor; expires: number }>();

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly refs: ReferenceStore,
    /** '' without authentication; the bot's app id (or managed identity client id) with it. */
    private readonly botAppId: string,
  ) {}

  /** Stores the reference of a thread (from an incoming activity) unless the same one is already stored. */
  async rememberThread(threadKey: string, activity: Partial<Activity>): Promise<void> {
    const reference = threadReference(activity, threadKey);
    const json = JSON.stringify(reference);
    if (this.references.get(threadKey)?.json === json) return;
    await this.refs.saveConversationRef('teams', refKey(threadKey), reference);
    this.remember(threadKey, { reference, json });
  }

  async postCard(thread: ThreadRef, card: ChatCard, fallbackText?: string): Promise<MessageRef> {
    return this.postInThread(thread, { card, ...(fallbackText ? { text: fallbackText } : {}) });
  }

  async postInThread(thread: ThreadRef, message: ChatMessage): Promise<MessageRef> {
    const activity = toActivity(message);
    let messageId = '';
    await this.continueIn(thread, async (context) => {
      const response = await context.sendActivity(activity);
      messageId = response?.id ?? '';
    });
    // A send that came back without an id did not land (or cannot be edited later): the caller sees it and retries.
    if (messageId === '')
      throw new TeamsSurfaceError('teams_send_failed', `a post into thread ${thread.key} returned no id`);
    return { thread, messageId };
  }

  /** A reply still being written: streamed in a personal chat, a typing indicator elsewhere (./replyStream.ts). */
  openReply(thread: ThreadRef, onError: (error: unknown) => void = () => undefined): ReplyStream {
    return openTeamsReply(
      {
        continueIn: (t, logic) => this.continueIn(t, logic),
        postInThread: (t, message) => this.postInThread(t, message),
        isPersonal: async (t) => (await this.referenceOf(t))?.conversation?.conversationType === 'personal',
        toActivity,
      },
      thread,
      onError,
    );
  }

  async updateCard(message: MessageRef, card: ChatCard): Promise<void> {
    await this.replaceCard(message, renderChatCard(card));
  }

  /** updateCard with a card already rendered (the click handler has rendered it for the invoke response). */
  async replaceCard(message: MessageRef, card: AdaptiveCardJson): Promise<void> {
    const activity = cardActivity(card);
    await this.continueIn(message.thread, async (context) => {
      await context.updateActivity({ ...activity, id: message.messageId });
    });
  }

  /**
   * Looks the user up in the conversation roster (display name, e-mail, UPN), bounded by a short timeout: it runs
   * inside click handlers, which must answer within Teams' budget. An answer (found or not a member) is cached for ten
   * minutes; a failed or timed-out lookup is not, so the next click asks again. The result's `directory` says which.
   */
  async resolveUser(thread: ThreadRef, userId: string): Promise<ChatActor> {
    const cached = this.users.get(userId);
    if (cached && cached.expires > Date.now()) return cached.actor;
    let actor: ChatActor;
    try {
      actor = await withTimeout(this.lookUpMember(thread, userId), RESOLVE_TIMEOUT_MS);
    } catch {
      return { id: userId, surface: 'teams', directory: 'failed' };
    }
    if (this.users.size >= CACHE_LIMIT) this.users.clear();
    this.users.set(userId, { actor, expires: Date.now() + USER_CACHE_MS });
    return actor;
  }

  private async lookUpMember(thread: ThreadRef, userId: string): Promise<ChatActor> {
    let actor: ChatActor = { id: userId, surface: 'teams', directory: 'not_found' };
    try {
      await this.continueIn(thread, async (context) => {
        const member = await TeamsInfo.getMember(context, userId);
        const id = member.aadObjectId || member.id;
        const aliases = [member.id, member.email, member.userPrincipalName].filter(
          (v): v is string => typeof v === 'string' && v !== '' && v !== id,
        );
        actor = {
          id,
          surface: 'teams',
          ...(member.name ? { displayName: member.name } : {}),
          ...(aliases.length > 0 ? { aliases } : {}),
          directory: 'resolved',
        };
      });
    } catch (error) {
      // The connector's 404 is an answer (not a member of this conversation); anything else is a failed lookup.
      if ((error as { statusCode?: unknown }).statusCode === 404) return actor;
      throw error;
    }
    return actor;
  }

  private async referenceOf(thread: ThreadRef): Promise<Partial<ConversationReference> | undefined> {
    const stored =
      this.references.get(thread.key)?.reference ?? (await this.refs.getConversationRef('teams', refKey(thread.key)));
    return isReference(stored) ? stored : undefined;
  }

  private async continueIn(thread: ThreadRef, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const stored = await this.referenceOf(thread);
    if (!stored) {
      throw new TeamsSurfaceError(
        'teams_no_conversation_reference',
        `no conversation reference stored for thread ${thread.key}`,
      );
    }
    await this.adapter.continueConversationAsync(this.botAppId, stored, logic);
  }

  private remember(key: string, entry: { reference: Partial<ConversationReference>; json: string }): void {
    this.references.delete(key);
    if (this.references.size >= CACHE_LIMIT) {
      const oldest = this.references.keys().next().value;
      if (oldest !== undefined) this.references.delete(oldest);
    }
    this.references.set(key, entry);
  }
}

function refKey(threadKey: string): string {
  return `ref:${threadKey}`;
}

/** The conversation reference of a thread: the activity's, pointed at the thread's conversation id. */
export function threadReference(activity: Partial<Activity>, threadKey: string): Partial<ConversationReference> {
  const conversation = activity.conversation;
  return {
    channelId: activity.channelId ?? 'msteams',
    serviceUrl: activity.serviceUrl ?? '',
    ...(activity.recipient ? { bot: { id: activity.recipient.id, name: activity.recipient.name } } : {}),
    conversation: {
      id: threadKey,
      isGroup: conversation?.isGroup ?? false,
      conversationType: conversation?.conversationType ?? 'personal',
      name: conversation?.name ?? '',
      ...(conversation?.tenantId ? { tenantId: conversation.tenantId } : {}),
    },
    ...(activity.locale ? { locale: activity.locale } : {}),
  };
}

function isReference(value: unknown): value is Partial<ConversationReference> {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { serviceUrl?: unknown; conversation?: { id?: unknown } };
  return typeof v.serviceUrl === 'string' && v.serviceUrl !== '' && typeof v.conversation?.id === 'string';
}

/** A message activity for a ChatMessage: text, or an Adaptive Card with the text as its summary. */
export function toActivity(message: ChatMessage): Partial<Activity> {
  if (!message.card) return { type: 'message', text: message.text, textFormat: 'markdown' };
  return cardActivity(renderChatCard(message.card), message.text);
}

function cardActivity(card: AdaptiveCardJson, summary?: string): Partial<Activity> {
  return { type: 'message', attachments: [CardFactory.adaptiveCard(card)], ...(summary ? { summary } : {}) };
}
