/**
 * users.info lookups feed separation of duties: a failed lookup must not be remembered as "unknown" (the author would
 * then pass as someone else for ten minutes), while an answer is cached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackSurface, type SlackSurface } from '../../src/slack/slackSurface.js';
import { type FakeSlackApi, startFakeSlackApi } from '../harness/fakeSlackApi.js';

let api: FakeSlackApi;
let surface: SlackSurface;

beforeAll(async () => {
  api = await startFakeSlackApi();
  api.roster.set('UAUTHOR01', { id: 'UAUTHOR01', name: 'al', realName: 'Al Author', email: 'al@example.com' });
  surface = createSlackSurface({
    botToken: 'xoxb-test-000000000-000000000000',
    clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
  });
});
afterAll(async () => {
  await surface.close();
  await api.close();
});

describe('Slack directory lookups', () => {
  it('reports a failed users.info as failed, does not cache it, and caches the answer that follows', async () => {
    api.failNext('users.info', { kind: 'http_error', status: 500 });
    expect(await surface.resolveUser(undefined, 'UAUTHOR01')).toEqual({
      id: 'UAUTHOR01',
      surface: 'slack',
      directory: 'failed',
    });
    const found = await surface.resolveUser(undefined, 'UAUTHOR01');
    expect(found).toMatchObject({ directory: 'resolved', aliases: ['al@example.com'], displayName: 'Al Author' });
    const calls = api.calls.filter((c) => c.method === 'users.info').length;
    await surface.resolveUser(undefined, 'UAUTHOR01');
    expect(api.calls.filter((c) => c.method === 'users.info').length).toBe(calls);
  });

  it('an unknown user is an answer (not_found), not a failure', async () => {
    api.failNext('users.info', { kind: 'platform_error', error: 'user_not_found' });
    expect(await surface.resolveUser(undefined, 'UNOBODY01')).toMatchObject({ directory: 'not_found' });
  });
});
