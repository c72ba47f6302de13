/**
 * The chat-surface port: what the surface-independent command handling (and later the rollout guardian) needs from a
 * chat platform. Teams implements it in src/teams, Slack in src/slack. Nothing here imports a chat SDK; cards travel
 * as surface-neutral inputs (src/views view models) and each surface renders them (Adaptive Cards, Block Kit).
 */

import type { DirectoryLookup } from '../domain/decision.js';
import type { HelpCardInput } from '../views/cardViews.js';
import type { ChatCard } from '../views/chatCard.js';

export type SurfaceName = 'teams' | 'slack';

export interface ChatActor {
  /** Stable id on the surface: the Entra object id on Teams (else the channel account id), the Slack user id. */
  id: string;
  displayName?: string;
  surface: SurfaceName;
  /** Other ids of the same person (Teams channel account id, e-mail / UPN), used for separation of duties. */
  aliases?: string[];
  /** What the directory said when the surface looked the actor up (clicks on Approve); absent when nobody looked. */
  directory?: DirectoryLookup;
}

/** A thread (Teams: a channel reply chain or a chat; Slack: channel + thread_ts). `key` is opaque to callers. */
export interface ThreadRef {
  surface: SurfaceName;
  key: string;
}

/** A message the bot posted, so it can be edited later. */
export interface MessageRef {
  thread: ThreadRef;
  messageId: string;
}

export type { ChatCard };

/** A chat message: plain text (light markdown), a card, or a card with a text fallback. */
export type ChatMessage = { text: string; card?: undefined } | { card: ChatCard; text?: string };

export interface ChatSurface {
  readonly surface: SurfaceName;
  /** Posts a card into a thread and returns where it landed (for later updates). */
  postCard(thread: ThreadRef, card: ChatCard, fallbackText?: string): Promise<MessageRef>;
  /** Posts text or a card into a thread (proactively: no incoming message needed). */
  postInThread(thread: ThreadRef, message: ChatMessage): Promise<MessageRef>;
  /** Replaces a posted card in place, for everyone. */
  updateCard(message: MessageRef, card: ChatCard): Promise<void>;
  /**
   * Resolves a user's identity (display name, e-mail/UPN) in the context of a thread. `directory` on the answer says
   * whether the lookup found the user, found nobody, or failed (not cached, so the next call asks again); undefined
   * is "not found" for surfaces that say no more.
   */
  resolveUser(thread: ThreadRef, userId: string): Promise<ChatActor | undefined>;
}

// ---------------------------------------------------------------------------------------------------------------
// What a surface hands to the command handling

export type ConversationKind = 'channel' | 'group' | 'personal';

export interface IncomingAttachment {
  name?: string;
  contentType: string;
  /** Inline text content (JSON pasted as a file by some clients, or already downloaded by the surface). */
  text?: string;
}

export interface IncomingMessage {
  surface: SurfaceName;
  /** Text after the mention was removed. */
  text: string;
  actor: ChatActor;
  conversationKind: ConversationKind;
  /** The thread the message was said in; replies go there. */
  thread: ThreadRef;
  /** The conversation around the thread (Teams channel or chat id), for "the latest contract here". */
  conversationKey: string;
  attachments: IncomingAttachment[];
  /** Surface event id, for de-duplicating redeliveries. */
  eventId?: string;
  /**
   * false when the bot was not addressed (a Teams channel reply read without an @mention): in a contract thread it is
   * answered only when it asks something of the contract; people talking among themselves get no reply.
   */
  addressed?: boolean;
}

/** Replies within the turn of an incoming message. */
export interface Replier {
  reply(message: ChatMessage): Promise<MessageRef>;
}

export const CARD_VERBS = [
  'contract.approve',
  'contract.reject',
  'contract.negotiate',
  'contract.details',
  'rollout.rollback',
  'rollout.pause',
  'rollout.promote',
] as const;
export type CardVerb = (typeof CARD_VERBS)[number];

export interface CardActionInput {
  surface: SurfaceName;
  verb: CardVerb;
  /** The action's data as sent by the client (untrusted: validated by the handler). */
  data: unknown;
  actor: ChatActor;
  /** The card that was clicked. */
  message: MessageRef;
  conversationKind: ConversationKind;
  conversationKey: string;
}

/** How a surface answers a click. */
export type CardActionResult =
  /** Replace the clicked card for everyone. */
  | { kind: 'update'; card: ChatCard }
  /** Show this card to the clicker only (the message itself stays as it is for everyone else). */
  | { kind: 'private-card'; card: ChatCard }
  /** A short notice only the clicker sees; the card is unchanged. */
  | { kind: 'notice'; text: string };

/** What became of a message once its turn was answered. */
export interface MessageHandled {
  /**
   * Work the message started that goes on after the turn (a negotiation turn: the model answers in seconds). The
   * message is done, for redelivery, once this settles; it rejects when that work failed.
   */
  continuing?: Promise<void>;
}

/** What Teams and Slack depend on: messages and clicks in, cards and notices out; background work to wait for. */
export interface ChatPort {
  handleMessage(message: IncomingMessage, replier: Replier): Promise<MessageHandled>;
  handleAction(action: CardActionInput): Promise<CardActionResult>;
  /** The help card's content (install greetings, unknown commands). */
  help(intro?: string): HelpCardInput;
  readonly background: { run(label: string, task: () => Promise<void>): Promise<void>; idle(): Promise<void> };
}
