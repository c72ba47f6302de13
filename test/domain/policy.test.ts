import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAmendment } from '../../src/domain/amendment.js';
import { draftContract } from '../../src/domain/contract.js';
import { satisfiesFloor } from '../../src/domain/floor.js';
import type { Amendment, Contract, RiskLevel } from '../../src/domain/model.js';
import {
  DEFAULT_POLICY,
  loadPolicyFromObject,
  type Policy,
  PolicyValidationError,
  parsePolicy,
  policyConsistencyIssues,
} from '../../src/domain/policy.js';
import { FIXED_NOW, makeChange, makeFinding, makeRequest, makeRisk } from '../support/fixtures.js';

function contractAt(
  level: RiskLevel,
  slo: NonNullable<Parameters<typeof makeRequest>[0]>['slo'] = {},
  migration = false,
): Contract {
  const findings = migration ? [makeFinding('database_migration', [{ file: 'db/migrations/0042_add.sql' }])] : [];
  return draftContract(makeRequest({ slo }), makeRisk(level, findings), DEFAULT_POLICY, { now: FIXED_NOW });
}

function expectRefused(contract: Contract, amendment: Amendment, rule: string, policy: Policy = DEFAULT_POLICY) {
  const decision = checkAmendment(contract, amendment, policy);
  expect(decision).toMatchObject({ allowed: false, rule });
  if (!decision.allowed) expect(decision.message.length).toBeGreaterThan(10);
}

const j = { justification: '' };

describe('DEFAULT_POLICY', () => {
  it('carries the PRODUCT.md §2.3 table', () => {
    const l = DEFAULT_POLICY.levels;
    expect([
      l.critical.errorRateMaxPercent,
      l.high.errorRateMaxPercent,
      l.medium.errorRateMaxPercent,
      l.low.errorRateMaxPercent,
    ]).toEqual([0.2, 0.3, 0.5, 0.5]);
    expect([l.critical.rampSteps[0], l.high.rampSteps[0], l.medium.rampSteps[0], l.low.rampSteps[0]]).toEqual([
      5,
      10,
      25,
      undefined,
    ]);
    expect([l.critical.canary, l.high.canary, l.medium.canary, l.low.canary]).toEqual([
      'required',
      'required',
      'recommended',
      'not_required',
    ]);
    expect([l.critical.rollbackPlan, l.high.rollbackPlan, l.medium.rollbackPlan, l.low.rollbackPlan]).toEqual([
      'required',
      'required',
      'required_if_possible',
      'recommended',
    ]);
    expect([l.critical.approvals, l.high.approvals, l.medium.approvals, l.low.approvals]).toEqual([2, 1, 1, 1]);
    expect([l.critical.excludeAuthor, l.high.excludeAuthor, l.medium.excludeAuthor, l.low.excludeAuthor]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(DEFAULT_POLICY.analysisIntervalSeconds).toBe(60);
  });

  it('tightens latency headroom as risk rises', () => {
    const l = DEFAULT_POLICY.levels;
    expect([
      l.low.latencyP95Factor,
      l.medium.latencyP95Factor,
      l.high.latencyP95Factor,
      l.critical.latencyP95Factor,
    ]).toEqual([1.5, 1.35, 1.2, 1.1]);
    expect(l.critical.latencyP99Factor).toBeLessThan(l.low.latencyP99Factor);
  });

  it('is self-consistent and frozen', () => {
    expect(policyConsistencyIssues(DEFAULT_POLICY)).toEqual([]);
    expect(Object.isFrozen(DEFAULT_POLICY.levels.high)).toBe(true);
  });
});

describe('parsePolicy / loadPolicyFromObject', () => {
  it('an empty file is the default policy, with its version', () => {
    expect(loadPolicyFromObject({})).toEqual(DEFAULT_POLICY);
    expect(parsePolicy('', 'yaml').version).toBe(DEFAULT_POLICY.version);
  });

  it('merges a partial YAML file over the defaults and names it by content hash', () => {
    const policy = parsePolicy('analysisIntervalSeconds: 30\nlevels:\n  low:\n    bakeTimeSeconds: 900\n', 'yaml');
    expect(policy.analysisIntervalSeconds).toBe(30);
    expect(policy.levels.low.bakeTimeSeconds).toBe(900);
    expect(policy.levels.high).toEqual(DEFAULT_POLICY.levels.high);
    expect(policy.version).toMatch(/^custom-[0-9a-f]{12}$/);
    expect(
      parsePolicy('analysisIntervalSeconds: 30\nlevels:\n  low:\n    bakeTimeSeconds: 900\n', 'yaml').version,
    ).toBe(policy.version);
  });

  it('policy.example.yaml spells out exactly the default policy', () => {
    const text = readFileSync(join(import.meta.dirname, '../../policy.example.yaml'), 'utf8');
    expect(parsePolicy(text, 'yaml')).toEqual(DEFAULT_POLICY);
  });

  it('keeps an explicit version and reads JSON', () => {
    const policy = parsePolicy(JSON.stringify({ version: 'acme-7', guardrailWindowSeconds: 600 }), 'json');
    expect(policy.version).toBe('acme-7');
    expect(policy.guardrailWindowSeconds).toBe(600);
  });

  it('refuses a level that loosens the error guardrail as risk rises, naming path and rule', () => {
    try {
      parsePolicy('levels:\n  medium:\n    errorRateMaxPercent: 0.25\n', 'yaml');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyValidationError);
      const e = error as PolicyValidationError;
      expect(e.code).toBe('policy_invalid');
      expect(e.issues).toContainEqual({
        path: 'levels.high.errorRateMaxPercent',
        rule: 'monotone',
        message: 'must be ≤ levels.medium.errorRateMaxPercent (guardrails never loosen as risk rises)',
      });
      expect(e.message).not.toContain('\n');
    }
  });

  it('refuses defaults outside the floor', () => {
    expect(() => parsePolicy('levels:\n  critical:\n    rampSteps: [20, 50]\n', 'yaml')).toThrow(
      /levels\.critical\.rampSteps\.0: must be ≤ floor\.levels\.critical\.maxFirstStepPercent \(10\)/,
    );
    const e = captureError(() => parsePolicy('levels:\n  high:\n    bakeTimeSeconds: 60\n', 'yaml'));
    expect(e.issues.map((i) => i.rule)).toContain('floor.high.min_bake_time');
  });

  it('refuses unknown keys, wrong types, bad ramps and syntax errors', () => {
    expect(captureError(() => parsePolicy('levels:\n  high:\n    errorRate: 1\n', 'yaml')).issues[0]).toMatchObject({
      path: 'levels.high',
      rule: 'unrecognized_keys',
    });
    expect(captureError(() => parsePolicy('analysisIntervalSeconds: soon\n', 'yaml')).issues[0]).toMatchObject({
      path: 'analysisIntervalSeconds',
      rule: 'invalid_type',
    });
    expect(
      captureError(() => parsePolicy('levels:\n  high:\n    rampSteps: [10, 10, 50]\n', 'yaml')).issues[0],
    ).toMatchObject({
      path: 'levels.high.rampSteps.1',
      rule: 'ramp_increasing',
    });
    expect(captureError(() => parsePolicy('levels: [\n', 'yaml')).issues[0]).toMatchObject({ rule: 'syntax' });
    expect(captureError(() => parsePolicy('{"version": ', 'json')).issues[0]).toMatchObject({ rule: 'syntax' });
    expect(captureError(() => loadPolicyFromObject([1, 2])).issues[0]).toMatchObject({ path: '(root)' });
  });

  it('refuses a floor that loosens as risk rises', () => {
    const e = captureError(() =>
      parsePolicy('floor:\n  levels:\n    critical:\n      maxErrorRatePercent: 0.5\n', 'yaml'),
    );
    expect(e.issues).toContainEqual(
      expect.objectContaining({ path: 'floor.levels.critical.maxErrorRatePercent', rule: 'monotone' }),
    );
  });
});

