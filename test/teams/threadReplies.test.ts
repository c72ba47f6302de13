/**
 * Channel messages without an @mention, as Teams delivers them to an app granted ChannelMessage.Read.Group (RSC):
 * a plain message activity in the channel conversation (a reply carries `;messageid=<root>` in its conversation id)
 * with no mention entity. Only replies in a contract's thread are handled; root posts, other threads and messages
 * addressed to someone else are ignored without a trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStore } from '../../src/app/compose.js';
import { openPersistentStore } from '../../src/persistence/index.js';
import {
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
  type TeamsUser,
} from '../harness/fakeConnector.js';
import { APPROVER_A, DEVELOPER, startTestBot, type TestBot } from './support.js';

const HIGH_RISK =
  'service=checkout version=2.4.0 files=db/migrations/001_add_index.sql:40,src/api/cart.ts:80 rollback=true';

let connector: FakeConnector;
let bot: TestBot;
let store: AppStore;
let seq = 0;

/** A message as Teams sends it under RSC when nobody mentions the bot. */
function unmentioned(conversation: ConversationSpec, from: TeamsUser, text: string, entities: unknown[] = []) {
  const activity = messageActivity(connector.serviceUrl, conversation, from, text);
  return { ...activity, id: String(activity.id), text, entities };
}

function revisionOf(card: Record<string, unknown> | undefined): number | undefined {
  const actions = (card?.actions ?? []) as { verb?: string; data?: { revision?: number } }[];
  return actions.find((a) => a.verb === 'contract.approve')?.data?.revision;
}

async function contractThread(): Promise<ConversationSpec> {
  seq += 1;
  const thread: ConversationSpec = { id: `19:rsc${seq}@thread.tacv2;messageid=root${seq}`, type: 'channel' };
  const activity = messageActivity(connector.serviceUrl, thread, DEVELOPER, `assess ${HIGH_RISK}`);
  await sendToBot(bot.url, activity);
  await connector.waitFor((a) => a.method === 'POST' && a.activityId === activity.id);
  return thread;
}

async function postsTo(conversationId: string): Promise<number> {
  await bot.app.chat.background.idle();
  return connector.activities.filter((a) => a.conversationId.startsWith(conversationId)).length;
}

beforeAll(async () => {
  connector = await startFakeConnector();
  store = await openPersistentStore({ dataDir: 'memory://' });
  bot = await startTestBot(store);
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
});

describe('Teams channel replies without an @mention (RSC)', () => {
  it('negotiates a plain reply in the contract thread', async () => {
    const thread = await contractThread();
    const reply = unmentioned(thread, DEVELOPER, 'soak for 15 minutes per step');
    expect((await sendToBot(bot.url, reply)).status).toBe(200);
    const revised = await connector.waitFor(
      (a) => a.method === 'POST' && a.conversationId === thread.id && revisionOf(cardOf(a.body)) === 2,
    );
    const card = JSON.stringify(cardOf(revised.body));
    expect(card).toContain('15 min');
    // The amendment line names the person, not their Entra object id.
    expect(card).toContain(`(${DEVELOPER.name})`);
    expect(card).not.toContain(DEVELOPER.aadObjectId);
  });

  it('ignores root posts and replies in other threads, storing nothing', async () => {
    seq += 1;
    const channel = `19:chatter${seq}@thread.tacv2`;
    const root = unmentioned({ id: channel, type: 'channel' }, DEVELOPER, 'lunch at noon? start at 12');
    const other = unmentioned(
      { id: `${channel};messageid=someone-elses-post`, type: 'channel' },
      APPROVER_A,
      'bake for 30 min, the bread I mean',
    );
    for (const activity of [root, other]) expect((await sendToBot(bot.url, activity)).status).toBe(200);
    expect(await postsTo(channel)).toBe(0);
    expect(await store.getConversationRef('teams', `ref:${channel};messageid=someone-elses-post`)).toBeUndefined();
    // Not even claimed: the message was never taken as work.
    expect(await store.claimEvent('teams', `${channel}:${other.id}`, 'probe', 1)).toBe('claimed');
  });

  it('stays quiet when people talk among themselves in the contract thread', async () => {
    const thread = await contractThread();
    const before = await postsTo(thread.id);
    for (const text of ['thanks all, lunch after this?', 'sounds good to me']) {
      expect((await sendToBot(bot.url, unmentioned(thread, APPROVER_A, text))).status).toBe(200);
    }
    expect(await postsTo(thread.id)).toBe(before);
    // The same words with an @mention get an answer.
    const mentioned = messageActivity(connector.serviceUrl, thread, APPROVER_A, 'lunch after this?');
    await sendToBot(bot.url, mentioned);
    expect(await postsTo(thread.id)).toBeGreaterThan(before);
  });

  it('ignores a reply in the contract thread that is addressed to someone else', async () => {
    const thread = await contractThread();
    const before = await postsTo(thread.id);
    const toAda = unmentioned(thread, DEVELOPER, 'Ada Approver can we start at 25%?', [
      { type: 'mention', text: '<at>Ada Approver</at>', mentioned: { id: APPROVER_A.id, name: APPROVER_A.name } },
    ]);
    expect((await sendToBot(bot.url, toAda)).status).toBe(200);
    expect(await postsTo(thread.id)).toBe(before);
    expect((await store.getContract((await store.contractForThread('teams', thread.id)) ?? ''))?.revision).toBe(1);
  });
});
