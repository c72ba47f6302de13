import { describe, expect, it } from 'vitest';
import { judgeInterval, replayJudge } from '../../../src/domain/judge/judge.js';
import type { EvidenceItem, JudgeResult } from '../../../src/domain/judge/types.js';
import { input, series } from './fixtures.js';

const kill = (r: JudgeResult) => r.evidence.find((e) => e.check === 'kill_switch:error_budget_burn') as EvidenceItem;
const base = { requests: 18000, failures: 18 };

describe('canary-scoped burn-rate kill switch', () => {
  it('kills a crash-looping canary as soon as the long window holds the minimum intervals', () => {
    const results = replayJudge(input(series(4, () => [{ requests: 2000, failures: 800 }, base])));
    expect(results.map((r) => r.killSwitch)).toEqual([false, false, true, true]);
    const r = results[2] as JudgeResult;
    expect(r.verdict).toBe('FAIL');
    expect(kill(r).observed).toBeGreaterThan(14.4);
    expect(kill(r).bounds?.lower).toBeGreaterThan(6);
    expect(r.alerts.find((a) => a.kind === 'kill_switch')?.severity).toBe('critical');
  });

  it('does not fire on a single burst after healthy intervals (multiwindow rule)', () => {
    const r = judgeInterval(
      input(series(6, (i) => [i === 5 ? { requests: 2000, failures: 60 } : { requests: 2000, failures: 2 }, base])),
    );
    expect(r.killSwitch).toBe(false);
    expect(kill(r).outcome).toBe('pass');
  });

  it('never fires below the minimum request count: too little traffic is a HOLD', () => {
    const r = judgeInterval(input(series(4, () => [{ requests: 100, failures: 50 }, base])));
    expect(r.killSwitch).toBe(false);
    expect(kill(r).outcome).toBe('hold');
    expect(r.verdict).toBe('HOLD');
  });

  it('is suppressed with an alert when the baseline burns too (shared outage)', () => {
    const r = judgeInterval(
      input(
        series(4, () => [
          { requests: 2000, failures: 100 },
          { requests: 18000, failures: 900 },
        ]),
      ),
    );
    expect(r.killSwitch).toBe(false);
    expect(kill(r).outcome).toBe('suppressed');
    expect(r.verdict).toBe('HOLD');
    expect(r.alerts.map((a) => a.kind)).toContain('shared_degradation');
  });

  it('waits while the baseline data is momentarily missing, then acts when the canary is the culprit', () => {
    const history = series(5, (i) => [{ requests: 2000, failures: 800 }, i >= 2 ? null : base]);
    const results = replayJudge(input(history));
    // Baseline data missing from interval 2: a shared outage cannot be ruled out, so wait up to two intervals…
    expect(results.slice(0, 4).map((r) => r.verdict)).toEqual(['HOLD', 'HOLD', 'HOLD', 'HOLD']);
    expect(kill(results[2] as JudgeResult).message).toContain("baseline's data is missing");
    // …then treat the baseline as gone and act on the canary's own evidence.
    expect((results[4] as JudgeResult).killSwitch).toBe(true);
    expect((results[4] as JudgeResult).verdict).toBe('FAIL');
  });
});
