/**
 * `chaos backtest --git A..B [--repo DIR] [--json] [--top N] [--first-parent] [--no-diff] [--max-commits N]
 *                [--environment NAME] [--rollback]`
 *
 * Scores every commit of a range as its own change (`commit^..commit`, the root commit against the empty tree) and
 * prints how many would have been low, medium, high or critical, the score distribution and the N riskiest commits,
 * so a team sees how noisy the bot would have been on its history. One `git log` process streams the whole range
 * (src/intake/gitHistory.ts); the summary is pure (src/domain/backtest.ts).
 *
 * Commits that cannot be read as a request (e.g. more files than a request allows) are listed on stderr and left
 * out of the figures; they do not change the exit code.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type BacktestEntry, type BacktestSummary, backtestEntry, summariseBacktest } from '../../domain/backtest.js';
import { RISK_LEVELS } from '../../domain/model.js';
import { assessRisk } from '../../domain/risk/engine.js';
import { type GitHistoryInfo, readGitHistory, resolveGitHistory } from '../../intake/gitHistory.js';
import { type CliDeps, CliInputError } from '../deps.js';

interface BacktestOptions {
  git?: string;
  repo?: string;
  json?: boolean;
  top: string;
  firstParent?: boolean;
  diff: boolean;
  maxCommits?: string;
  environment?: string;
  rollback?: boolean;
}

export interface BacktestReport extends BacktestSummary {
  range: string;
  repo: string;
  from?: string;
  to: string;
  mergesSkipped: number;
  unreadable: { sha: string; reason: string }[];
  diffTruncatedCommits: number;
}

const DEFAULT_TOP = 10;

export function registerBacktestCommand(program: Command, deps: CliDeps): void {
  program
    .command('backtest')
    .description("score every commit of a range: how noisy the bot would have been on the repository's history")
    .requiredOption('--git <range>', 'commits to score: A..B, or a single revision for its whole history')
    .option('--repo <dir>', 'repository (default: current directory)')
    .option('--json', 'print the report as JSON')
    .option('--top <n>', 'how many of the riskiest commits to list', String(DEFAULT_TOP))
    .option('--first-parent', 'follow only first parents and score merges as their pull request (default: skip merges)')
    .option('--no-diff', 'read line counts and paths only, not diff content (faster on huge histories)')
    .option('--max-commits <n>', 'score at most the N newest commits')
    .option('--environment <name>', 'environment each commit is assumed to deploy to', 'production')
    .option('--rollback', 'assume each deployment declares rollback capability (default: not declared)')
    .action(async (options: BacktestOptions) => {
      const top = positiveInteger(options.top, '--top', true);
      const maxCommits =
        options.maxCommits === undefined ? undefined : positiveInteger(options.maxCommits, '--max-commits');
      const range = options.git ?? '';
      const environment = options.environment ?? 'production';
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(environment)) {
        throw new CliInputError(
          `--environment must be letters, digits, ".", "_" or "-", starting with a letter or digit (got ${JSON.stringify(environment)})`,
        );
      }
      const repo = resolve(deps.cwd(), options.repo ?? '.');
      const report = await runBacktest(deps, {
        range,
        repo,
        top,
        firstParent: options.firstParent === true,
        diff: options.diff,
        ...(maxCommits !== undefined ? { maxCommits } : {}),
        environment,
        rollback: options.rollback === true,
      });
      for (const u of report.unreadable) deps.io.stderr(`warning: commit ${u.sha.slice(0, 12)} skipped: ${u.reason}\n`);
      deps.io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderBacktestText(report));
    });
}

export interface RunBacktestOptions {
  range: string;
  repo: string;
  top: number;
  firstParent: boolean;
  diff: boolean;
  maxCommits?: number;
  environment: string;
  rollback: boolean;
}

/** Streams the range's commits through the risk engine, keeping only each commit's compact entry. */
export async function runBacktest(deps: CliDeps, options: RunBacktestOptions): Promise<BacktestReport> {
  const historyOptions = {
    repoDir: options.repo,
    range: options.range,
    firstParent: options.firstParent,
    ...(options.diff ? {} : { maxDiffBytesPerCommit: 0 }),
    ...(options.maxCommits !== undefined ? { maxCommits: options.maxCommits } : {}),
    defaults: { environment: options.environment, rollback_capability: options.rollback },
  };
  const info: GitHistoryInfo = await resolveGitHistory(historyOptions);
  const entries: BacktestEntry[] = [];
  const unreadable: BacktestReport['unreadable'] = [];
  let diffTruncatedCommits = 0;
  for await (const commit of (deps.readGitHistory ?? readGitHistory)(historyOptions, info)) {
    if (!commit.request) {
      unreadable.push({ sha: commit.sha, reason: commit.error ?? 'unreadable' });
      continue;
    }
    if (commit.diffTruncated) diffTruncatedCommits++;
    entries.push(backtestEntry(commit, assessRisk(commit.request)));
  }
  return {
    range: options.range,
    repo: options.repo,
    ...(info.from !== undefined ? { from: info.from } : {}),
    to: info.to,
    mergesSkipped: info.mergesSkipped,
    unreadable,
    diffTruncatedCommits,
    ...summariseBacktest(entries, { top: options.top }),
  };
}

