/**
 * What every check sees: the normalised history, the options, the per-check error budget and the sequential-test
 * statistics (already updated with the current interval).
 */
import type { Guardrail } from '../model.js';
import type { IntervalView } from './intervals.js';
import type { CheckId, CheckOutcome, EvidenceItem, JudgeOptions } from './types.js';

export interface CheckContext {
  views: readonly IntervalView[];
  current: IntervalView;
  options: JudgeOptions;
  /** Bonferroni share of `alpha` for each fixed-window test. */
  alphaPerCheck: number;
  /** log(1/α) boundary of each sequential test (Bonferroni share of `sequentialAlpha`). */
  sequentialBoundary: number;
  sequential: Partial<Record<CheckId, number>>;
  /** The sequential statistics without their most decisive interval (see `sequentialState`). */
  sequentialWithoutOne: Partial<Record<CheckId, { low: number; high: number }>>;
  /** Consecutive evaluations, the current one included, in which each sequential test stood at its boundary. */
  crossedRuns: Partial<Record<CheckId, number>>;
  /** First history index of the current step, when known. */
  stepStartIndex: number | null;
  /**
   * Passing this interval may move the canary to 100 %, where no baseline remains: the baseline checks must then
   * have accepted "not worse" to PASS, not merely failed to reject it.
   */
  baselineEnds: boolean;
  /** Consecutive-failure limit of the contract (robust window tests need it). */
  consecutiveFailureLimit: number;
  /** The service's target error rate (1 − SLO) as a fraction. */
  budgetFraction: number;
  computeBounds: boolean;
}

export type MetricFamily = 'errors' | 'latency';

export interface CheckReport {
  evidence: EvidenceItem;
  family: MetricFamily;
  kind: 'guardrail' | 'baseline' | 'kill_switch';
  /** Significant by the window test or the sequential test (before the persistence requirement). */
  significant: boolean;
}

/**
 * PASS evidence of an absolute guardrail: the guardrail window, widened to every judged interval of the rollout so far
 * when that holds more (the canary's own error rate and latency do not depend on its traffic share, so evidence
 * gathered at 10 % still counts at 25 %; a later change is caught by the FAIL tests, and PASS also needs the recent
 * window below the threshold). At low traffic this is what lets a rollout conclude within its planned time.
 */
export function passViews(ctx: CheckContext, windowViewsList: readonly IntervalView[]): IntervalView[] {
  const fromStart = ctx.views.filter((v) => !v.warmup);
  return fromStart.length > windowViewsList.length ? fromStart : [...windowViewsList];
}

/** Common decision rule: significant and current ⇒ fail; significant but current healthy ⇒ recovering. */
export function decide(args: {
  gateOpen: boolean;
  significant: boolean;
  persistence: number;
  passes: boolean;
}): CheckOutcome {
  if (args.significant) return args.persistence > 0 ? 'fail' : 'recovering';
  if (!args.gateOpen) return 'hold';
  return args.passes ? 'pass' : 'hold';
}

/**
 * State of a sequential test: `crossed` its upper boundary (significant), or `accepted` the null, i.e. the
 * likelihood ratio of the alternative fell to `passAlpha` (Wald's lower boundary: under the alternative the inverse
 * ratio is the martingale, so by Ville's inequality it ever climbs to 1/passAlpha with probability ≤ passAlpha; the
 * ceiling and the one-interval cap loosen this only after strong evidence *for* the alternative).
 *
 * No single interval decides, in either direction: both decisions are taken on the statistic with the interval most
 * favourable to them left out (`sequentialWithoutOne`). Interval counts are not independent draws — a shared burst,
 * a per-version error-rate swing or one freak minute moves a whole interval's counts together — so a likelihood
 * ratio carried across a boundary by one interval is too weak evidence to roll back on, or to end the comparison
 * with the baseline on. Leaving data out only makes each decision rarer, so both error bounds still hold.
 */
export function sequentialState(
  ctx: CheckContext,
  id: CheckId,
  gateOpen: boolean,
): { llr: number; low: number; high: number; crossed: boolean; accepted: boolean; pValue: number | null } {
  const llr = ctx.sequential[id] ?? 0;
  const { low, high } = ctx.sequentialWithoutOne[id] ?? { low: llr, high: llr };
  const crossed = gateOpen && low >= ctx.sequentialBoundary;
  const accepted = gateOpen && high <= Math.log(ctx.options.passAlpha);
  // Ville's inequality: under the null the likelihood ratio exceeds 1/p with probability ≤ p.
  return { llr, low, high, crossed, accepted, pValue: gateOpen ? Math.min(1, Math.exp(-low)) : null };
}

export interface SequentialStatistic {
  /** The floored, capped log-likelihood ratio over every interval so far. */
  value: number;
  /** The smallest and largest the same statistic would be with any one interval left out. */
  low: number;
  high: number;
}

/**
 * One interval's step of a sequential test (`prev` null before its first interval): its log-likelihood ratio `llr` is
 * capped at one boundary and the sum kept within [−boundary, 2·boundary] (judge.ts explains both). Leaving one
 * interval out: the statistic without interval j is either "an earlier interval left out, then this one added" or
 * "this one left out", i.e. the previous statistic; the clamp is monotone, so low = min(clamp(low + x), value) and
 * high = max(clamp(high + x), value) are exact.
 */
export function advanceSequential(
  prev: SequentialStatistic | null,
  llr: number,
  boundary: number,
): SequentialStatistic {
  const clamp = (x: number) => Math.min(2 * boundary, Math.max(-boundary, x));
  const added = Math.min(boundary, llr);
  if (prev === null) return { value: clamp(added), low: 0, high: 0 };
  return {
    value: clamp(prev.value + added),
    low: Math.min(clamp(prev.low + added), prev.value),
    high: Math.max(clamp(prev.high + added), prev.value),
  };
}

/**
 * Persistence that may count toward FAIL. A window test that is significant now judges the whole window, so the run
 * of breaching intervals counts in full (a regression present from the start fails once the minimum evidence
 * exists). A rollout-long sequential test that alone is significant counts only the evaluations it has stayed
 * across its boundary: "L intervals in a row" then means L evaluations that each found the failure proven and
 * still happening, so a chance excursion of a healthy canary across the boundary is not failed on the spot.
 */
export function failingPersistence(ctx: CheckContext, id: CheckId, run: number, windowSignificant: boolean): number {
  return windowSignificant ? run : Math.min(run, ctx.crossedRuns[id] ?? 0);
}

export function minEvidenceOf(g: Guardrail | undefined, fallback: { minRequests: number; minIntervals: number }) {
  return g ? g.minimumEvidence : fallback;
}

export function round(value: number, digits = 4): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function pct(fraction: number, digits = 3): string {
  return `${round(fraction * 100, digits)} %`;
}
