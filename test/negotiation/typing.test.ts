import { describe, expect, it } from 'vitest';
import { coalesceStream, keepTyping } from '../../src/negotiation/typing.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keepTyping', () => {
  it('sends the indicator at once and periodically until the work is done', async () => {
    let typed = 0;
    const result = await keepTyping(
      () => {
        typed++;
      },
      sleep(130).then(() => 'done'),
      40,
    );
    expect(result).toBe('done');
    expect(typed).toBeGreaterThanOrEqual(3);
    const after = typed;
    await sleep(100);
    expect(typed).toBe(after);
  });

  it('a failing indicator does not fail the turn', async () => {
    await expect(keepTyping(() => Promise.reject(new Error('429')), Promise.resolve(1), 10)).resolves.toBe(1);
  });
});

describe('coalesceStream', () => {
  it('sends cumulative text at most once per interval and everything on flush', async () => {
    const updates: string[] = [];
    const s = coalesceStream(
      async (t) => {
        updates.push(t);
      },
      { intervalMs: 50 },
    );
    for (const piece of ['The ', 'canary ', 'starts ', 'at ', '25 %.']) {
      s.push(piece);
      await sleep(15);
    }
    await s.flush();
    expect(updates.at(-1)).toBe('The canary starts at 25 %.');
    expect(updates.length).toBeLessThan(5);
    expect(updates.every((u, i) => i === 0 || u.startsWith(updates[i - 1] as string))).toBe(true);
    expect(s.text).toBe('The canary starts at 25 %.');
  });

  it('keeps going after a failed update', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const s = coalesceStream(
      async () => {
        calls++;
        if (calls === 1) throw new Error('throttled');
      },
      { intervalMs: 10, onError: (e) => errors.push(e) },
    );
    s.push('a');
    await sleep(20);
    s.push('b');
    await s.flush();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
