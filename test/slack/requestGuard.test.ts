/**
 * Issue 18, item 7, on /slack/events through the real Bolt receiver on 127.0.0.1: the body limit holds before the
 * body is read, the signature is checked before any rate limit, a workspace's budget is its own, and a flood of
 * unsigned requests from one address neither reaches Bolt nor blocks signed requests from the same address.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { appMention, type SlackHarness, startSlackHarness } from './support.js';

let t: SlackHarness | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Sends only the headers and a few bytes of a declared body; resolves with the status once the server answers. */
function declareHugeBody(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(bytes) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.write('{"type":');
  });
}

describe('/slack/events guard', () => {
  it('answers 413 from the declared length, without waiting for the body, and for an oversized chunked body', async () => {
    t = await startSlackHarness({ guard: { bodyLimitBytes: 64 * 1024 } });
    expect(await declareHugeBody(t.eventsUrl, 4 * 1024 * 1024)).toBe(413);
    const chunked = await fetch(t.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // Still serving signed requests.
    expect((await t.sendEvent(appMention('hello'))).status).toBe(200);
  });

  it('limits unsigned traffic on its own budget: a flood from one address never blocks a signed request', async () => {
    t = await startSlackHarness({ guard: { unauthenticatedRateLimit: { windowMs: 60_000, limit: 5 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await t.sendEvent(appMention(`junk ${i}`), { secret: 'not-the-signing-secret' })).status);
    }
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    const signed = await t.sendEvent(appMention('hello'));
    expect(signed.status).toBe(200);
    await t.settle();
    expect(t.logs.some((l) => /signature/i.test(l.msg ?? ''))).toBe(false);
  });

  it('keys the signed budget by the verified workspace', async () => {
    t = await startSlackHarness({ guard: { rateLimit: { windowMs: 60_000, limit: 2 } } });
    const harness = t;
    const from = async (team: string) => (await harness.sendEvent({ ...appMention('hi'), team_id: team })).status;
    expect([await from('T0AAAAAAA'), await from('T0AAAAAAA'), await from('T0AAAAAAA')]).toEqual([200, 200, 429]);
    expect(await from('T0BBBBBBB')).toBe(200);
  });
});
