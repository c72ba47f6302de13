/**
 * Flagger's canary analysis loop (pkg/controller/scheduler*.go, as summarised in the anchors note §b.2): every
 * interval all metric checks must pass (thresholdRange per metric: request-success-rate min, request-duration max);
 * any failure — including "no values found" when the canary has no data — holds the weight and increments
 * `failedChecks`; `failedChecks ≥ threshold` rolls back. The counter is never reset during the analysis. A passing
 * interval moves the ramp on (here: counts toward the step's planned length, so all tools share one ramp).
 */
import type { IntervalMetrics } from '../../src/domain/metrics.js';
import type { Simulator } from '../../src/metrics/simulator.js';
import { type BenchContract, type Controller, type RolloutRun, threshold } from './types.js';

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

  run(sim: Simulator, contract: BenchContract): RolloutRun {
    const phases = [
      ...contract.steps.map((s) => ({ percent: s.percent, intervals: s.intervals })),
      { percent: 100, intervals: contract.bakeIntervals },
    ];
    let phase = 0;
    let passedInPhase = 0;
    let failedChecks = 0;
    const canaryRequests: number[] = [];
    for (let i = 0; i < contract.horizonIntervals; i++) {
      const current = phases[phase];
      if (!current) break;
      sim.setCanaryPercent(current.percent);
      const m = sim.generate(i);
      canaryRequests.push(m.canary?.requests ?? 0);
      if (flaggerChecksPass(m, contract)) {
        passedInPhase++;
        if (passedInPhase >= current.intervals) {
          phase++;
          passedInPhase = 0;
          if (phase >= phases.length) return { outcome: 'promoted', decisionInterval: i, canaryRequests };
        }
      } else {
        failedChecks++;
        if (failedChecks >= this.failureThreshold)
          return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
      }
    }
    return { outcome: 'stalled', decisionInterval: null, canaryRequests };
  }
}
