/**
 * Socket Mode (local use, no public URL): the real SocketModeReceiver connects to the fake Slack's WebSocket
 * endpoint, gets envelopes and acknowledges them; the same listeners answer.
 */
import { afterEach, expect, it } from 'vitest';
import { ChatService } from '../../src/chat/service.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createNegotiationService, InMemoryTurnLog } from '../../src/negotiation/index.js';
import { createSlackApp, type SlackApp } from '../../src/slack/slackApp.js';
import { createSlackSurface } from '../../src/slack/slackSurface.js';
import { MemoryChatStore } from '../chat/memoryChatStore.js';
import { type FakeSlackApi, startFakeSlackApi } from '../harness/fakeSlackApi.js';
import { appMention, buttonsOf, CHANNEL, DEVELOPER } from './support.js';

let api: FakeSlackApi | undefined;
let slack: SlackApp | undefined;
afterEach(async () => {
  await slack?.close();
  await api?.close();
  slack = undefined;
  api = undefined;
});

it('connects over Socket Mode, acknowledges envelopes and answers an @mention with the contract', async () => {
  api = await startFakeSlackApi();
  const surface = createSlackSurface({
    botToken: 'xoxb-test-socket',
    clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
    limiter: { intervalMs: 20 },
  });
  const store = new MemoryChatStore();
  const chat = new ChatService({
    store,
    negotiation: createNegotiationService({
      model: { provider: 'offline' },
      policy: DEFAULT_POLICY,
      turns: new InMemoryTurnLog(),
    }),
    surfaces: { slack: surface },
    policy: DEFAULT_POLICY,
    authorization: { approvers: { teams: [], slack: [], groups: {} }, openWhenUnconfigured: false },
    newIdSuffix: () => 'sm1',
  });
  slack = createSlackApp({ chat, surface, botToken: 'xoxb-test-socket', appToken: 'xapp-1-test' });
  expect(slack.mode).toBe('socket');
  expect(slack.router).toBeUndefined();
  await slack.start();
  await api.socket.connected();
  const open = api.callsOf('apps.connections.open')[0];
  expect(open?.authorization).toBe('Bearer xapp-1-test');

  api.socket.send({
    envelope_id: 'env-1',
    type: 'events_api',
    accepts_response_payload: false,
    retry_attempt: 0,
    retry_reason: '',
    payload: appMention('assess service=checkout version=2.4.0 files=src/api/cart.ts:80', { user: DEVELOPER.id }),
  });
  expect(await api.socket.waitForAck('env-1')).toMatchObject({ envelope_id: 'env-1' });
  const card = await api.waitFor((c) => c.method === 'chat.postMessage');
  expect(card.args.channel).toBe(CHANNEL);
  expect(buttonsOf(card.args).map((b) => b.action_id)).toContain('contract.approve');
  await slack.idle();
  expect(store.revisions.size).toBe(1);
});

it('refuses a configuration that could not verify requests', () => {
  const surface = createSlackSurface({ botToken: 'xoxb-test-config' });
  const chat = { handleMessage: async () => ({}), handleAction: async () => ({ kind: 'notice' as const, text: '' }) };
  expect(() => createSlackApp({ chat, surface, botToken: 'xoxb-test-config' })).toThrow(
    expect.objectContaining({
      code: 'slack_invalid_configuration',
      message: expect.stringContaining('SLACK_SIGNING_SECRET'),
    }),
  );
  expect(() =>
    createSlackApp({ chat, surface, botToken: 'xoxb-test-config', socketMode: true, signingSecret: 'x'.repeat(20) }),
  ).toThrow(
    expect.objectContaining({
      code: 'slack_invalid_configuration',
      message: expect.stringContaining('SLACK_APP_TOKEN'),
    }),
  );
  expect(() => createSlackApp({ chat, surface, botToken: '', signingSecret: 'x'.repeat(20) })).toThrow(
    expect.objectContaining({ code: 'slack_invalid_configuration' }),
  );
  expect(() => createSurfaceWithoutToken()).toThrow(expect.objectContaining({ code: 'slack_invalid_configuration' }));
});

function createSurfaceWithoutToken() {
  return createSlackSurface({ botToken: '' });
}