describe('checkAmendment', () => {
  it('refuses skipping the canary on a critical change', () => {
    const c = contractAt('critical');
    expectRefused(c, { kind: 'remove_validator', validator: 'canary', ...j }, 'floor.critical.canary_required');
    expectRefused(c, { kind: 'set_first_canary_step', percent: 100, ...j }, 'floor.critical.canary_required');
    expectRefused(c, { kind: 'set_ramp_steps', steps: [100], ...j }, 'floor.critical.canary_required');
  });

  it('refuses a first step beyond the level maximum and allows it within', () => {
    const high = contractAt('high');
    expect(checkAmendment(high, { kind: 'set_first_canary_step', percent: 25, ...j }, DEFAULT_POLICY)).toEqual({
      allowed: true,
    });
    expectRefused(high, { kind: 'set_first_canary_step', percent: 30, ...j }, 'floor.high.max_first_step');
    expectRefused(
      contractAt('critical'),
      { kind: 'set_first_canary_step', percent: 25, ...j },
      'floor.critical.max_first_step',
    );
    expectRefused(
      contractAt('medium'),
      { kind: 'set_ramp_steps', steps: [60, 80], ...j },
      'floor.medium.max_first_step',
    );
  });

  it('refuses raising the error guardrail above the level cap or the SLO-derived cap', () => {
    const high = contractAt('high', { targetErrorRatePercent: 0.1 });
    expect(
      checkAmendment(high, { kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.4, ...j }, DEFAULT_POLICY),
    ).toEqual({
      allowed: true,
    });
    expectRefused(
      high,
      { kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.45, ...j },
      'floor.high.max_error_rate',
    );
    const tightSlo = contractAt('high', { targetErrorRatePercent: 0.05 });
    expect(tightSlo.terms.guardrails[0]?.threshold).toBe(0.25);
    expectRefused(
      tightSlo,
      { kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.3, ...j },
      'floor.error_rate_cap',
    );
  });

  it('refuses latency guardrails above the service target', () => {
    const c = contractAt('medium');
    expectRefused(
      c,
      { kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 251, ...j },
      'floor.latency_p95_cap',
    );
    expectRefused(
      c,
      { kind: 'set_guardrail_threshold', metric: 'latency_p99', value: 900, ...j },
      'floor.latency_p99_cap',
    );
    expect(
      checkAmendment(c, { kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 250, ...j }, DEFAULT_POLICY)
        .allowed,
    ).toBe(true);
  });

  it('refuses windows, durations, bake times and validators below the floor', () => {
    const high = contractAt('high', {}, true);
    expectRefused(
      high,
      { kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 30, ...j },
      'floor.guardrail_window',
    );
    expectRefused(
      high,
      { kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 3600, ...j },
      'floor.guardrail_window',
    );
    expectRefused(high, { kind: 'set_step_duration', seconds: 60, ...j }, 'floor.high.min_step_duration');
    expectRefused(high, { kind: 'set_bake_time', seconds: 0, ...j }, 'floor.high.min_bake_time');
    expectRefused(
      high,
      { kind: 'remove_validator', validator: 'rollback_plan', ...j },
      'floor.high.rollback_plan_required',
    );
    expectRefused(high, { kind: 'remove_validator', validator: 'tests', ...j }, 'floor.high.tests_required');
    expectRefused(
      high,
      { kind: 'remove_validator', validator: 'feature_flag', ...j },
      'floor.feature_flag_for_migration',
    );
  });

  it('always allows tightening', () => {
    const low = contractAt('low');
    const tighten: Amendment[] = [
      { kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.01, ...j },
      { kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 100, ...j },
      { kind: 'set_first_canary_step', percent: 1, ...j },
      { kind: 'set_ramp_steps', steps: [1, 5, 25, 50, 100], ...j },
      { kind: 'set_bake_time', seconds: 7200, ...j },
      { kind: 'add_validator', validator: 'canary', ...j },
      { kind: 'add_validator', validator: 'feature_flag', ...j },
    ];
    for (const amendment of tighten) expect(checkAmendment(low, amendment, DEFAULT_POLICY)).toEqual({ allowed: true });
  });

  it('allows skipping the recommended canary on a medium change but not shortening steps below its floor', () => {
    const medium = contractAt('medium');
    expect(checkAmendment(medium, { kind: 'set_first_canary_step', percent: 100, ...j }, DEFAULT_POLICY).allowed).toBe(
      true,
    );
    expectRefused(medium, { kind: 'set_step_duration', seconds: 119, ...j }, 'floor.medium.min_step_duration');
  });

  it('refuses malformed and structurally invalid amendments', () => {
    const c = contractAt('high');
    expectRefused(c, { kind: 'set_first_canary_step', percent: -5, ...j }, 'amendment.invalid');
    expectRefused(c, { kind: 'set_bogus', ...j } as unknown as Amendment, 'amendment.invalid');
    expectRefused(c, { kind: 'set_ramp_steps', steps: [10, 5], ...j }, 'terms.ramp_invalid');
    expectRefused(contractAt('low'), { kind: 'set_step_duration', seconds: 600, ...j }, 'terms.no_canary_steps');
  });

  it('uses the floor of a custom policy', () => {
    const strict = parsePolicy('floor:\n  levels:\n    high:\n      maxFirstStepPercent: 10\n', 'yaml');
    const c = draftContract(makeRequest(), makeRisk('high'), strict, { now: FIXED_NOW });
    expect(satisfiesFloor(c, strict)).toEqual([]);
    expectRefused(c, { kind: 'set_first_canary_step', percent: 25, ...j }, 'floor.high.max_first_step', strict);
  });
});

