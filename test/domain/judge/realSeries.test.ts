/**
 * The judge, check by check, on tables of intervals copied from real PetShop series (realSeries.ts): quantile-only
 * latency, ~1.6 requests/s, 5-minute intervals, with the production configuration (guardianJudgeConfiguration).
 */
import { describe, expect, it } from 'vitest';
import { guardianJudgeConfiguration } from '../../../src/domain/judge/configuration.js';
import { replayJudge } from '../../../src/domain/judge/judge.js';
import type { CheckId, EvidenceItem, JudgeResult } from '../../../src/domain/judge/types.js';
import type { IntervalMetrics } from '../../../src/domain/metrics.js';
import {
  AVAILABILITY_ISSUE,
  HEALTHY,
  intervals,
  LATENCY_ISSUE,
  PETSITE_GUARDRAILS,
  SUSTAINED_P95_ISSUE,
} from './realSeries.js';

const config = guardianJudgeConfiguration({
  guardrails: PETSITE_GUARDRAILS,
  ramp: { analysisIntervalSeconds: 300, consecutiveFailureLimit: 2, cumulativeFailureLimit: 4 },
  targetErrorRatePercent: 0.1,
});

function judge(history: IntervalMetrics[], trafficPercent = 100): JudgeResult[] {
  return replayJudge({
    guardrails: config.guardrails,
    step: { index: 0, trafficPercent, minRequests: 0 },
    history,
    errorBudget: config.errorBudget,
    limits: config.limits,
    options: config.options,
  });
}

const outcome = (r: JudgeResult | undefined, check: CheckId) =>
  (r?.evidence.find((e) => e.check === check) as EvidenceItem | undefined)?.outcome;

/** Four healthy PetSite intervals (the first is the cold start), then the issue's five rows. */
const withIssue = (issue: typeof LATENCY_ISSUE) => [...HEALTHY.slice(0, 4), ...issue];

