import { describe, expect, it } from 'vitest';
import { judgeInterval, replayJudge } from '../../../src/domain/judge/judge.js';
import type { EvidenceItem, JudgeResult } from '../../../src/domain/judge/types.js';
import { GUARDRAILS, guardrail, input, series } from './fixtures.js';

const ev = (r: JudgeResult, check: EvidenceItem['check']) => r.evidence.find((e) => e.check === check) as EvidenceItem;
const healthy = { requests: 2000, failures: 2 };
const base = { requests: 18000, failures: 18 };

describe('absolute error-rate guardrail', () => {
  it('HOLDs while the minimum evidence is missing (requests and intervals)', () => {
    const r = judgeInterval(input(series(2, () => [healthy, base])));
    expect(ev(r, 'guardrail:error_rate').outcome).toBe('hold');
    expect(ev(r, 'guardrail:error_rate').message).toContain('gathering evidence');
    expect(r.verdict).toBe('HOLD');
  });

  it('PASSes when the upper confidence bound is below the threshold', () => {
    // Six intervals: the next share is unknown, so the comparison with the baseline must also have accepted "not 2×
    // worse", which it may not do on the strength of a single interval (five are just short without the sixth).
    const r = judgeInterval(input(series(6, () => [healthy, base])));
    const e = ev(r, 'guardrail:error_rate');
    expect(e.outcome).toBe('pass');
    expect(e.bounds?.upper).toBeLessThan(0.3);
    expect(e.confidence).toBeCloseTo(0.9, 6);
    expect(e.samples).toBe(10000);
    expect(r.verdict).toBe('PASS');
  });

  it('stays undecided (HOLD) right at the threshold', () => {
    // Baseline at the same rate, so the comparison with the baseline has nothing to say either.
    const r = judgeInterval(
      input(
        series(5, () => [
          { requests: 2000, failures: 6 },
          { requests: 18000, failures: 54 },
        ]),
      ),
    );
    expect(ev(r, 'guardrail:error_rate').outcome).toBe('hold');
    expect(ev(r, 'guardrail:error_rate').message).toContain('undecided');
    expect(r.verdict).toBe('HOLD');
  });

  it('FAILs only when the lower bound exceeds the threshold and the breach persists', () => {
    // 1 % errors: burn 10× (below the kill switch), clearly above the 0.3 % guardrail.
    const r = judgeInterval(input(series(3, () => [{ requests: 2000, failures: 20 }, base])));
    const e = ev(r, 'guardrail:error_rate');
    expect(e.outcome).toBe('fail');
    expect(e.bounds?.lower).toBeGreaterThan(0.3);
    expect(e.persistence).toBe(3);
    expect(e.pValue).toBeLessThan(1e-6);
    expect(r.killSwitch).toBe(false);
    expect(r.verdict).toBe('FAIL');
    expect(r.reasons.join(' ')).toContain('error rate above 0.3 %');
  });

  it('never rolls back on a single noisy interval', () => {
    // A 3 % burst in one interval: the window is significant only because of it (and it is too short for the kill
    // switch), so the guardrail holds — no PASS, no failure counted — until the burst leaves the window.
    const history = series(11, (i) => [i === 5 ? { requests: 2000, failures: 60 } : healthy, base]);
    const firstStep = { index: 0, trafficPercent: 10, minRequests: 1000, nextTrafficPercent: 25 };
    const results = replayJudge(input(history, { step: firstStep }));
    expect(results.map((r) => r.verdict)).not.toContain('FAIL');
    const blip = results[5] as JudgeResult;
    expect(ev(blip, 'guardrail:error_rate').outcome).toBe('hold');
    expect(ev(blip, 'guardrail:error_rate').message).toContain('only because of a single interval');
    expect(results.slice(5, 10).map((r) => r.verdict)).toEqual(['HOLD', 'HOLD', 'HOLD', 'HOLD', 'HOLD']);
    expect((results[10] as JudgeResult).verdict).toBe('PASS');
  });

  it('a burst next to an interval that breaches by a hair is not two failing intervals, even at 100 %', () => {
    // Bake at 100 %: no baseline to attribute the burst to. 0.31 % against a 0.3 % threshold breaches on its point
    // estimate, yet without the burst the window is far from significant.
    const burst = { requests: 15000, failures: 320 };
    const hair = { requests: 15000, failures: 47 };
    const fine = { requests: 15000, failures: 15 };
    const history = series(8, (i) => [i === 5 ? burst : i === 6 ? hair : fine, null]);
    const bake = { index: 3, trafficPercent: 100, minRequests: 0 };
    const results = replayJudge(input(history, { step: bake }));
    expect(results.map((r) => r.verdict)).not.toContain('FAIL');
    expect(results.every((r) => r.failures.cumulative === 0)).toBe(true);
    // Two bursts in a row are two failing intervals: the contract's limit of 2 rolls back.
    const twice = series(8, (i) => [i === 5 || i === 6 ? burst : fine, null]);
    const verdicts = replayJudge(input(twice, { step: bake })).map((r) => r.verdict);
    expect(verdicts.indexOf('FAIL')).toBe(6);
  });

  it('at 100 %, a breach no worse than a shared incident the stable version had in this rollout holds and alerts', () => {
    // Intervals 0–5 at 50 %: the stable version suffers a 5 % shared outage in interval 2 (the canary too). Then the
    // bake at 100 % (no baseline left) sees two 2 % bursts in a row: within 1.5× of what the stable version itself
    // showed, so possibly shared — HOLD with an alert, not a rollback.
    const outage = { requests: 10000, failures: 500 };
    const fine = { requests: 10000, failures: 10 };
    const burst = { requests: 20000, failures: 420 };
    const bakeFine = { requests: 20000, failures: 20 };
    const build = (bakeBurst: { requests: number; failures: number }) =>
      series(12, (i) =>
        i < 6 ? [i === 2 ? outage : fine, i === 2 ? outage : fine] : [i === 8 || i === 9 ? bakeBurst : bakeFine, null],
      );
    const stepOf = (i: number) =>
      i < 6
        ? { index: 2, trafficPercent: 50, minRequests: 0, nextTrafficPercent: 100 }
        : { index: 3, trafficPercent: 100, minRequests: 0, startIntervalIndex: 6 };
    const judge = (history: ReturnType<typeof series>) => {
      const results: JudgeResult[] = [];
      for (let i = 1; i <= history.length; i++) {
        results.push(
          judgeInterval(input(history.slice(0, i), { step: stepOf(i - 1), previous: results.at(-1)?.state })),
        );
      }
      return results;
    };
    const shared = judge(build(burst));
    expect(shared.map((r) => r.verdict)).not.toContain('FAIL');
    const second = shared[9] as JudgeResult;
    expect(second.verdict).toBe('HOLD');
    expect(ev(second, 'guardrail:error_rate').outcome).toBe('suppressed');
    expect(ev(second, 'guardrail:error_rate').message).toContain(
      'within 1.5× of the 5 % the stable version itself reached in interval 2',
    );
    const alert = second.alerts.find((a) => a.kind === 'shared_degradation');
    expect(alert?.message).toContain('no concurrent baseline is left at 100 %');
    expect(second.failures.cumulative).toBe(0);
    // Bursts of 10 %: beyond anything the stable version showed, so the canary's — the kill switch fires on the
    // second burning interval (short and long window must both burn; one interval never fills the long window).
    const own = judge(build({ requests: 20000, failures: 2000 }));
    expect(own.map((r) => r.verdict).indexOf('FAIL')).toBe(9);
    expect((own[8] as JudgeResult).killSwitch).toBe(false);
    expect((own[9] as JudgeResult).killSwitch).toBe(true);
    // A 5 % burn like the stable version's own outage: the kill switch is held back too.
    const likeOutage = judge(build({ requests: 20000, failures: 1000 }));
    expect(likeOutage.map((r) => r.verdict)).not.toContain('FAIL');
    expect(ev(likeOutage[9] as JudgeResult, 'kill_switch:error_budget_burn').outcome).toBe('suppressed');
    // Without the stable version's incident the same 2 % bursts roll back as well (nothing to attribute them to).
    const clean = judge(series(12, (i) => (i < 6 ? [fine, fine] : [i === 8 || i === 9 ? burst : bakeFine, null])));
    expect(clean.map((r) => r.verdict).indexOf('FAIL')).toBe(9);
  });

  it('with a one-interval window, the second failing interval must be significant on its own', () => {
    const oneInterval = GUARDRAILS.map((g) => ({
      ...g,
      windowSeconds: 60,
      minimumEvidence: { minRequests: 500, minIntervals: 1 },
    }));
    const burst = { requests: 15000, failures: 320 };
    const hair = { requests: 15000, failures: 47 };
    const fine = { requests: 15000, failures: 15 };
    const bake = { index: 3, trafficPercent: 100, minRequests: 0 };
    const marginal = replayJudge(
      input(
        series(8, (i) => [i === 4 ? hair : i === 5 ? burst : fine, null]),
        { guardrails: oneInterval, step: bake },
      ),
    );
    expect(marginal.map((r) => r.verdict)).not.toContain('FAIL');
    const real = replayJudge(
      input(
        series(8, (i) => [i === 4 || i === 5 ? burst : fine, null]),
        { guardrails: oneInterval, step: bake },
      ),
    );
    expect(real.map((r) => r.verdict).indexOf('FAIL')).toBe(5);
  });

  it('rolls back when the cumulative limit is reached by flapping failures', () => {
    const history = series(12, (i) => [i >= 3 && i % 2 === 1 ? { requests: 2000, failures: 24 } : healthy, base]);
    const results = replayJudge(input(history, { limits: { consecutiveFailureLimit: 2, cumulativeFailureLimit: 3 } }));
    // Interval 3 alone cannot make a window significant (no single interval decides): the failing intervals are 5,
    // 7 and 9.
    const firstFail = results.findIndex((r) => r.verdict === 'FAIL');
    expect(firstFail).toBe(9);
    expect((results[9] as JudgeResult).failures.cumulative).toBe(3);
    expect((results[9] as JudgeResult).reasons.join(' ')).toContain('cumulative limit 3');
  });
});

