import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCard } from '../../src/chat/port.js';
import { ChannelRateLimiter, type OutgoingPost, type OutgoingUpdate } from '../../src/slack/rateLimiter.js';
import { createSlackSurface, type SlackSurface } from '../../src/slack/slackSurface.js';
import { slackThread } from '../../src/slack/threads.js';
import { type FakeSlackApi, startFakeSlackApi } from '../harness/fakeSlackApi.js';

const CHANNEL = 'C0ALERTS1';
const THREAD_TS = '1766000000.000100';

describe('alerts through the Slack surface (production pacing: one message per second per channel)', () => {
  let api: FakeSlackApi | undefined;
  let surface: SlackSurface | undefined;
  afterEach(async () => {
    await surface?.close();
    await api?.close();
    surface = undefined;
    api = undefined;
  });

  async function start(): Promise<{ api: FakeSlackApi; surface: SlackSurface }> {
    api = await startFakeSlackApi();
    surface = createSlackSurface({
      botToken: 'xoxb-test-1',
      clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
    });
    return { api, surface };
  }

  it('a burst of 50 alerts to one thread arrives coalesced, in order, at most one message per second', async () => {
    const t = await start();
    const thread = slackThread(CHANNEL, THREAD_TS);
    const lines = Array.from(
      { length: 50 },
      (_, i) => `:x: error_rate 0.${i}% observed vs < 0.3% (n = ${1000 + i}, 5 min) #${i}`,
    );
    const started = performance.now();
    const refs = await Promise.all(lines.map((text) => t.surface.postInThread(thread, { text })));
    const elapsed = performance.now() - started;

    const posts = t.api.callsOf('chat.postMessage');
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < posts.length; i++) {
      expect((posts[i]?.at ?? 0) - (posts[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    }
    expect(elapsed).toBeLessThan(3500);
    // Every line arrived exactly once, in order, in the thread.
    const delivered = posts.flatMap((p) => String(p.args.text).split('\n'));
    expect(delivered).toEqual(lines.map((l) => l.replace(/</g, '&lt;')));
    for (const p of posts) expect(p.args.thread_ts).toBe(THREAD_TS);
    // Each caller learns which message carried its line.
    const carriers = new Set(posts.map((p) => String(p.response?.ts)));
    for (const ref of refs) expect(carriers.has(ref.messageId)).toBe(true);
  }, 10_000);

  it('a rollout status card goes into the thread and is edited in place; rapid edits collapse to the newest', async () => {
    const t = await start();
    const thread = slackThread(CHANNEL, THREAD_TS);
    const status = (trafficPercent: number): ChatCard => ({
      kind: 'rollout-status',
      input: {
        contractId: 'ctr-1',
        revision: 1,
        service: 'checkout',
        version: '2.4.0',
        phase: 'running',
        trafficPercent,
        stepIndex: 1,
        stepCount: 4,
        checks: [],
        steps: [],
        updatedAt: '2026-11-24T12:00:00.000Z',
      },
    });
    const posted = await t.surface.postCard(thread, status(5));
    expect(posted.thread).toEqual(thread);
    t.api.setLatency('chat.update', 100);
    await Promise.all([5, 10, 15, 20, 25, 30, 35, 40].map((p) => t.surface.updateCard(posted, status(p))));
    const updates = t.api.callsOf('chat.update');
    expect(updates.length).toBeLessThanOrEqual(2);
    expect(updates.every((u) => u.args.ts === posted.messageId && u.args.channel === CHANNEL)).toBe(true);
    expect(JSON.stringify(updates.at(-1)?.args.blocks)).toContain('40\u00a0% on the new version');
  });

  it('honours a 429 retry-after and still delivers everything once', async () => {
    const t = await start();
    t.api.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSeconds: 1 });
    const thread = slackThread(CHANNEL, THREAD_TS);
    const first = t.surface.postInThread(thread, { text: 'alert one' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = t.surface.postInThread(thread, { text: 'alert two' });
    const [a, b] = await Promise.all([first, second]);

    const calls = t.api.callsOf('chat.postMessage');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    // The line that queued during the pause went out in the same message.
    expect(calls[1]?.args.text).toBe('alert one\nalert two');
    expect(a.messageId).toBe(b.messageId);
  }, 10_000);

  it('gives up after repeated 429s and reports the failure to the caller', async () => {
    api = await startFakeSlackApi();
    surface = createSlackSurface({
      botToken: 'xoxb-test-1',
      clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
      limiter: { maxAttempts: 2 },
    });
    api.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSeconds: 0 }, 5);
    await expect(surface.postInThread(slackThread(CHANNEL), { text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
    });
    expect(api.callsOf('chat.postMessage')).toHaveLength(2);
  });

  it('reports a platform error (not_in_channel) to the caller without retrying', async () => {
    const t = await start();
    t.api.failNext('chat.postMessage', { kind: 'platform_error', error: 'not_in_channel' });
    await expect(t.surface.postInThread(slackThread(CHANNEL), { text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { error: 'not_in_channel' },
    });
    expect(t.api.callsOf('chat.postMessage')).toHaveLength(1);
  });
});

describe('ChannelRateLimiter', () => {
  function recorder(options: { failFirst?: unknown } = {}) {
    const posts: { post: OutgoingPost; at: number }[] = [];
    const updates: { update: OutgoingUpdate; at: number }[] = [];
    let failure = options.failFirst;
    let ts = 0;
    const limiter = new ChannelRateLimiter({
      intervalMs: 40,
      maxCoalescedChars: 50,
      post: async (post) => {
        if (failure !== undefined) {
          const error = failure;
          failure = undefined;
          throw error;
        }
        posts.push({ post, at: performance.now() });
        ts += 1;
        return { ts: `1.${ts}` };
      },
      update: async (update) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        updates.push({ update, at: performance.now() });
      },
    });
    return { limiter, posts, updates };
  }

  it('never merges across a card of the same thread, and merges past other threads’ posts', async () => {
    const { limiter, posts } = recorder();
    const card = { channel: 'C1', threadTs: 'A', text: 'card', blocks: [{ type: 'divider' as const }] };
    await Promise.all([
      limiter.post({ channel: 'C1', threadTs: 'A', text: 'a1', coalesce: true }),
      limiter.post({ channel: 'C1', threadTs: 'A', text: 'a2', coalesce: true }),
      limiter.post({ channel: 'C1', threadTs: 'B', text: 'b1', coalesce: true }),
      limiter.post({ channel: 'C1', threadTs: 'A', text: 'a3', coalesce: true }),
      limiter.post(card),
      limiter.post({ channel: 'C1', threadTs: 'A', text: 'a4', coalesce: true }),
    ]);
    expect(posts.map((p) => [p.post.threadTs, p.post.text])).toEqual([
      ['A', 'a1'],
      ['A', 'a2\na3'],
      ['B', 'b1'],
      ['A', 'card'],
      ['A', 'a4'],
    ]);
  });

  it('splits a pile of lines at the size cap', async () => {
    const { limiter, posts } = recorder();
    const lines = Array.from({ length: 12 }, (_, i) => `line ${String(i).padStart(2, '0')}`);
    await Promise.all(lines.map((text) => limiter.post({ channel: 'C1', threadTs: 'A', text, coalesce: true })));
    for (const p of posts) expect(p.post.text.length).toBeLessThanOrEqual(50);
    expect(posts.flatMap((p) => p.post.text.split('\n'))).toEqual(lines);
    expect(posts.length).toBeLessThan(lines.length);
  });

  it('paces each channel on its own', async () => {
    const { limiter, posts } = recorder();
    await Promise.all([
      limiter.post({ channel: 'C1', text: 'one' }),
      limiter.post({ channel: 'C2', text: 'two' }),
      limiter.post({ channel: 'C1', text: 'three' }),
    ]);
    const [c1a, c2, c1b] = [posts[0], posts[1], posts[2]];
    expect(c2?.post.channel).toBe('C2');
    expect((c2?.at ?? 0) - (c1a?.at ?? 0)).toBeLessThan(30);
    expect((c1b?.at ?? 0) - (c1a?.at ?? 0)).toBeGreaterThanOrEqual(38);
  });

  it('keeps the pace across an empty queue', async () => {
    const { limiter, posts } = recorder();
    await limiter.post({ channel: 'C1', text: 'one' });
    await limiter.post({ channel: 'C1', text: 'two' });
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(38);
  });

  it('a failing message rejects its callers and the queue goes on', async () => {
    const { limiter, posts } = recorder({ failFirst: new Error('boom') });
    const results = await Promise.allSettled([
      limiter.post({ channel: 'C1', text: 'card', blocks: [{ type: 'divider' }] }),
      limiter.post({ channel: 'C1', text: 'next', coalesce: true }),
    ]);
    expect(results[0].status).toBe('rejected');
    expect(results[1].status).toBe('fulfilled');
    expect(posts.map((p) => p.post.text)).toEqual(['next']);
  });

  it('collapses edits of one message that pile up: the newest wins, every caller resolves', async () => {
    const { limiter, updates } = recorder();
    const edits = Array.from({ length: 10 }, (_, i) => limiter.update({ channel: 'C1', ts: '1.1', text: `v${i}` }));
    await Promise.all(edits);
    expect(updates.length).toBeLessThanOrEqual(2);
    expect(updates.at(-1)?.update.text).toBe('v9');
    // Edits of different messages do not wait for each other.
    await Promise.all([
      limiter.update({ channel: 'C1', ts: '1.2', text: 'x' }),
      limiter.update({ channel: 'C1', ts: '1.3', text: 'y' }),
    ]);
    const [x, y] = updates.slice(-2);
    expect(Math.abs((x?.at ?? 0) - (y?.at ?? 0))).toBeLessThan(15);
  });

  it('refuses work after close', async () => {
    const { limiter } = recorder();
    await limiter.close();
    await expect(limiter.post({ channel: 'C1', text: 'late' })).rejects.toMatchObject({ code: 'slack_limiter_closed' });
  });
});
