/**
 * Input and output of the rollout judge. The judge is pure: every number it decides on is in its input, and every
 * number it decided on is in its output (evidence), so a decision can be replayed and explained.
 */
import type { AreaCode } from '../../errors.js';
import { DomainError } from '../errors.js';
import type { IntervalMetrics } from '../metrics.js';
import type { Guardrail } from '../model.js';

export type Verdict = 'PASS' | 'HOLD' | 'FAIL';

/**
 * Outcome of one check in one interval.
 * - `pass`: the guardrail is met with confidence (or, for baseline checks, no significant degradation).
 * - `hold`: not enough evidence, or the evidence is undecided.
 * - `fail`: significant and current (counts toward the failure limits).
 * - `recovering`: the window is still significant but the current interval looks healthy (does not count).
 * - `suppressed`: would fail, but the baseline degraded the same way (shared cause): alert, never a rollback.
 * - `not_applicable`: the check cannot run (e.g. no baseline, no histogram).
 */
export type CheckOutcome = 'pass' | 'hold' | 'fail' | 'recovering' | 'suppressed' | 'not_applicable';

export type CheckId =
  | 'guardrail:error_rate'
  | 'guardrail:latency_p95'
  | 'guardrail:latency_p99'
  | 'baseline:error_rate'
  | 'baseline:latency_tail'
  | 'baseline:latency_distribution'
  | 'kill_switch:error_budget_burn';

export interface EvidenceItem {
  check: CheckId;
  metric: string;
  /** Canary value in `unit` (error %, latency ms, burn-rate multiple, slow-request %, distribution distance). */
  observed: number | null;
  threshold: number | null;
  /** The concurrent baseline's value in the same unit, when there is one. */
  baseline: number | null;
  unit: '%' | 'ms' | 'x' | 'D+';
  /** Canary requests behind `observed`. */
  samples: number;
  baselineSamples: number | null;
  windowSeconds: number;
  /** Confidence of the statement in `message` (e.g. 0.999 that the error rate is above the threshold). */
  confidence: number | null;
  /** One-sided p-value of the test that decided, or null when no test ran. */
  pValue: number | null;
  /** Confidence bounds of `observed` (same unit), when computed. */
  bounds: { lower: number | null; upper: number | null } | null;
  /**
   * Consecutive most-recent intervals whose own point estimate breaches the check (current one included); when only
   * the sequential test is significant, no more than the evaluations it has stayed significant.
   */
  persistence: number;
  outcome: CheckOutcome;
  message: string;
}

export type AlertKind =
  | 'kill_switch'
  | 'guardrail_failing'
  | 'shared_degradation'
  | 'no_canary_data'
  | 'no_baseline_data'
  | 'insufficient_traffic';

export interface JudgeAlert {
  kind: AlertKind;
  severity: 'info' | 'warning' | 'critical';
  message: string;
}

/** What the judge carries from one interval to the next. Serialisable; rebuilt from history when absent. */
export interface JudgeState {
  /** Number of intervals already judged (history.length of the previous call). */
  intervalsJudged: number;
  /** Intervals in which at least one check failed (non-suppressed): the cumulative failure count. */
  failedIntervals: number;
  /** Floored log-likelihood ratios of the sequential tests, by check. */
  sequential: Partial<Record<CheckId, number>>;
  /**
   * Consecutive most-recent evaluations in which each sequential test stood at or above its boundary (the
   * persistence of a failure the sequential test alone proves). Absent in states saved before it existed: then 0.
   */
  crossedRuns?: Partial<Record<CheckId, number>>;
  /**
   * The same floored statistics with the single most decisive interval left out: `low` is the smallest over the
   * choice of interval (what crossing the boundary needs), `high` the largest (what accepting "not worse" needs).
   * Absent in states saved before it existed: then equal to `sequential`.
   */
  sequentialWithoutOne?: Partial<Record<CheckId, { low: number; high: number }>>;
}

