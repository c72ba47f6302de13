/**
 * The terms the engine drafts for a deployment: guardrails, validators, ramp, approvals, and the suggestions tied to
 * the risk findings. Pure functions of (request, risk, rollback plan, policy); contract.ts assembles them.
 */

import { round, sloErrorRateCap } from './floor.js';
import type {
  ContractTerms,
  DeploymentRequest,
  Guardrail,
  GuardrailMetric,
  RampSchedule,
  RampStep,
  RiskAssessment,
  RiskFactor,
  RiskLevel,
  RollbackPlan,
  Suggestion,
  Validator,
  ValidatorKind,
} from './model.js';
import type { LevelPolicy, Policy } from './policy.js';

/** Shortest decimal form with at most 4 decimals: 0.2, 220, 0.0125. */
export function formatNumber(x: number): string {
  return String(round(x, 4));
}

export function draftTerms(
  request: DeploymentRequest,
  risk: RiskAssessment,
  plan: RollbackPlan,
  policy: Policy,
): ContractTerms {
  const lp = policy.levels[risk.level];
  const ramp = rampFromSteps(lp.rampSteps, lp, policy);
  return {
    guardrails: draftGuardrails(request, risk.level, policy),
    validators: draftValidators(request, risk, plan, ramp, policy),
    ramp,
    approvalsRequired: lp.approvals,
    excludeAuthor: lp.excludeAuthor,
  };
}

export function rampFromSteps(percents: readonly number[], lp: LevelPolicy, policy: Policy): RampSchedule {
  return {
    steps: percents.map((p) => step(p, lp.stepMinDurationSeconds, lp.stepMinRequests)),
    bakeTimeSeconds: lp.bakeTimeSeconds,
    analysisIntervalSeconds: policy.analysisIntervalSeconds,
    consecutiveFailureLimit: lp.consecutiveFailureLimit,
    cumulativeFailureLimit: lp.cumulativeFailureLimit,
  };
}

function step(trafficPercent: number, minDurationSeconds: number, minRequests: number): RampStep {
  return { trafficPercent, minDurationSeconds, minRequests };
}

// ---------------------------------------------------------------------------------------------------------------
// Guardrails

export function draftGuardrails(request: DeploymentRequest, level: RiskLevel, policy: Policy): Guardrail[] {
  return [
    errorGuardrail(request, level, policy),
    latencyGuardrail(request, level, policy, 'latency_p95'),
    latencyGuardrail(request, level, policy, 'latency_p99'),
  ];
}

/**
 * Headroom of the error guardrail over the service's current error rate. A healthy canary runs at today's rate p0, and
 * the judge PASSes only when it can show the canary's rate is below the threshold; at a threshold of 2 × p0 that takes
 * about 7 / p0 requests (one-sided binomial, 90 % confidence, 80 % power), the same two-fold effect the judge's
 * sequential tests are built to tell apart. Below that a healthy service would hold at its own guardrail for hours.
 */
export const ERROR_RATE_HEADROOM = 2;

/**
 * The error guardrail: the policy cap for the level, raised to ERROR_RATE_HEADROOM × today's error rate when the
 * service already runs near or above the cap (so a healthy service passes its own guardrail), and never above the
 * floor's maximum for the level or the SLO-derived cap (the rules no negotiation can loosen).
 */
