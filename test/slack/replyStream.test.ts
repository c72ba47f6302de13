/** A reply still being written on Slack: a placeholder in the thread, edited as the answer arrives, then into the answer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACEHOLDER_TEXT } from '../../src/slack/replyStream.js';
import { createSlackSurface, type SlackSurface } from '../../src/slack/slackSurface.js';
import { type FakeSlackApi, startFakeSlackApi } from '../harness/fakeSlackApi.js';
import { BOT_TOKEN, CHANNEL } from './support.js';

let api: FakeSlackApi;
let surface: SlackSurface;

beforeAll(async () => {
  api = await startFakeSlackApi();
  surface = createSlackSurface({
    botToken: BOT_TOKEN,
    clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
    limiter: { intervalMs: 10 },
  });
});

afterAll(async () => {
  await surface?.close();
  await api?.close();
});

describe('Slack reply in progress', () => {
  it('posts a placeholder at once, edits it as text arrives, and ends with the final message in its place', async () => {
    const thread = { surface: 'slack' as const, key: `${CHANNEL}:1766000000.000100` };
    const reply = surface.openReply(thread);
    const placeholder = await api.waitFor((c) => c.method === 'chat.postMessage');
    expect(placeholder.args).toMatchObject({
      channel: CHANNEL,
      thread_ts: '1766000000.000100',
      text: PLACEHOLDER_TEXT,
    });
    reply.push('The window is five minutes ');
    await api.waitFor((c) => c.method === 'chat.update' && String(c.args.text).startsWith('The window is five'));
    reply.push('because the floor asks for it.');
    const ref = await reply.finish({ text: 'Final: the window stays at 5 min.' });
    await surface.idle();
    const updates = api.callsOf('chat.update');
    expect(updates.every((u) => u.args.ts === placeholder.response?.ts)).toBe(true);
    expect(updates.at(-1)?.args.text).toBe('Final: the window stays at 5 min.');
    expect(ref.messageId).toBe(placeholder.response?.ts);
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
  });
});