export interface JudgeStep {
  /** Informational (shown in alerts); the rollout state machine owns step progression. */
  index: number;
  /** Below 100 % a baseline is expected: its absence for an interval or two makes attribution wait. */
  trafficPercent: number;
  /** Informational: the step's minimum canary requests (the state machine enforces it). */
  minRequests: number;
  /** Index in `history` of the first interval of this step (informational: PASS evidence spans the rollout). */
  startIntervalIndex?: number;
  /**
   * The canary's share once this step passes (100 when the bake comes next). Moving to 100 % ends the comparison
   * with the concurrent baseline for good, so before that move the baseline checks must have *accepted* that the
   * canary is not worse (see judge.ts). Absent: the judge cannot tell and asks for that acceptance at every step.
   */
  nextTrafficPercent?: number;
}

export interface JudgeOptions {
  /** Per-interval false-FAIL budget of the fixed-window tests, split across the active checks (Bonferroni). */
  alpha: number;
  /**
   * A guardrail PASSes when its one-sided upper bound at 1 − passAlpha is below the threshold; a sequential baseline
   * test accepts "not worse" when its likelihood ratio falls to passAlpha (Wald's lower boundary).
   */
  passAlpha: number;
  /** Error bound of the sequential tests over the whole rollout (split across them). */
  sequentialAlpha: number;
  /** Alternative of the sequential tests: this many times the threshold (absolute) or the baseline (relative). */
  sequentialEffect: number;
  /** Fixed-window baseline tests fail only when the canary is worse than `relativeMargin` × baseline. */
  relativeMargin: number;
  /** Practical margin on the one-sided distribution distance D+. */
  distributionMargin: number;
  /** Pooled quantile at which the tail-exceedance test splits slow from fast requests. */
  tailQuantile: number;
  /** Error-budget burn rate of the kill switch (SRE Workbook 1 h page tier). */
  killBurnRate: number;
  /** The kill switch also needs this burn rate as a lower confidence bound (Workbook 6 h tier). */
  killStrongBurnRate: number;
  killAlpha: number;
  /** Minimum canary requests in the kill-switch window; default: the error guardrail's minimum evidence. */
  killMinRequests: number | null;
  /** First intervals of the rollout left out of every check except the kill switch (cold-start warm-up). */
  warmupIntervals: number;
  /** Window of the baseline checks when no guardrail gives one. */
  defaultWindowSeconds: number;
  /**
   * Compute display-only confidence bounds (Clopper–Pearson inverses) for the evidence. Decisions never use them;
   * replays and benchmarks can switch them off for speed.
   */
  evidenceBounds: boolean;
}

export interface JudgeInput {
  guardrails: readonly Guardrail[];
  step: JudgeStep;
  /** All intervals of this rollout so far, oldest first, the current one last. */
  history: readonly IntervalMetrics[];
  errorBudget: { targetErrorRatePercent: number };
  limits: { consecutiveFailureLimit: number; cumulativeFailureLimit: number };
  /** State returned by the previous call; when absent the judge replays the history to rebuild it. */
  previous?: JudgeState;
  options?: Partial<JudgeOptions>;
}

export interface JudgeResult {
  verdict: Verdict;
  /** One line per reason the verdict is not PASS (or why it is), plain language with numbers. */
  reasons: string[];
  evidence: EvidenceItem[];
  alerts: JudgeAlert[];
  killSwitch: boolean;
  failures: {
    /** Longest persistence among the checks failing now. */
    consecutive: number;
    cumulative: number;
    consecutiveLimit: number;
    cumulativeLimit: number;
  };
  intervalIndex: number;
  state: JudgeState;
}

export type JudgeErrorCode = AreaCode<'judge'>;

export class JudgeInputError extends DomainError {
  override readonly code: JudgeErrorCode;

  constructor(code: JudgeErrorCode, message: string) {
    super(code, message);
    this.name = 'JudgeInputError';
    this.code = code;
  }
}
