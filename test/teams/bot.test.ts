/**
 * End to end through the real stack: HTTP → express → CloudAdapter (no app id: no JWT) → teams-ai Application →
 * ChatService → store; replies, proactive posts and card edits go over HTTP to a fake Bot Connector on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppStore } from '../../src/app/compose.js';
import {
  actionActivity,
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  type RecordedActivity,
  sendToBot,
  startFakeConnector,
  type TeamsUser,
} from '../harness/fakeConnector.js';
import { BACKENDS } from '../persistence/backends.js';
import { APPROVER_A, APPROVER_B, DEVELOPER, OUTSIDER, startTestBot, type TestBot } from './support.js';

const HIGH_RISK =
  'service=checkout version=2.4.0 files=db/migrations/001_add_index.sql:120,src/api/cart.ts:240 rollback=true';
const LOW_RISK = 'service=checkout version=2.4.1 files=src/ui/button.tsx:10 rollback=true';

interface CardAction {
  type: string;
  title?: string;
  verb?: string;
  data?: Record<string, unknown>;
  card?: { body?: unknown[]; actions?: CardAction[] };
}

/** An approver who is also the author of a change (by e-mail), looked up in no earlier test. */
const AUTHOR = { id: '29:alex-author', name: 'Alex Author', aadObjectId: '66666666-6666-4666-8666-666666666666' };

let connector: FakeConnector;
let bot: TestBot;
let store: AppStore;
let channelSeq = 0;

function channelThread(): ConversationSpec {
  channelSeq += 1;
  return { id: `19:chan${channelSeq}@thread.tacv2;messageid=root${channelSeq}`, type: 'channel' };
}

async function assess(conversation: ConversationSpec, from: TeamsUser, args: string): Promise<RecordedActivity> {
  const activity = messageActivity(connector.serviceUrl, conversation, from, `assess ${args}`);
  const response = await sendToBot(bot.url, activity);
  expect(response.status).toBe(200);
  return connector.waitFor((a) => a.method === 'POST' && a.activityId === activity.id);
}

function actionsOf(card: Record<string, unknown> | undefined): CardAction[] {
  return (card?.actions ?? []) as CardAction[];
}

function dataOf(card: Record<string, unknown> | undefined): { contractId: string; revision: number } {
  const approve = actionsOf(card).find((a) => a.verb === 'contract.approve') ?? actionsOf(card)[0];
  return approve?.data as { contractId: string; revision: number };
}

async function click(
  conversation: ConversationSpec,
  from: TeamsUser,
  cardActivityId: string,
  verb: string,
  data: Record<string, unknown>,
) {
  return sendToBot(bot.url, actionActivity(connector.serviceUrl, conversation, from, cardActivityId, verb, data));
}

