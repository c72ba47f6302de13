/**
 * A model's answer as it is written, through the real pieces: the negotiation service with the real openai client
 * against a fake OpenAI-compatible server on 127.0.0.1 (which must see `stream: true`), into the composed Teams
 * surface, out to a fake Bot Connector: Teams' streaming protocol in a personal chat (informative update, cumulative
 * `streaming` updates under one stream id, the final message replacing them), a typing indicator in a channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createNegotiationService, InMemoryTurnLog } from '../../src/negotiation/index.js';
import { openPersistentStore } from '../../src/persistence/index.js';
import { INFORMATIVE_UPDATE } from '../../src/teams/replyStream.js';
import {
  type ConversationSpec,
  type FakeConnector,
  messageActivity,
  type RecordedActivity,
  sendToBot,
  startFakeConnector,
} from '../harness/fakeConnector.js';
import { type FakeOpenAI, startFakeOpenAI } from '../harness/fakeOpenAI.js';
import { contractFixture } from '../negotiation/fixtures.js';
import { DEVELOPER, startTestBot, type TestBot } from './support.js';

let connector: FakeConnector;
let bot: TestBot;
let model: FakeOpenAI;

beforeAll(async () => {
  connector = await startFakeConnector();
  model = await startFakeOpenAI();
  bot = await startTestBot(await openPersistentStore({ dataDir: 'memory://' }));
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
  await model?.close();
});

/** A message from the user, so the bot knows the conversation (its reference is stored). */
async function greet(conversation: ConversationSpec): Promise<void> {
  const activity = messageActivity(connector.serviceUrl, conversation, DEVELOPER, 'help');
  await sendToBot(bot.url, activity);
  await connector.waitFor((a) => a.method === 'POST' && a.activityId === activity.id);
}

/**
 * The stream fields of an activity as they reach the connector. The activity carries them both in a `streaminfo`
 * entity and in channelData; botbuilder's serializer keeps only an entity's `type`, so channelData carries them.
 */
function streamInfoOf(a: RecordedActivity): Record<string, unknown> | undefined {
  const entities = (a.body.entities ?? []) as { type?: string }[];
  if (!entities.some((e) => e.type === 'streaminfo')) return undefined;
  return a.body.channelData as Record<string, unknown>;
}

async function negotiateInto(conversation: ConversationSpec) {
  const negotiation = createNegotiationService({
    model: { provider: 'openai-compatible', baseUrl: model.baseURL, model: 'local-model', apiKey: 'k' },
    policy: DEFAULT_POLICY,
    turns: new InMemoryTurnLog(),
  });
  const thread = { surface: 'teams' as const, key: conversation.id };
  const reply = bot.app.teams.openReply(thread);
  const outcome = await negotiation.negotiate({
    contract: contractFixture('search-high'),
    message: 'why is the window five minutes?',
    actor: { id: DEVELOPER.aadObjectId, name: DEVELOPER.name },
    onStreamChunk: (text) => reply.push(text),
  });
  return { outcome, ref: await reply.finish({ text: outcome.reply }) };
}

describe('a model answer streams into Teams', () => {
  it('in a personal chat: stream: true reaches the model, Teams gets the streaming protocol and the final message', async () => {
    const chat: ConversationSpec = { id: 'a:stream-personal', type: 'personal' };
    await greet(chat);
    const before = connector.activities.length;
    model.enqueue({
      kind: 'stream',
      pieces: ['The window is five minutes ', 'because the high-risk floor ', 'asks for enough samples.'],
      pieceDelayMs: 700,
    });
    const { outcome, ref } = await negotiateInto(chat);
    expect(model.requests.at(-1)?.body.stream).toBe(true);
    expect(outcome.mode).toBe('model');

    const sent = connector.activities.slice(before).filter((a) => a.conversationId === chat.id);
    const informative = sent.find((a) => streamInfoOf(a)?.streamType === 'informative');
    expect(informative?.body).toMatchObject({ type: 'typing', text: INFORMATIVE_UPDATE });
    const streamId = informative?.id;
    const updates = sent.filter((a) => streamInfoOf(a)?.streamType === 'streaming');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    for (const u of updates) expect(streamInfoOf(u)).toMatchObject({ streamId, streamSequence: expect.any(Number) });
    expect(updates.map((u) => u.body.text).at(-1)).toContain('The window is five minutes');
    const final = sent.find((a) => streamInfoOf(a)?.streamType === 'final');
    expect(final?.body).toMatchObject({ type: 'message', text: outcome.reply });
    expect(streamInfoOf(final as RecordedActivity)).toMatchObject({ streamId });
    expect(ref.messageId).not.toBe('');
  });

  it('through the bot: a personal-chat message to a contract is answered by the model as a stream', async () => {
    const modelBot = await startTestBot(await openPersistentStore({ dataDir: 'memory://' }), {
      OPENAI_BASE_URL: model.baseURL,
      OPENAI_MODEL: 'local-model',
      OPENAI_API_KEY: 'test-key',
    });
    try {
      const chat: ConversationSpec = { id: 'a:stream-through-bot', type: 'personal' };
      const assess = messageActivity(
        connector.serviceUrl,
        chat,
        DEVELOPER,
        'assess service=checkout version=2.4.0 files=src/api/cart.ts:80 rollback=true',
      );
      await sendToBot(modelBot.url, assess);
      await connector.waitFor((a) => a.method === 'POST' && a.activityId === assess.id);
      const before = connector.activities.length;
      const requestsBefore = model.requests.length;
      model.enqueue({
        kind: 'stream',
        pieces: ['Five minutes ', 'gives the judge ', 'enough samples.'],
        pieceDelayMs: 600,
      });
      await sendToBot(modelBot.url, messageActivity(connector.serviceUrl, chat, DEVELOPER, 'why five minutes?'));
      const final = await connector.waitFor(
        (a) => a.conversationId === chat.id && streamInfoOf(a)?.streamType === 'final',
        15_000,
      );
      // Which request carried the question, not its position: a background model call of the assess turn may be
      // recorded in between.
      const question = model.requests
        .slice(requestsBefore)
        .concat(model.requests.slice(0, requestsBefore))
        .filter((r) => JSON.stringify(r.body.messages ?? '').includes('why five minutes?'));
      expect(question.length).toBeGreaterThan(0);
      expect(question.every((r) => r.body.stream === true)).toBe(true);
      const sent = connector.activities.slice(before).filter((a) => a.conversationId === chat.id);
      expect(sent.some((a) => streamInfoOf(a)?.streamType === 'informative')).toBe(true);
      expect(String(final.body.text)).toContain('Five minutes gives the judge enough samples.');
    } finally {
      await modelBot.close();
    }
  });

  it('in a channel (no streaming there): a typing indicator, then the answer as one message', async () => {
    const thread: ConversationSpec = { id: '19:stream@thread.tacv2;messageid=root-stream', type: 'channel' };
    await greet(thread);
    const before = connector.activities.length;
    model.enqueue({ kind: 'stream', pieces: ['Five minutes ', 'is the floor.'], pieceDelayMs: 200 });
    const { outcome } = await negotiateInto(thread);
    const sent = connector.activities.slice(before).filter((a) => a.conversationId === thread.id);
    expect(sent[0]?.body.type).toBe('typing');
    expect(sent.some((a) => streamInfoOf(a) !== undefined)).toBe(false);
    expect(sent.at(-1)?.body).toMatchObject({ type: 'message', text: outcome.reply });
  });
});
