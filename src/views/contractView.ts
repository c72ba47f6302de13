/**
 * The contract card's view model: a pure function from a Contract (plus its approvals and decision) to the flat,
 * already-formatted data the Adaptive Card templates bind to. Every string is clipped and made template-safe here, and
 * every list is capped, so the expanded card stays far below Teams' size limit whatever the contract holds.
 */

import { isOpenForDecision } from '../domain/decision.js';
import { currentExposure } from '../domain/exposure.js';
import type {
  Contract,
  ContractState,
  Evidence,
  Guardrail,
  GuardrailMetric,
  Requirement,
  RiskLevel,
  RollbackStep,
  Validator,
  ValidatorKind,
} from '../domain/model.js';
import { FACTOR_LABELS } from '../domain/risk/factors.js';
import { count, duration, num, oneLine, percent, plural, safeText } from './format.js';

/** One approval already given on the current revision. */
export interface ApprovalEntry {
  actorName: string;
  /** ISO-8601. */
  at: string;
}

/** The final decision on a revision, when there is one. */
export interface DecisionInfo {
  outcome: 'approved' | 'rejected';
  /** Display names of whoever decided (the approvers, or the rejecter). */
  by: string[];
  at: string;
  reason?: string;
}

export interface ContractCardInput {
  contract: Contract;
  approvals?: ApprovalEntry[];
  decision?: DecisionInfo;
  /** A short line shown at the top, e.g. "You clicked on revision 1; this is revision 2." */
  notice?: string;
  /** Details view: every factor with more evidence, every rollback step. */
  detailed?: boolean;
  /** Set when a newer revision replaced this one (the card then carries no buttons). */
  supersededBy?: number;
  /** Display name of whoever asked for the assessment. */
  requestedBy?: string;
  /** Display names by user id, for the amendment lines (amendments record the id of whoever made them). */
  people?: Readonly<Record<string, string>>;
}

export interface FactView {
  title: string;
  value: string;
}

export interface FactorView {
  label: string;
  points: string;
  evidence: string;
}

export interface GuardrailView {
  metric: string;
  threshold: string;
  window: string;
  evidence: string;
}

export interface ValidatorView {
  label: string;
  status: string;
  color: 'attention' | 'default';
}

export interface RollbackStepView {
  title: string;
  /** The whole step on one line (command, duration, check), for surfaces without a monospace block. */
  detail: string;
  /** The command to run, without any markup; '' for a manual step. */
  command: string;
  hasCommand: boolean;
  /** Duration and check, shown under the command. */
  check: string;
}

export interface ContractView {
  contractId: string;
  revision: number;
  title: string;
  subtitle: string;
  risk: {
    badge: string;
    /** The plain level, e.g. "critical", for sentences such as "Risk: critical". */
    level: string;
    scoreLine: string;
    style: string;
    color: string;
  };
  hasNotice: boolean;
  notice: string;
  facts: FactView[];
  factors: FactorView[];
  hasMoreFactors: boolean;
  moreFactors: string;
  hasFactors: boolean;
  guardrails: GuardrailView[];
  validators: ValidatorView[];
  ramp: string;
  canaryEvidence: string;
  canaryEvidenceColor: string;
  rollback: string;
  rollbackSteps: RollbackStepView[];
  hasRollbackSteps: boolean;
  suggestions: { text: string }[];
  hasSuggestions: boolean;
  amendments: { text: string }[];
  hasAmendments: boolean;
  revisionLine: string;
  approvalLine: string;
  stateLabel: string;
  hasDecision: boolean;
  decisionLine: string;
  decisionStyle: string;
  hasReason: boolean;
  reason: string;
  /** Approve / Reject / Negotiate are offered while the revision is open for decision. */
  showDecisionButtons: boolean;
  showDetailsButton: boolean;
  detailed: boolean;
}

export const CARD_LIMITS = {
  factors: 8,
  factorsDetailed: 12,
  evidencePerFactor: 2,
  evidencePerFactorDetailed: 4,
  suggestions: 5,
  amendmentLines: 6,
  rollbackSteps: 12,
} as const;

