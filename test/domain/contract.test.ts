import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, sha256Canonical } from '../../src/domain/canonicalJson.js';
import { applyAmendment, computeContentHash, draftContract, satisfiesFloor } from '../../src/domain/contract.js';
import type { Amendment, Contract, Guardrail, RiskLevel } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { FIXED_NOW, makeChange, makeFinding, makeRequest, makeRisk } from '../support/fixtures.js';

const j = { justification: '' };

function draft(
  level: RiskLevel,
  overrides: Parameters<typeof makeRequest>[0] = {},
  findings = [] as ReturnType<typeof makeFinding>[],
) {
  return draftContract(makeRequest(overrides), makeRisk(level, findings), DEFAULT_POLICY, { now: FIXED_NOW });
}

function guardrail(contract: Contract, metric: Guardrail['metric']): Guardrail {
  const g = contract.terms.guardrails.find((x) => x.metric === metric);
  if (!g) throw new Error(`no ${metric} guardrail`);
  return g;
}

function validatorSummary(contract: Contract) {
  return contract.terms.validators.map((v) => `${v.kind}:${v.requirement}:${String(v.satisfied)}`);
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined members and is stable', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
    expect(sha256Canonical({ a: 1, b: 2 })).toBe(sha256Canonical({ b: 2, a: 1 }));
    expect(sha256Canonical({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('round-trips any JSON value and ignores key order (property)', () => {
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            )
          : v;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reversed(value))).toBe(text);
      }),
      { numRuns: 500 },
    );
    expect(canonicalJson({ s: 'quote " slash \\ nl \n é \u2028' })).toBe(
      JSON.stringify({ s: 'quote " slash \\ nl \n é \u2028' }),
    );
  });

  it('refuses values JSON cannot represent faithfully', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/\$\.a/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});

describe('draftContract: identity', () => {
  it('is deterministic: id from the deployment, revision 1, draft, hash over the approved content', () => {
    const a = draft('high');
    const b = draft('high');
    expect(a.id).toBe('ctr-deploy-test-001');
    expect(a.revision).toBe(1);
    expect(a.state).toBe('draft');
    expect(a.createdAt).toBe('2026-11-24T12:00:00.000Z');
    expect(a.policyVersion).toBe(DEFAULT_POLICY.version);
    expect(a.amendments).toEqual([]);
    expect(a.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.contentHash).toBe(b.contentHash);
    expect(computeContentHash(a)).toBe(a.contentHash);
    expect(draft('critical').contentHash).not.toBe(a.contentHash);
    const custom = draftContract(makeRequest(), makeRisk('low'), DEFAULT_POLICY, {
      now: FIXED_NOW,
      idFactory: (id) => `x-${id}`,
    });
    expect(custom.id).toBe('x-deploy-test-001');
  });
});

