/**
 * The claim rule of inbound chat events (src/domain/eventClaim.ts), which the SQL ledger and the in-memory one both
 * apply: who may claim, renew, finish and release an event, at which time.
 */
import { describe, expect, it } from 'vitest';
import { claimStep, type EventClaimRow, finishStep, releaseStep, renewStep } from '../../src/domain/eventClaim.js';

const NOW = 1_000_000;
const claimedBy = (holder: string, leaseUntil: number): EventClaimRow => ({
  state: 'claimed',
  seenAt: NOW - 500,
  holder,
  leaseUntil,
});
const request = { holder: 'b', leaseMs: 600, doneTtlMs: 3_600_000 };

describe('event claim rule', () => {
  it('claims an absent event, a claim whose lease ran out, and a done event past the TTL', () => {
    const claimed = { state: 'claimed', seenAt: NOW, holder: 'b', leaseUntil: NOW + 600 };
    expect(claimStep(undefined, request, NOW)).toEqual({ outcome: 'claimed', next: claimed });
    expect(claimStep(claimedBy('a', NOW), request, NOW)).toEqual({ outcome: 'claimed', next: claimed });
    const oldDone: EventClaimRow = { state: 'done', seenAt: NOW - 3_600_000 };
    expect(claimStep(oldDone, request, NOW)).toEqual({ outcome: 'claimed', next: claimed });
  });

  it('a live claim is busy, even for its own holder; a recent done event is a duplicate', () => {
    expect(claimStep(claimedBy('a', NOW + 1), request, NOW)).toEqual({ outcome: 'busy', next: 'keep' });
    expect(claimStep(claimedBy('b', NOW + 1), request, NOW)).toEqual({ outcome: 'busy', next: 'keep' });
    expect(claimStep({ state: 'done', seenAt: NOW - 1 }, request, NOW)).toEqual({ outcome: 'done', next: 'keep' });
  });

  it('only the holder renews (its lease from now), even once its lease ran out if nobody took it over', () => {
    const row = claimedBy('a', NOW - 10);
    expect(renewStep(row, { holder: 'a', leaseMs: 600 }, NOW)).toEqual({
      outcome: true,
      next: { ...row, leaseUntil: NOW + 600 },
    });
    expect(renewStep(row, { holder: 'b', leaseMs: 600 }, NOW)).toEqual({ outcome: false, next: 'keep' });
    expect(renewStep(undefined, { holder: 'a', leaseMs: 600 }, NOW)).toEqual({ outcome: false, next: 'keep' });
    expect(renewStep({ state: 'done', seenAt: NOW }, { holder: 'a', leaseMs: 600 }, NOW).outcome).toBe(false);
  });

  it('only the holder marks the event done or releases it', () => {
    const row = claimedBy('a', NOW + 600);
    expect(finishStep(row, 'a', NOW)).toEqual({ outcome: true, next: { state: 'done', seenAt: NOW } });
    expect(finishStep(row, 'b', NOW)).toEqual({ outcome: false, next: 'keep' });
    expect(finishStep(undefined, 'a', NOW)).toEqual({ outcome: false, next: 'keep' });
    expect(releaseStep(row, 'a')).toEqual({ outcome: true, next: 'delete' });
    expect(releaseStep(row, 'b')).toEqual({ outcome: false, next: 'keep' });
  });
});
