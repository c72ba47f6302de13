/**
 * Amendments: what a proposed change does to the terms (`proposeTerms`, with readable diff lines) and whether the
 * floor allows it (`checkAmendment`, the one function that decides). An amendment is allowed when the resulting terms
 * add no floor violation; tightening therefore always passes.
 */

import { buildValidator, formatNumber, rampFromSteps, sortValidators } from './contractTerms.js';
import { durationText } from './durationText.js';
import { floorViolations } from './floor.js';
import {
  type Amendment,
  type AmendmentDecision,
  AmendmentSchema,
  type Contract,
  type ContractTerms,
  type Guardrail,
  type GuardrailMetric,
  levelRank,
  type RampStep,
  RISK_LEVELS,
} from './model.js';
import type { Policy } from './policy.js';

export type Refusal = Extract<AmendmentDecision, { allowed: false }>;
export type TermsProposal = { ok: true; terms: ContractTerms; diff: string[] } | { ok: false; decision: Refusal };

const METRIC_LABEL: Record<GuardrailMetric, string> = {
  error_rate: 'error-rate guardrail',
  latency_p95: 'p95 latency guardrail',
  latency_p99: 'p99 latency guardrail',
};

export function checkAmendment(contract: Contract, amendment: Amendment, policy: Policy): AmendmentDecision {
  const parsed = AmendmentSchema.safeParse(amendment);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return {
      allowed: false,
      rule: 'amendment.invalid',
      message: `invalid amendment: ${at}${issue?.message ?? 'malformed'}`,
    };
  }
  const proposal = proposeTerms(contract, parsed.data, policy);
  if (!proposal.ok) return proposal.decision;
  const before = new Set(floorViolations(contract, policy).map((v) => v.rule));
  const added = floorViolations({ ...contract, terms: proposal.terms }, policy).filter((v) => !before.has(v.rule));
  const first = added[0];
  return first ? { allowed: false, rule: first.rule, message: first.message } : { allowed: true };
}

/** The terms after the amendment and what changed; no floor check here (see checkAmendment). */
export function proposeTerms(contract: Contract, amendment: Amendment, policy: Policy): TermsProposal {
  const terms = structuredClone(contract.terms);
  const diff: string[] = [];
  const refuse = (rule: string, message: string): TermsProposal => ({
    ok: false,
    decision: { allowed: false, rule, message },
  });
  const lp = policy.levels[contract.risk.level];

  switch (amendment.kind) {
    case 'set_guardrail_threshold': {
      const g = terms.guardrails.find((x) => x.metric === amendment.metric);
      if (!g) return refuse('terms.guardrail_missing', `the contract has no ${amendment.metric} guardrail`);
      if (g.threshold !== amendment.value) {
        diff.push(
          `${METRIC_LABEL[g.metric]}: < ${formatNumber(g.threshold)} ${g.unit} → < ${formatNumber(amendment.value)} ${g.unit}`,
        );
        g.basis = negotiatedBasis(g, amendment.justification);
        g.threshold = amendment.value;
      }
      break;
    }
    case 'set_guardrail_window': {
      const g = terms.guardrails.find((x) => x.metric === amendment.metric);
      if (!g) return refuse('terms.guardrail_missing', `the contract has no ${amendment.metric} guardrail`);
      if (g.windowSeconds !== amendment.windowSeconds) {
        diff.push(
          `${METRIC_LABEL[g.metric]} window: ${durationText(g.windowSeconds)} → ${durationText(amendment.windowSeconds)}`,
        );
        g.windowSeconds = amendment.windowSeconds;
      }
      break;
    }
    case 'set_first_canary_step': {
      const old = terms.ramp.steps;
      const template = old[0] ?? {
        trafficPercent: 0,
        minDurationSeconds: lp.stepMinDurationSeconds,
        minRequests: lp.stepMinRequests,
      };
      const next: RampStep[] =
        amendment.percent >= 100
          ? []
          : [
              { ...template, trafficPercent: amendment.percent },
              ...old.filter((s) => s.trafficPercent > amendment.percent),
            ];
      if (!sameSteps(old, next)) {
        diff.push(`first canary step: ${firstLabel(old)} → ${firstLabel(next)}`);
        if (
          old.length !== next.length ||
          old.slice(1).some((s, i) => s.trafficPercent !== next[i + 1]?.trafficPercent)
        ) {
          diff.push(`ramp: ${rampLabel(old)} → ${rampLabel(next)}`);
        }
        terms.ramp.steps = next;
      }
      break;
    }
    case 'set_ramp_steps': {
      const percents = [...amendment.steps];
      while (percents.length > 0 && percents[percents.length - 1] === 100) percents.pop();
      if (percents.some((p, i) => p >= 100 || (i > 0 && p <= (percents[i - 1] as number)))) {
        return refuse(
          'terms.ramp_invalid',
          'ramp steps must be strictly increasing percentages below 100 (full rollout follows the last step)',
        );
      }
      const old = terms.ramp.steps;
      const next = percents.map((p, i) => ({
        trafficPercent: p,
        minDurationSeconds: (old[i] ?? old[old.length - 1])?.minDurationSeconds ?? lp.stepMinDurationSeconds,
        minRequests: (old[i] ?? old[old.length - 1])?.minRequests ?? lp.stepMinRequests,
      }));
      if (!sameSteps(old, next)) {
        diff.push(`ramp: ${rampLabel(old)} → ${rampLabel(next)}`);
        terms.ramp.steps = next;
      }
      break;
    }
    case 'set_step_duration': {
      const old = terms.ramp.steps;
      if (old.length === 0)
        return refuse('terms.no_canary_steps', 'the ramp has no canary step whose duration could change');
      if (old.some((s) => s.minDurationSeconds !== amendment.seconds)) {
        diff.push(`canary step duration: ${durationLabel(old)} → ${durationText(amendment.seconds)}`);
        terms.ramp.steps = old.map((s) => ({ ...s, minDurationSeconds: amendment.seconds }));
      }
      break;
    }
    case 'set_bake_time': {
      if (terms.ramp.bakeTimeSeconds !== amendment.seconds) {
        diff.push(
          `bake time at 100 %: ${durationText(terms.ramp.bakeTimeSeconds)} → ${durationText(amendment.seconds)}`,
        );
        terms.ramp.bakeTimeSeconds = amendment.seconds;
      }
      break;
    }
    case 'add_validator': {
      const existing = terms.validators.find((v) => v.kind === amendment.validator);
      if (amendment.validator === 'canary' && terms.ramp.steps.length === 0) {
        const percents = canaryStepsForAddedCanary(contract, policy);
        const added = rampFromSteps(percents, lp, policy).steps;
        diff.push(`ramp: ${rampLabel([])} → ${rampLabel(added)}`);
        terms.ramp.steps = added;
      }
      if (!existing) {
        diff.push(`validator ${words(amendment.validator)}: none → required`);
        terms.validators = sortValidators([
          ...terms.validators,
          buildValidator(amendment.validator, 'required', contract.deployment, contract.rollbackPlan, terms.ramp),
        ]);
      } else if (existing.requirement !== 'required') {
        diff.push(`validator ${words(amendment.validator)}: ${words(existing.requirement)} → required`);
        existing.requirement = 'required';
      }
      if (amendment.validator === 'canary') refreshCanaryDescription(contract, terms);
      break;
    }
    case 'remove_validator': {
      const existing = terms.validators.find((v) => v.kind === amendment.validator);
      if (existing) {
        diff.push(`validator ${words(amendment.validator)}: ${words(existing.requirement)} → removed`);
        terms.validators = terms.validators.filter((v) => v.kind !== amendment.validator);
      }
      break;
    }
  }
  if (
    amendment.kind === 'set_first_canary_step' ||
    amendment.kind === 'set_ramp_steps' ||
    amendment.kind === 'set_step_duration'
  ) {
    refreshCanaryDescription(contract, terms);
  }
  return { ok: true, terms, diff };
}