describe('absolute latency guardrails', () => {
  it('FAIL on a p95 that doubled, with the slow-request count as evidence', () => {
    const r = judgeInterval(input(series(3, () => [{ requests: 2000, failures: 2, medianMs: 200 }, base])));
    const e = ev(r, 'guardrail:latency_p95');
    expect(e.outcome).toBe('fail');
    expect(e.observed).toBeGreaterThan(244);
    expect(e.baseline).toBeLessThan(244);
    expect(e.message).toMatch(/requests slower than 244 ms/);
    expect(r.verdict).toBe('FAIL');
  });

  it('PASS a healthy p95 and p99 from the histograms', () => {
    const r = judgeInterval(input(series(5, () => [healthy, base])));
    expect(ev(r, 'guardrail:latency_p95').outcome).toBe('pass');
    expect(ev(r, 'guardrail:latency_p99').outcome).toBe('pass');
  });

  it('without histograms, estimate slow requests from the reported quantiles and FAIL on the pooled count', () => {
    const slow = { requests: 2000, failures: 2, medianMs: 200, noHistogram: true };
    const r = judgeInterval(input(series(3, () => [slow, { ...base, noHistogram: true }])));
    const e = ev(r, 'guardrail:latency_p95');
    expect(e.outcome).toBe('fail');
    expect(e.message).toContain('estimated from reported quantiles');
    expect(e.observed).toBeGreaterThan(244);
  });

  it('pools quantile-only intervals: a p99 PASSes at 400 requests an interval, which no interval could alone', () => {
    const quiet = { requests: 400, failures: 0, noHistogram: true };
    const r = judgeInterval(input(series(5, () => [quiet, { ...base, noHistogram: true }])));
    expect(ev(r, 'guardrail:latency_p99').outcome).toBe('pass');
    expect(ev(r, 'guardrail:latency_p95').outcome).toBe('pass');
    expect(ev(r, 'guardrail:latency_p99').message).toContain('estimated from reported quantiles');
  });

  it('a conclusive pooled window passes without every interval agreeing, and one slow interval never fails', () => {
    // Four healthy intervals and one whose p95 is above the threshold: pooled, the share of slow requests is still
    // well under 5 %, so the guardrail passes; and the slow interval alone is no rollback.
    const r = judgeInterval(
      input(
        series(5, (i) => [
          { requests: 600, failures: 0, medianMs: i === 2 ? 140 : 100, noHistogram: true },
          { ...base, noHistogram: true },
        ]),
      ),
    );
    expect(ev(r, 'guardrail:latency_p95').outcome).toBe('pass');
    const oneSlowLast = judgeInterval(
      input(
        series(5, (i) => [
          { requests: 600, failures: 0, medianMs: i === 4 ? 200 : 100, noHistogram: true },
          { ...base, noHistogram: true },
        ]),
      ),
    );
    expect(ev(oneSlowLast, 'guardrail:latency_p95').outcome).not.toBe('fail');
  });

  it('use the guardrail thresholds given (a looser p95 passes the same data)', () => {
    const loose = [
      guardrail('error_rate', 0.3),
      guardrail('latency_p95', 900, 200),
      guardrail('latency_p99', 1500, 1000),
    ];
    const r = judgeInterval(
      input(
        series(3, () => [{ requests: 2000, failures: 2, medianMs: 200 }, base]),
        { guardrails: loose },
      ),
    );
    expect(ev(r, 'guardrail:latency_p95').outcome).not.toBe('fail');
    expect(GUARDRAILS[1]?.threshold).toBe(244);
  });
});
