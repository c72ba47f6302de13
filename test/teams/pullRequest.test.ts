/** `assess <pull request link>` through the real stack, against a local GitHub API fake. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistentStore } from '../../src/persistence/index.js';
import {
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
} from '../harness/fakeConnector.js';
import { type FakeGitHub, startFakeGitHub } from '../harness/fakeGitHub.js';
import { DEVELOPER, startTestBot, type TestBot } from './support.js';

let connector: FakeConnector;
let github: FakeGitHub;
let bot: TestBot;

beforeAll(async () => {
  connector = await startFakeConnector();
  github = await startFakeGitHub();
  github.addPullRequest({
    owner: 'acme',
    repo: 'shop',
    number: 7,
    title: 'Add index to orders',
    body: 'Adds a database migration',
    author: 'octocat',
    baseSha: 'a'.repeat(40),
    headSha: 'b'.repeat(40),
    files: [
      {
        filename: 'db/migrations/0042_add_index.sql',
        status: 'added',
        additions: 3,
        deletions: 0,
        patch:
          '@@ -0,0 +1,3 @@\n+CREATE INDEX CONCURRENTLY orders_idx ON orders (created_at);\n+-- drop later\n+ALTER TABLE orders ADD COLUMN x int;',
      },
      { filename: 'src/api/orders.ts', status: 'modified', additions: 10, deletions: 2 },
    ],
    commits: ['add index'],
  });
  bot = await startTestBot(await openPersistentStore({ dataDir: 'memory://' }), {
    GITHUB_TOKEN: 'ghs_test_token',
    GITHUB_API_URL: github.url,
  });
});

afterAll(async () => {
  await bot?.close();
  await github?.close();
  await connector?.close();
});

async function ask(text: string) {
  const conversation: ConversationSpec = { id: 'a:pr-chat', type: 'personal' };
  const activity = messageActivity(connector.serviceUrl, conversation, DEVELOPER, text);
  expect((await sendToBot(bot.url, activity)).status).toBe(200);
  return JSON.stringify(cardOf((await connector.waitFor((a) => a.activityId === activity.id)).body));
}

describe('assess a pull request link', () => {
  it('reads the pull request and posts its contract', async () => {
    const card = await ask(`assess ${github.url}/acme/shop/pull/7`);
    expect(card).toContain('shop bbbbbbbbbbbb → production');
    expect(card).toContain('Database schema/migration');
    expect(card).toContain('db/migrations/0042_add_index.sql');
    const call = github.calls.find((c) => c.path === '/repos/acme/shop/pulls/7');
    expect(call?.headers.authorization).toBe('token ghs_test_token');
  });

  it('does not send the token to any other host', async () => {
    const before = github.calls.length;
    const card = await ask('assess https://evil.example.com/acme/shop/pull/7');
    expect(card).toContain('not followed');
    expect(github.calls.length).toBe(before);
  });

  it('names a missing pull request', async () => {
    const card = await ask(`assess ${github.url}/acme/shop/pull/999`);
    expect(card).toContain('I could not read that change');
    expect(card).toContain('acme/shop#999 was not found');
  });
});