/**
 * The header's container style carries the level; the badge text stays the default (dark) colour, because in Teams'
 * palette a coloured text on the same-coloured background is unreadable (warning on warning is about 1.2:1).
 */
const LEVEL_STYLE: Record<RiskLevel, { style: string; color: string }> = {
  critical: { style: 'attention', color: 'default' },
  high: { style: 'warning', color: 'default' },
  medium: { style: 'accent', color: 'default' },
  low: { style: 'good', color: 'default' },
};

/** Evidence written by the engine itself (not user text) may be longer before it is clipped. */
const EVIDENCE_TEXT_LIMIT = 80;
const GENERATED_EVIDENCE_TEXT_LIMIT = 160;

const METRIC_LABEL: Record<GuardrailMetric, string> = {
  error_rate: 'Error rate',
  latency_p95: 'p95 latency',
  latency_p99: 'p99 latency',
};

const VALIDATOR_LABEL: Record<ValidatorKind, string> = {
  tests: 'Tests',
  canary: 'Canary',
  rollback_plan: 'Rollback plan',
  feature_flag: 'Feature flag',
};

const REQUIREMENT_LABEL: Record<Requirement, string> = {
  required: 'required',
  recommended: 'recommended',
  not_required: 'optional',
};

export const STATE_LABEL: Record<ContractState, string> = {
  draft: 'awaiting approval',
  negotiating: 'awaiting approval (negotiated)',
  approved: 'approved',
  rejected: 'rejected',
  rolling_out: 'rolling out',
  promoted: 'promoted',
  rolled_back: 'rolled back',
  aborted: 'aborted',
};

