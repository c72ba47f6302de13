/**
 * A reply that is still being written (a model's answer): surfaces that can show it as it arrives implement
 * `openReply`. Teams streams it in a personal chat and shows a typing indicator elsewhere; Slack posts a placeholder
 * and edits it. `push` takes text already fit to show (the negotiator filters the model's prose before it streams).
 */
import type { ChatMessage, MessageRef, ThreadRef } from './port.js';

export interface ReplyStream {
  /** The next piece of the answer. Never throws: a surface that cannot show it keeps it for `finish`. */
  push(text: string): void;
  /** Ends the reply with its final message, which replaces whatever was shown while it streamed. */
  finish(message: ChatMessage): Promise<MessageRef>;
}

export interface StreamingSurface {
  /** `onError`: a live update that failed (the final message still goes out). */
  openReply(thread: ThreadRef, onError?: (error: unknown) => void): ReplyStream;
}

export function canStream(surface: object): surface is StreamingSurface {
  return typeof (surface as Partial<StreamingSurface>).openReply === 'function';
}
