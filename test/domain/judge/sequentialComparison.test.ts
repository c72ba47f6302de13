/**
 * The rollout-long comparison with the baseline: the sequential test on the split of failures between the versions,
 * its acceptance before the baseline disappears, shared incidents left out, and the persistence of what it alone
 * proves.
 */
import { describe, expect, it } from 'vitest';
import { advanceSequential, type SequentialStatistic } from '../../../src/domain/judge/context.js';
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
    // Crossing needs the boundary without the most damning interval: five intervals of evidence, then two
    // evaluations in a row.
    expect(verdicts(results)).toEqual(['HOLD', 'HOLD', 'HOLD', 'HOLD', 'HOLD', 'FAIL']);
    const fail = results[5] as JudgeResult;
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
        series(8, (i) => (i === 2 ? burst : twice)),
        { step: LAST_STEP },
      ),
    );
    const llr = (i: number) => (results[i] as JudgeResult).state.sequential['baseline:error_rate'];
    expect(llr(2)).toBe(llr(1));
    expect(results.findIndex((r) => r.verdict === 'FAIL')).toBe(6);
    expect(verdicts(results).slice(0, 6)).not.toContain('PASS');
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
    // Five intervals at 2× cross the boundary (without the most damning one) at interval 4 with a breach run of 5;
    // interval 5 looks better.
    const better: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 5 },
      { requests: 10000, failures: 15 },
    ];
    const results = replayJudge(
      input(
        series(6, (i) => (i < 5 ? twice : better)),
        { step: LAST_STEP },
      ),
    );
    const crossed = results[4] as JudgeResult;
    expect(ev(crossed, 'baseline:error_rate').outcome).toBe('fail');
    expect(ev(crossed, 'baseline:error_rate').persistence).toBe(1);
    expect(crossed.verdict).toBe('HOLD');
    expect(verdicts(results)).not.toContain('FAIL');
  });

  it('does not roll back on a likelihood ratio that one interval carried across the boundary', () => {
    // One minute with a chance cluster of canary failures (40 against 10), then minutes at 1.5× — Poisson noise at
    // these counts. The full statistic sits above the boundary for six evaluations in a row; without the cluster it
    // is nowhere near, so the test has not crossed.
    const cluster: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 40 },
      { requests: 10000, failures: 10 },
    ];
    const mild: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 15 },
      { requests: 10000, failures: 10 },
    ];
    const results = replayJudge(
      input(
        series(6, (i) => (i === 0 ? cluster : mild)),
        { step: LAST_STEP },
      ),
    );
    const boundary = Math.log(5 / 0.01);
    expect(results.every((r) => (r.state.sequential['baseline:error_rate'] as number) >= boundary)).toBe(true);
    expect(results.every((r) => (r.state.sequentialWithoutOne?.['baseline:error_rate']?.low ?? 0) < boundary)).toBe(
      true,
    );
    expect(verdicts(results)).not.toContain('FAIL');
    expect(results.every((r) => ev(r, 'baseline:error_rate').outcome !== 'fail')).toBe(true);
  });

  it('does not accept "not 2× worse" on the strength of one lucky interval', () => {
    // A canary at 2× with one minute in which it failed none of 16 failures: the full likelihood ratio falls below
    // 0.1 at interval 2, but without that minute the evidence points to 2×, so the last step does not pass.
    const lucky: [VersionSpec, VersionSpec] = [
      { requests: 10000, failures: 0 },
      { requests: 10000, failures: 16 },
    ];
    const results = replayJudge(
      input(
        series(4, (i) => (i === 1 ? lucky : twice)),
        { step: LAST_STEP },
      ),
    );
    const third = results[2] as JudgeResult;
    expect(third.state.sequential['baseline:error_rate'] as number).toBeLessThan(Math.log(0.1));
    expect(third.verdict).toBe('HOLD');
    expect(ev(third, 'baseline:error_rate').outcome).toBe('hold');
    expect(ev(third, 'baseline:error_rate').message).toContain('without its most favourable interval');
    expect(verdicts(results)).not.toContain('PASS');
  });

  it('keeps the statistic without its most decisive interval exactly (against leaving each one out)', () => {
    const boundary = Math.log(5 / 0.01);
    const clamp = (x: number) => Math.min(2 * boundary, Math.max(-boundary, x));
    const path = (xs: readonly number[]) => xs.reduce((s, x) => clamp(s + Math.min(boundary, x)), 0);
    // A deterministic pseudo-random walk with jumps that hit the floor, the ceiling and the one-boundary cap.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 50; trial++) {
      const xs = Array.from({ length: 25 }, () => (next() - 0.5) * (next() < 0.2 ? 20 : 4));
      let stat: SequentialStatistic | null = null;
      for (let t = 0; t < xs.length; t++) {
        stat = advanceSequential(stat, xs[t] as number, boundary);
        const prefix = xs.slice(0, t + 1);
        const left = prefix.map((_, j) => path(prefix.filter((_, k) => k !== j)));
        expect(stat.value).toBeCloseTo(path(prefix), 9);
        expect(stat.low).toBeCloseTo(Math.min(...left), 9);
        expect(stat.high).toBeCloseTo(Math.max(...left), 9);
      }
    }
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
