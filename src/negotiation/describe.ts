/** Plain-text renderings of terms, amendments and decisions shared by both negotiators and the prompt builder. */
import type { Amendment, Contract, GuardrailMetric, ValidatorKind } from '../domain/model.js';
import type { Proposal } from './types.js';

export const METRIC_LABEL: Record<GuardrailMetric, string> = {
  error_rate: 'error-rate',
  latency_p95: 'p95 latency',
  latency_p99: 'p99 latency',
};

export const VALIDATOR_LABEL: Record<ValidatorKind, string> = {
  tests: 'tests',
  canary: 'canary',
  rollback_plan: 'rollback plan',
  feature_flag: 'feature flag',
};

/** Shortest decimal form without float noise: 0.30000000000000004 → "0.3". */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number.parseFloat(x.toPrecision(12)));
}

export function unitFor(metric: GuardrailMetric): '%' | 'ms' {
  return metric === 'error_rate' ? '%' : 'ms';
}

export function formatValue(metric: GuardrailMetric, value: number): string {
  return `${num(value)} ${unitFor(metric)}`;
}

/** 45 → "45 s", 600 → "10 min", 5400 → "1 h 30 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60 || seconds % 60 !== 0) return `${num(seconds)} s`;
  const minutes = seconds / 60;
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

export function describeAmendment(a: Amendment): string {
  switch (a.kind) {
    case 'set_guardrail_threshold':
      return `${METRIC_LABEL[a.metric]} guardrail → < ${formatValue(a.metric, a.value)}`;
    case 'set_guardrail_window':
      return `${METRIC_LABEL[a.metric]} window → ${formatDuration(a.windowSeconds)}`;
    case 'set_first_canary_step':
      return `first canary step → ${num(a.percent)} %`;
    case 'set_ramp_steps':
      return `canary ramp → ${a.steps.map((s) => `${num(s)} %`).join(' → ')}`;
    case 'set_step_duration':
      return `minimum time per canary step → ${formatDuration(a.seconds)}`;
    case 'set_bake_time':
      return `bake time at 100 % → ${formatDuration(a.seconds)}`;
    case 'add_validator':
      return `require the ${VALIDATOR_LABEL[a.validator]} validator`;
    case 'remove_validator':
      return `drop the ${VALIDATOR_LABEL[a.validator]} validator`;
  }
}

/**
 * The engine-authored part of every reply: one line per proposal, accepted with its diff or refused with the floor
 * rule. The model's own prose never replaces this, so a reply cannot claim a decision the engine did not make.
 */
export function describeDecisions(
  proposals: readonly Proposal[],
  acceptedDiff: readonly string[],
  contract?: Contract,
): string[] {
  const lines: string[] = [];
  for (const p of proposals) {
    if (p.decision.allowed) {
      lines.push(`✅ Accepted: ${describeAmendment(p.amendment)}.`);
    } else {
      const now = contract ? currentTermValue(contract, p.amendment) : undefined;
      const stays = now && p.decision.rule !== 'amendment.no_change' ? ` It stays at ${now}.` : '';
      lines.push(
        `⛔ Refused: ${describeAmendment(p.amendment)}: ${p.decision.message} (rule \`${p.decision.rule}\`).${stays}`,
      );
    }
  }
  if (acceptedDiff.length > 0) {
    lines.push('', 'Changes:', ...acceptedDiff.map((d) => `• ${d}`));
  }
  return lines;
}

/** Current value of the term an amendment touches, for "currently …" hints. */
export function currentTermValue(contract: Contract, a: Amendment): string | undefined {
  const t = contract.terms;
  switch (a.kind) {
    case 'set_guardrail_threshold': {
      const g = t.guardrails.find((x) => x.metric === a.metric);
      return g ? `${num(g.threshold)} ${g.unit}` : undefined;
    }
    case 'set_guardrail_window': {
      const g = t.guardrails.find((x) => x.metric === a.metric);
      return g ? formatDuration(g.windowSeconds) : undefined;
    }
    case 'set_first_canary_step': {
      const s = t.ramp.steps[0];
      return s ? `${num(s.trafficPercent)} %` : 'no canary';
    }
    case 'set_ramp_steps':
      return rampText(contract);
    case 'set_step_duration': {
      const s = t.ramp.steps[0];
      return s ? formatDuration(s.minDurationSeconds) : undefined;
    }
    case 'set_bake_time':
      return formatDuration(t.ramp.bakeTimeSeconds);
    case 'add_validator':
    case 'remove_validator': {
      const v = t.validators.find((x) => x.kind === a.validator);
      return v ? v.requirement.replace('_', ' ') : 'not listed';
    }
  }
}

export function rampText(contract: Contract): string {
  const steps = contract.terms.ramp.steps;
  if (steps.length === 0) return 'straight to 100 % (no canary steps)';
  return `${steps.map((s) => `${num(s.trafficPercent)} %`).join(' → ')} → 100 %`;
}
