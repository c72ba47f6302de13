/**
 * Reading Teams activities into the chat port's vocabulary: who is speaking, which thread, which conversation.
 *
 * Threads: in a channel, a reply chain's conversation id is `<channelConversationId>;messageid=<rootActivityId>`;
 * that full id is the thread key (replies and proactive posts into it land in the chain). In personal and group
 * chats the conversation id is the thread key, and the conversation key is the same.
 */
import type { Activity } from 'botbuilder';
import type { ChatActor, ConversationKind, IncomingAttachment } from '../chat/port.js';

const MESSAGE_ID_SUFFIX = /;messageid=[^;]+$/i;

export function conversationKindOf(activity: Partial<Activity>): ConversationKind {
  const type = activity.conversation?.conversationType;
  if (type === 'channel') return 'channel';
  if (type === 'groupChat' || activity.conversation?.isGroup === true) return 'group';
  return 'personal';
}

/** The conversation without any reply-chain suffix. */
export function conversationKeyOf(activity: Partial<Activity>): string {
  return (activity.conversation?.id ?? '').replace(MESSAGE_ID_SUFFIX, '');
}

/** The thread a message was said in, or undefined for a channel root (the thread starts at the bot's reply). */
export function threadKeyOf(activity: Partial<Activity>): string | undefined {
  const id = activity.conversation?.id ?? '';
  if (conversationKindOf(activity) !== 'channel') return id;
  return MESSAGE_ID_SUFFIX.test(id) ? id : undefined;
}

/** The reply chain a root post starts in a channel. */
export function channelThreadKey(channelConversationId: string, rootActivityId: string): string {
  return `${channelConversationId.replace(MESSAGE_ID_SUFFIX, '')};messageid=${rootActivityId}`;
}

/** The speaker: Entra object id when Teams gives one (approver lists use it), else the channel account id. */
export function actorOf(activity: Partial<Activity>): ChatActor {
  const from = activity.from;
  const aad = typeof from?.aadObjectId === 'string' && from.aadObjectId !== '' ? from.aadObjectId : undefined;
  const channelId = typeof from?.id === 'string' ? from.id : '';
  const id = aad ?? channelId;
  const aliases = aad && channelId && channelId !== aad ? [channelId] : [];
  return {
    id,
    surface: 'teams',
    ...(typeof from?.name === 'string' && from.name !== '' ? { displayName: from.name } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
  };
}

/** Whether the message @mentions this bot (Teams sends a mention entity naming the recipient). */
export function mentionsBot(activity: Partial<Activity>): boolean {
  const botId = activity.recipient?.id;
  return (activity.entities ?? []).some(
    (e) => e.type === 'mention' && (e as { mentioned?: { id?: string } }).mentioned?.id === botId,
  );
}

/** Whether the message @mentions someone other than this bot: it is addressed to a person. */
export function mentionsSomeoneElse(activity: Partial<Activity>): boolean {
  const botId = activity.recipient?.id;
  return (activity.entities ?? []).some(
    (e) => e.type === 'mention' && (e as { mentioned?: { id?: string } }).mentioned?.id !== botId,
  );
}

const MAX_INLINE_ATTACHMENT = 1024 * 1024;

/**
 * Attachments with inline content the bot can read without a download: JSON content (object or text) as some
 * clients and the Agents Playground send it. Teams file uploads (download info) need a download and are not read.
 */
export function inlineAttachments(activity: Partial<Activity>): IncomingAttachment[] {
  const out: IncomingAttachment[] = [];
  for (const attachment of activity.attachments ?? []) {
    const contentType = String(attachment.contentType ?? '');
    const name = typeof attachment.name === 'string' ? attachment.name : undefined;
    const content: unknown = attachment.content;
    let text: string | undefined;
    if (typeof content === 'string' && /json|text\/plain/i.test(contentType)) text = content;
    else if (content !== null && typeof content === 'object' && /json/i.test(contentType))
      text = JSON.stringify(content);
    if (text !== undefined && text.length > MAX_INLINE_ATTACHMENT) text = undefined;
    if (contentType === 'text/html') continue;
    out.push({ contentType, ...(name ? { name } : {}), ...(text !== undefined ? { text } : {}) });
  }
  return out;
}
