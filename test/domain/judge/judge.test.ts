import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeInterval, replayJudge } from '../../../src/domain/judge/judge.js';
import { JudgeInputError, type JudgeResult, type JudgeState } from '../../../src/domain/judge/types.js';
import type { IntervalMetrics } from '../../../src/domain/metrics.js';
import { createSimulator, type ScenarioName } from '../../../src/metrics/simulator.js';
import { GUARDRAILS, guardrail, input, interval, series } from './fixtures.js';

/** Runs the judge over a simulated fixed ramp (10 % → 25 % → 50 %, 7 intervals each), carrying state. */
function simulate(
  scenario: ScenarioName,
  seed: number,
  options: { qps?: number; intervals?: number; magnitude?: number } = {},
) {
  const sim = createSimulator({
    scenario,
    seed,
    qps: options.qps ?? 200,
    noise: 'realistic',
    latency: { tailWeight: 0.005 },
    magnitude: options.magnitude,
  });
  const history: IntervalMetrics[] = [];
  const results: JudgeResult[] = [];
  let previous: JudgeState | undefined;
  for (let i = 0; i < (options.intervals ?? 21); i++) {
    const percent = i < 7 ? 10 : i < 14 ? 25 : 50;
    sim.setCanaryPercent(percent);
    history.push(sim.generate(i));
    const r = judgeInterval(
      input(history, {
        step: {
          index: Math.floor(i / 7),
          trafficPercent: percent,
          minRequests: 1000,
          startIntervalIndex: i - (i % 7),
          nextTrafficPercent: percent === 10 ? 25 : percent === 25 ? 50 : 100,
        },
        previous,
        options: { warmupIntervals: 1 },
      }),
    );
    results.push(r);
    previous = r.state;
  }
  return results;
}

const verdicts = (rs: JudgeResult[]) => rs.map((r) => r.verdict[0]).join('');
const SEEDS = [11, 12, 13, 14, 15, 16, 17, 18];