describe.each(BACKENDS)('Teams bot on $name', (backend) => {
  beforeAll(async () => {
    connector = await startFakeConnector();
    store = await backend.open();
    bot = await startTestBot(store, {
      TEAMS_APPROVERS: [APPROVER_A, APPROVER_B, DEVELOPER, AUTHOR].map((u) => u.aadObjectId).join(','),
    });
  });

  afterAll(async () => {
    await bot?.close();
    await connector?.close();
  });

  afterEach(async () => {
    await bot.app.chat.background.idle();
  });

  describe('assess', () => {
    it('posts the contract card into the thread with Approve, Reject, Negotiate and Details', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      expect(posted.conversationId).toBe(thread.id);
      expect(posted.authorization).toBeUndefined();
      const card = cardOf(posted.body);
      expect(card?.version).toBe('1.5');
      const actions = actionsOf(card);
      expect(actions.map((a) => a.title)).toEqual(['Approve', 'Reject', 'Negotiate', 'Details']);
      const data = dataOf(card);
      expect(data.revision).toBe(1);
      expect(data.contractId).toMatch(/^ctr-chat-checkout-2\.4\.0-[0-9a-f]{8}-t\d+$/);
      expect(JSON.stringify(card)).toContain('HIGH RISK');
      expect(JSON.stringify(card)).not.toContain('${');
    });

    it('works in personal chat without a mention, and answers invalid input with a card naming the problem', async () => {
      const chat: ConversationSpec = { id: 'a:personal-chat-1', type: 'personal' };
      const activity = messageActivity(
        connector.serviceUrl,
        chat,
        DEVELOPER,
        'assess service=checkout version=2.4.0 lines=many',
      );
      expect((await sendToBot(bot.url, activity)).status).toBe(200);
      const reply = await connector.waitFor((a) => a.activityId === activity.id);
      const text = JSON.stringify(cardOf(reply.body));
      expect(text).toContain('I could not read that deployment request');
      expect(text).toContain('lines');
      expect(text).toContain('integer');
    });

    it('reads a pasted deployment JSON and an attached one', async () => {
      const json = JSON.stringify({
        deployment_id: 'd-json-1',
        service_name: 'payments',
        environment: 'production',
        version: '1.2.3',
        rollback_capability: true,
        changes: [{ file_path: 'src/pay.ts', change_type: 'modify', lines_changed: 12 }],
      });
      const chat: ConversationSpec = { id: 'a:personal-chat-2', type: 'personal' };
      const pasted = await assess(chat, DEVELOPER, `\`\`\`json\n${json}\n\`\`\``);
      expect(dataOf(cardOf(pasted.body)).contractId).toMatch(/^ctr-d-json-1-/);

      const activity = messageActivity(connector.serviceUrl, chat, DEVELOPER, 'assess', {
        attachments: [{ contentType: 'application/json', name: 'deploy.json', content: JSON.parse(json) }],
      });
      expect((await sendToBot(bot.url, activity)).status).toBe(200);
      const attached = await connector.waitFor((a) => a.activityId === activity.id);
      expect(dataOf(cardOf(attached.body)).contractId).toMatch(/^ctr-d-json-1-/);
    });

    it('gives the help card for help and for an unknown command', async () => {
      const chat: ConversationSpec = { id: 'a:personal-chat-3', type: 'personal' };
      const help = messageActivity(connector.serviceUrl, chat, DEVELOPER, 'help');
      await sendToBot(bot.url, help);
      expect(JSON.stringify(cardOf((await connector.waitFor((a) => a.activityId === help.id)).body))).toContain(
        'assess <input>',
      );
      const unknown = messageActivity(connector.serviceUrl, chat, DEVELOPER, 'deploy everything now');
      await sendToBot(bot.url, unknown);
      const text = JSON.stringify(cardOf((await connector.waitFor((a) => a.activityId === unknown.id)).body));
      expect(text).toContain('I don’t know the command “deploy”');
      expect(text).toContain('assess <input>');
    });
  });

  describe('store work per turn', () => {
    it('keeps no teams-ai turn state, and counts the store statements on /metrics', async () => {
      const statements = async () => {
        const text = await (await fetch(`${bot.url}/metrics`)).text();
        return Number(/^chaos_store_statements_total (\d+)$/m.exec(text)?.[1]);
      };
      const before = await statements();
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, LOW_RISK);
      await click(thread, APPROVER_A, posted.id, 'contract.approve', dataOf(cardOf(posted.body)));
      await connector.waitFor((a) => a.method === 'PUT' && a.activityId === posted.id);
      expect(await statements()).toBeGreaterThan(before);
      const driver = (store as AppStore & { driver: { query(sql: string): Promise<{ documents: number }[]> } }).driver;
      const [state] = await driver.query('select count(*)::int as documents from bot_state');
      expect(state?.documents).toBe(0);
    });
  });

  describe('decisions', () => {
    it('Approve updates the card in place for everyone', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      const data = dataOf(cardOf(posted.body));
      const response = await click(thread, APPROVER_A, posted.id, 'contract.approve', data);
      expect(response.status).toBe(200);
      const body = response.body as { statusCode: number; type: string; value: Record<string, unknown> };
      expect(body.statusCode).toBe(200);
      expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
      expect(JSON.stringify(body.value)).toContain('✅ Approved by Ada Approver');
      const put = await connector.waitFor((a) => a.method === 'PUT' && a.activityId === posted.id);
      expect(put.conversationId).toBe(thread.id);
      expect(actionsOf(cardOf(put.body)).map((a) => a.verb)).toEqual(['contract.details']);
      const contract = await store.getContract(data.contractId);
      expect(contract?.state).toBe('approved');
    });

    it('keeps a recorded approval and answers the clicker when the connector fails to edit the card', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, LOW_RISK);
      const data = dataOf(cardOf(posted.body));
      connector.failUpdates(1);
      const response = await click(thread, APPROVER_A, posted.id, 'contract.approve', data);
      expect(response.status).toBe(200);
      expect(JSON.stringify((response.body as { value: unknown }).value)).toContain('✅ Approved by Ada Approver');
      expect((await store.getContract(data.contractId))?.state).toBe('approved');
    });

    it('refuses an unauthorized clicker, leaves the card alone and audits the refusal', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, LOW_RISK);
      const data = dataOf(cardOf(posted.body));
      const response = await click(thread, OUTSIDER, posted.id, 'contract.approve', data);
      expect(response.status).toBe(200);
      const body = response.body as { type: string; value: string };
      expect(body.type).toBe('application/vnd.microsoft.activity.message');
      expect(body.value).toContain('not on the approver list');
      expect(connector.activities.some((a) => a.method === 'PUT' && a.activityId === posted.id)).toBe(false);
      expect((await store.getContract(data.contractId))?.state).toBe('negotiating');
      const audit = await store.recentAudit?.(data.contractId, 50);
      expect(audit?.some((e) => e.type === 'decision.refused' && e.actor?.id === OUTSIDER.aadObjectId)).toBe(true);
    });

    it('refuses self-approval where the policy forbids it', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      const response = await click(thread, DEVELOPER, posted.id, 'contract.approve', dataOf(cardOf(posted.body)));
      expect((response.body as { value: string }).value).toContain("needs an approver other than the change's author");
    });

    it('records a double click once', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      const data = dataOf(cardOf(posted.body));
      const [first, second] = await Promise.all([
        click(thread, APPROVER_A, posted.id, 'contract.approve', data),
        click(thread, APPROVER_A, posted.id, 'contract.approve', data),
      ]);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      const approved = (await store.recentAudit?.(data.contractId, 50))?.filter((e) => e.type === 'decision.approved');
      expect(approved).toHaveLength(1);
      expect(await store.approvals(data.contractId, 1)).toHaveLength(1);
    });

    it('Reject asks for a reason and records it', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, LOW_RISK);
      const data = dataOf(cardOf(posted.body));
      const empty = await click(thread, APPROVER_B, posted.id, 'contract.reject', { ...data, reason: '   ' });
      const emptyCard = (empty.body as { value: Record<string, unknown> }).value;
      expect(JSON.stringify(emptyCard)).toContain('Reject needs a reason');
      expect((await store.getContract(data.contractId))?.state).toBe('negotiating');

      const rejected = await click(thread, APPROVER_B, posted.id, 'contract.reject', {
        ...data,
        reason: 'no canary for a checkout change',
      });
      const text = JSON.stringify((rejected.body as { value: Record<string, unknown> }).value);
      expect(text).toContain('⛔ Rejected by Bo Approver');
      expect(text).toContain('no canary for a checkout change');
      expect((await store.getContract(data.contractId))?.state).toBe('rejected');
    });
  });

  describe('quorum', () => {
    it('a critical contract needs two approvers: the first approval updates the card and keeps the buttons', async () => {
      const seed = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, seed);
      const card = cardOf(posted.body);
      expect(JSON.stringify(card)).toContain('CRITICAL RISK');
      const data = dataOf(card);
      const first = await click(thread, APPROVER_A, posted.id, 'contract.approve', data);
      const firstCard = (first.body as { value: Record<string, unknown> }).value;
      expect(JSON.stringify(firstCard)).toContain('Approvals 1 of 2: Ada Approver');
      expect(actionsOf(firstCard).map((a) => a.title)).toEqual(['Approve', 'Reject', 'Negotiate', 'Details']);
      expect((await store.getContract(data.contractId))?.state).toBe('negotiating');
      const second = await click(thread, APPROVER_B, posted.id, 'contract.approve', data);
      expect(JSON.stringify((second.body as { value: unknown }).value)).toContain(
        '✅ Approved by Ada Approver, Bo Approver',
      );
      expect((await store.getContract(data.contractId))?.state).toBe('approved');
      await bot.app.chat.background.idle();
      const edits = connector.activities.filter((a) => a.method === 'PUT' && a.activityId === posted.id);
      expect(edits).toHaveLength(2);
      expect(JSON.stringify(cardOf(edits.at(-1)?.body))).toContain('✅ Approved by Ada Approver, Bo Approver');
    });
  });

  describe('other commands', () => {
    it('status, history and policy answer with their cards', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, LOW_RISK);
      const { contractId } = dataOf(cardOf(posted.body));
      const ask = async (text: string, conversation = thread) => {
        const activity = messageActivity(connector.serviceUrl, conversation, DEVELOPER, text);
        expect((await sendToBot(bot.url, activity)).status).toBe(200);
        return JSON.stringify(cardOf((await connector.waitFor((a) => a.activityId === activity.id)).body));
      };
      const status = await ask('status');
      expect(status).toContain(contractId);
      expect(status).toContain('awaiting approval');
      expect(status).toContain('contract.created');
      expect(await ask(`status ${contractId}`, channelThread())).toContain(contractId);
      expect(await ask('status ctr-does-not-exist')).toContain('No such contract');
      expect(await ask('history checkout')).toContain('Deployment history of checkout');
      expect(await ask('history checkout')).toContain(contractId);
      expect(await ask('history nothing-here')).toContain('No contracts for nothing-here');
      expect(await ask('policy')).toContain('Deployment policy');
      const promote = messageActivity(connector.serviceUrl, thread, DEVELOPER, 'promote');
      await sendToBot(bot.url, promote);
      const promoted = await connector.waitFor((a) => a.activityId === promote.id);
      expect(promoted.body.text).toBe(`no rollout of ${contractId} has started`);
    });

    it('greets with the help card when installed in personal chat', async () => {
      const chat: ConversationSpec = { id: 'a:installed', type: 'personal' };
      const update = {
        ...messageActivity(connector.serviceUrl, chat, DEVELOPER, ''),
        type: 'conversationUpdate',
        membersAdded: [{ id: '28:chaos-bot', name: 'chaos' }],
      };
      expect((await sendToBot(bot.url, update)).status).toBe(200);
      const greeting = await connector.waitFor((a) => a.conversationId === chat.id);
      expect(JSON.stringify(cardOf(greeting.body))).toContain('assess <input>');
    });

    it('ignores a redelivered message', async () => {
      const thread = channelThread();
      const activity = messageActivity(connector.serviceUrl, thread, DEVELOPER, `assess ${LOW_RISK}`);
      expect((await sendToBot(bot.url, activity)).status).toBe(200);
      expect((await sendToBot(bot.url, activity)).status).toBe(200);
      await connector.waitFor((a) => a.activityId === activity.id);
      expect(connector.activities.filter((a) => a.activityId === activity.id)).toHaveLength(1);
    });
  });

  describe('redelivery keys', () => {
    it('takes the same activity id in two conversations as two messages (Teams ids are unique per conversation)', async () => {
      const first = channelThread();
      const second = channelThread();
      const a = messageActivity(connector.serviceUrl, first, DEVELOPER, `assess ${LOW_RISK}`);
      const b = { ...messageActivity(connector.serviceUrl, second, DEVELOPER, `assess ${LOW_RISK}`), id: a.id };
      expect((await sendToBot(bot.url, a)).status).toBe(200);
      expect((await sendToBot(bot.url, b)).status).toBe(200);
      const inFirst = await connector.waitFor((x) => x.conversationId === first.id && x.activityId === a.id);
      const inSecond = await connector.waitFor((x) => x.conversationId === second.id && x.activityId === a.id);
      expect(dataOf(cardOf(inFirst.body)).contractId).not.toBe(dataOf(cardOf(inSecond.body)).contractId);
    });
  });

  describe('negotiation', () => {
    it('in personal chat, a plain message negotiates the latest contract of the chat', async () => {
      const chat: ConversationSpec = { id: 'a:personal-negotiation', type: 'personal' };
      const posted = await assess(chat, DEVELOPER, HIGH_RISK);
      const { contractId } = dataOf(cardOf(posted.body));
      const message = messageActivity(connector.serviceUrl, chat, DEVELOPER, 'bake for 45 minutes please');
      expect((await sendToBot(bot.url, message)).status).toBe(200);
      const revised = await connector.waitFor(
        (a) => a.method === 'POST' && a.conversationId === chat.id && dataOf(cardOf(a.body))?.revision === 2,
      );
      expect(dataOf(cardOf(revised.body)).contractId).toBe(contractId);
      expect(JSON.stringify(cardOf(revised.body))).toContain('bake 45 min');
    });

    it('a request past the policy floor is refused in the thread and makes no revision', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      const { contractId } = dataOf(cardOf(posted.body));
      const message = messageActivity(
        connector.serviceUrl,
        thread,
        DEVELOPER,
        'skip the canary and go straight to 100%',
      );
      await sendToBot(bot.url, message);
      await bot.app.chat.background.idle();
      const replies = connector.activities.filter(
        (a) => a.method === 'POST' && a.conversationId === thread.id && typeof a.body.text === 'string',
      );
      expect(replies).toHaveLength(1);
      expect(replies[0]?.body.text).toMatch(/refused|floor|cannot|not allowed/i);
      expect((await store.getContract(contractId))?.revision).toBe(1);
    });

    it('Negotiate answers at once, a thread message makes a new revision, and the old revision is refused', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      const data = dataOf(cardOf(posted.body));

      const started = performance.now();
      const negotiate = await click(thread, DEVELOPER, posted.id, 'contract.negotiate', data);
      expect(performance.now() - started).toBeLessThan(2000);
      expect((negotiate.body as { value: string }).value).toContain('Negotiating');
      const intro = await connector.waitFor(
        (a) =>
          a.method === 'POST' && a.conversationId === thread.id && /opened the negotiation/.test(a.body.text ?? ''),
      );
      expect(intro.body.text).toContain(data.contractId);

      const message = messageActivity(connector.serviceUrl, thread, DEVELOPER, 'can we start the canary at 20%?');
      expect((await sendToBot(bot.url, message)).status).toBe(200);
      const revised = await connector.waitFor(
        (a) => a.method === 'POST' && a.conversationId === thread.id && dataOf(cardOf(a.body))?.revision === 2,
      );
      expect(JSON.stringify(cardOf(revised.body))).toContain('20 %');
      const reply = await connector.waitFor(
        (a) => a.method === 'POST' && a.conversationId === thread.id && a !== intro && typeof a.body.text === 'string',
      );
      expect(reply.body.text).toContain('first canary step: 10 % → 20 %');
      expect(reply.at).toBeLessThan(revised.at);
      const superseded = await connector.waitFor((a) => a.method === 'PUT' && a.activityId === posted.id);
      expect(JSON.stringify(cardOf(superseded.body))).toContain('Superseded by revision 2');

      // A click on the old card: refused, the current card (revision 2) shown to the clicker only.
      const stale = await click(thread, APPROVER_A, posted.id, 'contract.approve', data);
      const staleCard = (stale.body as { type: string; value: Record<string, unknown> }).value;
      expect(JSON.stringify(staleCard)).toContain('You clicked revision 1, but revision 2 is current');
      expect(dataOf(staleCard).revision).toBe(2);
      expect(await store.approvals(data.contractId, 1)).toHaveLength(0);
      expect(await store.approvals(data.contractId, 2)).toHaveLength(0);

      const fresh = await click(thread, APPROVER_A, revised.id, 'contract.approve', { ...data, revision: 2 });
      expect(JSON.stringify((fresh.body as { value: unknown }).value)).toContain('✅ Approved by Ada Approver');
    });
  });

  describe('decisions that are right every time', () => {
    it('a stale click by an approver of the old revision is refused privately and never replaces the old card', async () => {
      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, HIGH_RISK);
      const data = dataOf(cardOf(posted.body));
      // Ada approves revision 1 (it needs two approvals, so it stays open), then the terms change: revision 2.
      await click(thread, APPROVER_A, posted.id, 'contract.approve', data);
      const message = messageActivity(connector.serviceUrl, thread, DEVELOPER, 'raise the bake time to 2 hours');
      expect((await sendToBot(bot.url, message)).status).toBe(200);
      await connector.waitFor(
        (a) => a.method === 'POST' && a.conversationId === thread.id && dataOf(cardOf(a.body))?.revision === 2,
      );
      await bot.app.chat.background.idle();
      const putsBefore = connector.activities.filter((a) => a.method === 'PUT' && a.activityId === posted.id).length;

      // Ada clicks Approve on the revision-1 card again.
      const stale = await click(thread, APPROVER_A, posted.id, 'contract.approve', data);
      const body = stale.body as { type: string; value: Record<string, unknown> };
      expect(JSON.stringify(body.value)).toContain('You clicked revision 1, but revision 2 is current');
      await bot.app.chat.background.idle();
      const putsAfter = connector.activities.filter((a) => a.method === 'PUT' && a.activityId === posted.id).length;
      expect(putsAfter).toBe(putsBefore);
      const audit = await store.recentAudit?.(data.contractId, 50);
      expect(audit?.some((e) => e.type === 'decision.stale' && e.actor?.id === APPROVER_A.aadObjectId)).toBe(true);
      expect(await store.approvals(data.contractId, 2)).toHaveLength(0);
    });

    it('separation of duties fails closed when the roster lookup fails, and the failure is not remembered', async () => {
      const thread = channelThread();
      connector.roster.set(AUTHOR.id, { ...AUTHOR, email: 'alex@example.com', userPrincipalName: 'alex@example.com' });
      // Ada asks for the assessment of a change authored by Alex, who is an approver too.
      const posted = await assess(thread, APPROVER_A, `${HIGH_RISK} author=alex@example.com`);
      const data = dataOf(cardOf(posted.body));
      // The connector client retries a 502 itself; enough failures that the lookup fails (or times out) as a whole.
      connector.failMemberLookups(50);
      const blind = await click(thread, AUTHOR, posted.id, 'contract.approve', data);
      expect((blind.body as { value: string }).value).toContain('could not confirm that is not you');
      expect((blind.body as { value: string }).value).toContain('directory lookup of your account failed');
      expect(await store.approvals(data.contractId, 1)).toHaveLength(0);
      connector.failMemberLookups(0);
      // The roster answers again: the next click is looked up afresh and recognised as the author's.
      const seen = await click(thread, AUTHOR, posted.id, 'contract.approve', data);
      expect((seen.body as { value: string }).value).toContain("needs an approver other than the change's author");
      expect(await store.approvals(data.contractId, 1)).toHaveLength(0);
      const refusals = (await store.recentAudit?.(data.contractId, 50))?.filter((e) => e.type === 'decision.refused');
      expect(refusals?.map((e) => e.data?.code)).toEqual(['self_approval', 'identity_unknown']);
    });
  });

  describe('robustness', () => {
    it('answers malformed bodies and activities with 400 and keeps serving', async () => {
      const bad = await sendToBot(bot.url, '{"type": "message", ');
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('not valid JSON');
      const noType = await sendToBot(bot.url, { text: 'hi', serviceUrl: connector.serviceUrl });
      expect(noType.status).toBe(400);
      expect(noType.text).toContain('type');
      const badUrl = await sendToBot(bot.url, {
        ...messageActivity(connector.serviceUrl, channelThread(), DEVELOPER, 'help'),
        serviceUrl: 'file:///etc/passwd',
      });
      expect(badUrl.status).toBe(400);
      expect(badUrl.text).toContain('serviceUrl');
      const array = await sendToBot(bot.url, '[1,2,3]');
      expect(array.status).toBe(400);
      const huge = await sendToBot(bot.url, JSON.stringify({ type: 'message', text: 'x'.repeat(400_000) }));
      expect(huge.status).toBe(413);

      const thread = channelThread();
      const posted = await assess(thread, DEVELOPER, LOW_RISK);
      expect(cardOf(posted.body)).toBeDefined();
      const health = await fetch(`${bot.url}/healthz`);
      expect(health.status).toBe(200);
    });
  });
});
