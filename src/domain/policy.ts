/**
 * Deployment policy: the default terms per risk level (what the engine drafts) and the non-negotiable floor (what no
 * negotiation can loosen). Both are data, validated on load, so a team can ship its own policy file.
 *
 * Conventions
 * - Ramp `rampSteps` list the canary traffic percentages BEFORE full rollout (each < 100). After the last step the
 *   rollout goes to 100 % and bakes for `bakeTimeSeconds`. An empty list means "no canary: straight to 100 % with bake".
 * - Latency guardrails: threshold = min(service target, current × factor); factors shrink as risk rises, so a riskier
 *   change gets less headroom above today's latency (the prior system did the opposite: see docs/prior-differences.md).
 * - The floor's SLO-derived cap: the error guardrail may never exceed `sloErrorRateFactor` × the service's target error
 *   rate. With a 99.9 % SLO (target 0.1 %) and factor 5 the cap is 0.5 %, i.e. a canary-local burn rate of 5×, under
 *   the SRE Workbook's 6× / 6 h paging tier.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { sha256Canonical } from './canonicalJson.js';
import { DomainError } from './errors.js';
import { RISK_LEVELS, type RiskLevel } from './model.js';

// ---------------------------------------------------------------------------------------------------------------
// Types and schema

const REQUIREMENTS = ['required', 'recommended', 'not_required'] as const;
const ROLLBACK_REQUIREMENTS = ['required', 'required_if_possible', 'recommended', 'not_required'] as const;
const FLOOR_VALIDATORS = ['tests', 'canary', 'rollback_plan'] as const;

const percent = z.number().gt(0).lt(100);
const seconds = z.number().int().nonnegative();
const positiveSeconds = z.number().int().positive();

const LevelPolicySchema = z
  .object({
    /** Default error-rate guardrail (%, comparator <). */
    errorRateMaxPercent: z.number().positive().max(100),
    /** p95 guardrail = min(target p95, current p95 × factor). */
    latencyP95Factor: z.number().min(1).max(10),
    latencyP99Factor: z.number().min(1).max(10),
    /** Canary steps before full rollout, strictly increasing, each < 100. Empty: no canary. */
    rampSteps: z.array(percent).max(20),
    stepMinDurationSeconds: positiveSeconds,
    stepMinRequests: z.number().int().nonnegative(),
    bakeTimeSeconds: seconds,
    consecutiveFailureLimit: z.number().int().min(1),
    cumulativeFailureLimit: z.number().int().min(1),
    canary: z.enum(REQUIREMENTS),
    rollbackPlan: z.enum(ROLLBACK_REQUIREMENTS),
    approvals: z.number().int().min(0).max(10),
    excludeAuthor: z.boolean(),
  })
  .strict();

const FloorLevelSchema = z
  .object({
    maxErrorRatePercent: z.number().positive().max(100),
    /** Largest first canary step a negotiation may reach (applies when the ramp has canary steps). */
    maxFirstStepPercent: z.number().gt(0).max(100),
    canaryRequired: z.boolean(),
    minStepDurationSeconds: positiveSeconds,
    minBakeTimeSeconds: seconds,
    requiredValidators: z.array(z.enum(FLOOR_VALIDATORS)).max(3),
    minApprovals: z.number().int().min(0).max(10),
    excludeAuthor: z.boolean(),
  })
  .strict();

const EvidenceSchema = z
  .object({ minRequests: z.number().int().nonnegative(), minIntervals: z.number().int().min(1) })
  .strict();

function perLevel<T extends z.ZodTypeAny>(schema: T) {
  return z.object({ low: schema, medium: schema, high: schema, critical: schema }).strict();
}

