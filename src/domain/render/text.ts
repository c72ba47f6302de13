/**
 * Plain-text contract, for terminals and logs. Keeps the prior system's section headings (RISK ASSESSMENT,
 * GUARDRAILS (SLO PROTECTION), VALIDATORS (PROOF REQUIRED), ROLLBACK CAPABILITY, SUGGESTED IMPROVEMENTS) and adds
 * each factor's evidence, the ramp, the canary evidence, approvals, amendments and the revision and content hash.
 * Deterministic: the same contract always renders the same text.
 */

import { formatNumber as n } from '../contractTerms.js';
import { durationText } from '../durationText.js';
import type { Contract, Evidence, Guardrail, RampSchedule, Validator } from '../model.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS } from '../rollout/stateMachine.js';

const RULE = '='.repeat(60);
const MAX_EVIDENCE = 3;

export function renderContractText(contract: Contract): string {
  const d = contract.deployment;
  const r = contract.risk;
  const lines: string[] = [];
  const push = (...xs: string[]) => lines.push(...xs);

  push(RULE, 'DEPLOYMENT CONTRACT', RULE, '');
  push(`Contract:   ${contract.id} (revision ${contract.revision}, ${contract.state.toUpperCase()})`);
  push(`Deployment: ${d.deploymentId}: ${d.serviceName} ${d.version} to ${d.environment}`);
  push(`Hash:       sha256:${contract.contentHash}`);
  push(`Policy:     ${contract.policyVersion}`);
  push(`Created:    ${contract.createdAt}`);
  push('');

  push('RISK ASSESSMENT:');
  push(`  Level: ${r.level.toUpperCase()}`);
  push(`  Score: ${r.score.toFixed(1)}/100`);
  push(`  Confidence: ${Math.round(r.confidence * 100)}%`);
  push(
    `  Predicted impact: error rate +${n(r.predictedImpact.errorRateIncreasePercent)} %, p95 +${n(r.predictedImpact.p95IncreasePercent)} %, p99 +${n(r.predictedImpact.p99IncreasePercent)} %`,
  );
  push(
    `  In the first canary step: ${n(r.affected.canarySharePercent)} % of traffic, about ${n(r.affected.requestsPerMinuteInCanary)} requests/min, about ${n(r.affected.estimatedUsersInCanary)} users`,
  );
  if (r.findings.length === 0) {
    push('  Factors: none detected');
  } else {
    push('  Factors:');
    for (const f of r.findings) {
      push(`    - ${f.factor} (+${n(f.points)}): ${oneLine(f.summary, 200)}`);
      for (const e of f.evidence.slice(0, MAX_EVIDENCE)) push(`        evidence: ${describeEvidence(e)}`);
      if (f.evidence.length > MAX_EVIDENCE) push(`        (+${f.evidence.length - MAX_EVIDENCE} more)`);
    }
  }
  push(`  Model: ${r.modelVersion}`);
  push('');

  push('GUARDRAILS (SLO PROTECTION):');
  for (const g of contract.terms.guardrails) {
    push(`  - ${guardrailLine(g)}`);
    push(`      basis: ${g.basis}`);
  }
  push('');

  push('TRAFFIC RAMP:');
  push(`  ${rampLine(contract.terms.ramp)}`);
  for (const s of contract.terms.ramp.steps) {
    push(`    ${n(s.trafficPercent)} %: at least ${s.minDurationSeconds}s and ${s.minRequests} requests`);
  }
  push(`    100 %: bake ${contract.terms.ramp.bakeTimeSeconds}s`);
  push(
    `  Analysis every ${contract.terms.ramp.analysisIntervalSeconds}s; roll back after ${contract.terms.ramp.consecutiveFailureLimit} consecutive or ${contract.terms.ramp.cumulativeFailureLimit} total failed intervals`,
  );
  const planned = plannedTimeLine(contract);
  if (planned) push(`  ${planned}`);
  push('');

  const ev = contract.canaryEvidence;
  push('CANARY EVIDENCE:');
  push(`  ${canaryEvidenceLine(contract)}`);
  push(`  ${ev.note}`);
  push('');

  push('VALIDATORS (PROOF REQUIRED):');
  for (const v of contract.terms.validators) {
    push(`  - ${v.kind}: ${v.requirement.replace('_', ' ').toUpperCase()} [${satisfiedLabel(v)}]`);
    push(`    ${v.description}`);
  }
  push('');

  push('APPROVALS:');
  push(`  ${approvalLine(contract)}`);
  push('');

  const plan = contract.rollbackPlan;
  push('ROLLBACK CAPABILITY:');
  push(`  Possible: ${plan.possible ? 'True' : 'False'}`);
  push(`  Target: ${plan.targetKind}`);
  push(`  Window: ${plan.windowSeconds}s`);
  push(`  Steps: ${plan.steps.length}`);
  push(`  Estimated time: ${plan.totalSeconds}s`);
  push(`  Data-loss risk: ${plan.dataLossRisk}`);
  for (const s of plan.steps) {
    const after = s.dependsOn.length > 0 ? ` (after ${s.dependsOn.join(', ')})` : '';
    push(`    ${s.order}. ${s.description}${after}, ~${s.expectedDurationSeconds}s`);
    push(`       ${s.command ? `$ ${s.command}` : '(manual step)'}`);
    push(`       check: ${s.validation}`);
  }
  for (const reason of plan.reasons) push(`  * ${reason}`);

  if (contract.suggestions.length > 0) {
    push('', 'SUGGESTED IMPROVEMENTS:');
    for (const s of contract.suggestions) push(`  - ${s.factor ? `[${s.factor}] ` : ''}${s.text}`);
  }

  if (contract.amendments.length > 0) {
    push('', 'AMENDMENTS:');
    for (const a of contract.amendments) {
      push(`  - revision ${a.revision} by ${a.actor}:`);
      for (const line of a.diff) push(`      ${line}`);
    }
  }
  push('', RULE);
  return `${lines.join('\n')}\n`;
}