describe('draftContract: guardrails', () => {
  it.each([
    // level, error %, p95 ms (target 250, current 180), p99 ms (target 800, current 450)
    ['low', 0.5, 250, 720],
    ['medium', 0.5, 243, 652.5],
    ['high', 0.3, 216, 585],
    ['critical', 0.2, 198, 517.5],
  ] as const)('%s: error %s %%, p95 %s ms, p99 %s ms', (level, error, p95, p99) => {
    const c = draft(level);
    expect(guardrail(c, 'error_rate')).toMatchObject({
      threshold: error,
      unit: '%',
      comparator: '<',
      windowSeconds: 300,
    });
    expect(guardrail(c, 'latency_p95')).toMatchObject({ threshold: p95, unit: 'ms' });
    expect(guardrail(c, 'latency_p99')).toMatchObject({ threshold: p99, unit: 'ms' });
    expect(guardrail(c, 'error_rate').minimumEvidence).toEqual({ minRequests: 500, minIntervals: 3 });
  });

  it('explains each number in its basis', () => {
    const c = draft('high');
    expect(guardrail(c, 'error_rate').basis).toBe(
      'policy cap for high risk (0.3 %), at or below the SLO-derived cap 0.5 % (5 × target 0.1 %)',
    );
    expect(guardrail(c, 'latency_p95').basis).toBe(
      'current p95 180 ms × 1.2 headroom for high risk, below the target 250 ms',
    );
    expect(guardrail(draft('low'), 'latency_p95').basis).toBe(
      'service target 250 ms, below current p95 180 ms × 1.5 headroom for low risk (270 ms)',
    );
  });

  it('caps the error guardrail by the SLO: target × 5', () => {
    const c = draft('low', { slo: { targetErrorRatePercent: 0.05, currentErrorRatePercent: 0.01 } });
    expect(guardrail(c, 'error_rate').threshold).toBe(0.25);
    expect(guardrail(c, 'error_rate').basis).toMatch(
      /^SLO-derived cap 0.25 % \(5 × target 0.05 %\), below the policy cap for low risk/,
    );
  });

  it('raises the error guardrail to 2 × today’s rate when the service runs near the cap, up to the floor', () => {
    // PetSite: 0.226 % today, 0.1 % target: the high-risk cap 0.3 % would hold a healthy service; 0.452 % is limited
    // to the floor's 0.4 % for high risk (the SLO-derived cap is 0.5 %).
    const petsite = draft('high', { slo: { targetErrorRatePercent: 0.1, currentErrorRatePercent: 0.226 } });
    expect(guardrail(petsite, 'error_rate').threshold).toBe(0.4);
    expect(guardrail(petsite, 'error_rate').basis).toBe(
      "today's error rate 0.226 % × 2 headroom, above the policy cap for high risk (0.3 %) so that a healthy service passes its own guardrail, limited to the floor's maximum for high risk (0.4 %)",
    );
    const warm = draft('medium', { slo: { targetErrorRatePercent: 0.1, currentErrorRatePercent: 0.2 } });
    expect(guardrail(warm, 'error_rate').threshold).toBe(0.5);
    const quiet = draft('high', { slo: { targetErrorRatePercent: 0.1, currentErrorRatePercent: 0.02 } });
    expect(guardrail(quiet, 'error_rate').threshold).toBe(0.3);
    const raisedWithin = draft('low', { slo: { targetErrorRatePercent: 0.2, currentErrorRatePercent: 0.3 } });
    expect(guardrail(raisedWithin, 'error_rate').threshold).toBe(0.6);
    expect(guardrail(raisedWithin, 'error_rate').basis).not.toContain('limited');
  });

  it('says when today is already over the line, and falls back when figures are missing', () => {
    const hot = draft('critical', { slo: { currentErrorRatePercent: 0.3 } });
    expect(guardrail(hot, 'error_rate').basis).toContain("today's error rate 0.3 % is already at or above it");
    const bare = draft('medium', {
      slo: {
        currentP95LatencyMs: 0,
        currentP99LatencyMs: 0,
        targetP95LatencyMs: 0,
        targetP99LatencyMs: 0,
        targetErrorRatePercent: 0,
      },
    });
    expect(guardrail(bare, 'latency_p95').threshold).toBe(500);
    expect(guardrail(bare, 'latency_p99').threshold).toBe(1000);
    expect(guardrail(bare, 'error_rate').basis).toContain('no SLO-derived cap');
    const targetOnly = draft('medium', { slo: { currentP95LatencyMs: 0 } });
    expect(guardrail(targetOnly, 'latency_p95').threshold).toBe(250);
  });
});

describe('draftContract: validators, ramp, approvals', () => {
  it('requires tests always, canary for high/critical, rollback plan for medium and up', () => {
    expect(validatorSummary(draft('low'))).toEqual(['tests:required:null', 'rollback_plan:recommended:true']);
    expect(validatorSummary(draft('medium'))).toEqual([
      'tests:required:null',
      'canary:recommended:null',
      'rollback_plan:required:true',
    ]);
    expect(validatorSummary(draft('high'))).toEqual([
      'tests:required:null',
      'canary:required:null',
      'rollback_plan:required:true',
    ]);
    expect(validatorSummary(draft('critical'))).toEqual([
      'tests:required:null',
      'canary:required:null',
      'rollback_plan:required:true',
    ]);
  });

  it('flags the rollback plan unsatisfied with a reason when there is no rollback capability', () => {
    const high = draft('high', { rollbackCapability: false });
    const rb = high.terms.validators.find((v) => v.kind === 'rollback_plan');
    expect(rb).toMatchObject({ requirement: 'required', satisfied: false });
    expect(rb?.description).toContain('declares no way back');
    const medium = draft('medium', { rollbackCapability: false });
    expect(medium.terms.validators.find((v) => v.kind === 'rollback_plan')).toMatchObject({
      requirement: 'recommended',
      satisfied: false,
    });
  });

  it('requires a feature flag for database migrations, satisfied when the request names one', () => {
    const migration = [makeFinding('database_migration', [{ file: 'db/migrations/0042.sql' }])];
    const without = draft('medium', {}, migration);
    expect(without.terms.validators.find((v) => v.kind === 'feature_flag')).toMatchObject({
      requirement: 'required',
      satisfied: false,
    });
    const withFlag = draft('medium', { featureFlag: 'new-ledger' }, migration);
    expect(withFlag.terms.validators.find((v) => v.kind === 'feature_flag')).toMatchObject({
      requirement: 'required',
      satisfied: true,
    });
    expect(draft('critical').terms.validators.some((v) => v.kind === 'feature_flag')).toBe(false);
  });

  it('takes ramp, bake, limits and approvals from the policy', () => {
    const critical = draft('critical');
    expect(critical.terms.ramp.steps.map((s) => s.trafficPercent)).toEqual([5, 10, 25, 50]);
    expect(critical.terms.ramp.steps[0]).toEqual({ trafficPercent: 5, minDurationSeconds: 600, minRequests: 2000 });
    expect(critical.terms.ramp).toMatchObject({
      bakeTimeSeconds: 3600,
      analysisIntervalSeconds: 60,
      consecutiveFailureLimit: 2,
      cumulativeFailureLimit: 3,
    });
    expect(critical.terms).toMatchObject({ approvalsRequired: 2, excludeAuthor: true });
    const low = draft('low');
    expect(low.terms.ramp.steps).toEqual([]);
    expect(low.terms).toMatchObject({ approvalsRequired: 1, excludeAuthor: false });
  });
});

