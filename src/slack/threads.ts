/**
 * Slack threads in the chat port's vocabulary. A thread key is `<channel>:<thread_ts>`; a key that is only a channel
 * id stands for the channel itself (a slash command has no thread): posting there starts a new thread whose key is
 * the posted message's. The conversation key is the channel id.
 */
import type { ConversationKind, ThreadRef } from '../chat/port.js';
import { SlackSurfaceError } from './errors.js';

const CHANNEL = /^[CDGW][A-Z0-9]{1,40}$/;
const TS = /^\d{1,12}\.\d{1,8}$/;

export interface SlackThreadLocation {
  channel: string;
  /** Absent for the channel itself. */
  threadTs?: string;
}

export function slackThread(channel: string, threadTs?: string): ThreadRef {
  return { surface: 'slack', key: threadTs ? `${channel}:${threadTs}` : channel };
}

export function parseThreadKey(key: string): SlackThreadLocation {
  const [channel = '', threadTs, ...rest] = key.split(':');
  if (!CHANNEL.test(channel) || rest.length > 0 || (threadTs !== undefined && !TS.test(threadTs))) {
    throw new SlackSurfaceError('slack_invalid_thread_key', `not a Slack thread key: "${key.slice(0, 80)}"`);
  }
  return threadTs === undefined ? { channel } : { channel, threadTs };
}

/** Channel ids start with C (public), G (private or group DM), D (direct message). */
export function conversationKindOfChannel(channel: string): ConversationKind {
  if (channel.startsWith('D')) return 'personal';
  if (channel.startsWith('G')) return 'group';
  return 'channel';
}
