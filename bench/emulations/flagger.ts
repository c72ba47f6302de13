/**
 * Flagger's canary analysis loop, following fluxcd/flagger `pkg/controller/scheduler.go` (advanceCanary, runCanary,
 * runAnalysis, nextStepWeight, maxWeight, rollback) and `scheduler_metrics.go` (runBuiltinMetricChecks,
 * runMetricChecks), with the contract's ramp as `analysis.stepWeights` (so maxWeight is the last canary step):
 *
 * - one tick per analysis interval. The tick that starts the analysis runs at canary weight 0 with no iterations yet:
 *   it runs the pre-rollout hooks only (no metric check) and sets the first step weight — so the canary's first
 *   interval, which serves no traffic while its pods start, is never judged;
 * - every later tick checks the metrics over the last interval (request-success-rate ≥ 100 − error threshold,
 *   request-duration ≤ the latency thresholds, here p95 and p99); a query without values ("no values found", e.g. no
 *   canary traffic) is a failed check. A failed check increments `failedChecks` and holds the weight; the counter is
 *   never reset during the analysis;
 * - a passing check moves one step (runCanary: weight < maxWeight ⇒ next step weight): ONE passing interval per step;
 * - a passing check at maxWeight promotes (Promote, phase Promoting, then Finalising and Succeeded on the next ticks:
 *   routing all traffic to the primary, no analysis any more) — there is no bake judged at 100 %;
 * - `failedChecks ≥ threshold` is checked at the START of the next tick, before any analysis (advanceCanary): the
 *   traffic goes back one interval after the check that reached the threshold. The rollback is counted as decided
 *   at that check (it is inevitable from then on), which credits Flagger with the earliest possible detection.
 */
import type { IntervalMetrics } from '../../src/domain/metrics.js';
import { type BenchContract, type Controller, type IntervalSource, type RolloutRun, threshold } from './types.js';

export function flaggerChecksPass(m: IntervalMetrics, contract: BenchContract): boolean {
  const c = m.canary;
  if (!c || c.requests === 0) return false; // no values found ⇒ the check fails
  const successRate = 100 * (1 - c.failures / c.requests);
  if (successRate < 100 - threshold(contract, 'error_rate')) return false;
  const p95 = c.latency.p95Ms;
  const p99 = c.latency.p99Ms;
  if (p95 === null || p99 === null) return false;
  return p95 <= threshold(contract, 'latency_p95') && p99 <= threshold(contract, 'latency_p99');
}

export class FlaggerController implements Controller {
  readonly name: string;

  constructor(private readonly failureThreshold: number) {
    this.name = `Flagger thr=${failureThreshold}`;
  }

  run(source: IntervalSource, contract: BenchContract): RolloutRun {
    const stepWeights = contract.steps.length > 0 ? contract.steps.map((s) => s.percent) : [100];
    let step = -1; // weight 0 until the first tick
    let failedChecks = 0;
    const canaryRequests: number[] = [];
    for (let i = 0; i < contract.horizonIntervals; i++) {
      const weight = step < 0 ? 0 : (stepWeights[step] as number);
      source.setCanaryPercent(weight);
      const m = source.generate(i);
      canaryRequests.push(m.canary?.requests ?? 0);
      if (step < 0) {
        step = 0; // pre-rollout hooks, then the first step weight; no metric check at weight 0
        continue;
      }
      if (!flaggerChecksPass(m, contract)) {
        failedChecks++;
        if (failedChecks >= this.failureThreshold)
          return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
        continue;
      }
      if (step + 1 < stepWeights.length) step++;
      else return { outcome: 'promoted', decisionInterval: i, canaryRequests };
    }
    return { outcome: 'stalled', decisionInterval: null, canaryRequests };
  }
}
