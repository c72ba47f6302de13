/**
 * View models of the cards other than the contract card: error, help, status, history, policy and rollout status.
 * Pure functions from plain inputs to template data; every string is clipped and made template-safe.
 */
import type { ContractState, RiskLevel } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import { type ContractCardInput, type ContractView, contractView, STATE_LABEL } from './contractView.js';
import { duration, num, oneLine, percent, safeText } from './format.js';

// ---------------------------------------------------------------------------------------------------------------
// Error

export interface ErrorCardInput {
  title: string;
  summary: string;
  /** Each problem names where (a field path, a key, an argument) and what is wrong. */
  problems?: { path: string; message: string }[];
  hint?: string;
}

const MAX_PROBLEMS = 12;

export function errorView(input: ErrorCardInput) {
  const problems = input.problems ?? [];
  const shown = problems.slice(0, MAX_PROBLEMS);
  return {
    title: oneLine(input.title, 160),
    summary: safeText(input.summary, 600),
    hasProblems: shown.length > 0,
    problems: shown.map((p) => ({ path: oneLine(p.path, 120), message: oneLine(p.message, 400) })),
    hasMoreProblems: problems.length > shown.length,
    moreProblems: `… and ${problems.length - shown.length} more`,
    hasHint: input.hint !== undefined && input.hint !== '',
    hint: safeText(input.hint ?? '', 600),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Help

export interface HelpCommand {
  usage: string;
  description: string;
}

export interface HelpCardInput {
  commands: HelpCommand[];
  examples: string[];
  /** e.g. "I did not understand “deploy”." */
  intro?: string;
  introTone?: 'default' | 'warning';
  footer?: string;
}

export function helpView(input: HelpCardInput) {
  return {
    title: 'Chaos Negotiator: deployment contracts in chat',
    hasIntro: input.intro !== undefined && input.intro !== '',
    intro: oneLine(input.intro ?? '', 300),
    introColor: input.introTone === 'warning' ? 'warning' : 'default',
    commands: input.commands.map((c) => ({ usage: oneLine(c.usage, 200), description: safeText(c.description, 400) })),
    examples: input.examples.map((text) => ({ text: oneLine(text, 300) })),
    footer: safeText(
      input.footer ??
        'Commands work with or without the @mention in personal chat. Reply in a contract’s thread to negotiate its terms.',
      400,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Status

export interface StatusCardInput extends ContractCardInput {
  /** Recent audit events, newest first, already phrased ("approved by Ada · 2026-11-24 12:01"). */
  events?: string[];
}

export function statusView(input: StatusCardInput): ContractView & {
  hasEvents: boolean;
  events: { text: string }[];
} {
  const base = contractView(input);
  const events = (input.events ?? []).slice(0, 8).map((e) => ({ text: `• ${oneLine(e, 200)}` }));
  return { ...base, hasEvents: events.length > 0, events };
}

// ---------------------------------------------------------------------------------------------------------------
// History

export interface HistoryEntryInput {
  contractId: string;
  version: string;
  level: RiskLevel;
  score: number;
  state: ContractState;
  revision: number;
  createdAt: string;
}

export interface HistoryCardInput {
  service?: string;
  entries: HistoryEntryInput[];
  /** How many more exist beyond the entries shown. */
  more?: number;
}

/** Text colours on a white card: Teams' warning (#F8D22A) and good (#92C353) text are too pale to read there. */
const RISK_COLOR: Record<RiskLevel, string> = {
  critical: 'attention',
  high: 'attention',
  medium: 'default',
  low: 'default',
};

export function historyView(input: HistoryCardInput) {
  const title = input.service ? `Deployment history of ${oneLine(input.service, 100)}` : 'Recent deployment contracts';
  const entries = input.entries.slice(0, 15).map((e) => ({
    contractId: oneLine(e.contractId, 80),
    version: oneLine(`${e.version} (r${e.revision})`, 60),
    risk: `${e.level} ${num(Math.round(e.score * 10) / 10)}`,
    riskColor: RISK_COLOR[e.level],
    state: STATE_LABEL[e.state],
    createdAt: e.createdAt.slice(0, 16).replace('T', ' '),
  }));
  const more = (input.more ?? 0) + (input.entries.length - entries.length);
  return {
    title,
    isEmpty: entries.length === 0,
    emptyText: input.service
      ? `No contracts for ${oneLine(input.service, 100)} yet. Start with “assess service=${oneLine(input.service, 60)} version=…”.`
      : 'No contracts yet. Start with “assess”.',
    hasEntries: entries.length > 0,
    entries,
    hasMore: more > 0,
    moreText: `… and ${more} older`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Policy

export interface PolicyCardInput {
  policy: Policy;
  /** How many approvers are configured, by kind, for the footer line. */
  approvers: { teams: number; slack: number; groups: string[] };
}

const CANARY_LABEL = { required: 'required', recommended: 'recommended', not_required: 'not required' } as const;
const ROLLBACK_LABEL = {
  required: 'required',
  required_if_possible: 'required if possible',
  recommended: 'recommended',
} as const;

export function policyView(input: PolicyCardInput) {
  const { policy } = input;
  const order: RiskLevel[] = ['critical', 'high', 'medium', 'low'];
  const levels = order.map((level) => {
    const lp = policy.levels[level];
    const first = lp.rampSteps[0];
    return {
      level,
      color: RISK_COLOR[level],
      errorRate: `< ${percent(lp.errorRateMaxPercent)}`,
      firstStep: first === undefined ? 'none' : percent(first),
      canary: CANARY_LABEL[lp.canary as keyof typeof CANARY_LABEL] ?? String(lp.canary),
      rollbackPlan: ROLLBACK_LABEL[lp.rollbackPlan as keyof typeof ROLLBACK_LABEL] ?? String(lp.rollbackPlan),
      approvals: `${lp.approvals}${lp.excludeAuthor ? ', not the author' : ''}`,
    };
  });
  const floor = order.map((level) => {
    const f = policy.floor.levels[level];
    return {
      text: oneLine(
        `${level}: error rate ≤ ${percent(f.maxErrorRatePercent)}, first step ≤ ${percent(f.maxFirstStepPercent)}, ` +
          `canary ${f.canaryRequired ? 'required' : 'optional'}, step ≥ ${duration(f.minStepDurationSeconds)}, ` +
          `bake ≥ ${duration(f.minBakeTimeSeconds)}, ${f.minApprovals} approval${f.minApprovals === 1 ? '' : 's'}` +
          `${f.excludeAuthor ? ' (not the author)' : ''}`,
        300,
      ),
    };
  });
  const groups = input.approvers.groups.length > 0 ? `; groups ${input.approvers.groups.join(', ')}` : '';
  const total = input.approvers.teams + input.approvers.slack + input.approvers.groups.length;
  return {
    title: 'Deployment policy',
    subtitle: oneLine(
      `Policy ${policy.version}; guardrail window ${duration(policy.guardrailWindowSeconds)}, analysis every ${duration(policy.analysisIntervalSeconds)}; error guardrail never above ${num(policy.floor.sloErrorRateFactor)} × the SLO target`,
      300,
    ),
    levels,
    floor,
    approvers: oneLine(
      total === 0
        ? 'No approvers are configured (TEAMS_APPROVERS, SLACK_APPROVERS, APPROVER_GROUPS).'
        : `Approvers: ${input.approvers.teams} Teams, ${input.approvers.slack} Slack${groups}.`,
      300,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rollout status (posted and edited in place by the rollout guardian)

export interface RolloutCheckInput {
  metric: string;
  /** e.g. "0.12 % observed vs < 0.3 % (baseline 0.05 %, n = 4,210, 5 min, 95 % confidence)". */
  detail: string;
  status: 'pass' | 'hold' | 'fail';
}

export interface RolloutStatusInput {
  contractId: string;
  revision: number;
  service: string;
  version: string;
  phase: 'pending' | 'running' | 'paused' | 'promoted' | 'rolling_back' | 'rolled_back' | 'aborted';
  trafficPercent: number;
  stepIndex: number;
  stepCount: number;
  verdict?: 'PASS' | 'HOLD' | 'FAIL';
  verdictReason?: string;
  checks: RolloutCheckInput[];
  /** Stage log lines, oldest first. */
  steps: string[];
  updatedAt: string;
}

const PHASE_STYLE: Record<RolloutStatusInput['phase'], string> = {
  pending: 'default',
  running: 'accent',
  paused: 'warning',
  promoted: 'good',
  rolling_back: 'attention',
  rolled_back: 'attention',
  aborted: 'attention',
};

const CHECK_COLOR = { pass: 'good', hold: 'warning', fail: 'attention' } as const;

export function rolloutStatusView(input: RolloutStatusInput) {
  const active = input.phase === 'running' || input.phase === 'paused' || input.phase === 'pending';
  return {
    contractId: oneLine(input.contractId, 128),
    revision: input.revision,
    style: PHASE_STYLE[input.phase],
    title: oneLine(`Rollout of ${input.service} ${input.version}`, 160),
    phaseLine: oneLine(`${input.phase.replace('_', ' ')} · stage ${input.stepIndex + 1} of ${input.stepCount}`, 120),
    trafficLine: `${percent(input.trafficPercent)} on the new version`,
    verdictLine: input.verdict
      ? oneLine(`${input.verdict}${input.verdictReason ? ` — ${input.verdictReason}` : ''}`, 300)
      : 'no evaluation yet',
    updatedAt: input.updatedAt.slice(0, 19).replace('T', ' '),
    hasChecks: input.checks.length > 0,
    checks: input.checks.slice(0, 6).map((c) => ({
      metric: oneLine(c.metric, 60),
      detail: oneLine(c.detail, 300),
      color: CHECK_COLOR[c.status],
    })),
    hasSteps: input.steps.length > 0,
    steps: input.steps.slice(-10).map((s) => ({ text: `• ${oneLine(s, 200)}` })),
    canAct: active,
    pauseTitle: input.phase === 'paused' ? 'Resume' : 'Pause',
  };
}