describe('judge on simulated scenarios', () => {
  it('healthy canaries pass and never fail', () => {
    for (const seed of SEEDS) {
      const rs = simulate('healthy', seed);
      expect(verdicts(rs), `seed ${seed}`).not.toContain('F');
      // Every step reaches a PASS (shared 5xx bursts and the cold start may hold a few intervals).
      for (const stepResults of [rs.slice(0, 7), rs.slice(7, 14), rs.slice(14, 21)]) {
        expect(
          stepResults.some((r) => r.verdict === 'PASS'),
          `seed ${seed}: ${verdicts(rs)}`,
        ).toBe(true);
      }
    }
  });

  it('a hard error spike fails within 1–2 intervals of the minimum evidence (kill switch)', () => {
    for (const seed of SEEDS) {
      const rs = simulate('error-spike', seed);
      // Minimum evidence: 3 post-warm-up intervals ⇒ interval index 3; the verdict must be FAIL by index 4.
      const first = rs.findIndex((r) => r.verdict === 'FAIL');
      expect(first, `seed ${seed}: ${verdicts(rs)}`).toBeGreaterThanOrEqual(0);
      expect(first, `seed ${seed}: ${verdicts(rs)}`).toBeLessThanOrEqual(4);
      expect(rs[first]?.killSwitch).toBe(true);
    }
  });

  it('a hard latency spike fails within 1–2 intervals of the minimum evidence', () => {
    for (const seed of SEEDS) {
      const rs = simulate('latency-spike', seed);
      const first = rs.findIndex((r) => r.verdict === 'FAIL');
      // Minimum evidence: 3 post-warm-up intervals with canary data (a telemetry gap postpones it; gaps never help).
      const withData = rs.map((r) => (r.evidence.find((e) => e.check === 'guardrail:latency_p95')?.samples ?? 0) > 0);
      const sim = createSimulator({
        scenario: 'latency-spike',
        seed,
        qps: 200,
        noise: 'realistic',
        latency: { tailWeight: 0.005 },
      });
      let seen = 0;
      let evidenceAt = -1;
      for (let i = 1; i < 21 && evidenceAt < 0; i++) {
        sim.setCanaryPercent(10);
        if (sim.generate(i).canary) seen++;
        if (seen >= 3) evidenceAt = i;
      }
      expect(withData[evidenceAt]).toBe(true);
      expect(first, `seed ${seed}: ${verdicts(rs)}`).toBeGreaterThanOrEqual(evidenceAt);
      expect(first, `seed ${seed}: ${verdicts(rs)}`).toBeLessThanOrEqual(evidenceAt + 1);
    }
  });

  it('no data holds, never fails, and raises a no-data alert every interval', () => {
    for (const seed of SEEDS.slice(0, 3)) {
      const rs = simulate('no-data', seed);
      expect(verdicts(rs)).toBe('H'.repeat(21));
      expect(rs.every((r) => r.alerts.some((a) => a.kind === 'no_canary_data'))).toBe(true);
    }
  });

  it('low traffic holds until the minimum evidence exists and says so', () => {
    for (const seed of SEEDS.slice(0, 3)) {
      const rs = simulate('low-traffic', seed, { qps: 0.5 });
      expect(verdicts(rs)).not.toContain('F');
      expect(verdicts(rs)).not.toContain('P');
      expect(rs.some((r) => r.alerts.some((a) => a.kind === 'insufficient_traffic'))).toBe(true);
    }
  });

  it('a shared outage holds with a shared-degradation alert instead of rolling back', () => {
    for (const seed of SEEDS) {
      const rs = simulate('shared-outage', seed);
      expect(verdicts(rs), `seed ${seed}`).not.toContain('F');
      const during = rs.slice(6, 10);
      expect(during.every((r) => r.verdict === 'HOLD')).toBe(true);
      expect(during.some((r) => r.alerts.some((a) => a.kind === 'shared_degradation'))).toBe(true);
    }
  });

  it('a variance-only regression is caught by the baseline comparison', () => {
    for (const seed of SEEDS.slice(0, 4)) {
      const rs = simulate('variance-only', seed, { magnitude: 1.15 });
      const fail = rs.find((r) => r.verdict === 'FAIL');
      expect(fail, `seed ${seed}: ${verdicts(rs)}`).toBeDefined();
      const failing = fail?.evidence.filter((e) => e.outcome === 'fail').map((e) => e.check) ?? [];
      expect(failing.some((c) => c.startsWith('baseline:latency'))).toBe(true);
      expect(failing.some((c) => c.startsWith('guardrail:'))).toBe(false);
    }
  });
});