export function guardrailLine(g: Guardrail): string {
  return `${g.metric}: ${g.comparator} ${n(g.threshold)} ${g.unit} over ${g.windowSeconds}s (min ${g.minimumEvidence.minRequests} requests, ${g.minimumEvidence.minIntervals} intervals)`;
}

export function rampLine(ramp: RampSchedule): string {
  const steps = ramp.steps.map((s) => `${n(s.trafficPercent)} %`);
  return steps.length === 0
    ? `no canary: straight to 100 %, bake ${ramp.bakeTimeSeconds}s`
    : `${[...steps, '100 %'].join(' → ')}, bake ${ramp.bakeTimeSeconds}s`;
}

/** The rollout's planned time as the contract states it; null for a contract drafted before it was stated. */
export function plannedTimeLine(contract: Contract): string | null {
  const planned = contract.canaryEvidence.plannedSeconds;
  if (planned === undefined) return null;
  return `Planned: about ${durationText(planned)} for a canary as healthy as today, its first PASS's evidence included; a rollout still undecided ${durationText(DEFAULT_PROGRESS_DEADLINE_SECONDS)} later asks a person`;
}

export function canaryEvidenceLine(contract: Contract): string {
  const ev = contract.canaryEvidence;
  const needs =
    ev.requestsNeededAtFirstStep < 0
      ? 'the guardrail leaves no margin over today'
      : `${ev.requestsNeededAtFirstStep} requests${ev.secondsNeededAtFirstStep < 0 ? ' (time unknown)' : ` (about ${ev.secondsNeededAtFirstStep}s)`} to see a canary at the guardrail`;
  return `${ev.adequate ? 'ADEQUATE' : 'NOT ADEQUATE'}: needs ${needs}; smallest detectable error-rate increase in the step: ${n(ev.minimumDetectableEffectPercent)} pp`;
}

export function approvalLine(contract: Contract): string {
  const count = contract.terms.approvalsRequired;
  return `${count} approval${count === 1 ? '' : 's'} required${contract.terms.excludeAuthor ? ', not the author' : ''}`;
}

export function satisfiedLabel(v: Validator): string {
  return v.satisfied === null ? 'pending' : v.satisfied ? 'satisfied' : 'NOT satisfied';
}

export function describeEvidence(e: Evidence): string {
  const where = e.file === undefined ? '' : e.line === undefined ? e.file : `${e.file}:${e.line}`;
  const text = oneLine(e.text);
  switch (e.source) {
    case 'diff':
      return `"${text}" at ${where || 'the diff'}`;
    case 'path':
      return where ? `${where} (${text})` : text;
    case 'risk_tag':
      return `risk tag "${text}"${where ? ` on ${where}` : ''}`;
    case 'description':
      return `"${text}" in the description${where ? ` of ${where}` : ''}`;
    case 'commit_message':
      return `"${text}" in a commit message`;
    case 'metrics':
      return text;
  }
}

/** Untrusted text (descriptions, diffs) never breaks the layout: one line, clipped. */
export function oneLine(text: string, max = 120): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}
