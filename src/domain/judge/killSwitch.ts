/**
 * Canary-scoped error-budget burn-rate kill switch (SRE Workbook, "Alerting on SLOs"): burn = error ratio ÷ budget,
 * where the budget is the service's target error rate (1 − SLO).
 *
 * Fires only with strong evidence, and only on data the canary produced itself:
 * - the short window (the current interval, widened backwards to the minimum request count, never beyond the error
 *   guardrail's window) burns at ≥ `killBurnRate` (14.4×: 2 % of a 30-day budget in 1 h),
 * - the current interval alone burns at ≥ `killBurnRate` (the problem is happening now, not a past blip),
 * - the long window (all canary data within the error guardrail's window, at least the guardrail's minimum number of
 *   intervals and never fewer than two) burns at ≥ `killBurnRate` too, and still does without its worst interval:
 *   the Workbook's multiwindow rule (short AND long window must burn). A one-interval burst, however large, cannot
 *   fill the long window on its own — at least two intervals must burn — while a canary that has been burning since
 *   it started is killed as soon as the long window holds its minimum number of intervals,
 * - the one-sided lower confidence bound (1 − `killAlpha`) of the window's burn is ≥ `killStrongBurnRate`
 *   (6×, the Workbook's 6-hour page tier): even the optimistic reading is a page-worthy burn.
 * - the baseline is not momentarily missing (`baselineBlind`, see judge.ts): a shared burst cannot pass as the
 *   canary's fault just because the baseline's telemetry had a gap.
 * It ignores warm-up (a crash-looping canary must die at once) and the minimum interval count, but never fires below
 * the minimum request count: too little traffic is a HOLD.
 */
import type { Guardrail } from '../model.js';
import { type CheckContext, type CheckReport, round } from './context.js';
import { clopperPearsonLower } from './distributions.js';
import type { IntervalView } from './intervals.js';

export interface KillSwitchResult {
  report: CheckReport;
  fired: boolean;
}

export function checkKillSwitch(
  ctx: CheckContext,
  errorGuardrail: Guardrail | undefined,
  budgetFraction: number,
  baselineBlind: boolean,
): KillSwitchResult {
  const o = ctx.options;
  const minRequests = o.killMinRequests ?? errorGuardrail?.minimumEvidence.minRequests ?? 500;
  const windowSeconds = errorGuardrail?.windowSeconds ?? o.defaultWindowSeconds;
  const fromMs = ctx.current.endMs - windowSeconds * 1000;

  let requests = 0;
  let failures = 0;
  let baselineRequests = 0;
  let baselineFailures = 0;
  let seconds = 0;
  for (let i = ctx.views.length - 1; i >= 0 && requests < minRequests; i--) {
    const v = ctx.views[i] as IntervalView;
    if (v.endMs <= fromMs) break;
    seconds += (v.endMs - v.startMs) / 1000;
    if (v.canary) {
      requests += v.canary.requests;
      failures += v.canary.failures;
    }
    if (v.baseline) {
      baselineRequests += v.baseline.requests;
      baselineFailures += v.baseline.failures;
    }
  }

  const burn = (f: number, n: number) => (n > 0 ? f / n / budgetFraction : 0);
  let longRequests = 0;
  let longFailures = 0;
  let longIntervals = 0;
  const longCounts: { failures: number; requests: number }[] = [];
  for (let i = ctx.views.length - 1; i >= 0; i--) {
    const v = ctx.views[i] as IntervalView;
    if (v.endMs <= fromMs) break;
    if (v.canary) {
      longRequests += v.canary.requests;
      longFailures += v.canary.failures;
      longIntervals++;
      longCounts.push(v.canary);
    }
  }
  const windowBurn = burn(failures, requests);
  const longBurn = burn(longFailures, longRequests);
  // The long window's burn without its worst interval: one interval can never make the long window burn alone.
  let longBurnWithoutWorst = longIntervals < 2 ? 0 : Number.POSITIVE_INFINITY;
  for (const c of longCounts) {
    longBurnWithoutWorst = Math.min(longBurnWithoutWorst, burn(longFailures - c.failures, longRequests - c.requests));
  }
  const current = ctx.current.canary;
  const currentBurn = current ? burn(current.failures, current.requests) : 0;
  const lowerBurn = requests > 0 ? clopperPearsonLower(failures, requests, o.killAlpha) / budgetFraction : 0;
  const enough = requests >= minRequests;
  let run = 0;
  for (let i = ctx.views.length - 1; i >= 0; i--) {
    const c = (ctx.views[i] as IntervalView).canary;
    if (!c) continue;
    if (burn(c.failures, c.requests) < o.killBurnRate) break;
    run++;
  }
  const fired =
    enough &&
    windowBurn >= o.killBurnRate &&
    currentBurn >= o.killBurnRate &&
    longBurn >= o.killBurnRate &&
    longBurnWithoutWorst >= o.killBurnRate &&
    longIntervals >= Math.max(2, errorGuardrail?.minimumEvidence.minIntervals ?? 2) &&
    lowerBurn >= o.killStrongBurnRate &&
    !baselineBlind;

  const message = !enough
    ? `error-budget burn: ${requests}/${minRequests} canary requests in the last ${round(seconds, 0)} s, too few to judge a fast burn`
    : baselineBlind && windowBurn >= o.killBurnRate
      ? `canary burns the error budget at ${round(windowBurn, 1)}× but the baseline's data is missing this interval: waiting one interval to tell a shared outage from a canary fault`
      : fired
        ? `canary burns the error budget at ${round(windowBurn, 1)}× (≥ ${o.killBurnRate}×; at least ${round(lowerBurn, 1)}× with ${round((1 - o.killAlpha) * 100, 1)} % confidence) over ${round(seconds, 0)} s: ${failures}/${requests} failed`
        : `canary error-budget burn ${round(windowBurn, 2)}× over ${round(seconds, 0)} s, ${round(longBurn, 2)}× over ${windowSeconds} s (kill switch at ${o.killBurnRate}× on both, with ≥ ${o.killStrongBurnRate}× lower bound)`;

  return {
    fired,
    report: {
      evidence: {
        check: 'kill_switch:error_budget_burn',
        metric: 'error_budget_burn',
        observed: round(windowBurn, 3),
        threshold: o.killBurnRate,
        baseline: baselineRequests > 0 ? round(burn(baselineFailures, baselineRequests), 3) : null,
        unit: 'x',
        samples: requests,
        baselineSamples: baselineRequests > 0 ? baselineRequests : null,
        windowSeconds: round(seconds, 0),
        confidence: fired ? 1 - o.killAlpha : null,
        pValue: null,
        bounds: { lower: round(lowerBurn, 3), upper: null },
        persistence: run,
        outcome: !enough ? 'hold' : fired ? 'fail' : 'pass',
        message,
      },
      family: 'errors',
      kind: 'kill_switch',
      significant: fired,
    },
  };
}
