/**
 * Argo Rollouts background analysis, following argoproj/argo-rollouts `analysis/analysis.go`
 * (assessMetricStatus, assessMetricFailureInconclusiveOrError: `result.Failed > failureLimit` ⇒ Failed,
 * `result.ConsecutiveError > consecutiveErrorLimit` ⇒ Error), `utils/defaults/defaults.go`
 * (GetConsecutiveErrorLimitOrDefault: 4) and `utils/evaluate/evaluate.go` (successCondition / failureCondition on the
 * query result), as summarised in the anchors note §b.1: one measurement per interval and metric after
 * `initialDelay`; a measurement whose query returns nothing is an Error; Failed or Error aborts the rollout (canary
 * weight 0). Steps are time-based (setWeight + pause{duration}); the background analysis runs through the whole
 * rollout including the 100 % phase.
 */
import type { IntervalMetrics } from '../../src/domain/metrics.js';
import {
  type BenchContract,
  type Controller,
  type IntervalSource,
  plannedLength,
  plannedWeight,
  type RolloutRun,
  threshold,
} from './types.js';

const CONSECUTIVE_ERROR_LIMIT = 4;

type Measurement = 'successful' | 'failed' | 'error';

function measure(
  m: IntervalMetrics,
  value: (c: NonNullable<IntervalMetrics['canary']>) => number | null,
  limit: number,
): Measurement {
  const c = m.canary;
  if (!c || c.requests === 0) return 'error';
  const v = value(c);
  if (v === null || Number.isNaN(v)) return 'error';
  return v < limit ? 'successful' : 'failed';
}

export class ArgoController implements Controller {
  readonly name: string;

  constructor(private readonly failureLimit: number) {
    this.name = `Argo failureLimit=${failureLimit}`;
  }

  run(sim: IntervalSource, contract: BenchContract): RolloutRun {
    const metrics = [
      {
        limit: threshold(contract, 'error_rate'),
        value: (c: NonNullable<IntervalMetrics['canary']>) => (100 * c.failures) / c.requests,
      },
      {
        limit: threshold(contract, 'latency_p95'),
        value: (c: NonNullable<IntervalMetrics['canary']>) => c.latency.p95Ms,
      },
      {
        limit: threshold(contract, 'latency_p99'),
        value: (c: NonNullable<IntervalMetrics['canary']>) => c.latency.p99Ms,
      },
    ].map((x) => ({ ...x, failed: 0, consecutiveErrors: 0 }));
    const canaryRequests: number[] = [];
    let last = -1;
    for (let i = 0; i < contract.horizonIntervals; i++) {
      const weight = plannedWeight(contract, i);
      if (weight === null) break;
      last = i;
      sim.setCanaryPercent(weight);
      const m = sim.generate(i);
      canaryRequests.push(m.canary?.requests ?? 0);
      if (i < contract.warmupIntervals) continue;
      for (const metric of metrics) {
        const r = measure(m, metric.value, metric.limit);
        if (r === 'error') metric.consecutiveErrors++;
        else metric.consecutiveErrors = 0;
        if (r === 'failed') metric.failed++;
        const failed = this.failureLimit >= 0 && metric.failed > this.failureLimit;
        if (failed || metric.consecutiveErrors > CONSECUTIVE_ERROR_LIMIT) {
          return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
        }
      }
    }
    // A recorded series can end before the plan does: that rollout has not finished.
    if (last === plannedLength(contract) - 1) return { outcome: 'promoted', decisionInterval: last, canaryRequests };
    return { outcome: 'stalled', decisionInterval: null, canaryRequests };
  }
}