export const PolicySchema = z
  .object({
    version: z.string().min(1).max(100),
    analysisIntervalSeconds: positiveSeconds,
    guardrailWindowSeconds: positiveSeconds,
    minimumEvidence: z
      .object({ error_rate: EvidenceSchema, latency_p95: EvidenceSchema, latency_p99: EvidenceSchema })
      .strict(),
    /** Latency guardrails when the request gives neither a target nor a current figure. */
    latencyFallback: z.object({ p95Ms: z.number().positive(), p99Ms: z.number().positive() }).strict(),
    /** One-sided test used to size the first canary step (canaryEvidence.ts). */
    canaryEvidence: z.object({ alpha: z.number().gt(0).lt(0.5), power: z.number().gt(0.5).lt(1) }).strict(),
    /** Draft a required feature_flag validator when a database_migration factor is found. */
    featureFlagForDatabaseMigration: z.boolean(),
    levels: perLevel(LevelPolicySchema),
    floor: z
      .object({
        sloErrorRateFactor: z.number().min(1).max(100),
        minWindowSeconds: positiveSeconds,
        maxWindowSeconds: positiveSeconds,
        featureFlagForDatabaseMigration: z.boolean(),
        levels: perLevel(FloorLevelSchema),
      })
      .strict(),
  })
  .strict();

export type Policy = z.infer<typeof PolicySchema>;
export type LevelPolicy = z.infer<typeof LevelPolicySchema>;
export type FloorLevel = z.infer<typeof FloorLevelSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Defaults (PRODUCT.md §2.3)

export const DEFAULT_POLICY: Policy = deepFreeze({
  version: 'default-2026.11',
  analysisIntervalSeconds: 60,
  guardrailWindowSeconds: 300,
  minimumEvidence: {
    error_rate: { minRequests: 500, minIntervals: 3 },
    latency_p95: { minRequests: 200, minIntervals: 3 },
    latency_p99: { minRequests: 1000, minIntervals: 3 },
  },
  latencyFallback: { p95Ms: 500, p99Ms: 1000 },
  canaryEvidence: { alpha: 0.05, power: 0.8 },
  featureFlagForDatabaseMigration: true,
  levels: {
    low: {
      errorRateMaxPercent: 0.5,
      latencyP95Factor: 1.5,
      latencyP99Factor: 1.6,
      rampSteps: [],
      stepMinDurationSeconds: 300,
      stepMinRequests: 250,
      bakeTimeSeconds: 600,
      consecutiveFailureLimit: 3,
      cumulativeFailureLimit: 5,
      canary: 'not_required',
      rollbackPlan: 'recommended',
      approvals: 1,
      excludeAuthor: false,
    },
    medium: {
      errorRateMaxPercent: 0.5,
      latencyP95Factor: 1.35,
      latencyP99Factor: 1.45,
      rampSteps: [25, 50],
      stepMinDurationSeconds: 300,
      stepMinRequests: 500,
      bakeTimeSeconds: 900,
      consecutiveFailureLimit: 3,
      cumulativeFailureLimit: 5,
      canary: 'recommended',
      rollbackPlan: 'required_if_possible',
      approvals: 1,
      excludeAuthor: false,
    },
    high: {
      errorRateMaxPercent: 0.3,
      latencyP95Factor: 1.2,
      latencyP99Factor: 1.3,
      rampSteps: [10, 25, 50],
      stepMinDurationSeconds: 420,
      stepMinRequests: 1000,
      bakeTimeSeconds: 1800,
      consecutiveFailureLimit: 2,
      cumulativeFailureLimit: 4,
      canary: 'required',
      rollbackPlan: 'required',
      approvals: 1,
      excludeAuthor: true,
    },
    critical: {
      errorRateMaxPercent: 0.2,
      latencyP95Factor: 1.1,
      latencyP99Factor: 1.15,
      rampSteps: [5, 10, 25, 50],
      stepMinDurationSeconds: 600,
      stepMinRequests: 2000,
      bakeTimeSeconds: 3600,
      consecutiveFailureLimit: 2,
      cumulativeFailureLimit: 3,
      canary: 'required',
      rollbackPlan: 'required',
      approvals: 2,
      excludeAuthor: true,
    },
  },
  floor: {
    sloErrorRateFactor: 5,
    minWindowSeconds: 60,
    maxWindowSeconds: 900,
    featureFlagForDatabaseMigration: true,
    levels: {
      low: {
        maxErrorRatePercent: 1,
        maxFirstStepPercent: 100,
        canaryRequired: false,
        minStepDurationSeconds: 60,
        minBakeTimeSeconds: 300,
        requiredValidators: ['tests'],
        minApprovals: 1,
        excludeAuthor: false,
      },
      medium: {
        maxErrorRatePercent: 0.75,
        maxFirstStepPercent: 50,
        canaryRequired: false,
        minStepDurationSeconds: 120,
        minBakeTimeSeconds: 300,
        requiredValidators: ['tests'],
        minApprovals: 1,
        excludeAuthor: false,
      },
      high: {
        maxErrorRatePercent: 0.4,
        maxFirstStepPercent: 25,
        canaryRequired: true,
        minStepDurationSeconds: 240,
        minBakeTimeSeconds: 900,
        requiredValidators: ['tests', 'canary', 'rollback_plan'],
        minApprovals: 1,
        excludeAuthor: true,
      },
      critical: {
        maxErrorRatePercent: 0.25,
        maxFirstStepPercent: 10,
        canaryRequired: true,
        minStepDurationSeconds: 300,
        minBakeTimeSeconds: 1800,
        requiredValidators: ['tests', 'canary', 'rollback_plan'],
        minApprovals: 2,
        excludeAuthor: true,
      },
    },
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Loading and validation

export interface PolicyIssue {
  path: string;
  rule: string;
  message: string;
}

export class PolicyValidationError extends DomainError {
  override readonly code = 'policy_invalid' as const;
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
    super(
      'policy_invalid',
      first ? `invalid policy: ${first.path}: ${first.message}${more}`.replace(/[\r\n]+/g, ' ') : 'invalid policy',
    );
    this.name = 'PolicyValidationError';
    this.issues = issues;
  }
}

/** Parses a policy file (YAML or JSON). Absent fields keep their DEFAULT_POLICY values; unknown fields are refused. */
export function parsePolicy(text: string, format: 'yaml' | 'json'): Policy {
  let data: unknown;
  try {
    data = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PolicyValidationError([{ path: '(file)', rule: 'syntax', message: `not valid ${format}: ${reason}` }]);
  }
  return loadPolicyFromObject(data ?? {});
}

/**
 * Validates a policy object. Objects are merged over DEFAULT_POLICY (arrays replace), so a file may override only
 * what it changes. A policy without its own `version` gets `custom-<hash>` so contracts name the exact rules used.
 */
export function loadPolicyFromObject(obj: unknown): Policy {
  if (!isPlainObject(obj)) {
    throw new PolicyValidationError([{ path: '(root)', rule: 'invalid_type', message: 'must be an object' }]);
  }
  const merged = mergeOver(DEFAULT_POLICY, obj);
  const parsed = PolicySchema.safeParse(merged);
  if (!parsed.success) {
    throw new PolicyValidationError(
      parsed.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
        rule: issue.code,
        message: issue.message,
      })),
    );
  }
  const policy = parsed.data;
  const issues = policyConsistencyIssues(policy);
  if (issues.length > 0) throw new PolicyValidationError(issues);
  if (!('version' in obj)) {
    const { version: _ignored, ...rest } = policy;
    const { version: _default, ...defaults } = DEFAULT_POLICY;
    const hash = sha256Canonical(rest);
    policy.version = hash === sha256Canonical(defaults) ? DEFAULT_POLICY.version : `custom-${hash.slice(0, 12)}`;
  }
  return deepFreeze(policy);
}

