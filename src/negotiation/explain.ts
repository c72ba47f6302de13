/**
 * Deterministic explanations of a contract's factors and terms, quoting the contract's own numbers and evidence.
 * Used by the offline negotiator and as the result of the model's `explain` tool, so both modes explain alike.
 */

import { currentExposure } from '../domain/exposure.js';
import {
  type Contract,
  type GuardrailMetric,
  RISK_FACTORS,
  type RiskFactor,
  type ValidatorKind,
} from '../domain/model.js';
import { formatDuration, METRIC_LABEL, num, rampText, VALIDATOR_LABEL } from './describe.js';

export const EXPLAIN_TERMS = [
  'error_rate',
  'latency_p95',
  'latency_p99',
  'window',
  'first_step',
  'ramp',
  'step_duration',
  'bake_time',
  'canary',
  'rollback_plan',
  'feature_flag',
  'tests',
  'approvals',
  'floor',
  'minimum_detectable_effect',
  'guardrail',
  'validator',
  'confidence',
] as const;
export type ExplainTerm = (typeof EXPLAIN_TERMS)[number];

export type ExplainSubject =
  | { kind: 'risk' }
  | { kind: 'factor'; factor: RiskFactor }
  | { kind: 'term'; term: ExplainTerm }
  | { kind: 'contract' };

const FACTOR_LABEL: Record<RiskFactor, string> = {
  caching: 'caching',
  database_migration: 'database schema / migration',
  api_contract: 'API contract',
  traffic_pattern: 'traffic pattern',
  dependency_update: 'dependency update',
  permissions_authz: 'permissions / authorization',
  encryption_secrets: 'encryption / secrets',
  networking_load_balancing: 'networking / load balancing',
  storage: 'storage',
  configuration_flags: 'configuration / feature flags',
  infrastructure_as_code: 'infrastructure as code',
  change_size_spread: 'change size and spread',
  fixes_tracked_issue: 'fixes a tracked issue',
};

export function factorLabel(factor: RiskFactor): string {
  return FACTOR_LABEL[factor];
}

export function isRiskFactor(value: string): value is RiskFactor {
  return (RISK_FACTORS as readonly string[]).includes(value);
}

export function explain(contract: Contract, subject: ExplainSubject): string {
  switch (subject.kind) {
    case 'risk':
      return explainRisk(contract);
    case 'factor':
      return explainFactor(contract, subject.factor);
    case 'term':
      return explainTerm(contract, subject.term);
    case 'contract':
      return explainContract(contract);
  }
}

function evidenceText(e: { source: string; file?: string; line?: number; text: string }): string {
  const where = e.file ? ` in \`${e.file}${e.line !== undefined ? `:${e.line}` : ''}\`` : '';
  return `${e.source.replace('_', ' ')} “${clip(e.text, 120)}”${where}`;
}

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

export function explainRisk(contract: Contract): string {
  const r = contract.risk;
  const lines = [
    `**${contract.deployment.serviceName} ${contract.deployment.version}** is rated **${r.level} risk**: score ${num(r.score)}/100 (critical ≥ 70, high ≥ 50, medium ≥ 30), confidence ${num(Math.round(r.confidence * 100))} %.`,
  ];
  const findings = [...r.findings].sort((a, b) => b.points - a.points);
  if (findings.length === 0) {
    lines.push('No risk factor was detected; the score comes from the change size alone.');
  } else {
    lines.push('What drives it:');
    for (const f of findings) {
      const ev = f.evidence[0];
      lines.push(`• ${factorLabel(f.factor)} (+${num(f.points)}): ${f.summary}${ev ? ` — ${evidenceText(ev)}` : ''}`);
    }
  }
  const p = r.predictedImpact;
  lines.push(
    `Predicted impact if it goes wrong: error rate +${num(p.errorRateIncreasePercent)} %, p95 +${num(p.p95IncreasePercent)} %, p99 +${num(p.p99IncreasePercent)} %.`,
  );
  // The current terms, not the share assumed at assessment: the first step may have been amended since.
  const exposure = currentExposure(contract);
  if (exposure.canary) {
    lines.push(
      `At the first canary step (${num(exposure.sharePercent)} %) about ${num(exposure.requestsPerMinute)} requests/min and ~${num(exposure.estimatedUsers)} users would see it.`,
    );
  }
  return lines.join('\n');
}