describe('satisfiesFloor', () => {
  it('is empty for every drafted contract and lists broken rules otherwise', () => {
    for (const level of ['low', 'medium', 'high', 'critical'] as const) {
      expect(satisfiesFloor(contractAt(level, {}, true), DEFAULT_POLICY)).toEqual([]);
    }
    const c = contractAt('critical');
    const broken: Contract = {
      ...c,
      terms: {
        ...c.terms,
        approvalsRequired: 1,
        excludeAuthor: false,
        ramp: { ...c.terms.ramp, steps: [] },
      },
    };
    expect(satisfiesFloor(broken, DEFAULT_POLICY)).toEqual(
      expect.arrayContaining([
        'floor.critical.canary_required',
        'floor.critical.min_approvals',
        'floor.critical.exclude_author',
      ]),
    );
  });

  it('flags a drafted contract whose deployment has a migration but no feature-flag validator', () => {
    const c = draftContract(
      makeRequest({ changes: [makeChange('db/migrations/0001_init.sql')] }),
      makeRisk('medium', [makeFinding('database_migration')]),
      DEFAULT_POLICY,
      { now: FIXED_NOW },
    );
    const without: Contract = {
      ...c,
      terms: { ...c.terms, validators: c.terms.validators.filter((v) => v.kind !== 'feature_flag') },
    };
    expect(satisfiesFloor(without, DEFAULT_POLICY)).toEqual(['floor.feature_flag_for_migration']);
  });
});

function captureError(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyValidationError) return error;
    throw error;
  }
  throw new Error('expected a PolicyValidationError');
}