const NEVER_LOOSEN = '(guardrails never loosen as risk rises)';
const REQUIREMENT_RANK: Record<string, number> = {
  not_required: 0,
  recommended: 1,
  required_if_possible: 2,
  required: 3,
};

/** Cross-field rules a schema cannot express: monotone across levels, defaults inside the floor, well-formed ramps. */
export function policyConsistencyIssues(policy: Policy): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const add = (path: string, rule: string, message: string) => issues.push({ path, rule, message });

  for (const level of RISK_LEVELS) {
    const lp = policy.levels[level];
    const fl = policy.floor.levels[level];
    const base = `levels.${level}`;
    lp.rampSteps.forEach((step, i) => {
      const prev = lp.rampSteps[i - 1];
      if (prev !== undefined && step <= prev) {
        add(`${base}.rampSteps.${i}`, 'ramp_increasing', `must be greater than the previous step (${prev})`);
      }
    });
    if (lp.cumulativeFailureLimit < lp.consecutiveFailureLimit) {
      add(`${base}.cumulativeFailureLimit`, 'failure_limits', `must be ≥ ${base}.consecutiveFailureLimit`);
    }
    if (lp.rampSteps.length > 0 && lp.canary === 'not_required') {
      add(`${base}.canary`, 'canary_steps', 'must not be not_required when rampSteps has canary steps');
    }
    if (lp.rampSteps.length === 0 && lp.canary !== 'not_required') {
      add(`${base}.rampSteps`, 'canary_steps', `must have at least one step when canary is ${lp.canary}`);
    }
    // Defaults must already satisfy the floor: the engine never drafts a contract it would refuse.
    const inFloor = (path: string, rule: string, ok: boolean, message: string) => {
      if (!ok) add(`${base}.${path}`, `floor.${level}.${rule}`, message);
    };
    inFloor(
      'errorRateMaxPercent',
      'max_error_rate',
      lp.errorRateMaxPercent <= fl.maxErrorRatePercent,
      `must be ≤ floor.levels.${level}.maxErrorRatePercent (${fl.maxErrorRatePercent})`,
    );
    const first = lp.rampSteps[0];
    inFloor(
      'rampSteps.0',
      'max_first_step',
      first === undefined || first <= fl.maxFirstStepPercent,
      `must be ≤ floor.levels.${level}.maxFirstStepPercent (${fl.maxFirstStepPercent})`,
    );
    inFloor(
      'canary',
      'canary_required',
      !fl.canaryRequired || (lp.canary === 'required' && lp.rampSteps.length > 0),
      `must be required with canary steps because floor.levels.${level}.canaryRequired is true`,
    );
    inFloor(
      'stepMinDurationSeconds',
      'min_step_duration',
      lp.stepMinDurationSeconds >= fl.minStepDurationSeconds,
      `must be ≥ floor.levels.${level}.minStepDurationSeconds (${fl.minStepDurationSeconds})`,
    );
    inFloor(
      'bakeTimeSeconds',
      'min_bake_time',
      lp.bakeTimeSeconds >= fl.minBakeTimeSeconds,
      `must be ≥ floor.levels.${level}.minBakeTimeSeconds (${fl.minBakeTimeSeconds})`,
    );
    inFloor(
      'approvals',
      'min_approvals',
      lp.approvals >= fl.minApprovals,
      `must be ≥ floor.levels.${level}.minApprovals (${fl.minApprovals})`,
    );
    inFloor(
      'excludeAuthor',
      'exclude_author',
      lp.excludeAuthor || !fl.excludeAuthor,
      `must be true because floor.levels.${level}.excludeAuthor is true`,
    );
    if (fl.requiredValidators.includes('canary')) {
      inFloor('canary', 'canary_required', lp.canary === 'required', 'must be required (floor requires a canary)');
    }
    if (fl.requiredValidators.includes('rollback_plan')) {
      inFloor(
        'rollbackPlan',
        'rollback_plan_required',
        lp.rollbackPlan === 'required',
        'must be required (floor requires a rollback plan)',
      );
    }
  }
  if (policy.floor.featureFlagForDatabaseMigration && !policy.featureFlagForDatabaseMigration) {
    add(
      'featureFlagForDatabaseMigration',
      'floor.feature_flag_for_migration',
      'must be true because floor.featureFlagForDatabaseMigration is true',
    );
  }
  if (policy.floor.minWindowSeconds > policy.floor.maxWindowSeconds) {
    add('floor.minWindowSeconds', 'window_range', 'must be ≤ floor.maxWindowSeconds');
  }
  if (
    policy.guardrailWindowSeconds < policy.floor.minWindowSeconds ||
    policy.guardrailWindowSeconds > policy.floor.maxWindowSeconds
  ) {
    add(
      'guardrailWindowSeconds',
      'floor.guardrail_window',
      `must be within floor.minWindowSeconds..floor.maxWindowSeconds (${policy.floor.minWindowSeconds}..${policy.floor.maxWindowSeconds})`,
    );
  }

  // Monotone across levels, from low to critical.
  for (let i = 1; i < RISK_LEVELS.length; i++) {
    const lower = RISK_LEVELS[i - 1] as RiskLevel;
    const level = RISK_LEVELS[i] as RiskLevel;
    const a = policy.levels[lower];
    const b = policy.levels[level];
    const fa = policy.floor.levels[lower];
    const fb = policy.floor.levels[level];
    const notAbove = (path: string, x: number, y: number, field: string) => {
      if (x > y) add(path, 'monotone', `must be ≤ ${field} ${NEVER_LOOSEN}`);
    };
    const notBelow = (path: string, x: number, y: number, field: string) => {
      if (x < y) add(path, 'monotone', `must be ≥ ${field} ${NEVER_LOOSEN}`);
    };
    const L = (f: string) => `levels.${level}.${f}`;
    const P = (f: string) => `levels.${lower}.${f}`;
    notAbove(L('errorRateMaxPercent'), b.errorRateMaxPercent, a.errorRateMaxPercent, P('errorRateMaxPercent'));
    notAbove(L('latencyP95Factor'), b.latencyP95Factor, a.latencyP95Factor, P('latencyP95Factor'));
    notAbove(L('latencyP99Factor'), b.latencyP99Factor, a.latencyP99Factor, P('latencyP99Factor'));
    notAbove(L('rampSteps.0'), b.rampSteps[0] ?? 100, a.rampSteps[0] ?? 100, P('rampSteps.0'));
    notBelow(
      L('stepMinDurationSeconds'),
      b.stepMinDurationSeconds,
      a.stepMinDurationSeconds,
      P('stepMinDurationSeconds'),
    );
    notBelow(L('stepMinRequests'), b.stepMinRequests, a.stepMinRequests, P('stepMinRequests'));
    notBelow(L('bakeTimeSeconds'), b.bakeTimeSeconds, a.bakeTimeSeconds, P('bakeTimeSeconds'));
    notAbove(
      L('consecutiveFailureLimit'),
      b.consecutiveFailureLimit,
      a.consecutiveFailureLimit,
      P('consecutiveFailureLimit'),
    );
    notAbove(
      L('cumulativeFailureLimit'),
      b.cumulativeFailureLimit,
      a.cumulativeFailureLimit,
      P('cumulativeFailureLimit'),
    );
    notBelow(L('approvals'), b.approvals, a.approvals, P('approvals'));
    notBelow(L('canary'), REQUIREMENT_RANK[b.canary] ?? 0, REQUIREMENT_RANK[a.canary] ?? 0, P('canary'));
    notBelow(
      L('rollbackPlan'),
      REQUIREMENT_RANK[b.rollbackPlan] ?? 0,
      REQUIREMENT_RANK[a.rollbackPlan] ?? 0,
      P('rollbackPlan'),
    );
    if (a.excludeAuthor && !b.excludeAuthor)
      add(L('excludeAuthor'), 'monotone', `must be true like ${P('excludeAuthor')}`);

    const FL = (f: string) => `floor.levels.${level}.${f}`;
    const FP = (f: string) => `floor.levels.${lower}.${f}`;
    notAbove(FL('maxErrorRatePercent'), fb.maxErrorRatePercent, fa.maxErrorRatePercent, FP('maxErrorRatePercent'));
    notAbove(FL('maxFirstStepPercent'), fb.maxFirstStepPercent, fa.maxFirstStepPercent, FP('maxFirstStepPercent'));
    notBelow(
      FL('minStepDurationSeconds'),
      fb.minStepDurationSeconds,
      fa.minStepDurationSeconds,
      FP('minStepDurationSeconds'),
    );
    notBelow(FL('minBakeTimeSeconds'), fb.minBakeTimeSeconds, fa.minBakeTimeSeconds, FP('minBakeTimeSeconds'));
    notBelow(FL('minApprovals'), fb.minApprovals, fa.minApprovals, FP('minApprovals'));
    if (fa.canaryRequired && !fb.canaryRequired)
      add(FL('canaryRequired'), 'monotone', `must be true like ${FP('canaryRequired')}`);
    if (fa.excludeAuthor && !fb.excludeAuthor)
      add(FL('excludeAuthor'), 'monotone', `must be true like ${FP('excludeAuthor')}`);
    for (const kind of fa.requiredValidators) {
      if (!fb.requiredValidators.includes(kind)) {
        add(FL('requiredValidators'), 'monotone', `must include ${kind} like ${FP('requiredValidators')}`);
      }
    }
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeOver(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? structuredClone(base) : over;
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(base), ...Object.keys(over)])) {
    out[key] = key in over ? mergeOver(base[key], over[key]) : structuredClone(base[key]);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