function errorGuardrail(request: DeploymentRequest, level: RiskLevel, policy: Policy): Guardrail {
  const slo = request.slo;
  const levelCap = policy.levels[level].errorRateMaxPercent;
  const floorMax = policy.floor.levels[level].maxErrorRatePercent;
  const sloCap = sloErrorRateCap(slo.targetErrorRatePercent, policy);
  const fromCurrent = round(slo.currentErrorRatePercent * ERROR_RATE_HEADROOM, 6);
  const raised = fromCurrent > levelCap;
  const drafted = raised ? fromCurrent : levelCap;
  const ceiling = Math.min(floorMax, sloCap ?? Number.POSITIVE_INFINITY);
  const threshold = round(Math.min(drafted, ceiling), 6);
  const factor = policy.floor.sloErrorRateFactor;
  const sloText =
    sloCap === null
      ? ''
      : `the SLO-derived cap ${formatNumber(sloCap)} % (${formatNumber(factor)} × target ${formatNumber(slo.targetErrorRatePercent)} %)`;
  let basis: string;
  if (raised) {
    const today = `today's error rate ${formatNumber(slo.currentErrorRatePercent)} % × ${formatNumber(ERROR_RATE_HEADROOM)} headroom, above the policy cap for ${level} risk (${formatNumber(levelCap)} %) so that a healthy service passes its own guardrail`;
    basis =
      threshold < drafted
        ? `${today}, limited to ${threshold === floorMax ? `the floor's maximum for ${level} risk (${formatNumber(floorMax)} %)` : sloText}`
        : today;
  } else if (sloCap === null) {
    basis = `policy cap for ${level} risk (${formatNumber(levelCap)} %); no target error rate, so no SLO-derived cap`;
  } else if (levelCap <= sloCap) {
    basis = `policy cap for ${level} risk (${formatNumber(levelCap)} %), at or below ${sloText}`;
  } else {
    basis = `${sloText.replace(/^the S/, 'S')}, below the policy cap for ${level} risk (${formatNumber(levelCap)} %)`;
  }
  if (slo.currentErrorRatePercent >= threshold) {
    basis += `; today's error rate ${formatNumber(slo.currentErrorRatePercent)} % is already at or above it`;
  }
  return guardrail('error_rate', threshold, '%', basis, policy);
}

function latencyGuardrail(
  request: DeploymentRequest,
  level: RiskLevel,
  policy: Policy,
  metric: 'latency_p95' | 'latency_p99',
): Guardrail {
  const slo = request.slo;
  const p95 = metric === 'latency_p95';
  const name = p95 ? 'p95' : 'p99';
  const target = p95 ? slo.targetP95LatencyMs : slo.targetP99LatencyMs;
  const current = p95 ? slo.currentP95LatencyMs : slo.currentP99LatencyMs;
  const factor = p95 ? policy.levels[level].latencyP95Factor : policy.levels[level].latencyP99Factor;
  const fromBaseline = round(current * factor, 1);
  let threshold: number;
  let basis: string;
  if (target > 0 && current > 0) {
    threshold = Math.min(target, fromBaseline);
    basis =
      fromBaseline <= target
        ? `current ${name} ${formatNumber(current)} ms × ${formatNumber(factor)} headroom for ${level} risk, below the target ${formatNumber(target)} ms`
        : `service target ${formatNumber(target)} ms, below current ${name} ${formatNumber(current)} ms × ${formatNumber(factor)} headroom for ${level} risk (${formatNumber(fromBaseline)} ms)`;
    if (current >= target) basis += `; today's ${name} is already at or above the target`;
  } else if (target > 0) {
    threshold = target;
    basis = `service target ${formatNumber(target)} ms (no current ${name} to derive headroom from)`;
  } else if (current > 0) {
    threshold = fromBaseline;
    basis = `current ${name} ${formatNumber(current)} ms × ${formatNumber(factor)} headroom for ${level} risk (no target given)`;
  } else {
    threshold = p95 ? policy.latencyFallback.p95Ms : policy.latencyFallback.p99Ms;
    basis = `policy fallback ${formatNumber(threshold)} ms: the request gives neither a target nor a current ${name}`;
  }
  return guardrail(metric, threshold, 'ms', basis, policy);
}

