import { describe, expect, it } from 'vitest';
import { TurnScheduler } from '../../src/teams/turnScheduler.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TurnScheduler: clicks go ahead of message turns', () => {
  it('starts no message turn while a click is handled; the click never waits', async () => {
    const scheduler = new TurnScheduler({ maxWaitMs: 10_000 });
    const order: string[] = [];
    let endClick: () => void = () => undefined;
    const click = scheduler.click(async () => {
      order.push('click start');
      await new Promise<void>((resolve) => {
        endClick = resolve;
      });
      order.push('click end');
    });
    const message = scheduler.message(async () => void order.push('message'));
    await tick(5);
    expect(order).toEqual(['click start']);
    expect(scheduler.queued).toBe(1);
    // A second click arrives while the message waits: it runs at once.
    await scheduler.click(async () => void order.push('second click'));
    endClick();
    await Promise.all([click, message]);
    expect(order).toEqual(['click start', 'second click', 'click end', 'message']);
  });

  it('runs at most maxMessages message turns at once, in arrival order', async () => {
    const scheduler = new TurnScheduler({ maxMessages: 2 });
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        scheduler.message(async () => {
          started.push(i);
          running += 1;
          peak = Math.max(peak, running);
          await tick(5);
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('lets a message turn start after maxWaitMs even while a click is still being handled', async () => {
    const scheduler = new TurnScheduler({ maxWaitMs: 30 });
    const click = scheduler.click(() => tick(300));
    const started = performance.now();
    await scheduler.message(async () => undefined);
    const waited = performance.now() - started;
    await click;
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waited).toBeLessThan(250);
  });
});
