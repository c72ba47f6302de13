/**
 * The rollout-long comparison with the baseline: the sequential test on the split of failures between the versions,
 * its acceptance before the baseline disappears, shared incidents left out, and the persistence of what it alone
 * proves.
 */
import { describe, expect, it } from 'vitest';
import { judgeInterval, replayJudge } from '../../../src/domain/judge/judge.js';
import type { EvidenceItem, JudgeInput, JudgeResult, JudgeState, JudgeStep } from '../../../src/domain/judge/types.js';
import type { IntervalMetrics } from '../../../src/domain/metrics.js';
import { input, series, type VersionSpec } from './fixtures.js';

const ev = (r: JudgeResult, check: EvidenceItem['check']) => r.evidence.find((e) => e.check === check) as EvidenceItem;
const verdicts = (rs: JudgeResult[]) => rs.map((r) => r.verdict);

/** Last canary step (50 %), before the bake at 100 %. */
const LAST_STEP: JudgeStep = { index: 2, trafficPercent: 50, minRequests: 1000, nextTrafficPercent: 100 };
const EARLIER_STEP: JudgeStep = { index: 1, trafficPercent: 50, minRequests: 1000, nextTrafficPercent: 75 };
const BAKE: JudgeStep = { index: 3, trafficPercent: 100, minRequests: 0 };

// 0.2 % against 0.1 %: twice the baseline, yet under the 0.3 % guardrail, which PASSes it with confidence.
const twice: [VersionSpec, VersionSpec] = [
  { requests: 10000, failures: 20 },
  { requests: 10000, failures: 10 },
];
const same: [VersionSpec, VersionSpec] = [
  { requests: 10000, failures: 10 },
  { requests: 10000, failures: 10 },
];

/** Judges interval by interval with a step per interval, carrying the state as the guardian does. */
function run(history: IntervalMetrics[], stepOf: (i: number) => JudgeStep, overrides: Partial<JudgeInput> = {}) {
  const results: JudgeResult[] = [];
  let previous: JudgeState | undefined;
  for (let i = 1; i <= history.length; i++) {
    const r = judgeInterval(input(history.slice(0, i), { ...overrides, step: stepOf(i - 1), previous }));
    results.push(r);
    previous = r.state;
  }
  return results;
}

