/** With a bot id configured, Bot Framework authentication is on: anonymous activities are refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenHost } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/config.js';
import { openPersistentStore } from '../../src/persistence/index.js';
import { type FakeConnector, messageActivity, sendToBot, startFakeConnector } from '../harness/fakeConnector.js';
import { DEVELOPER, startTestBot, type TestBot } from './support.js';

const APP_ID = '99999999-9999-4999-8999-999999999999';
let connector: FakeConnector;
let bot: TestBot;

beforeAll(async () => {
  connector = await startFakeConnector();
  bot = await startTestBot(await openPersistentStore({ dataDir: 'memory://' }), {
    MicrosoftAppId: APP_ID,
    MicrosoftAppPassword: 'not-a-real-secret',
    MicrosoftAppType: 'MultiTenant',
    HOST: '127.0.0.1',
  });
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
});

describe('Bot Framework authentication', () => {
  it('refuses an activity without a token and sends nothing', async () => {
    const activity = messageActivity(connector.serviceUrl, { id: 'a:auth', type: 'personal' }, DEVELOPER, 'help');
    const response = await sendToBot(bot.url, activity);
    expect(response.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(connector.activities).toHaveLength(0);
  });

  it('binds to loopback only when authentication is off', () => {
    expect(listenHost(loadConfig({ HOST: '0.0.0.0' }))).toBe('127.0.0.1');
    expect(listenHost(loadConfig({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x', HOST: '0.0.0.0' }))).toBe(
      '0.0.0.0',
    );
    expect(listenHost(loadConfig({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x' }))).toBe('0.0.0.0');
  });
});