describe('real PetSite series, production configuration', () => {
  it('uses the production warm-up and the 900 s windows three 5-minute intervals need', () => {
    expect(config.options.warmupIntervals).toBe(1);
    expect(config.guardrails.map((g) => g.windowSeconds)).toEqual([900, 900, 900]);
  });

  it.each(HEALTHY.map((_, i) => [i]))('healthy PetSite interval %i: no FAIL, no kill switch', (i) => {
    const results = judge(intervals(HEALTHY));
    const r = results[i] as JudgeResult;
    expect(r.verdict).not.toBe('FAIL');
    expect(r.killSwitch).toBe(false);
  });

  describe('guardrail:latency_p95 and guardrail:latency_p99 (quantile-only source)', () => {
    it('pass on healthy PetSite as soon as the pooled evidence exists (three intervals after the cold start)', () => {
      const results = judge(intervals(HEALTHY));
      for (const check of ['guardrail:latency_p95', 'guardrail:latency_p99'] as const) {
        expect(results.slice(1, 3).map((r) => outcome(r, check))).toEqual(['hold', 'hold']);
        expect(results.slice(3).every((r) => outcome(r, check) === 'pass')).toBe(true);
      }
      expect(results[3]?.evidence.find((e) => e.check === 'guardrail:latency_p99')?.message).toContain(
        'estimated from reported quantiles',
      );
    });

    it('issue_2 (PetSearch latency): p99 stops passing from its first slow row; one slow row never fails', () => {
      const results = judge(intervals(withIssue(LATENCY_ISSUE)));
      // Rows 6–8 are the issue's rows 3–5 (p99 above a second).
      expect(outcome(results[5], 'guardrail:latency_p99')).toBe('pass');
      expect(outcome(results[6], 'guardrail:latency_p99')).not.toBe('fail');
      expect(results.slice(7).map((r) => outcome(r, 'guardrail:latency_p99'))).not.toContain('pass');
      expect(results.map((r) => r.verdict).slice(7)).not.toContain('PASS');
    });
  });

  describe('quantile-only latency: the reported quantile above the guardrail in intervals in a row', () => {
    it('test/issue_3 (p95 533 and 547 ms against 382.5 ms): fails at the second slow row, not the first', () => {
      const results = judge(intervals(withIssue(SUSTAINED_P95_ISSUE)));
      // Rows 6 and 7 are the issue's rows 3 and 4.
      expect(outcome(results[6], 'guardrail:latency_p95')).not.toBe('fail');
      expect(results[6]?.verdict).not.toBe('FAIL');
      expect(outcome(results[7], 'guardrail:latency_p95')).toBe('fail');
      expect(results[7]?.verdict).toBe('FAIL');
      expect(results[7]?.reasons.join(' ')).toContain('reported p95 was above it in 2 intervals in a row');
    });

    it('a quantile that crosses by a hair in two intervals is within request-sampling noise: no FAIL', () => {
      // p95 390 ms against 382.5 ms in two intervals in a row: about 5.3 % slow requests where 5 % are allowed.
      const hair = withIssue(SUSTAINED_P95_ISSUE).map(
        ([requests, availability, p50, p95, p99], i) =>
          (i === 6 || i === 7
            ? [requests, availability, p50, 0.39, 0.45]
            : [requests, availability, p50, p95, p99]) as (typeof HEALTHY)[number],
      );
      const results = judge(intervals(hair));
      expect(results.slice(0, 8).map((r) => outcome(r, 'guardrail:latency_p95'))).not.toContain('fail');
    });

    it('a run holding fewer requests than the guardrail’s minimum never fails on it', () => {
      // The same rows at a tenth of the traffic: 2 slow intervals of ~47 requests hold fewer than p95's 200.
      const thin = withIssue(SUSTAINED_P95_ISSUE).map(
        ([requests, ...rest]) => [Math.round(requests / 10), ...rest] as (typeof HEALTHY)[number],
      );
      const results = judge(intervals(thin));
      expect(results.slice(0, 8).map((r) => outcome(r, 'guardrail:latency_p95'))).not.toContain('fail');
    });

    it('a histogram source is judged on its counted slow requests, not on a run of reported quantiles', () => {
      // The issue's rows with a histogram that counts 5.5 % of requests above 382.5 ms in every interval while the
      // reported p95 (as in the source) says 533 ms: the counted requests decide, and 5.5 % against the allowed 5 %
      // is not significant at ~470 requests an interval.
      const history = intervals(withIssue(SUSTAINED_P95_ISSUE)).map((m) => {
        const c = m.canary as NonNullable<typeof m.canary>;
        const slow = Math.ceil(c.requests * 0.055);
        return {
          ...m,
          canary: {
            ...c,
            latency: {
              ...c.latency,
              histogram: [
                { leMs: 100, count: Math.round(c.requests * 0.6) },
                { leMs: 382.5, count: c.requests - slow },
                { leMs: 5000, count: c.requests },
              ],
            },
          },
        };
      });
      const results = judge(history);
      expect(results.map((r) => outcome(r, 'guardrail:latency_p95'))).not.toContain('fail');
    });

    it('a slow row between healthy ones never fails (one interval above the guardrail is not a run)', () => {
      const oneSlow = [...HEALTHY.slice(0, 5), SUSTAINED_P95_ISSUE[2] as (typeof HEALTHY)[number], ...HEALTHY.slice(5)];
      const results = judge(intervals(oneSlow));
      expect(results.map((r) => r.verdict)).not.toContain('FAIL');
    });
  });

  describe('guardrail:error_rate', () => {
    it('never fails on healthy PetSite, whose errors sit near the 0.4 % guardrail (undecided, then pass)', () => {
      const results = judge(intervals(HEALTHY));
      const outcomes = results.map((r) => outcome(r, 'guardrail:error_rate'));
      expect(outcomes).not.toContain('fail');
      expect(outcomes).toContain('pass');
    });

    it('issue_15 (bad status-updater deployment): fails at the issue’s fifth row', () => {
      const results = judge(intervals(withIssue(AVAILABILITY_ISSUE)));
      expect(results.map((r) => r.verdict).indexOf('FAIL')).toBe(8);
      expect(outcome(results[8], 'guardrail:error_rate')).toBe('fail');
    });
  });

  describe('kill_switch:error_budget_burn', () => {
    it('does not fire on the first burning interval (5 % errors) and fires on the second (7 %)', () => {
      const results = judge(intervals(withIssue(AVAILABILITY_ISSUE)));
      expect(results[7]?.killSwitch).toBe(false);
      expect(results[8]?.killSwitch).toBe(true);
      expect(results[8]?.reasons.join(' ')).toContain('kill switch');
    });
  });

  describe('baseline:error_rate (healthy PetSite rows from another hour as the baseline)', () => {
    it('healthy against healthy never fails', () => {
      const results = judge(intervals(HEALTHY.slice(0, 6), HEALTHY.slice(6)), 10);
      expect(results.map((r) => outcome(r, 'baseline:error_rate'))).not.toContain('fail');
    });

    it('issue_15 against a healthy baseline fails at the issue’s fifth row, not on its first bad one', () => {
      const results = judge(intervals(withIssue(AVAILABILITY_ISSUE), HEALTHY.slice(3)), 10);
      expect(outcome(results[6], 'baseline:error_rate')).not.toBe('fail');
      expect(outcome(results[8], 'baseline:error_rate')).toBe('fail');
    });
  });
});