/** A canary added to a contract without canary steps adopts the ramp of the nearest higher level that has some. */
function canaryStepsForAddedCanary(contract: Contract, policy: Policy): number[] {
  for (const level of RISK_LEVELS) {
    if (levelRank(level) < levelRank(contract.risk.level)) continue;
    const steps = policy.levels[level].rampSteps;
    if (steps.length > 0) return [...steps];
  }
  return [10];
}

function refreshCanaryDescription(contract: Contract, terms: ContractTerms): void {
  const canary = terms.validators.find((v) => v.kind === 'canary');
  if (!canary) return;
  const fresh = buildValidator('canary', canary.requirement, contract.deployment, contract.rollbackPlan, terms.ramp);
  canary.description = fresh.description;
}

function negotiatedBasis(g: Guardrail, justification: string): string {
  const why = justification.replace(/\s+/g, ' ').trim();
  const clipped = why.length > 160 ? `${why.slice(0, 157)}...` : why;
  return `negotiated from ${formatNumber(g.threshold)} ${g.unit}${clipped ? ` ("${clipped}")` : ''}; drafted as: ${g.basis.replace(/^negotiated from .*?; drafted as: /, '')}`;
}

function sameSteps(a: RampStep[], b: RampStep[]): boolean {
  return (
    a.length === b.length &&
    a.every((s, i) => {
      const o = b[i];
      return (
        o !== undefined &&
        o.trafficPercent === s.trafficPercent &&
        o.minDurationSeconds === s.minDurationSeconds &&
        o.minRequests === s.minRequests
      );
    })
  );
}

function firstLabel(steps: RampStep[]): string {
  const first = steps[0];
  return first ? `${formatNumber(first.trafficPercent)} %` : 'none (straight to 100 %)';
}

export function rampLabel(steps: RampStep[]): string {
  return `${[...steps.map((s) => formatNumber(s.trafficPercent)), '100'].join('/')} %`;
}

function durationLabel(steps: RampStep[]): string {
  const distinct = [...new Set(steps.map((s) => s.minDurationSeconds))];
  return distinct.map(durationText).join('/');
}

/** Identifiers in diff lines read as words: "rollback_plan" → "rollback plan", "not_required" → "not required". */
function words(identifier: string): string {
  return identifier.replace(/_/g, ' ');
}
