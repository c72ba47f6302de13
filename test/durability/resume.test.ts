/**
 * Issue 6: "A worker killed mid-rollout is resumed by another process." The first process runs a real
 * RolloutWorker on a simulated clock and is SIGKILLed while it holds the lease in the middle of an evaluation;
 * a second process opens the same store (PGlite: one after the other on one data directory), cannot claim the
 * rollout until the lease has expired, then drives it to promotion. History continues where the first process
 * stopped: no interval is judged twice and none is skipped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOCATIONS, resultOf, runToEnd, type StoreLocation, startFixture } from './support.js';

interface ResumeFrom {
  phase: string;
  historyLength: number;
  lastIntervalEnd: string;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
}

interface Resumed {
  blocked: number;
  firstClaimAt: string | null;
  phase: string;
  intervals: { start: string; end: string }[];
  evaluations: { intervalIndex: number; start: string; end: string; verdict: string | null }[];
}

const STALL_AT_FETCH = 7;
const LEASE_MS = 2_000;

describe.each(LOCATIONS)('rollout resumed by another process on $name', ({ make }) => {
  let location: StoreLocation | undefined;
  afterEach(async () => {
    await location?.dispose();
    location = undefined;
  });

  it('takes over a killed worker after its lease and finishes without judging an interval twice', async () => {
    location = make('resume');
    const lease = ['--lease-ms', String(LEASE_MS)];
    const first = startFixture(
      'rolloutWorker.ts',
      [...location.args, ...lease, '--mode', 'start', '--stall-at', String(STALL_AT_FETCH)],
      'first worker',
    );
    try {
      await first.until('the stall', (lines) => lines.some((l) => l.startsWith('stalled ')), 60_000);
    } finally {
      expect((await first.kill()).signal).toBe('SIGKILL');
    }
    const judgedByFirst = first.linesStartingWith('judged ');
    const [stalledAt] = first.linesStartingWith('stalled ');
    expect(judgedByFirst).toHaveLength(STALL_AT_FETCH - 1);

    const second = startFixture('rolloutWorker.ts', [...location.args, ...lease, '--mode', 'resume'], 'second worker');
    expect((await runToEnd(second, 90_000)).code, second.describe()).toBe(0);
    const [fromLine] = second.linesStartingWith('resume-from ');
    const from = JSON.parse(fromLine ?? 'null') as ResumeFrom;
    const result = resultOf<Resumed>(second);
    const judgedBySecond = second.linesStartingWith('judged ');

    // Where the first worker died: mid-ramp, every judged interval saved, the lease still its own.
    expect(from.phase).toBe('progressing');
    expect(from.historyLength).toBe(judgedByFirst.length);
    expect(from.lastIntervalEnd).toBe(stalledAt);
    expect(from.leaseOwner).toBe('first');
    expect(from.leaseExpiresAt).not.toBeNull();

    // The second worker claimed only once the lease had expired on the store's clock, then carried on to the end.
    expect(Date.parse(result.firstClaimAt ?? '')).toBeGreaterThanOrEqual(Date.parse(from.leaseExpiresAt ?? ''));
    expect(result.phase).toBe('promoted');
    expect(judgedBySecond[0]).toBe(stalledAt);
    const starts = result.intervals.map((i) => i.start);
    expect(starts).toEqual([...judgedByFirst, ...judgedBySecond]);
    expect(new Set(starts).size).toBe(starts.length);
    result.intervals.slice(1).forEach((interval, i) => {
      expect(interval.start).toBe(result.intervals[i]?.end);
    });
    expect(result.evaluations.map((e) => [e.intervalIndex, e.start])).toEqual(starts.map((s, i) => [i, s]));
  }, 180_000);
});