describe('judge state and replay', () => {
  it('carrying the state gives exactly what rebuilding it from the history gives', () => {
    const rs = simulate('slow-leak', 5, { intervals: 18 });
    const sim = createSimulator({
      scenario: 'slow-leak',
      seed: 5,
      qps: 200,
      noise: 'realistic',
      latency: { tailWeight: 0.005 },
    });
    const history: IntervalMetrics[] = [];
    for (let i = 0; i < 18; i++) {
      sim.setCanaryPercent(i < 7 ? 10 : i < 14 ? 25 : 50);
      history.push(sim.generate(i));
    }
    const rebuilt = judgeInterval(
      input(history, {
        step: { index: 2, trafficPercent: 50, minRequests: 1000, startIntervalIndex: 14 },
        options: { warmupIntervals: 1 },
      }),
    );
    expect(rebuilt).toEqual(rs[17]);
  });

  it('replayJudge returns one decision per interval and is deterministic', () => {
    const history = series(6, () => [
      { requests: 2000, failures: 2 },
      { requests: 18000, failures: 18 },
    ]);
    const a = replayJudge(input(history));
    const b = replayJudge(input(history));
    expect(a).toHaveLength(6);
    expect(a).toEqual(b);
    expect(a.map((r) => r.intervalIndex)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('rejects a state that does not belong to the history', () => {
    const history = series(3, () => [{ requests: 2000, failures: 2 }, null]);
    const state = judgeInterval(input(history.slice(0, 1))).state;
    expect(() => judgeInterval(input(history, { previous: state }))).toThrowError(
      expect.objectContaining({ code: 'judge_state_mismatch' }),
    );
  });
});

describe('judge input validation', () => {
  const h = series(1, () => [{ requests: 10, failures: 0 }, null]);
  const cases: [string, () => unknown, string][] = [
    ['empty history', () => judgeInterval(input([])), 'judge_empty_history'],
    [
      'limits',
      () => judgeInterval(input(h, { limits: { consecutiveFailureLimit: 0, cumulativeFailureLimit: 2 } })),
      'judge_invalid_limits',
    ],
    ['budget', () => judgeInterval(input(h, { errorBudget: { targetErrorRatePercent: 0 } })), 'judge_invalid_budget'],
    [
      'duplicate guardrail',
      () => judgeInterval(input(h, { guardrails: [...GUARDRAILS, guardrail('error_rate', 1)] })),
      'judge_invalid_guardrail',
    ],
    [
      'threshold',
      () => judgeInterval(input(h, { guardrails: [guardrail('error_rate', 0)] })),
      'judge_invalid_guardrail',
    ],
    [
      'times',
      () => judgeInterval(input([{ ...(h[0] as IntervalMetrics), end: 'yesterday' }])),
      'judge_invalid_interval',
    ],
    [
      'failures > requests',
      () => judgeInterval(input([interval(0, { requests: 5, failures: 6 }, null)])),
      'judge_invalid_interval',
    ],
    ['options', () => judgeInterval(input(h, { options: { alpha: 2 } })), 'judge_invalid_limits'],
  ];
  for (const [name, run, code] of cases) {
    it(`names what is wrong: ${name}`, () => {
      try {
        run();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(JudgeInputError);
        expect((err as JudgeInputError).code).toBe(code);
      }
    });
  }
});

describe('judge properties', () => {
  const spec = fc.record({
    requests: fc.integer({ min: 0, max: 4000 }),
    rate: fc.double({ min: 0, max: 0.05, noNaN: true }),
    median: fc.double({ min: 60, max: 300, noNaN: true }),
    present: fc.boolean(),
  });
  const historyArb = fc
    .array(fc.tuple(spec, spec), { minLength: 1, maxLength: 8 })
    .map((rows) =>
      rows.map(([c, b], i) =>
        interval(
          i,
          c.present ? { requests: c.requests, failures: Math.floor(c.requests * c.rate), medianMs: c.median } : null,
          b.present
            ? { requests: b.requests * 9, failures: Math.floor(b.requests * 9 * b.rate), medianMs: b.median }
            : null,
        ),
      ),
    );

  it('the generated histories exercise every verdict (so the properties below can fail)', () => {
    const seen = new Set(fc.sample(historyArb, { numRuns: 300, seed: 7 }).map((h) => judgeInterval(input(h)).verdict));
    expect([...seen].sort()).toEqual(['FAIL', 'HOLD', 'PASS']);
  });

  it('more canary failures never turn a FAIL into anything else', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.integer({ min: 1, max: 500 }), (history, at, extra) => {
        const before = judgeInterval(input(history));
        const i = at % history.length;
        const target = history[i] as IntervalMetrics;
        if (!target.canary) return;
        const canary = { ...target.canary, failures: Math.min(target.canary.requests, target.canary.failures + extra) };
        const worse = history.map((m, j) => (j === i ? { ...m, canary } : m));
        const after = judgeInterval(input(worse));
        if (before.verdict === 'FAIL') expect(after.verdict).toBe('FAIL');
        if (after.verdict === 'PASS') expect(before.verdict).not.toBe('FAIL');
      }),
      { numRuns: 300 },
    );
  });

  it('a history without canary data never fails', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const blind = history.map((m) => ({ ...m, canary: null }));
        expect(judgeInterval(input(blind)).verdict).toBe('HOLD');
      }),
      { numRuns: 100 },
    );
  });
});