describe('draftContract: suggestions and evidence', () => {
  it('ties suggestions to the findings', () => {
    const c = draft('critical', { rollbackCapability: false, totalLinesChanged: 900 }, [
      makeFinding('database_migration', [{ file: 'db/migrations/0042.sql' }]),
      makeFinding('caching', [{ file: 'src/cache/redis.ts' }]),
      makeFinding('dependency_update', [{ file: 'package-lock.json' }]),
      makeFinding('change_size_spread'),
      makeFinding('configuration_flags'),
    ]);
    const byFactor = (f: string) => c.suggestions.filter((s) => s.factor === f).map((s) => s.text);
    expect(byFactor('database_migration').join(' ')).toMatch(/feature flag.*expand\/contract/s);
    expect(byFactor('caching')[0]).toMatch(/^Pre-warm the cache.*\(src\/cache\/redis\.ts\)$/);
    expect(byFactor('dependency_update')[0]).toMatch(/Pin the updated dependencies.*scan/);
    expect(byFactor('change_size_spread')).toEqual([
      'Split the change into smaller pull requests: 1 file in 1 directory and 1 subsystem, 900 lines changed',
    ]);
    expect(byFactor('configuration_flags')[0]).toMatch(/^Stage the configuration rollout/);
    expect(c.suggestions.some((s) => s.factor === undefined && /automated rollback/.test(s.text))).toBe(true);
    expect(draft('low').suggestions).toEqual([]);
    expect(draft('low', {}, [makeFinding('change_size_spread')]).suggestions).toEqual([]);
  });

  it('sizes the first canary step', () => {
    const c = draft('critical', {
      slo: { currentQps: 15000, currentErrorRatePercent: 0.02, targetErrorRatePercent: 0.1 },
    });
    expect(c.canaryEvidence.adequate).toBe(true);
    expect(c.canaryEvidence.requestsNeededAtFirstStep).toBeGreaterThan(1000);
    expect(c.canaryEvidence.requestsNeededAtFirstStep).toBeLessThan(1300);
    const slow = draft('critical', {
      slo: { currentQps: 2, currentErrorRatePercent: 0.1, targetErrorRatePercent: 0.1 },
    });
    expect(slow.canaryEvidence.adequate).toBe(false);
    expect(slow.canaryEvidence.note).toMatch(
      /lengthen the first step to at least \d+ (?:h|min|s)\b.* or start it at \d+ % or more/,
    );
  });
});

