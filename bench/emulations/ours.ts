/**
 * Chaos Negotiator's guardian loop, reduced to its pure parts: the judge (src/domain/judge) decides each interval and
 * the rollout state machine (src/domain/rollout) turns verdicts into traffic moves, rollbacks and pauses. A rollout
 * that pauses for a person (progress deadline without evidence) counts as stalled, never as a rollback.
 */
import { guardianJudgeConfiguration, guardianRolloutPlan } from '../../src/domain/judge/configuration.js';
import { judgeInterval } from '../../src/domain/judge/judge.js';
import type { JudgeState } from '../../src/domain/judge/types.js';
import type { IntervalMetrics } from '../../src/domain/metrics.js';
import { initialRolloutState, step } from '../../src/domain/rollout/stateMachine.js';
import type { RolloutEffect, RolloutState, RolloutTerms } from '../../src/domain/rollout/types.js';
import type { Simulator } from '../../src/metrics/simulator.js';
import type { BenchContract, Controller, RolloutRun } from './types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

export class ChaosNegotiatorController implements Controller {
  readonly name = 'Chaos Negotiator';

  run(sim: Simulator, contract: BenchContract): RolloutRun {
    const terms: RolloutTerms = {
      ramp: {
        steps: contract.steps.map((s) => ({
          trafficPercent: s.percent,
          minDurationSeconds: s.intervals * contract.intervalSeconds,
          minRequests: s.minRequests,
        })),
        bakeTimeSeconds: contract.bakeIntervals * contract.intervalSeconds,
        analysisIntervalSeconds: contract.intervalSeconds,
        consecutiveFailureLimit: contract.consecutiveFailureLimit,
        cumulativeFailureLimit: contract.cumulativeFailureLimit,
      },
    };
    // The production judge configuration and rollout plan (the same functions the rollout worker calls).
    const judgeTerms = {
      guardrails: contract.guardrails,
      ramp: terms.ramp,
      targetErrorRatePercent: contract.targetErrorRatePercent,
    };
    const judge = guardianJudgeConfiguration(judgeTerms);
    terms.plannedSeconds = guardianRolloutPlan(judgeTerms, {
      ...(contract.serviceQps !== undefined ? { serviceQps: contract.serviceQps } : {}),
      ...(contract.today !== undefined ? { today: contract.today } : {}),
      canaryServesAllTraffic: contract.canaryServesAllTraffic === true,
    }).seconds;
    const apply = (effects: RolloutEffect[], nextIndex: number) => {
      for (const e of effects) {
        if (e.type === 'set_traffic_weight') {
          sim.setCanaryPercent(e.percent);
          stepStart = nextIndex;
        }
      }
    };
    let stepStart = 0;
    let state: RolloutState = initialRolloutState();
    const started = step(state, { type: 'start' }, terms, new Date(T0));
    state = started.state;
    apply(started.effects, 0);
    const history: IntervalMetrics[] = [];
    const canaryRequests: number[] = [];
    let judgeState: JudgeState | undefined;
    for (let i = 0; i < contract.horizonIntervals; i++) {
      const m = sim.generate(i);
      history.push(m);
      canaryRequests.push(m.canary?.requests ?? 0);
      const trafficPercent = state.phase === 'progressing' || state.phase === 'baking' ? state.trafficPercent : 0;
      // The share this step leads to (the bake is 100 %), as the guardian worker tells the judge.
      const nextTrafficPercent =
        state.phase === 'progressing' ? (contract.steps[state.stepIndex + 1]?.percent ?? 100) : 100;
      const verdict = judgeInterval({
        guardrails: judge.guardrails,
        step: { index: 0, trafficPercent, minRequests: 0, startIntervalIndex: stepStart, nextTrafficPercent },
        history,
        errorBudget: judge.errorBudget,
        limits: judge.limits,
        previous: judgeState,
        options: judge.options,
      });
      judgeState = verdict.state;
      const now = new Date(T0 + (i + 1) * contract.intervalSeconds * 1000);
      const r = step(
        state,
        {
          type: 'evaluation',
          verdict: verdict.verdict,
          canaryRequests: m.canary?.requests ?? 0,
          reasons: verdict.reasons,
          alerts: verdict.alerts,
        },
        terms,
        now,
      );
      state = r.state;
      apply(r.effects, i + 1);
      if (state.phase === 'rolling_back') return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
      if (state.phase === 'promoted') return { outcome: 'promoted', decisionInterval: i, canaryRequests };
      if (state.phase === 'paused') return { outcome: 'stalled', decisionInterval: i, canaryRequests };
    }
    return { outcome: 'stalled', decisionInterval: null, canaryRequests };
  }
}