export function renderBacktestText(report: BacktestReport): string {
  const out: string[] = [];
  const extras = [
    report.mergesSkipped > 0 ? `${report.mergesSkipped} merge commit(s) skipped` : '',
    report.unreadable.length > 0 ? `${report.unreadable.length} unreadable` : '',
    report.diffTruncatedCommits > 0 ? `${report.diffTruncatedCommits} with diffs over the size cap` : '',
  ].filter(Boolean);
  out.push(
    `Backtest of ${report.range} in ${report.repo}: ${report.commits} commit(s) scored${extras.length ? ` (${extras.join(', ')})` : ''}`,
  );
  out.push('');
  out.push('level       commits   share');
  for (const level of RISK_LEVELS) {
    const s = report.levels[level];
    out.push(`${level.padEnd(10)}  ${String(s.count).padStart(7)}  ${s.percent.toFixed(1).padStart(5)} %`);
  }
  out.push(
    `canary required (high or critical): ${report.canaryRequired.count} of ${report.commits} (${report.canaryRequired.percent.toFixed(1)} %)`,
  );
  if (report.commits > 0) {
    const sc = report.scores;
    out.push('');
    out.push(
      `scores: min ${sc.min.toFixed(1)}, median ${sc.median.toFixed(1)}, mean ${sc.mean.toFixed(1)}, p90 ${sc.p90.toFixed(1)}, p99 ${sc.p99.toFixed(1)}, max ${sc.max.toFixed(1)}`,
    );
    const widest = Math.max(1, ...sc.histogram.map((b) => b.count));
    for (const b of sc.histogram) {
      const label = `${b.from}–${b.to === 100 ? 100 : b.to - 1}`.padEnd(7);
      const bar = '#'.repeat(Math.round((b.count / widest) * 40));
      out.push(`  ${label} ${String(b.count).padStart(6)} ${bar}`);
    }
  }
  if (report.top.length > 0) {
    out.push('');
    out.push(`riskiest ${report.top.length} commit(s):`);
    report.top.forEach((e, i) => {
      out.push(
        `${String(i + 1).padStart(3)}. ${e.sha.slice(0, 12)}  ${e.score.toFixed(1).padStart(5)} ${e.level.padEnd(8)}  ${e.subject}`,
      );
      const factors = e.topFactors.map((f) => `${f.factor} (${f.points})`).join(', ');
      out.push(`      ${factors || 'no risk factors'}`);
    });
  }
  return `${out.join('\n')}\n`;
}

function positiveInteger(value: string, name: string, allowZero = false): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
    throw new CliInputError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer (got ${JSON.stringify(value)})`,
    );
  }
  return n;
}