export function explainFactor(contract: Contract, factor: RiskFactor): string {
  const f = contract.risk.findings.find((x) => x.factor === factor);
  if (!f) {
    return `The ${factorLabel(factor)} factor was not detected in this change, so it adds nothing to the score (${num(contract.risk.score)}/100).`;
  }
  const lines = [
    `**${factorLabel(factor)}** adds ${num(f.points)} points to the score (${num(contract.risk.score)}/100): ${f.summary}.`,
  ];
  if (f.evidence.length > 0) {
    lines.push('Evidence:');
    for (const e of f.evidence.slice(0, 5)) lines.push(`• ${evidenceText(e)}`);
    if (f.evidence.length > 5) lines.push(`• … and ${f.evidence.length - 5} more`);
  }
  const tips = contract.suggestions.filter((s) => s.factor === factor);
  for (const s of tips) lines.push(`Mitigation: ${s.text}`);
  return lines.join('\n');
}

function guardrailText(contract: Contract, metric: GuardrailMetric): string {
  const g = contract.terms.guardrails.find((x) => x.metric === metric);
  if (!g) return `This contract has no ${METRIC_LABEL[metric]} guardrail.`;
  return `Here the ${METRIC_LABEL[metric]} guardrail is < ${num(g.threshold)} ${g.unit} over a ${formatDuration(g.windowSeconds)} window, judged only with at least ${num(g.minimumEvidence.minRequests)} requests over ${g.minimumEvidence.minIntervals} intervals. Why this number: ${g.basis}.`;
}

function validatorText(contract: Contract, kind: ValidatorKind): string {
  const v = contract.terms.validators.find((x) => x.kind === kind);
  if (!v) return `This contract does not list a ${VALIDATOR_LABEL[kind]} validator.`;
  const state = v.satisfied === null ? 'not known yet' : v.satisfied ? 'satisfied' : 'not satisfied yet';
  return `Here the ${VALIDATOR_LABEL[kind]} validator is ${v.requirement.replace('_', ' ')} (${state}): ${v.description}`;
}

const GLOSSARY: Record<ExplainTerm, string> = {
  error_rate: 'The error-rate guardrail is the share of failed requests the canary may show before the rollout fails.',
  latency_p95:
    'p95 latency is the response time that 95 % of requests beat: one request in twenty is slower. It shows slowdowns most users feel.',
  latency_p99:
    'p99 latency is the response time that 99 % of requests beat: only one request in a hundred is slower. It catches tail slowdowns such as lock waits or cold caches.',
  window: 'A guardrail window is the span of recent traffic each guardrail is judged over.',
  first_step: 'The first canary step is the share of traffic the new version gets first, before anything is proven.',
  ramp: 'The ramp is the sequence of canary traffic shares the rollout walks through before 100 %.',
  step_duration: 'Each canary step must run for a minimum time (and number of requests) before the next one.',
  bake_time: 'Bake time is how long the new version runs at 100 % under watch before the rollout counts as promoted.',
  canary: 'A canary sends a small share of traffic to the new version first and compares it with the stable version.',
  rollback_plan: 'The rollback plan is the ordered list of steps that restore the previous version.',
  feature_flag: 'A feature flag lets the new code path be switched off without a redeploy.',
  tests: 'Tests are the automated checks that must pass before the rollout starts.',
  approvals: 'Approvals are the sign-offs needed on the contract card before the rollout can start.',
  floor:
    'The policy floor is the set of minimum terms no negotiation can loosen; I can tighten anything, but only loosen terms down to the floor.',
  minimum_detectable_effect:
    'The minimum detectable effect is the smallest error-rate increase the first canary step can tell apart from noise with its traffic and duration.',
  guardrail: 'A guardrail is a metric limit the rollout is judged against; breaching it fails the step and rolls back.',
  validator: 'Validators are the proofs the contract requires: tests, a canary, a rollback plan, a feature flag.',
  confidence:
    'Confidence says how much evidence the risk score rests on: diffs and paths count more than descriptions.',
};

