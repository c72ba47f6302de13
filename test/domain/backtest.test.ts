import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BacktestEntry, backtestEntry, summariseBacktest } from '../../src/domain/backtest.js';
import { levelForScore, RISK_LEVELS } from '../../src/domain/model.js';
import { makeRisk } from '../support/fixtures.js';

function entry(sha: string, score: number): BacktestEntry {
  return { sha, subject: `commit ${sha}`, score, level: levelForScore(score), confidence: 0.8, topFactors: [] };
}

describe('summariseBacktest', () => {
  it('counts levels with percentages, the score distribution and the riskiest commits', () => {
    const entries = [
      entry('a', 5),
      entry('b', 9.9),
      entry('c', 10),
      entry('d', 29.9),
      entry('e', 30),
      entry('f', 49.9),
      entry('g', 50),
      entry('h', 70),
      entry('i', 100),
      entry('j', 12),
    ];
    const s = summariseBacktest(entries, { top: 3 });
    expect(s.commits).toBe(10);
    expect(s.levels).toEqual({
      low: { count: 5, percent: 50 },
      medium: { count: 2, percent: 20 },
      high: { count: 1, percent: 10 },
      critical: { count: 2, percent: 20 },
    });
    expect(s.canaryRequired).toEqual({ count: 3, percent: 30 });
    expect(s.scores.histogram.map((b) => [b.from, b.to, b.count])).toEqual([
      [0, 10, 2],
      [10, 20, 2],
      [20, 30, 1],
      [30, 40, 1],
      [40, 50, 1],
      [50, 60, 1],
      [60, 70, 0],
      [70, 80, 1],
      [80, 90, 0],
      [90, 100, 1],
    ]);
    expect(s.scores).toMatchObject({ min: 5, max: 100, median: 29.9, p90: 70, p99: 100, mean: 36.7 });
    expect(s.top.map((e) => e.sha)).toEqual(['i', 'h', 'g']);
  });

  it('keeps history order among equal scores and handles no commits', () => {
    const s = summariseBacktest([entry('new', 40), entry('mid', 60), entry('old', 40)], { top: 5 });
    expect(s.top.map((e) => e.sha)).toEqual(['mid', 'new', 'old']);
    expect(s.levels.medium.percent).toBe(66.7);
    const empty = summariseBacktest([], { top: 5 });
    expect(empty).toMatchObject({ commits: 0, top: [], canaryRequired: { count: 0, percent: 0 } });
    expect(empty.scores).toMatchObject({ min: 0, max: 0, mean: 0, median: 0, p90: 0, p99: 0 });
    for (const level of RISK_LEVELS) expect(empty.levels[level]).toEqual({ count: 0, percent: 0 });
  });

  it('always accounts for every commit (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 200 }), fc.nat(20), (tenths, top) => {
        const entries = tenths.map((t, i) => entry(String(i), t / 10));
        const s = summariseBacktest(entries, { top });
        const levelTotal = RISK_LEVELS.reduce((sum, l) => sum + s.levels[l].count, 0);
        const bucketTotal = s.scores.histogram.reduce((sum, b) => sum + b.count, 0);
        expect(levelTotal).toBe(entries.length);
        expect(bucketTotal).toBe(entries.length);
        expect(s.top).toHaveLength(Math.min(top, entries.length));
        if (entries.length > 0) {
          expect(s.scores.min).toBeLessThanOrEqual(s.scores.median);
          expect(s.scores.median).toBeLessThanOrEqual(s.scores.p90);
          expect(s.scores.p90).toBeLessThanOrEqual(s.scores.max);
          expect(s.top[0]?.score ?? s.scores.max).toBe(s.scores.max);
        }
      }),
    );
  });
});

describe('backtestEntry', () => {
  it('keeps the commit, the score and the highest findings', () => {
    const risk = makeRisk(
      'high',
      [
        { factor: 'caching', points: 12, evidence: [], summary: 'cache' },
        { factor: 'database_migration', points: 32, evidence: [], summary: 'migration' },
        { factor: 'api_contract', points: 15, evidence: [], summary: 'api' },
        { factor: 'storage', points: 4, evidence: [], summary: 'storage' },
      ],
      { score: 62 },
    );
    const e = backtestEntry({ sha: 'abc', subject: 'drop column' }, risk, 2);
    expect(e).toEqual({
      sha: 'abc',
      subject: 'drop column',
      score: 62,
      level: 'high',
      confidence: risk.confidence,
      topFactors: [
        { factor: 'database_migration', points: 32, summary: 'migration' },
        { factor: 'api_contract', points: 15, summary: 'api' },
      ],
    });
  });
});
