/**
 * The policy floor: the rules no negotiation can loosen. `floorViolations` is the single judge used both when the
 * engine drafts a contract (it must pass) and when an amendment is proposed (checkAmendment refuses anything that
 * would add a violation).
 */
import type { Contract } from './model.js';
import type { Policy } from './policy.js';

export interface FloorViolation {
  rule: string;
  message: string;
}

/** Every floor rule the contract's terms break (empty when the contract is acceptable). */
export function floorViolations(contract: Contract, policy: Policy): FloorViolation[] {
  const out: FloorViolation[] = [];
  const level = contract.risk.level;
  const fl = policy.floor.levels[level];
  const terms = contract.terms;
  const slo = contract.deployment.slo;
  const add = (rule: string, message: string) => out.push({ rule, message });
  const eps = 1e-9;

  for (const metric of ['error_rate', 'latency_p95', 'latency_p99'] as const) {
    if (!terms.guardrails.some((g) => g.metric === metric))
      add('floor.guardrail_missing', `${metric} guardrail is missing`);
  }
  for (const g of terms.guardrails) {
    if (g.windowSeconds < policy.floor.minWindowSeconds || g.windowSeconds > policy.floor.maxWindowSeconds) {
      add(
        'floor.guardrail_window',
        `${g.metric} window must be between ${policy.floor.minWindowSeconds} s and ${policy.floor.maxWindowSeconds} s`,
      );
    }
    if (g.metric === 'error_rate') {
      if (g.threshold > fl.maxErrorRatePercent + eps) {
        add(
          `floor.${level}.max_error_rate`,
          `the error-rate guardrail cannot exceed ${fl.maxErrorRatePercent} % for a ${level}-risk change`,
        );
      }
      const cap = sloErrorRateCap(contract.deployment.slo.targetErrorRatePercent, policy);
      if (cap !== null && g.threshold > cap + eps) {
        add(
          'floor.error_rate_cap',
          `the error-rate guardrail cannot exceed the SLO-derived cap ${round(cap, 6)} % (${policy.floor.sloErrorRateFactor} × target ${slo.targetErrorRatePercent} %)`,
        );
      }
    } else {
      const target = g.metric === 'latency_p95' ? slo.targetP95LatencyMs : slo.targetP99LatencyMs;
      if (target > 0 && g.threshold > target + eps) {
        const name = g.metric === 'latency_p95' ? 'p95' : 'p99';
        add(`floor.${g.metric}_cap`, `the ${name} latency guardrail cannot exceed the service target ${target} ms`);
      }
    }
  }

  const steps = terms.ramp.steps;
  steps.forEach((step, i) => {
    const prev = steps[i - 1];
    if (
      step.trafficPercent <= 0 ||
      step.trafficPercent >= 100 ||
      (prev && step.trafficPercent <= prev.trafficPercent)
    ) {
      add('terms.ramp_invalid', 'canary steps must be strictly increasing percentages between 0 and 100');
    }
  });
  const canary = terms.validators.find((v) => v.kind === 'canary');
  if (fl.canaryRequired || fl.requiredValidators.includes('canary')) {
    if (steps.length === 0 || canary?.requirement !== 'required') {
      add(`floor.${level}.canary_required`, `a ${level}-risk change must go through a canary`);
    }
  }
  const first = steps[0];
  if (first && first.trafficPercent > fl.maxFirstStepPercent + eps) {
    add(
      `floor.${level}.max_first_step`,
      `the first canary step cannot exceed ${fl.maxFirstStepPercent} % for a ${level}-risk change`,
    );
  }
  if (steps.some((s) => s.minDurationSeconds < fl.minStepDurationSeconds)) {
    add(
      `floor.${level}.min_step_duration`,
      `each canary step must last at least ${fl.minStepDurationSeconds} s for a ${level}-risk change`,
    );
  }
  if (terms.ramp.bakeTimeSeconds < fl.minBakeTimeSeconds) {
    add(
      `floor.${level}.min_bake_time`,
      `the bake time at 100 % must be at least ${fl.minBakeTimeSeconds} s for a ${level}-risk change`,
    );
  }
  for (const kind of fl.requiredValidators) {
    if (kind === 'canary') continue;
    const v = terms.validators.find((x) => x.kind === kind);
    if (v?.requirement !== 'required') {
      add(
        `floor.${level}.${kind}_required`,
        `the ${kind.replace('_', ' ')} validator is required for a ${level}-risk change`,
      );
    }
  }
  if (
    policy.floor.featureFlagForDatabaseMigration &&
    contract.risk.findings.some((f) => f.factor === 'database_migration')
  ) {
    const v = terms.validators.find((x) => x.kind === 'feature_flag');
    if (v?.requirement !== 'required') {
      add('floor.feature_flag_for_migration', 'a database migration must sit behind a required feature flag');
    }
  }
  if (terms.approvalsRequired < fl.minApprovals) {
    add(`floor.${level}.min_approvals`, `a ${level}-risk change needs at least ${fl.minApprovals} approval(s)`);
  }
  if (fl.excludeAuthor && !terms.excludeAuthor) {
    add(`floor.${level}.exclude_author`, `the author cannot approve a ${level}-risk change`);
  }
  return dedupe(out);
}

/** Rule ids of the floor rules the contract breaks; empty when it satisfies the floor. */
export function satisfiesFloor(contract: Contract, policy: Policy): string[] {
  return floorViolations(contract, policy).map((v) => v.rule);
}

/** `sloErrorRateFactor` × target error rate, or null when the request gives no target. */
export function sloErrorRateCap(targetErrorRatePercent: number, policy: Policy): number | null {
  return targetErrorRatePercent > 0 ? round(targetErrorRatePercent * policy.floor.sloErrorRateFactor, 6) : null;
}

function dedupe(list: FloorViolation[]): FloorViolation[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    if (seen.has(v.rule)) return false;
    seen.add(v.rule);
    return true;
  });
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
