import { describe, expect, it } from 'vitest';
import { COLD_START_SECONDS, guardianJudgeConfiguration } from '../../../src/domain/judge/configuration.js';
import { DEFAULT_JUDGE_OPTIONS, judgeInterval } from '../../../src/domain/judge/judge.js';
import { JudgeInputError } from '../../../src/domain/judge/types.js';
import type { Guardrail } from '../../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { interval } from './fixtures.js';

const guardrail = (windowSeconds: number, minIntervals = 3): Guardrail => ({
  metric: 'error_rate',
  comparator: '<',
  threshold: 0.5,
  unit: '%',
  windowSeconds,
  minimumEvidence: { minRequests: 500, minIntervals },
  basis: 'test',
});

const terms = (intervalSeconds: number, windowSeconds = 300) => ({
  guardrails: [guardrail(windowSeconds)],
  ramp: { analysisIntervalSeconds: intervalSeconds, consecutiveFailureLimit: 2, cumulativeFailureLimit: 4 },
  targetErrorRatePercent: 0.1,
});

describe('guardianJudgeConfiguration', () => {
  it.each([
    [1, 60],
    [15, 4],
    [60, 1],
    [300, 1],
  ])('covers the cold start with warm-up intervals at a %i s interval (%i)', (seconds, warmup) => {
    const c = guardianJudgeConfiguration(terms(seconds));
    expect(c.options.warmupIntervals).toBe(warmup);
    expect(c.options.warmupIntervals * seconds).toBeGreaterThanOrEqual(COLD_START_SECONDS);
  });

  it('takes limits and the error budget from the terms and the statistics from the judge defaults', () => {
    const c = guardianJudgeConfiguration(terms(60));
    expect(c.limits).toEqual({ consecutiveFailureLimit: 2, cumulativeFailureLimit: 4 });
    expect(c.errorBudget).toEqual({ targetErrorRatePercent: 0.1 });
    expect(c.options.alpha).toBe(DEFAULT_JUDGE_OPTIONS.alpha);
    expect(c.options.killBurnRate).toBe(DEFAULT_JUDGE_OPTIONS.killBurnRate);
    expect(c.options.defaultWindowSeconds).toBe(DEFAULT_POLICY.guardrailWindowSeconds);
  });

  it('widens a window that cannot hold the minimum number of intervals, and the judge refuses it unwidened', () => {
    const c = guardianJudgeConfiguration(terms(300, 300));
    expect(c.guardrails[0]?.windowSeconds).toBe(900);
    expect(c.options.defaultWindowSeconds).toBe(900);
    expect(guardianJudgeConfiguration(terms(60, 300)).guardrails[0]?.windowSeconds).toBe(300);
    const history = [interval(0, { requests: 1000, failures: 0 }, { requests: 9000, failures: 0 })].map((m) => ({
      ...m,
      end: new Date(Date.parse(m.start) + 300_000).toISOString(),
    }));
    const input = {
      step: { index: 0, trafficPercent: 10, minRequests: 0 },
      history,
      errorBudget: c.errorBudget,
      limits: c.limits,
    };
    expect(() => judgeInterval({ ...input, guardrails: [guardrail(300)] })).toThrow(
      /windowSeconds 300 cannot hold minimumEvidence.minIntervals 3 intervals of 300 s/,
    );
    expect(() => judgeInterval({ ...input, guardrails: c.guardrails, options: c.options })).not.toThrow();
  });

  it('interval from the caller overrides the ramp (replay at the spacing of its rows)', () => {
    expect(guardianJudgeConfiguration(terms(60), { intervalSeconds: 10 }).options.warmupIntervals).toBe(6);
    expect(() => guardianJudgeConfiguration(terms(60), { intervalSeconds: 0 })).toThrow(JudgeInputError);
  });
});

describe('guardrail windows drafted against the analysis interval', () => {
  it('a contract drafted at a 5-minute interval gets windows that hold three intervals', async () => {
    const { readFileSync } = await import('node:fs');
    const { assessDeployment } = await import('../../../src/domain/contract.js');
    const { loadPolicyFromObject } = await import('../../../src/domain/policy.js');
    const { parseDeploymentJson } = await import('../../../src/domain/request.js');
    const request = parseDeploymentJson(readFileSync('test/fixtures/deployment-example.json', 'utf8'));
    const policy = loadPolicyFromObject({ ...structuredClone(DEFAULT_POLICY), analysisIntervalSeconds: 300 });
    const contract = assessDeployment(request, policy, { now: new Date('2026-12-01T00:00:00Z') });
    expect(contract.terms.guardrails.map((g) => g.windowSeconds)).toEqual([900, 900, 900]);
    const c = guardianJudgeConfiguration(
      { ...contract.terms, targetErrorRatePercent: contract.deployment.slo.targetErrorRatePercent },
      { policy },
    );
    expect(c.guardrails.map((g) => g.windowSeconds)).toEqual([900, 900, 900]);
  });
});
