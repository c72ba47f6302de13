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
  /** First history index of the current step, when known. */
  stepStartIndex: number | null;
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

/** Guardrail-window intervals, widened to the whole current step when that is longer (more evidence to PASS). */
export function passViews(ctx: CheckContext, windowViewsList: readonly IntervalView[]): IntervalView[] {
  if (ctx.stepStartIndex === null) return [...windowViewsList];
  const fromStep = ctx.views.filter((v) => v.index >= (ctx.stepStartIndex as number) && !v.warmup);
  return fromStep.length > windowViewsList.length ? fromStep : [...windowViewsList];
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

export function sequentialState(
  ctx: CheckContext,
  id: CheckId,
  gateOpen: boolean,
): { llr: number; crossed: boolean; pValue: number | null } {
  const llr = ctx.sequential[id] ?? 0;
  const crossed = gateOpen && llr >= ctx.sequentialBoundary;
  // Ville's inequality: under the null the likelihood ratio exceeds 1/p with probability ≤ p.
  return { llr, crossed, pValue: gateOpen ? Math.min(1, Math.exp(-llr)) : null };
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
