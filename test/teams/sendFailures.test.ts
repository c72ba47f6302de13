/**
 * Issue 20: a send the Bot Connector answers without a message id did not land where it can be edited, so it is an
 * error the caller sees (was: reported as sent with an empty id; later edits targeted nothing). Through the composed
 * app: a proactive post fails visibly, and a message turn whose card post fails is redone by the redelivery of the
 * same activity, which posts the stored contract (one contract, the card's id recorded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStore } from '../../src/app/compose.js';
import {
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
} from '../harness/fakeConnector.js';
import { BACKENDS } from '../persistence/backends.js';
import { APPROVER_A, APPROVER_B, DEVELOPER, startTestBot, type TestBot } from './support.js';

const LOW_RISK = 'service=checkout version=2.4.1 files=src/ui/button.tsx:10 rollback=true';

let connector: FakeConnector;
let bot: TestBot;
let store: AppStore;
let seq = 0;

function channelThread(): ConversationSpec {
  seq += 1;
  return { id: `19:sendfail${seq}@thread.tacv2;messageid=root${seq}`, type: 'channel' };
}

function cardsFor(activityId: string) {
  return connector.activities.filter(
    (a) => a.method === 'POST' && a.activityId === activityId && cardOf(a.body) !== undefined,
  );
}

describe.each(BACKENDS)('sends without a message id on $name', (backend) => {
  beforeAll(async () => {
    connector = await startFakeConnector();
    store = await backend.open();
    bot = await startTestBot(store, { TEAMS_APPROVERS: [APPROVER_A, APPROVER_B].map((u) => u.aadObjectId).join(',') });
  });
  afterAll(async () => {
    await bot?.close();
    await connector?.close();
  });

  it('a proactive post answered without an id is an error the caller sees', async () => {
    const thread = channelThread();
    const activity = messageActivity(connector.serviceUrl, thread, DEVELOPER, `assess ${LOW_RISK}`);
    expect((await sendToBot(bot.url, activity)).status).toBe(200);
    await connector.waitFor((a) => a.method === 'POST' && a.activityId === activity.id);
    const contractId = (await store.recentContracts({ limit: 1 }))[0]?.id ?? '';
    const link = await store.getLink(contractId);
    if (!link) throw new Error('expected the contract link');

    connector.answerPostsWithoutId(1);
    await expect(bot.app.teams.postInThread(link.thread, { text: 'rollout started' })).rejects.toThrow(/no id/);
    // The next send lands, with its id.
    const next = await bot.app.teams.postInThread(link.thread, { text: 'rollout started' });
    expect(next.messageId).not.toBe('');
  });

  it('a card post answered without an id leaves the message unfinished: its redelivery posts the stored contract', async () => {
    const thread = channelThread();
    const activity = messageActivity(connector.serviceUrl, thread, DEVELOPER, `assess ${LOW_RISK}`);
    const before = (await store.recentContracts({ limit: 1000 })).length;
    connector.answerPostsWithoutId(1);
    await sendToBot(bot.url, activity);
    await bot.app.chat.background.idle();
    expect(await store.recentContracts({ limit: 1000 })).toHaveLength(before + 1);
    const contractId = (await store.recentContracts({ limit: 1 }))[0]?.id ?? '';
    expect((await store.getLink(contractId))?.cardMessageId).toBe('');

    expect((await sendToBot(bot.url, activity)).status).toBe(200);
    await bot.app.chat.background.idle();
    const cards = cardsFor(String(activity.id));
    expect(cards.length).toBeGreaterThanOrEqual(1);
    const landed = cards.at(-1);
    expect((await store.getLink(contractId))?.cardMessageId).toBe(landed?.id);
    expect(await store.recentContracts({ limit: 1000 })).toHaveLength(before + 1);
  });
});
