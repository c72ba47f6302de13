/**
 * Connector clients are reused across turns: through the real CloudAdapter (TeamsAdapter) stack, inbound turns and
 * proactive turns with the same serviceUrl, audience and app id share one ConnectorClient, others never do, replies
 * still reach the fake Bot Connector, and with authentication configured every outbound call still carries the
 * current token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConversationReference, Response, TurnContext } from 'botbuilder';
import { AppCredentials, AuthenticationConstants, ClaimsIdentity, type ConnectorClient } from 'botframework-connector';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TeamsAuth } from '../../src/config/config.js';
import { createTeamsAdapter, type ReusingTeamsAdapter } from '../../src/teams/adapter.js';
import { BoundedClientCache, connectorKey } from '../../src/teams/connectorCache.js';
import { BOT_ACCOUNT, type FakeConnector, messageActivity, startFakeConnector } from '../harness/fakeConnector.js';
import { DEVELOPER } from './support.js';

const SOME_APP_ID = '99999999-9999-4999-8999-999999999999';
const OTHER_APP_ID = '88888888-8888-4888-8888-888888888888';
const TENANT_ID = '77777777-7777-4777-8777-777777777777';
/** The audience CloudAdapter asks tokens for in the public cloud (AuthenticationConstants.ToChannelFromBotOAuthScope). */
const BOT_FRAMEWORK_SCOPE = 'https://api.botframework.com';

let connectorA: FakeConnector;
let connectorB: FakeConnector;

beforeAll(async () => {
  connectorA = await startFakeConnector();
  connectorB = await startFakeConnector();
});

afterAll(async () => {
  await connectorA?.close();
  await connectorB?.close();
});

afterEach(() => {
  connectorA.clear();
  connectorB.clear();
});

/** What express hands CloudAdapter.process, enough of it: the status is all these tests read. */
function fakeResponse(onStatus: (code: number) => void = () => {}): Response {
  return {
    socket: null,
    status: onStatus,
    header() {},
    send() {},
    end() {},
  };
}

interface TurnOutcome {
  status: number;
  client: ConnectorClient;
}

/** Runs one inbound message through adapter.process (as express would hand it over), replying `reply`. */
async function inboundTurn(
  adapter: ReusingTeamsAdapter,
  connector: FakeConnector,
  conversationId: string,
  reply: string,
): Promise<TurnOutcome> {
  const activity = messageActivity(connector.serviceUrl, { id: conversationId, type: 'personal' }, DEVELOPER, 'hi');
  let status = 0;
  let client: ConnectorClient | undefined;
  const res = fakeResponse((code) => {
    status = code;
  });
  await adapter.process({ method: 'POST', headers: {}, body: activity }, res, async (context: TurnContext) => {
    client = context.turnState.get(adapter.ConnectorClientKey);
    await context.sendActivity(reply);
  });
  if (!client) throw new Error(`the turn did not run (HTTP ${status})`);
  return { status, client };
}

function referenceTo(connector: FakeConnector, conversationId: string): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: connector.serviceUrl,
    conversation: { id: conversationId, isGroup: false, conversationType: 'personal', name: '' },
    bot: BOT_ACCOUNT,
    user: { id: DEVELOPER.id, name: DEVELOPER.name },
  };
}

/** A proactive post through continueConversationAsync, as src/teams/surface.ts does; resolves with the client used. */
async function proactivePost(
  adapter: ReusingTeamsAdapter,
  botAppId: string,
  connector: FakeConnector,
  conversationId: string,
  text: string,
): Promise<ConnectorClient> {
  let client: ConnectorClient | undefined;
  await adapter.continueConversationAsync(botAppId, referenceTo(connector, conversationId), async (context) => {
    client = context.turnState.get(adapter.ConnectorClientKey);
    await context.sendActivity(text);
  });
  if (!client) throw new Error('the proactive turn did not run');
  return client;
}

