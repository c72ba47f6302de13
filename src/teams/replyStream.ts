/**
 * Replies in progress on Teams. In a personal chat the answer streams with Teams' streaming protocol: an informative
 * typing update whose answer names the stream, cumulative typing updates carrying a `streaminfo` entity (type
 * `streaming`, increasing sequence), then the final message under the same stream id, which replaces what streamed.
 * teams-ai's StreamingResponse speaks the same protocol but can only append to the streamed text, while the final
 * message here is the bot's own rendering of the engine's decisions around the model's words; so the activities are
 * built here, sent proactively into the conversation. Teams accepts about one update per second: updates are
 * coalesced. Channels and group chats have no streaming: a typing indicator is kept alive until the final message.
 * A stream that Teams refuses (an older client, throttling) falls back to posting the final message normally.
 */
import type { Activity, TurnContext } from 'botbuilder';
import type { ChatMessage, MessageRef, ThreadRef } from '../chat/port.js';
import type { ReplyStream } from '../chat/replyStream.js';
import { coalesceStream, keepTyping } from '../negotiation/typing.js';

export interface StreamTransport {
  /** Runs `logic` with a proactive turn context in the thread's conversation, for as long as `logic` runs. */
  continueIn(thread: ThreadRef, logic: (context: TurnContext) => Promise<void>): Promise<void>;
  postInThread(thread: ThreadRef, message: ChatMessage): Promise<MessageRef>;
  /** Whether the thread is a personal chat (the only place Teams streams). */
  isPersonal(thread: ThreadRef): Promise<boolean>;
  /** The final message as a Teams activity (text or card). */
  toActivity(message: ChatMessage): Partial<Activity>;
}

export const INFORMATIVE_UPDATE = 'Thinking about your request…';
const TYPING_INTERVAL_MS = 3_000;
const UPDATE_INTERVAL_MS = 1_000;

type StreamType = 'informative' | 'streaming' | 'final';

function streamInfo(type: StreamType, sequence: number | undefined, streamId: string | undefined) {
  const info = {
    streamType: type,
    ...(sequence !== undefined ? { streamSequence: sequence } : {}),
    ...(streamId ? { streamId } : {}),
  };
  return { entities: [{ type: 'streaminfo', ...info }], channelData: info };
}

export function openTeamsReply(
  transport: StreamTransport,
  thread: ThreadRef,
  onError: (error: unknown) => void,
): ReplyStream {
  let resolveFinal: (message: ChatMessage) => void = () => undefined;
  const final = new Promise<ChatMessage>((resolve) => {
    resolveFinal = resolve;
  });
  let pushed = '';
  let context: TurnContext | undefined;
  let streamId: string | undefined;
  let sequence = 1;
  let failed = false;
  const fail = (error: unknown) => {
    failed = true;
    onError(error);
  };
  const coalescer = coalesceStream(
    async (accumulated) => {
      if (!context || !streamId || failed) return;
      sequence += 1;
      await context.sendActivity({
        type: 'typing',
        id: streamId,
        text: accumulated,
        ...streamInfo('streaming', sequence, streamId),
      });
    },
    { intervalMs: UPDATE_INTERVAL_MS, onError: fail },
  );

  const session = (async (): Promise<MessageRef> => {
    const personal = await transport.isPersonal(thread).catch(() => false);
    if (!personal) {
      const message = await keepTyping(
        () => transport.continueIn(thread, async (c) => void (await c.sendActivity({ type: 'typing' }))),
        final,
        TYPING_INTERVAL_MS,
      );
      return transport.postInThread(thread, message);
    }
    let ref: MessageRef | undefined;
    try {
      await transport.continueIn(thread, async (turn) => {
        const started = await turn.sendActivity({
          type: 'typing',
          text: INFORMATIVE_UPDATE,
          ...streamInfo('informative', 1, undefined),
        });
        streamId = started?.id;
        if (!streamId) throw new Error('Teams gave no stream id for the informative update');
        context = turn;
        const message = await final;
        await coalescer.flush();
        if (failed) return;
        const response = await turn.sendActivity({
          ...transport.toActivity(message),
          type: 'message',
          id: streamId,
          ...streamInfo('final', undefined, streamId),
        });
        ref = { thread, messageId: response?.id ?? streamId };
      });
    } catch (error) {
      fail(error);
    }
    return ref ?? transport.postInThread(thread, await final);
  })();
  // Errors reach the caller through finish(); until then an unobserved rejection must not end the process.
  session.catch(() => undefined);

  return {
    push(text) {
      if (text.length === 0) return;
      pushed += text;
      coalescer.push(text);
    },
    finish(message) {
      resolveFinal(message.card || message.text ? message : { text: pushed });
      return session;
    },
  };
}
