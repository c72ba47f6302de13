/**
 * The composed server (loadConfig → composeApp → listen), configured only through the environment, against a fake
 * Slack Web API on 127.0.0.1 that SLACK_API_URL points at. Signed requests go through the Bolt receiver mounted on
 * the project's HTTP server; the rollout guardian is the real one (simulated actuator and metrics), so `/chaos start`
 * starts a real rollout whose status card comes back through the Web API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosApp, composeApp } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openPersistentStore } from '../../src/persistence/index.js';
import { type FakeSlackApi, startFakeSlackApi } from '../harness/fakeSlackApi.js';
import {
  APPROVER_A,
  APPROVER_B,
  BOT_TOKEN,
  blockAction,
  buttonsOf,
  CHANNEL,
  DEVELOPER,
  SIGNING_SECRET,
  sign,
  TEAM,
  textOf,
} from './support.js';

// Critical under risk-model.v2: 440 lines (the size ranks; the migration is evidence) and no rollback declared.
const ASSESS = 'assess service=checkout version=2.4.0 files=db/migrations/0042_add_index.sql:40,src/api/cart.ts:400';

let api: FakeSlackApi;
let app: ChaosApp;
let eventsUrl: string;

async function post(body: string): Promise<Response> {
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(eventsUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
}

function slashCommand(user: { id: string; name: string }, text: string, n: number): string {
  return new URLSearchParams({
    command: '/chaos',
    text,
    user_id: user.id,
    user_name: user.name,
    channel_id: CHANNEL,
    team_id: TEAM,
    response_url: `${api.url}/respond/cmd${n}`,
    trigger_id: `trigger-${n}`,
  }).toString();
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await app.slack?.idle();
    await app.chat.background.idle();
  }
}

beforeAll(async () => {
  api = await startFakeSlackApi();
  for (const user of [APPROVER_A, APPROVER_B, DEVELOPER]) api.roster.set(user.id, user);
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    // Without the trailing slash: the loader adds it.
    SLACK_API_URL: api.apiUrl.replace(/\/$/, ''),
    SLACK_APPROVERS: `${APPROVER_A.id},${APPROVER_B.id}`,
  });
  expect(config.slack?.apiUrl).toBe(api.apiUrl);
  app = await composeApp(config, {
    store: await openPersistentStore({ dataDir: 'memory://' }),
    startWorker: false,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    metrics: createMetrics({ collectDefaults: false }),
  });
  const listening = await app.listen();
  eventsUrl = `${listening.url}/slack/events`;
});

afterAll(async () => {
  await app?.close();
  await api?.close();
});

describe('the composed server with Slack at SLACK_API_URL', () => {
  it('assesses from /chaos assess, takes the approvals, and starts the rollout from /chaos start', async () => {
    expect((await post(slashCommand(DEVELOPER, ASSESS, 1))).status).toBe(200);
    const card = await api.waitFor((c) => c.method === 'chat.postMessage' && buttonsOf(c.args).length > 0);
    expect(card.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(card.args.channel).toBe(CHANNEL);
    await settle();
    const approve = buttonsOf(card.args).find((b) => b.action_id === 'contract.approve');
    if (!approve) throw new Error('no Approve button on the card');
    const contractId = (JSON.parse(approve.value) as { contractId: string }).contractId;
    const cardTs = String(card.response?.ts);

    // As many approvers as the contract's risk level asks for (the risk model may be recalibrated).
    const approvers: string[] = [];
    for (const approver of [APPROVER_A, APPROVER_B]) {
      if ((await app.store.getContract(contractId))?.state === 'approved') break;
      const payload = blockAction(approve, { user: approver, messageTs: cardTs });
      expect((await post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString())).status).toBe(200);
      await settle();
      approvers.push(approver.realName);
    }
    expect((await app.store.getContract(contractId))?.state).toBe('approved');
    expect(textOf(api.callsOf('chat.update').at(-1)?.args ?? {})).toContain(`Approved by ${approvers.join(', ')}`);

    const before = api.callsOf('chat.postMessage').length;
    expect((await post(slashCommand(APPROVER_A, `start ${contractId}`, 2))).status).toBe(200);
    await settle();
    const rollout = await app.guardian?.repository.findByContract(contractId);
    expect(rollout).toMatchObject({ contractId, revision: 1 });
    const after = api.callsOf('chat.postMessage').slice(before);
    expect(after.map((c) => textOf(c.args)).join('\n')).toContain('Rollout of checkout 2.4.0 started');
    for (const call of api.calls) expect(call.authorization).toBe(`Bearer ${BOT_TOKEN}`);
  });
});