describe('BoundedClientCache', () => {
  it('shares one creation between concurrent callers and keeps at most maxEntries, least recently used out', async () => {
    const cache = new BoundedClientCache<{ key: string; n: number }>(2);
    let made = 0;
    const make = (key: string) => () => Promise.resolve({ key, n: ++made });

    const [first, second] = await Promise.all([cache.getOrCreate('a', make('a')), cache.getOrCreate('a', make('a'))]);
    expect(first).toBe(second);
    expect(made).toBe(1);

    const b = await cache.getOrCreate('b', make('b'));
    expect(await cache.getOrCreate('a', make('a'))).toBe(first); // 'a' is now the most recently used
    await cache.getOrCreate('c', make('c')); // evicts 'b'
    expect(cache.size).toBe(2);
    expect(await cache.getOrCreate('a', make('a'))).toBe(first);
    const bAgain = await cache.getOrCreate('b', make('b'));
    expect(bAgain).not.toBe(b);
    expect(bAgain.key).toBe('b');
    expect(cache.size).toBe(2);
  });

  it('forgets a creation that failed', async () => {
    const cache = new BoundedClientCache<string>(4);
    await expect(cache.getOrCreate('k', () => Promise.reject(new Error('no token endpoint')))).rejects.toThrow(
      'no token endpoint',
    );
    await new Promise((r) => setImmediate(r));
    expect(cache.size).toBe(0);
    expect(await cache.getOrCreate('k', () => Promise.resolve('made'))).toBe('made');
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new BoundedClientCache(0)).toThrow(RangeError);
    expect(() => new BoundedClientCache(1.5)).toThrow(RangeError);
  });

  it('keys never collide across app id, audience and serviceUrl', () => {
    const keys = [
      connectorKey(null, 'https://a/', undefined),
      connectorKey('', 'https://a/', undefined),
      connectorKey(SOME_APP_ID, 'https://a/', undefined),
      connectorKey(SOME_APP_ID, 'https://a/', BOT_FRAMEWORK_SCOPE),
      connectorKey(SOME_APP_ID, 'https://b/', undefined),
      connectorKey(OTHER_APP_ID, 'https://a/', undefined),
      connectorKey('x","y', 'z', undefined),
      connectorKey('x', 'y","z', undefined),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('TeamsAdapter turns without authentication', () => {
  it('uses one connector client for consecutive turns to the same serviceUrl, and the replies arrive', async () => {
    const adapter = createTeamsAdapter({ kind: 'none' });
    const first = await inboundTurn(adapter, connectorA, 'a:one', 'first reply');
    const second = await inboundTurn(adapter, connectorA, 'a:two', 'second reply');

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.client).toBe(first.client);
    expect(adapter.authentication.connectorClients.size).toBe(1);
    const texts = connectorA.activities.map((a) => [a.conversationId, a.body.text]);
    expect(texts).toEqual([
      ['a:one', 'first reply'],
      ['a:two', 'second reply'],
    ]);
    expect(connectorA.activities.every((a) => a.authorization === undefined)).toBe(true);
  });

  it('gives a different serviceUrl its own client, and each reply goes to its own connector', async () => {
    const adapter = createTeamsAdapter({ kind: 'none' });
    const onA = await inboundTurn(adapter, connectorA, 'a:three', 'to A');
    const onB = await inboundTurn(adapter, connectorB, 'b:one', 'to B');
    const onAAgain = await inboundTurn(adapter, connectorA, 'a:four', 'to A again');

    expect(onB.client).not.toBe(onA.client);
    expect(onAAgain.client).toBe(onA.client);
    expect(connectorA.activities.map((a) => a.body.text)).toEqual(['to A', 'to A again']);
    expect(connectorB.activities.map((a) => a.body.text)).toEqual(['to B']);
  });

  it('reuses the client for proactive posts and keeps it apart from inbound turns with another identity', async () => {
    const adapter = createTeamsAdapter({ kind: 'none' });
    const firstPost = await proactivePost(adapter, '', connectorA, 'a:proactive', 'update 1');
    const secondPost = await proactivePost(adapter, '', connectorA, 'a:proactive', 'update 2');
    const inbound = await inboundTurn(adapter, connectorA, 'a:inbound', 'reply');
    const elsewhere = await proactivePost(adapter, '', connectorB, 'b:proactive', 'update 3');

    expect(secondPost).toBe(firstPost);
    // Anonymous inbound claims carry no app id, the proactive identity carries '': separate entries.
    expect(inbound).not.toBe(firstPost);
    expect(elsewhere).not.toBe(firstPost);
    expect(connectorA.activities.map((a) => a.body.text)).toEqual(['update 1', 'update 2', 'reply']);
    expect(connectorB.activities.map((a) => a.body.text)).toEqual(['update 3']);
  });

  it('gives each app id its own client for the same serviceUrl', async () => {
    const adapter = createTeamsAdapter({ kind: 'none' });
    const mine = adapter.authentication.createConnectorFactory(claimsFor(SOME_APP_ID));
    const theirs = adapter.authentication.createConnectorFactory(claimsFor(OTHER_APP_ID));
    const first = await mine.create(connectorA.serviceUrl);
    expect(await theirs.create(connectorA.serviceUrl)).not.toBe(first);
    expect(await mine.create(connectorA.serviceUrl)).toBe(first);
    expect(await mine.create(connectorA.serviceUrl, 'https://another.audience')).not.toBe(first);
  });

  it('keeps no more clients than its bound and makes a new one for an evicted serviceUrl', async () => {
    const adapter = createTeamsAdapter({ kind: 'none' }, { maxClients: 1 });
    const onA = await inboundTurn(adapter, connectorA, 'a:bound1', 'A1');
    const onB = await inboundTurn(adapter, connectorB, 'b:bound1', 'B1');
    expect(adapter.authentication.connectorClients.size).toBe(1);
    const onAAgain = await inboundTurn(adapter, connectorA, 'a:bound2', 'A2');

    expect(onB.client).not.toBe(onA.client);
    expect(onAAgain.client).not.toBe(onA.client);
    expect(connectorA.activities.map((a) => a.body.text)).toEqual(['A1', 'A2']);
    expect(connectorB.activities.map((a) => a.body.text)).toEqual(['B1']);
  });

  it('reuses the user token client of an identity', async () => {
    const adapter = createTeamsAdapter({ kind: 'none' });
    const tokenClients: unknown[] = [];
    for (const id of ['a:utc1', 'a:utc2']) {
      await adapter.process(
        {
          method: 'POST',
          headers: {},
          body: messageActivity(connectorA.serviceUrl, { id, type: 'personal' }, DEVELOPER, 'hi'),
        },
        fakeResponse(),
        async (context) => {
          tokenClients.push(context.turnState.get(adapter.UserTokenClientKey));
        },
      );
    }
    expect(tokenClients).toHaveLength(2);
    expect(tokenClients[0]).toBeDefined();
    expect(tokenClients[1]).toBe(tokenClients[0]);
  });
});

describe('TeamsAdapter with a user-assigned managed identity', () => {
  // A local App Service identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER), which the managed identity
  // credentials (DefaultAzureCredential → MSAL) ask for tokens; each answer is a new token.
  let identity: Server;
  const tokenRequests: { clientId: string | null; resource: string | null; header: string | undefined }[] = [];
  let lifetimeSeconds = 3600;
  const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

  beforeAll(async () => {
    identity = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      tokenRequests.push({
        clientId: url.searchParams.get('client_id'),
        resource: url.searchParams.get('resource'),
        header: req.headers['x-identity-header'] as string | undefined,
      });
      const body = JSON.stringify({
        access_token: `mi-token-${tokenRequests.length}`,
        expires_on: String(Math.floor(Date.now() / 1000) + lifetimeSeconds),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
    process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(identity.address() as AddressInfo).port}/msi/token`;
    process.env.IDENTITY_HEADER = 'identity-header-value';
  });

  afterAll(async () => {
    restoreEnv('IDENTITY_ENDPOINT', saved.endpoint);
    restoreEnv('IDENTITY_HEADER', saved.header);
    identity.closeAllConnections();
    await new Promise((resolve) => identity.close(resolve));
  });

  afterEach(() => {
    tokenRequests.length = 0;
  });

  const managedIdentity = (appId: string): TeamsAuth => ({
    kind: 'managed-identity',
    appType: 'UserAssignedMSI',
    appId,
    tenantId: TENANT_ID,
  });

  it('shares one client whose credentials fetch a new token when the old one is near expiry', async () => {
    // Tokens within five minutes of expiry are refreshed by botframework-connector (and MSAL): every call refetches.
    lifetimeSeconds = 120;
    const appId = '11111111-aaaa-4aaa-8aaa-111111111111';
    const adapter = createTeamsAdapter(managedIdentity(appId));
    const clients = [];
    for (const text of ['card 1', 'card 2', 'card 3']) {
      clients.push(await proactivePost(adapter, appId, connectorA, 'a:mi', text));
    }

    expect(clients[1]).toBe(clients[0]);
    expect(clients[2]).toBe(clients[0]);
    expect(connectorA.activities.map((a) => [a.body.text, a.authorization])).toEqual([
      ['card 1', 'Bearer mi-token-1'],
      ['card 2', 'Bearer mi-token-2'],
      ['card 3', 'Bearer mi-token-3'],
    ]);
    expect(tokenRequests).toHaveLength(3);
    expect(tokenRequests[0]).toEqual({
      clientId: appId,
      resource: BOT_FRAMEWORK_SCOPE,
      header: 'identity-header-value',
    });
  });

  it('keeps using a token that is still valid, through the shared client', async () => {
    lifetimeSeconds = 3600;
    const appId = '22222222-aaaa-4aaa-8aaa-222222222222';
    const adapter = createTeamsAdapter(managedIdentity(appId));
    const first = await proactivePost(adapter, appId, connectorA, 'a:mi2', 'card 1');
    const second = await proactivePost(adapter, appId, connectorA, 'a:mi2', 'card 2');

    expect(second).toBe(first);
    expect(tokenRequests).toHaveLength(1);
    expect(connectorA.activities.map((a) => a.authorization)).toEqual(['Bearer mi-token-1', 'Bearer mi-token-1']);
  });

  it('never hands its client to another app id, and remembers nothing for it', async () => {
    lifetimeSeconds = 3600;
    const appId = '33333333-aaaa-4aaa-8aaa-333333333333';
    const adapter = createTeamsAdapter(managedIdentity(appId));
    await proactivePost(adapter, appId, connectorA, 'a:mi3', 'mine');
    expect(adapter.authentication.connectorClients.size).toBe(1);

    await expect(proactivePost(adapter, OTHER_APP_ID, connectorA, 'a:mi3', 'not mine')).rejects.toThrow(
      /Invalid Managed ID/,
    );
    // The factory CloudAdapter would use for that identity asks the credentials, which refuse, and gets nothing.
    const foreign = adapter.authentication.createConnectorFactory(claimsFor(OTHER_APP_ID));
    await expect(foreign.create(connectorA.serviceUrl)).rejects.toThrow(/Invalid Managed ID/);
    await new Promise((r) => setImmediate(r));
    expect(adapter.authentication.connectorClients.size).toBe(1);
    expect(connectorA.activities.map((a) => a.body.text)).toEqual(['mine']);
  });

  it('still refuses an inbound activity without a token', async () => {
    const adapter = createTeamsAdapter(managedIdentity('44444444-aaaa-4aaa-8aaa-444444444444'));
    const activity = messageActivity(connectorA.serviceUrl, { id: 'a:anon', type: 'personal' }, DEVELOPER, 'hi');
    let status = 0;
    let ran = false;
    const errors = console.error;
    console.error = () => {}; // CloudAdapter logs the AuthenticationError
    try {
      await adapter.process(
        { method: 'POST', headers: {}, body: activity },
        fakeResponse((code) => {
          status = code;
        }),
        async () => {
          ran = true;
        },
      );
    } finally {
      console.error = errors;
    }
    expect(status).toBe(401);
    expect(ran).toBe(false);
    expect(adapter.authentication.connectorClients.size).toBe(0);
  });
});

describe('TeamsAdapter with an app secret', () => {
  // MicrosoftAppCredentials read botframework-connector's process-wide token cache (AppCredentials.cache, keyed by
  // app id and scope) before asking MSAL; seeding it keeps this test off login.microsoftonline.com while the real
  // credentials sign the requests. The cache is private in the typings, hence the cast.
  const appId = '55555555-aaaa-4aaa-8aaa-555555555555';
  const tokenCache = (AppCredentials as unknown as { cache: Map<string, { accessToken: string; expiresOn: Date }> })
    .cache;
  const tokenCacheKey = `${appId}${BOT_FRAMEWORK_SCOPE}-cache`;
  const seedToken = (accessToken: string) =>
    tokenCache.set(tokenCacheKey, { accessToken, expiresOn: new Date(Date.now() + 60 * 60_000) });

  afterEach(() => {
    tokenCache.delete(tokenCacheKey);
  });

  it('shares one client between proactive turns and every call carries the current token', async () => {
    const adapter = createTeamsAdapter({ kind: 'secret', appType: 'MultiTenant', appId, appPassword: 'not-a-secret' });
    seedToken('token-one');
    const first = await proactivePost(adapter, appId, connectorA, 'a:secret', 'card 1');
    const second = await proactivePost(adapter, appId, connectorA, 'a:secret', 'card 2');
    seedToken('token-two'); // what a refresh through MSAL leaves in the cache
    const third = await proactivePost(adapter, appId, connectorA, 'a:secret', 'card 3');

    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(connectorA.activities.map((a) => [a.body.text, a.authorization])).toEqual([
      ['card 1', 'Bearer token-one'],
      ['card 2', 'Bearer token-one'],
      ['card 3', 'Bearer token-two'],
    ]);
  });
});

/** The identity CloudAdapter builds for a proactive turn of `appId` (CloudAdapterBase.createClaimsIdentity). */
function claimsFor(appId: string): ClaimsIdentity {
  return new ClaimsIdentity([
    { type: AuthenticationConstants.AudienceClaim, value: appId },
    { type: AuthenticationConstants.AppIdClaim, value: appId },
  ]);
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