export function contractView(input: ContractCardInput): ContractView {
  const { contract } = input;
  const d = contract.deployment;
  const risk = contract.risk;
  const detailed = input.detailed === true;
  const superseded = input.supersededBy !== undefined;

  const findings = [...risk.findings].sort((a, b) => b.points - a.points || a.factor.localeCompare(b.factor));
  const maxFactors = detailed ? CARD_LIMITS.factorsDetailed : CARD_LIMITS.factors;
  const shown = findings.slice(0, maxFactors);
  const hidden = findings.length - shown.length;
  const evidenceCap = detailed ? CARD_LIMITS.evidencePerFactorDetailed : CARD_LIMITS.evidencePerFactor;

  const approvals = input.approvals ?? [];
  const notice = superseded
    ? `Superseded by revision ${input.supersededBy}: decide on the newest card in this thread.`
    : (input.notice ?? '');

  const facts: FactView[] = [
    { title: 'Service', value: oneLine(d.serviceName, 128) },
    { title: 'Version', value: oneLine(d.previousVersion ? `${d.previousVersion} → ${d.version}` : d.version, 128) },
    { title: 'Environment', value: oneLine(d.environment, 64) },
    { title: 'Change', value: changeLine(contract) },
    { title: 'Exposure', value: exposureLine(contract) },
  ];
  if (d.ownerTeam) facts.push({ title: 'Owner', value: oneLine(d.ownerTeam, 120) });
  if (input.requestedBy) facts.push({ title: 'Requested by', value: oneLine(input.requestedBy, 120) });

  const decision = input.decision;
  return {
    contractId: contract.id,
    revision: contract.revision,
    title: oneLine(`${d.serviceName} ${d.version} → ${d.environment}`, 160),
    subtitle: oneLine(`Deployment contract ${contract.id} · revision ${contract.revision}`, 200),
    risk: {
      badge: `${risk.level.toUpperCase()} RISK`,
      level: risk.level,
      scoreLine: `score ${num(round1(risk.score))}/100 · confidence ${percent(Math.round(risk.confidence * 100))}`,
      ...LEVEL_STYLE[risk.level],
    },
    hasNotice: notice !== '',
    notice: oneLine(notice, 300),
    facts,
    factors: shown.map((f) => ({
      label: oneLine(capitalise(FACTOR_LABELS[f.factor] ?? f.factor), 80),
      // A category the risk model gives no weight (no measured lift) is shown as the evidence it is, not as "+0".
      points: f.points > 0 ? `+${num(round1(f.points))}` : 'evidence only',
      evidence: evidenceLine(f.evidence, evidenceCap, f.summary),
    })),
    hasFactors: shown.length > 0,
    hasMoreFactors: hidden > 0,
    moreFactors: hidden > 0 ? `… and ${plural(hidden, 'more factor')} (Details)` : '',
    guardrails: contract.terms.guardrails.map(guardrailView),
    validators: contract.terms.validators.map(validatorView),
    ramp: rampLine(contract),
    canaryEvidence: detailed ? oneLine(capitalise(contract.canaryEvidence.note), 600) : canaryEvidenceLine(contract),
    canaryEvidenceColor: contract.canaryEvidence.adequate ? 'default' : 'attention',
    rollback: rollbackLine(contract),
    rollbackSteps: detailed
      ? contract.rollbackPlan.steps.slice(0, CARD_LIMITS.rollbackSteps).map(rollbackStepView)
      : [],
    hasRollbackSteps: detailed && contract.rollbackPlan.steps.length > 0,
    suggestions: contract.suggestions
      .slice(0, CARD_LIMITS.suggestions)
      .map((s) => ({ text: `• ${oneLine(s.text, 240)}` })),
    hasSuggestions: contract.suggestions.length > 0,
    amendments: amendmentLines(contract, input.people ?? {}),
    hasAmendments: contract.amendments.length > 0,
    revisionLine: oneLine(
      `Revision ${contract.revision} · hash ${contract.contentHash.slice(0, 12)} · policy ${contract.policyVersion}`,
      200,
    ),
    approvalLine: approvalLine(contract, approvals),
    stateLabel: STATE_LABEL[contract.state],
    hasDecision: decision !== undefined,
    decisionLine: decision
      ? oneLine(
          `${decision.outcome === 'approved' ? '✅ Approved' : '⛔ Rejected'} by ${decision.by.join(', ') || 'unknown'} · ${decision.at.slice(0, 16).replace('T', ' ')} UTC`,
          300,
        )
      : '',
    decisionStyle: decision?.outcome === 'approved' ? 'good' : 'attention',
    hasReason: decision?.reason !== undefined && decision.reason !== '',
    reason: decision?.reason ? `Reason: ${safeText(decision.reason, 500)}` : '',
    showDecisionButtons: !superseded && decision === undefined && isOpenForDecision(contract.state),
    showDetailsButton: !detailed,
    detailed,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function exposureLine(contract: Contract): string {
  const exposure = currentExposure(contract);
  const traffic = `${percent(exposure.sharePercent)} of traffic`;
  const users =
    contract.deployment.slo.currentQps > 0
      ? `~${count(exposure.estimatedUsers)} users`
      : 'users unknown (no traffic figure)';
  if (!exposure.canary) {
    return oneLine(
      `no canary: straight to ${percent(100)} with a ${duration(contract.terms.ramp.bakeTimeSeconds)} bake`,
      160,
    );
  }
  return oneLine(`${traffic}, ${users}`, 160);
}

/**
 * The main card's short canary-evidence line, built from the plan's figures; the full note (test, power, smallest
 * detectable increase) stays in the Details view.
 */
function canaryEvidenceLine(contract: Contract): string {
  const plan = contract.canaryEvidence;
  const first = contract.terms.ramp.steps[0];
  const where = first ? 'The first step' : `The bake at ${percent(100)}`;
  const stretch = first ? 'the first step' : 'the bake';
  if (plan.requestsNeededAtFirstStep < 0) {
    return `Today’s error rate is already at or above the error-rate guardrail: the canary would fail at once. Fix the baseline or renegotiate the guardrail.`;
  }
  const needed = count(plan.requestsNeededAtFirstStep);
  const error = contract.terms.guardrails.find((g) => g.metric === 'error_rate');
  const margin = error ? round2(error.threshold - contract.deployment.slo.currentErrorRatePercent) : undefined;
  const rise = margin === undefined ? 'a breach of the error-rate guardrail' : `a ${num(margin)} pp rise in errors`;
  if (plan.secondsNeededAtFirstStep < 0) {
    return `No traffic figure: ${needed} requests are enough to catch ${rise}, but how long that takes is unknown.`;
  }
  const share = first ? first.trafficPercent : 100;
  const seconds = first ? first.minDurationSeconds : contract.terms.ramp.bakeTimeSeconds;
  const available = Math.floor(contract.deployment.slo.currentQps * (share / 100) * seconds);
  const line = `${where} sees ~${count(available)} requests; ${needed} are enough to catch ${rise} (~${duration(plan.secondsNeededAtFirstStep)}).`;
  if (plan.adequate) return oneLine(line, 260);
  return oneLine(
    `${line} Not enough: lengthen ${stretch} to at least ${duration(plan.secondsNeededAtFirstStep)}.`,
    260,
  );
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function rollbackStepView(s: RollbackStep): RollbackStepView {
  // Manual checks start with "manual:"; the step is already labelled as manual, so the prefix only repeats it.
  const validation = s.validation.replace(/^manual:\s*/i, '');
  const timing = `~${duration(s.expectedDurationSeconds)} · check: ${validation}`;
  return {
    title: oneLine(`${s.order}. ${s.description}`, 160),
    detail: oneLine(`${s.command || 'manual step'} · ${timing}`, 400),
    command: oneLine(s.command, 300),
    hasCommand: s.command !== '',
    check: oneLine(s.command ? timing : `manual step · ${timing}`, 400),
  };
}

function changeLine(contract: Contract): string {
  const s = contract.deployment.spread;
  const files = contract.deployment.changes.length || s.files;
  return oneLine(
    `${plural(files, 'file')}, +${count(s.linesAdded)}/−${count(s.linesDeleted)} lines (${count(contract.deployment.totalLinesChanged)} total)`,
    160,
  );
}

function evidenceLine(evidence: Evidence[], cap: number, summary: string): string {
  if (evidence.length === 0) return oneLine(summary, 240);
  const parts = evidence.slice(0, cap).map(describe);
  const more = evidence.length > cap ? ` (+${evidence.length - cap} more)` : '';
  return oneLine(parts.join('; ') + more, cap * 140);
}

function describe(e: Evidence): string {
  const where = e.file === undefined ? '' : e.line === undefined ? e.file : `${e.file}:${e.line}`;
  const text = clipAtWord(
    oneLine(e.text),
    e.source === 'metrics' ? GENERATED_EVIDENCE_TEXT_LIMIT : EVIDENCE_TEXT_LIMIT,
  );
  switch (e.source) {
    case 'diff':
      return `"${text}" at ${oneLine(where, 100)}`;
    case 'path':
      return `${text} in ${oneLine(where, 100)}`;
    case 'risk_tag':
      return `tag "${text}"${where ? ` on ${oneLine(where, 100)}` : ''}`;
    case 'description':
      return `"${text}" in the description${where ? ` of ${oneLine(where, 100)}` : ''}`;
    case 'commit_message':
      return `"${text}" in a commit message`;
    case 'metrics':
      return text;
  }
}

/** Clips at the last word boundary before `max` characters, so evidence never ends in half a word. */
function clipAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:(]+$/, '')}…`;
}

/** Thresholds of 1,000 and more are grouped like the other counts; smaller ones keep their decimals. */
function thresholdNumber(x: number): string {
  return Math.abs(x) >= 1000 && Number.isInteger(x) ? count(x) : num(x);
}

function guardrailView(g: Guardrail): GuardrailView {
  return {
    metric: METRIC_LABEL[g.metric],
    threshold: `${g.comparator} ${thresholdNumber(g.threshold)}\u00a0${g.unit}`,
    window: duration(g.windowSeconds),
    evidence: `≥ ${count(g.minimumEvidence.minRequests)} req, ${plural(g.minimumEvidence.minIntervals, 'interval')}`,
  };
}

function validatorView(v: Validator): ValidatorView {
  const requirement = REQUIREMENT_LABEL[v.requirement];
  // The emoji carry the status; colour is kept for what needs attention (Teams' good/warning text is hard to read).
  if (v.satisfied === true)
    return { label: VALIDATOR_LABEL[v.kind], status: `✅ satisfied (${requirement})`, color: 'default' };
  if (v.satisfied === false) {
    return {
      label: VALIDATOR_LABEL[v.kind],
      status: `❌ missing (${requirement})`,
      color: v.requirement === 'required' ? 'attention' : 'default',
    };
  }
  return { label: VALIDATOR_LABEL[v.kind], status: `⏳ to be shown (${requirement})`, color: 'default' };
}

function rampLine(contract: Contract): string {
  const ramp = contract.terms.ramp;
  const planned = contract.canaryEvidence.plannedSeconds;
  const plan = planned === undefined ? '' : `; planned ~${duration(planned)} if healthy`;
  if (ramp.steps.length === 0)
    return oneLine(`Straight to ${percent(100)}, bake ${duration(ramp.bakeTimeSeconds)}${plan}`, 200);
  const steps = [...ramp.steps.map((s) => percent(s.trafficPercent)), percent(100)].join(' → ');
  const durations = [...new Set(ramp.steps.map((s) => s.minDurationSeconds))].map(duration).join('/');
  const requests = [...new Set(ramp.steps.map((s) => s.minRequests))].map(count).join('/');
  return oneLine(
    `${steps}; at least ${durations} and ${requests} requests per step; bake ${duration(ramp.bakeTimeSeconds)} at ${percent(100)}${plan}`,
    300,
  );
}

function rollbackLine(contract: Contract): string {
  const plan = contract.rollbackPlan;
  if (!plan.possible) return oneLine(`Not possible: ${plan.reasons[0] ?? 'no rollback path'}`, 300);
  const steps = plural(plan.steps.length, 'step');
  return oneLine(
    `${steps}, ~${duration(plan.totalSeconds)} (window ${duration(plan.windowSeconds)}), data-loss risk ${plan.dataLossRisk}` +
      (plan.reasons[0] ? ` — ${plan.reasons[0]}` : ''),
    320,
  );
}

function amendmentLines(contract: Contract, people: Readonly<Record<string, string>>): { text: string }[] {
  const latest = contract.amendments.filter((a) => a.revision === contract.revision);
  const lines = latest.flatMap((a) =>
    a.diff.map((line) => `• ${oneLine(capitalise(line), 200)} (${oneLine(personName(a.actor, people), 60)})`),
  );
  const shown = lines.slice(0, CARD_LIMITS.amendmentLines).map((text) => ({ text }));
  if (lines.length > shown.length) shown.push({ text: `… and ${lines.length - shown.length} more changes` });
  return shown;
}

function approvalLine(contract: Contract, approvals: ApprovalEntry[]): string {
  const required = contract.terms.approvalsRequired;
  const names = approvals.map((a) => oneLine(a.actorName, 60));
  const who = names.length > 0 ? `: ${names.join(', ')}` : '';
  const author = contract.terms.excludeAuthor ? ' · the author may not approve' : '';
  return oneLine(`Approvals ${approvals.length} of ${required}${who}${author}`, 400);
}

/**
 * A person's name for a card line: the display name when known; an e-mail or name-like id as it is; never a bare
 * directory id (an Entra object id, a Slack user id), which tells a reader nothing.
 */
export function personName(id: string, people: Readonly<Record<string, string>>): string {
  const name = people[id];
  if (name) return name;
  const opaque =
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) || // Entra object id
    /^(?:\d+:|29:|8:orgid:)/.test(id) || // Teams user ids
    /^[UW][A-Z0-9]{6,}$/.test(id); // Slack user ids
  return opaque ? 'a chat participant' : id;
}