function guardrail(
  metric: GuardrailMetric,
  threshold: number,
  unit: '%' | 'ms',
  basis: string,
  policy: Policy,
): Guardrail {
  const evidence = policy.minimumEvidence[metric];
  return {
    metric,
    comparator: '<',
    threshold,
    unit,
    // Drafted against the analysis interval: the window must hold the minimum number of intervals, or the check could
    // never gather evidence (the judge refuses such a window; guardianJudgeConfiguration widens it).
    windowSeconds: Math.max(
      policy.guardrailWindowSeconds,
      Math.min(policy.floor.maxWindowSeconds, evidence.minIntervals * policy.analysisIntervalSeconds),
    ),
    minimumEvidence: { minRequests: evidence.minRequests, minIntervals: evidence.minIntervals },
    basis,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Validators

const VALIDATOR_ORDER: readonly ValidatorKind[] = ['tests', 'canary', 'rollback_plan', 'feature_flag'];

export function draftValidators(
  request: DeploymentRequest,
  risk: RiskAssessment,
  plan: RollbackPlan,
  ramp: RampSchedule,
  policy: Policy,
): Validator[] {
  const lp = policy.levels[risk.level];
  const out: Validator[] = [buildValidator('tests', 'required', request, plan, ramp)];
  if (lp.canary !== 'not_required') out.push(buildValidator('canary', lp.canary, request, plan, ramp));
  const rollback =
    lp.rollbackPlan === 'required_if_possible' ? (plan.possible ? 'required' : 'recommended') : lp.rollbackPlan;
  if (rollback !== 'not_required') out.push(buildValidator('rollback_plan', rollback, request, plan, ramp));
  if (policy.featureFlagForDatabaseMigration && risk.findings.some((f) => f.factor === 'database_migration')) {
    out.push(buildValidator('feature_flag', 'required', request, plan, ramp));
  }
  return out;
}

/** One validator with what the request says about it (`satisfied`: true/false when known, null when not yet). */
export function buildValidator(
  kind: ValidatorKind,
  requirement: Validator['requirement'],
  request: DeploymentRequest,
  plan: RollbackPlan,
  ramp: RampSchedule,
): Validator {
  switch (kind) {
    case 'tests':
      return {
        kind,
        requirement,
        satisfied: null,
        description: `Unit and integration tests pass on ${request.version} before the rollout starts`,
      };
    case 'canary': {
      const first = ramp.steps[0];
      return {
        kind,
        requirement,
        satisfied: null,
        description: first
          ? `Canary at ${formatNumber(first.trafficPercent)} % of traffic for at least ${first.minDurationSeconds} s, judged against the guardrails before each widening`
          : 'Canary before full rollout (the ramp has no canary step yet)',
      };
    }
    case 'rollback_plan':
      return {
        kind,
        requirement,
        satisfied: plan.possible,
        description: plan.possible
          ? `Rollback plan for ${plan.targetKind}: ${plan.steps.length} step(s), about ${plan.totalSeconds} s, data-loss risk ${plan.dataLossRisk}`
          : `No rollback possible: ${plan.reasons[0] ?? 'no rollback capability'}; provide a way back before approval`,
      };
    case 'feature_flag':
      return {
        kind,
        requirement,
        satisfied: Boolean(request.featureFlag),
        description: request.featureFlag
          ? `Database change behind feature flag '${request.featureFlag}', which can be turned off without a redeploy`
          : 'Database changes need a feature flag so the new path can be turned off without a redeploy; none given (feature_flag)',
      };
  }
}

export function sortValidators(validators: Validator[]): Validator[] {
  return [...validators].sort((a, b) => VALIDATOR_ORDER.indexOf(a.kind) - VALIDATOR_ORDER.indexOf(b.kind));
}

// ---------------------------------------------------------------------------------------------------------------
// Suggestions

/**
 * "Split the PR" is only suggested for changes past these sizes: reviews lose effectiveness beyond a few hundred
 * changed lines, and wide changes (many directories or subsystems) are the ones the JIT defect data flags.
 */
const LARGE_CHANGE = { lines: 400, files: 20, directories: 6, subsystems: 3 };

function isLargeChange(request: DeploymentRequest): boolean {
  const s = request.spread;
  return (
    request.totalLinesChanged > LARGE_CHANGE.lines ||
    s.files > LARGE_CHANGE.files ||
    s.directories > LARGE_CHANGE.directories ||
    s.subsystems > LARGE_CHANGE.subsystems
  );
}

function splitSuggestion(request: DeploymentRequest, lead: string): string {
  const s = request.spread;
  return `${lead}: ${plural(s.files, 'file')} in ${plural(s.directories, 'directory', 'directories')} and ${plural(s.subsystems, 'subsystem')}, ${plural(request.totalLinesChanged, 'line')} changed`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function draftSuggestions(request: DeploymentRequest, risk: RiskAssessment, plan: RollbackPlan): Suggestion[] {
  const out: Suggestion[] = [];
  const seen = new Set<RiskFactor>();
  const where = (factor: RiskFactor): string => {
    const finding = risk.findings.find((f) => f.factor === factor);
    const file = finding?.evidence.find((e) => e.file)?.file;
    return file ? ` (${file})` : '';
  };
  const add = (factor: RiskFactor | undefined, text: string) => out.push(factor ? { factor, text } : { text });

  for (const finding of risk.findings) {
    if (seen.has(finding.factor)) continue;
    seen.add(finding.factor);
    const f = finding.factor;
    switch (f) {
      case 'change_size_spread':
        if (isLargeChange(request)) add(f, splitSuggestion(request, 'Split the change into smaller pull requests'));
        break;
      case 'database_migration':
        if (!request.featureFlag)
          add(
            f,
            `Put the new database path behind a feature flag so it can be switched off without a redeploy${where(f)}`,
          );
        add(
          f,
          'Make the migration backward compatible (expand/contract): add new columns or tables first, switch reads and writes, drop the old ones in a later release',
        );
        break;
      case 'caching':
        add(
          f,
          `Pre-warm the cache before shifting traffic and version the cache keys, so old and new versions never read each other's entries${where(f)}`,
        );
        break;
      case 'api_contract':
        add(
          f,
          `Keep the API backward compatible: accept old and new shapes (or version the endpoint) until every client has moved${where(f)}`,
        );
        break;
      case 'dependency_update':
        add(
          f,
          `Pin the updated dependencies to exact versions and scan them for known vulnerabilities before the rollout${where(f)}`,
        );
        break;
      case 'configuration_flags':
        add(
          f,
          `Stage the configuration rollout: one instance or region first, with the previous values ready to restore${where(f)}`,
        );
        break;
      case 'traffic_pattern':
        add(
          f,
          request.slo.peakQps > 0
            ? `Load-test at peak traffic (${formatNumber(request.slo.peakQps)} qps) before the canary and watch connection-pool saturation`
            : 'Load-test at peak traffic before the canary and watch connection-pool saturation',
        );
        break;
      case 'permissions_authz':
        add(
          f,
          `Test both the allowed and the denied cases of the changed permission rules, and have a second person review them${where(f)}`,
        );
        break;
      case 'encryption_secrets':
        add(
          f,
          `Rotate secrets out of band and let the new version accept both the old and the new keys during the rollout${where(f)}`,
        );
        break;
      case 'networking_load_balancing':
        add(f, `Ship routing and load-balancer changes in a separate deployment from application code${where(f)}`);
        break;
      case 'storage':
        add(f, `Snapshot the affected storage before the rollout and check that the snapshot restores${where(f)}`);
        break;
      case 'infrastructure_as_code':
        add(
          f,
          `Review a plan / what-if of the infrastructure change (terraform plan, az deployment what-if) before applying it${where(f)}`,
        );
        break;
    }
  }
  const s = request.spread;
  if (
    !seen.has('change_size_spread') &&
    (s.files > LARGE_CHANGE.files ||
      request.totalLinesChanged > LARGE_CHANGE.lines ||
      s.directories > LARGE_CHANGE.directories)
  ) {
    add(undefined, `Consider splitting the change: ${s.files} files, ${request.totalLinesChanged} lines`);
  }
  if (!plan.possible && risk.level !== 'low') {
    add(
      undefined,
      'Add an automated rollback path (previous image kept, rollout undo or revision switch) before shipping at this risk level',
    );
  }
  if (plan.dataLossRisk === 'high') {
    add(
      'database_migration',
      'The migration is destructive: take a backup first and move the destructive step to a later release once the new version is proven',
    );
  }
  if (risk.confidence < 0.5) {
    add(
      undefined,
      'Low confidence in the assessment: add diffs or clearer change descriptions so the factors rest on evidence',
    );
  }
  return out;
}