describe('sequential comparison with the baseline', () => {
  it('holds a significant soft error regression at the last canary step and fails it on the sequential test', () => {
    const results = replayJudge(
      input(
        series(6, () => twice),
        { step: LAST_STEP },
      ),
    );
    expect(ev(results[2] as JudgeResult, 'guardrail:error_rate').outcome).toBe('pass');
    // Not yet proven either way: the step may not lead to 100 % on "no significant difference".
    expect(ev(results[2] as JudgeResult, 'baseline:error_rate').outcome).toBe('hold');
    expect((results[2] as JudgeResult).reasons.join(' ')).toContain('not yet shown below 2× the baseline');
    expect(verdicts(results)).toEqual(['HOLD', 'HOLD', 'HOLD', 'HOLD', 'FAIL', 'FAIL']);
    const fail = results[4] as JudgeResult;
    expect(ev(fail, 'baseline:error_rate').outcome).toBe('fail');
    expect(ev(fail, 'baseline:error_rate').message).toContain('sequential test over the rollout');
    expect(ev(fail, 'guardrail:error_rate').outcome).toBe('pass');
  });

  it('lets an earlier step pass on "not significantly worse", since the test goes on at a larger share', () => {
    const results = replayJudge(
      input(
        series(3, () => twice),
        { step: EARLIER_STEP },
      ),
    );
    expect((results[2] as JudgeResult).verdict).toBe('PASS');
    // Without the next share the judge cannot tell that more evidence follows, and asks for the acceptance.
    const unknown = replayJudge(
      input(
        series(3, () => twice),
        { step: { ...EARLIER_STEP, nextTrafficPercent: undefined } },
      ),
    );
    expect((unknown[2] as JudgeResult).verdict).toBe('HOLD');
  });

  it('passes a healthy canary at the last step once the test accepts "not 2× worse", and never fails it', () => {
    const results = replayJudge(
      input(
        series(8, () => same),
        { step: LAST_STEP },
      ),
    );
    expect(verdicts(results)).not.toContain('FAIL');
    expect((results[2] as JudgeResult).verdict).toBe('PASS');
    expect(ev(results[2] as JudgeResult, 'baseline:error_rate').outcome).toBe('pass');
    expect(Math.exp((results[2] as JudgeResult).state.sequential['baseline:error_rate'] as number)).toBeLessThan(0.1);
  });

  it('passes a canary without failures through the error budget: a ratio of zeros cannot matter', () => {
    const clean: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 0 },
      { requests: 10000, failures: 0 },
    ];
    const r = replayJudge(
      input(
        series(3, () => clean),
        { step: LAST_STEP },
      ),
    )[2] as JudgeResult;
    expect(r.verdict).toBe('PASS');
    // A budget tighter than what 30,000 clean requests can show: the step waits.
    const tight = replayJudge(
      input(
        series(3, () => clean),
        { step: LAST_STEP, errorBudget: { targetErrorRatePercent: 0.005 } },
      ),
    )[2] as JudgeResult;
    expect(tight.verdict).toBe('HOLD');
    expect(ev(tight, 'baseline:error_rate').message).toContain('nor within the error budget (0.005 %)');
  });

  it('leaves a shared 5xx burst out, so it cannot wipe out the evidence of a regression', () => {
    // Interval 2: a dependency adds 2 % errors to both versions. As a ratio, 220 vs 210 says "the same".
    const burst: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 220 },
      { requests: 10000, failures: 210 },
    ];
    const results = replayJudge(
      input(
        series(7, (i) => (i === 2 ? burst : twice)),
        { step: LAST_STEP },
      ),
    );
    const llr = (i: number) => (results[i] as JudgeResult).state.sequential['baseline:error_rate'];
    expect(llr(2)).toBe(llr(1));
    expect(results.findIndex((r) => r.verdict === 'FAIL')).toBe(5);
    expect(verdicts(results).slice(0, 5)).not.toContain('PASS');
  });

  it('does not promote at 100 % a regression it proved while the baseline was there', () => {
    const limits = { consecutiveFailureLimit: 10, cumulativeFailureLimit: 10 };
    const history = [
      ...series(6, () => twice),
      ...series(12, () => [{ requests: 20000, failures: 40 }, null]).slice(6),
    ];
    const results = run(history, (i) => (i < 6 ? LAST_STEP : BAKE), { limits });
    const bake = results.slice(11);
    expect(bake.every((r) => ev(r, 'baseline:error_rate').outcome === 'hold')).toBe(true);
    expect(ev(bake[0] as JudgeResult, 'baseline:error_rate').message).toContain('proven earlier');
    expect(bake.every((r) => r.verdict === 'HOLD')).toBe(true);
    // The same bake after a healthy comparison passes.
    const healthy = [...series(6, () => same), ...history.slice(6)];
    expect((run(healthy, (i) => (i < 6 ? LAST_STEP : BAKE), { limits }).at(-1) as JudgeResult).verdict).toBe('PASS');
  });

  it('fails on what the sequential test alone proves only after two evaluations in a row', () => {
    // Four intervals at 2× cross the boundary at interval 3 with a breach run of 4; interval 4 looks better.
    const better: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 5 },
      { requests: 10000, failures: 15 },
    ];
    const results = replayJudge(
      input(
        series(5, (i) => (i < 4 ? twice : better)),
        { step: LAST_STEP },
      ),
    );
    const crossed = results[3] as JudgeResult;
    expect(ev(crossed, 'baseline:error_rate').outcome).toBe('fail');
    expect(ev(crossed, 'baseline:error_rate').persistence).toBe(1);
    expect(crossed.verdict).toBe('HOLD');
    expect(verdicts(results)).not.toContain('FAIL');
  });

  it('adds at most one boundary of evidence per interval', () => {
    // A canary-only burst of 300 failures would add ~79 to the log-likelihood ratio in one go.
    const results = replayJudge(
      input(
        series(4, (i) => (i === 3 ? [{ requests: 10000, failures: 300 }, same[1]] : same)),
        { step: LAST_STEP },
      ),
    );
    const before = (results[2] as JudgeResult).state.sequential['baseline:error_rate'] as number;
    const after = (results[3] as JudgeResult).state.sequential['baseline:error_rate'] as number;
    expect(after - before).toBeCloseTo(Math.log(5 / 0.01), 10);
  });
});
