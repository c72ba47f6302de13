import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReport } from '../../src/cli/commands/backtest.js';
import { createHistoryRepo, type HistoryRepo } from '../intake/gitRepoFixture.js';
import { run } from './cliHarness.js';

let tmp: string;
let repo: HistoryRepo;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'chaos-backtest-'));
  repo = await createHistoryRepo(join(tmp, 'shop'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function report(args: string[]): Promise<BacktestReport> {
  const r = await run(['backtest', '--repo', repo.dir, '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as BacktestReport;
}

describe('chaos backtest (real repository)', () => {
  // risk-model.v2 (issue 17): only measured signals add points. Size ranks; the migration's DROP COLUMN and the
  // cache words are evidence that drives validators, with 0 points (no lift on held-out history).
  it('scores every commit and ranks the refactor first, the cache change above the docs', async () => {
    const r = await report(['--git', 'HEAD', '--top', '10']);
    expect(r).toMatchObject({ range: 'HEAD', repo: repo.dir, to: repo.sha.merge, commits: 7, mergesSkipped: 1 });
    expect(r.from).toBeUndefined();
    const rank = (sha: string) => r.top.findIndex((e) => e.sha === sha);
    const score = (sha: string) => r.top.find((e) => e.sha === sha)?.score ?? Number.NaN;
    const { sha } = repo;
    expect(r.top).toHaveLength(7);
    expect(rank(sha.refactor)).toBe(0);
    expect(score(sha.cache)).toBeGreaterThan(score(sha.docs));
    // Sorted by score, highest first.
    expect(r.top.map((e) => e.score)).toEqual([...r.top.map((e) => e.score)].sort((a, b) => b - a));

    const migration = r.top[rank(sha.migration)];
    expect(migration).toMatchObject({ subject: 'drop legacy column from orders' });
    expect(migration?.topFactors.find((f) => f.factor === 'database_migration')?.points).toBe(0);
    expect(r.top[rank(sha.cache)]?.topFactors.map((f) => f.factor)).toContain('caching');
    expect(r.top[rank(sha.refactor)]?.topFactors[0]?.factor).toBe('change_size_spread');

    // Defaults as `chaos assess --git`: production, no rollback declared — the large refactor is critical.
    expect(r.top[rank(sha.refactor)]?.level).toBe('critical');
    const counted = r.levels.low.count + r.levels.medium.count + r.levels.high.count + r.levels.critical.count;
    expect(counted).toBe(7);
    expect(r.canaryRequired.count).toBe(r.levels.high.count + r.levels.critical.count);
    expect(r.scores.histogram.reduce((sum, b) => sum + b.count, 0)).toBe(7);
    expect(r.scores.max).toBe(r.top[0]?.score);
  });

  it('with rollback declared, docs-only and small commits are low, and the migration still names its factor', async () => {
    const r = await report(['--git', 'HEAD', '--rollback', '--environment', 'production']);
    const level = (sha: string) => r.top.find((e) => e.sha === sha)?.level;
    expect(level(repo.sha.docs)).toBe('low');
    expect(level(repo.sha.root)).toBe('low');
    expect(level(repo.sha.migration)).toBe('low');
    const migration = r.top.find((e) => e.sha === repo.sha.migration);
    expect(migration?.topFactors.map((f) => f.factor)).toContain('database_migration');
    expect(r.levels.low.count).toBeGreaterThanOrEqual(2);
    expect(r.levels.low.percent).toBe(Math.round((r.levels.low.count / 7) * 1000) / 10);
  });

  it('scores an A..B range, --top limits the list, --first-parent includes the merge', async () => {
    const range = `${repo.sha.cache}..${repo.sha.refactor}`;
    const r = await report(['--git', range, '--top', '1']);
    expect(r).toMatchObject({ commits: 2, from: repo.sha.cache, to: repo.sha.refactor, mergesSkipped: 0 });
    expect(r.top).toHaveLength(1);
    const fp = await report(['--git', `${repo.sha.rename}..HEAD`, '--first-parent']);
    expect(fp.commits).toBe(1);
    expect(fp.top[0]).toMatchObject({ sha: repo.sha.merge, subject: 'Merge branch feature' });
    expect(fp.top[0]?.topFactors.map((f) => f.factor)).toContain('permissions_authz');
    const limited = await report(['--git', 'HEAD', '--max-commits', '3', '--no-diff']);
    expect(limited.commits).toBe(3);
  });

  it('prints a readable text report', async () => {
    const r = await run(['backtest', '--git', 'HEAD', '--repo', repo.dir, '--top', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Backtest of HEAD in ${repo.dir}: 7 commit(s) scored (1 merge commit(s) skipped)`);
    expect(r.stdout).toMatch(/^level +commits +share$/m);
    expect(r.stdout).toMatch(/^high +\d+ +\d+\.\d %$/m);
    expect(r.stdout).toMatch(/^canary required \(high or critical\): \d+ of 7 \(\d+\.\d %\)$/m);
    expect(r.stdout).toMatch(/^scores: min [\d.]+, median [\d.]+, mean [\d.]+, p90 [\d.]+, p99 [\d.]+, max [\d.]+$/m);
    expect(r.stdout).toMatch(/^ {2}90–100 +\d+/m);
    expect(r.stdout).toContain('riskiest 3 commit(s):');
    expect(r.stdout).toMatch(
      new RegExp(`^ {2}1\\. ${repo.sha.refactor.slice(0, 12)} +[\\d.]+ critical +refactor: split monolith`, 'm'),
    );
  });

  it('exits 2 with one line for bad ranges, options and non-repositories', async () => {
    const cases: [string[], RegExp][] = [
      [['--git', 'nope..HEAD', '--repo', repo.dir], /^error: unknown revision "nope"/],
      [['--git', '-p', '--repo', repo.dir], /^error: /],
      [['--git', 'HEAD', '--repo', tmp], /^error: .* is not a git repository$/],
      [['--git', 'HEAD', '--repo', repo.dir, '--top', 'x'], /^error: --top must be a non-negative integer/],
      [['--git', 'HEAD', '--repo', repo.dir, '--max-commits', '0'], /^error: --max-commits must be a positive integer/],
      [['--git', 'HEAD', '--repo', repo.dir, '--environment', 'prod env'], /^error: --environment must be/],
      [['--repo', repo.dir], /^error: required option '--git <range>' not specified/],
    ];
    for (const [args, expected] of cases) {
      const r = await run(['backtest', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd(), args.join(' ')).toMatch(expected);
    }
  });
});
