/**
 * Backtest summary: given the risk of every commit of a history (each scored as its own change), how often the bot
 * would have said low, medium, high or critical, how the scores are distributed, and which commits it would have
 * flagged hardest. Answers "how noisy would the bot be on our history?". Pure: entries in, summary out.
 */
import { RISK_LEVELS, type RiskAssessment, type RiskFactor, type RiskLevel } from './model.js';

export interface BacktestEntry {
  sha: string;
  subject: string;
  score: number;
  level: RiskLevel;
  confidence: number;
  /** Highest-scoring findings first. */
  topFactors: { factor: RiskFactor; points: number; summary: string }[];
}

export interface LevelShare {
  count: number;
  /** 0–100, one decimal. */
  percent: number;
}

export interface ScoreBucket {
  /** Inclusive lower bound. */
  from: number;
  /** Exclusive upper bound, except the last bucket which includes 100. */
  to: number;
  count: number;
}

export interface BacktestSummary {
  commits: number;
  levels: Record<RiskLevel, LevelShare>;
  /** Commits the policy would hold to a required canary and an approval by someone other than the author. */
  canaryRequired: LevelShare;
  scores: {
    min: number;
    max: number;
    mean: number;
    median: number;
    p90: number;
    p99: number;
    histogram: ScoreBucket[];
  };
  /** The riskiest commits, highest score first; ties keep history order. */
  top: BacktestEntry[];
}

export const DEFAULT_TOP_FACTORS = 3;
const BUCKET_WIDTH = 10;

export function backtestEntry(
  commit: { sha: string; subject: string },
  risk: RiskAssessment,
  topFactors = DEFAULT_TOP_FACTORS,
): BacktestEntry {
  return {
    sha: commit.sha,
    subject: commit.subject,
    score: risk.score,
    level: risk.level,
    confidence: risk.confidence,
    // findings come sorted by points from the engine; sort again so hand-built assessments behave the same.
    topFactors: [...risk.findings]
      .sort((a, b) => b.points - a.points)
      .slice(0, Math.max(0, topFactors))
      .map((f) => ({ factor: f.factor, points: f.points, summary: f.summary })),
  };
}

export function summariseBacktest(entries: readonly BacktestEntry[], options: { top: number }): BacktestSummary {
  const commits = entries.length;
  const share = (count: number): LevelShare => ({
    count,
    percent: commits === 0 ? 0 : round1((count / commits) * 100),
  });
  const counts: Record<RiskLevel, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  for (const entry of entries) counts[entry.level]++;
  const levels = Object.fromEntries(RISK_LEVELS.map((level) => [level, share(counts[level])])) as Record<
    RiskLevel,
    LevelShare
  >;

  const scores = entries.map((e) => e.score).sort((a, b) => a - b);
  const histogram: ScoreBucket[] = [];
  for (let from = 0; from < 100; from += BUCKET_WIDTH) histogram.push({ from, to: from + BUCKET_WIDTH, count: 0 });
  for (const score of scores) {
    const index = Math.min(histogram.length - 1, Math.max(0, Math.floor(score / BUCKET_WIDTH)));
    const bucket = histogram[index];
    if (bucket) bucket.count++;
  }

  const top = entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => b.entry.score - a.entry.score || a.index - b.index)
    .slice(0, Math.max(0, Math.floor(options.top)))
    .map(({ entry }) => entry);

  return {
    commits,
    levels,
    canaryRequired: share(counts.high + counts.critical),
    scores: {
      min: scores[0] ?? 0,
      max: scores[scores.length - 1] ?? 0,
      mean: commits === 0 ? 0 : round1(scores.reduce((sum, s) => sum + s, 0) / commits),
      median: percentile(scores, 0.5),
      p90: percentile(scores, 0.9),
      p99: percentile(scores, 0.99),
      histogram,
    },
    top,
  };
}

/** Nearest-rank percentile of sorted values (0 for none). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? 0;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