export function explainTerm(contract: Contract, term: ExplainTerm): string {
  const t = contract.terms;
  const first = t.ramp.steps[0];
  const specific = (): string => {
    switch (term) {
      case 'error_rate':
      case 'latency_p95':
      case 'latency_p99':
        return guardrailText(contract, term);
      case 'window':
        return `Here: ${t.guardrails.map((g) => `${METRIC_LABEL[g.metric]} ${formatDuration(g.windowSeconds)}`).join(', ')}.`;
      case 'first_step':
        return first
          ? `Here the first step is ${num(first.trafficPercent)} % for at least ${formatDuration(first.minDurationSeconds)} and ${num(first.minRequests)} requests (${contract.risk.level} risk). ${contract.canaryEvidence.note}`
          : 'This contract has no canary steps: it goes straight to 100 % with a bake period.';
      case 'ramp':
        return `Here: ${rampText(contract)}, then ${formatDuration(t.ramp.bakeTimeSeconds)} bake; the rollout fails after ${t.ramp.consecutiveFailureLimit} consecutive or ${t.ramp.cumulativeFailureLimit} total failed checks.`;
      case 'step_duration':
        return first
          ? `Here each step runs at least ${formatDuration(first.minDurationSeconds)} and ${num(first.minRequests)} requests, checked every ${formatDuration(t.ramp.analysisIntervalSeconds)}.`
          : 'This contract has no canary steps.';
      case 'bake_time':
        return `Here the bake time is ${formatDuration(t.ramp.bakeTimeSeconds)}.`;
      case 'canary':
      case 'rollback_plan':
      case 'feature_flag':
      case 'tests':
        return validatorText(contract, term);
      case 'approvals':
        return `Here ${t.approvalsRequired} approval(s) are needed${t.excludeAuthor ? ', and the author cannot approve' : ''}. Approvals are set by policy and happen on the card, not in this chat.`;
      case 'floor':
        return `This contract was drafted under policy ${contract.policyVersion} for a ${contract.risk.level}-risk change; when I refuse a change I name the floor rule it would break.`;
      case 'minimum_detectable_effect': {
        const c = contract.canaryEvidence;
        return `Here the first step can detect an error-rate increase of ${num(c.minimumDetectableEffectPercent)} percentage points; it needs ${num(c.requestsNeededAtFirstStep)} requests (about ${formatDuration(Math.round(c.secondsNeededAtFirstStep))}). ${c.adequate ? 'That is adequate.' : 'That is NOT adequate with the planned duration.'} ${c.note}`;
      }
      case 'guardrail':
        return `Here: ${t.guardrails.map((g) => `${METRIC_LABEL[g.metric]} < ${num(g.threshold)} ${g.unit}`).join(', ')}.`;
      case 'validator':
        return `Here: ${t.validators.map((v) => `${VALIDATOR_LABEL[v.kind]} (${v.requirement.replace('_', ' ')})`).join(', ')}.`;
      case 'confidence':
        return `Here the confidence is ${num(Math.round(contract.risk.confidence * 100))} %.`;
    }
  };
  return `${GLOSSARY[term]} ${specific()}`;
}

export function explainContract(contract: Contract): string {
  const t = contract.terms;
  return [
    `Contract ${contract.id} revision ${contract.revision} (${contract.risk.level} risk, score ${num(contract.risk.score)}/100):`,
    `• guardrails: ${t.guardrails.map((g) => `${METRIC_LABEL[g.metric]} < ${num(g.threshold)} ${g.unit} / ${formatDuration(g.windowSeconds)}`).join('; ')}`,
    `• ramp: ${rampText(contract)}, bake ${formatDuration(t.ramp.bakeTimeSeconds)}`,
    `• validators: ${t.validators.map((v) => `${VALIDATOR_LABEL[v.kind]} (${v.requirement.replace('_', ' ')})`).join(', ')}`,
    `• approvals: ${t.approvalsRequired}${t.excludeAuthor ? ', not the author' : ''}`,
  ].join('\n');
}