describe('applyAmendment', () => {
  it('makes a new revision with a new hash, a readable diff and the record of who asked', () => {
    const c = draft('high');
    const result = applyAmendment(
      c,
      { kind: 'set_first_canary_step', percent: 25, justification: 'config-only change' },
      'U123',
      DEFAULT_POLICY,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.decision));
    expect(result.diff).toEqual(['first canary step: 10 % → 25 %', 'ramp: 10/25/50/100 % → 25/50/100 %']);
    const next = result.contract;
    expect(next.revision).toBe(2);
    expect(next.state).toBe('negotiating');
    expect(next.contentHash).not.toBe(c.contentHash);
    expect(next.contentHash).toBe(computeContentHash(next));
    expect(next.terms.ramp.steps.map((s) => s.trafficPercent)).toEqual([25, 50]);
    expect(next.amendments).toEqual([
      {
        revision: 2,
        actor: 'U123',
        diff: result.diff,
        amendment: { kind: 'set_first_canary_step', percent: 25, justification: 'config-only change' },
      },
    ]);
    expect(next.terms.validators.find((v) => v.kind === 'canary')?.description).toContain('Canary at 25 %');
    expect(satisfiesFloor(next, DEFAULT_POLICY)).toEqual([]);
    expect(c.revision).toBe(1);
    expect(c.terms.ramp.steps[0]?.trafficPercent).toBe(10);
  });

  it('records threshold changes in the diff and the basis', () => {
    const c = draft('high');
    const r = applyAmendment(
      c,
      { kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.35, justification: 'noisy\nendpoint' },
      'U1',
      DEFAULT_POLICY,
    );
    if (!r.ok) throw new Error('refused');
    expect(r.diff).toEqual(['error-rate guardrail: < 0.3 % → < 0.35 %']);
    expect(guardrail(r.contract, 'error_rate').basis).toMatch(
      /^negotiated from 0.3 % \("noisy endpoint"\); drafted as: policy cap for high risk/,
    );
    const again = applyAmendment(
      r.contract,
      { kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.32, ...j },
      'U1',
      DEFAULT_POLICY,
    );
    if (!again.ok) throw new Error('refused');
    expect(again.contract.revision).toBe(3);
    expect(guardrail(again.contract, 'error_rate').basis).toMatch(
      /^negotiated from 0.35 %; drafted as: policy cap for high risk/,
    );
  });

  it('voids an approval (approved → negotiating) and refuses amendments once the rollout started', () => {
    const approved: Contract = { ...draft('medium'), state: 'approved' };
    const r = applyAmendment(approved, { kind: 'set_bake_time', seconds: 1200, ...j }, 'U2', DEFAULT_POLICY);
    expect(r.ok && r.contract.state).toBe('negotiating');
    expect(r.ok && r.diff).toEqual(['bake time at 100 %: 15 min → 20 min']);
    for (const state of ['rolling_out', 'promoted', 'rejected', 'rolled_back', 'aborted'] as const) {
      const refused = applyAmendment(
        { ...approved, state },
        { kind: 'set_bake_time', seconds: 1200, ...j },
        'U2',
        DEFAULT_POLICY,
      );
      expect(refused).toMatchObject({ ok: false, decision: { allowed: false, rule: 'contract.not_negotiable' } });
    }
  });

  it('refuses floor violations and no-ops with the rule', () => {
    const c = draft('critical');
    expect(
      applyAmendment(c, { kind: 'remove_validator', validator: 'canary', ...j }, 'U3', DEFAULT_POLICY),
    ).toMatchObject({
      ok: false,
      decision: { rule: 'floor.critical.canary_required' },
    });
    expect(applyAmendment(c, { kind: 'set_bake_time', seconds: 3600, ...j }, 'U3', DEFAULT_POLICY)).toMatchObject({
      ok: false,
      decision: { rule: 'amendment.no_change' },
    });
  });

  it('adds a canary to a low-risk contract with a ramp, and diffs validators', () => {
    const low = draft('low');
    const r = applyAmendment(low, { kind: 'add_validator', validator: 'canary', ...j }, 'U4', DEFAULT_POLICY);
    if (!r.ok) throw new Error('refused');
    expect(r.diff).toEqual(['ramp: 100 % → 25/50/100 %', 'validator canary: none → required']);
    expect(r.contract.terms.validators.map((v) => v.kind)).toEqual(['tests', 'canary', 'rollback_plan']);
    const dropped = applyAmendment(
      r.contract,
      { kind: 'remove_validator', validator: 'rollback_plan', ...j },
      'U4',
      DEFAULT_POLICY,
    );
    expect(dropped.ok && dropped.diff).toEqual(['validator rollback plan: recommended → removed']);
    const steps: Amendment = { kind: 'set_ramp_steps', steps: [5, 20, 100], ...j };
    const ramp = applyAmendment(r.contract, steps, 'U4', DEFAULT_POLICY);
    expect(ramp.ok && ramp.diff).toEqual(['ramp: 25/50/100 % → 5/20/100 %']);
    const dur = applyAmendment(r.contract, { kind: 'set_step_duration', seconds: 900, ...j }, 'U4', DEFAULT_POLICY);
    expect(dur.ok && dur.diff).toEqual(['canary step duration: 5 min → 15 min']);
    const win = applyAmendment(
      r.contract,
      { kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 600, ...j },
      'U4',
      DEFAULT_POLICY,
    );
    expect(win.ok && win.diff).toEqual(['p95 latency guardrail window: 5 min → 10 min']);
  });

  it('recomputes the canary evidence when the first step changes', () => {
    const c = draft('high', { slo: { currentQps: 50 } });
    const r = applyAmendment(c, { kind: 'set_first_canary_step', percent: 20, ...j }, 'U5', DEFAULT_POLICY);
    if (!r.ok) throw new Error('refused');
    expect(r.contract.canaryEvidence.secondsNeededAtFirstStep).toBeLessThan(c.canaryEvidence.secondsNeededAtFirstStep);
  });

  it('keeps the migration feature-flag rule through amendments', () => {
    const c = draft('medium', { changes: [makeChange('db/migrations/0001.sql')] }, [makeFinding('database_migration')]);
    expect(
      applyAmendment(c, { kind: 'remove_validator', validator: 'feature_flag', ...j }, 'U6', DEFAULT_POLICY),
    ).toMatchObject({
      ok: false,
      decision: { rule: 'floor.feature_flag_for_migration' },
    });
  });
});
