/**
 * Replies in progress on Slack: a placeholder is posted in the thread at once, edited with the answer as it arrives
 * (at most every 1.5 s: chat.update is a Tier 3 method, about 50 calls a minute), and edited a last time into the
 * final message. If the placeholder could not be posted, the final message is posted normally.
 */
import type { ChatMessage, MessageRef, ThreadRef } from '../chat/port.js';
import type { ReplyStream } from '../chat/replyStream.js';
import { coalesceStream } from '../negotiation/typing.js';

export interface PlaceholderTransport {
  /** Posts a message of its own (never merged with other posts), returning where it landed. */
  postAlone(thread: ThreadRef, text: string): Promise<MessageRef>;
  edit(message: MessageRef, content: ChatMessage): Promise<void>;
  postInThread(thread: ThreadRef, message: ChatMessage): Promise<MessageRef>;
}

export const PLACEHOLDER_TEXT = '⏳ Thinking about your request…';
const UPDATE_INTERVAL_MS = 1_500;

export function openSlackReply(
  transport: PlaceholderTransport,
  thread: ThreadRef,
  onError: (error: unknown) => void,
): ReplyStream {
  const placeholder = transport.postAlone(thread, PLACEHOLDER_TEXT);
  placeholder.catch(onError);
  let pushed = '';
  const coalescer = coalesceStream(
    async (accumulated) => {
      const ref = await placeholder;
      await transport.edit(ref, { text: `${accumulated} …` });
    },
    { intervalMs: UPDATE_INTERVAL_MS, onError },
  );
  return {
    push(text) {
      if (text.length === 0) return;
      pushed += text;
      coalescer.push(text);
    },
    async finish(message) {
      const final = message.card || message.text ? message : { text: pushed };
      await coalescer.flush();
      let ref: MessageRef;
      try {
        ref = await placeholder;
      } catch {
        return transport.postInThread(thread, final);
      }
      await transport.edit(ref, final);
      return ref;
    },
  };
}
