/**
 * The shared vocabulary of the domain: deployment requests, risk, policy, contracts and amendments.
 * Pure types and a few zod schemas for values that cross a trust boundary (amendments proposed by a model or a user).
 */
import { z } from 'zod';

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Thresholds of PRODUCT.md §2.2: critical ≥ 70, high ≥ 50, medium ≥ 30, else low. */
export function levelForScore(score: number): RiskLevel {
  if (score >= 70) return 'critical';
  if (score >= 50) return 'high';
  if (score >= 30) return 'medium';
  return 'low';
}

export function levelRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment request (normalised; the snake_case wire format of the prior system is parsed in request.ts)

export type ChangeType = 'add' | 'modify' | 'delete' | 'rename';

export interface FileChange {
  filePath: string;
  changeType: ChangeType;
  linesAdded: number;
  linesDeleted: number;
  /** linesAdded + linesDeleted when both are known; the declared `lines_changed` otherwise. */
  linesChanged: number;
  riskTags: string[];
  description: string;
  /** Added lines of the diff with their line numbers in the new file, when the source had a diff. */
  addedLines?: { line: number; text: string }[];
}

/** Kamei et al. change metrics, computed the same way for git ranges, pull requests and JSON requests. */
export interface ChangeSpread {
  linesAdded: number;
  linesDeleted: number;
  files: number;
  directories: number;
  subsystems: number;
  entropy: number;
}

export interface ServiceDependency {
  serviceName: string;
  serviceType: string;
  criticality: 'critical' | 'high' | 'medium' | 'low';
  averageLatencyMs: number;
  errorRatePercent: number;
}

export interface ServiceSlo {
  currentErrorRatePercent: number;
  currentP95LatencyMs: number;
  currentP99LatencyMs: number;
  targetErrorRatePercent: number;
  targetP95LatencyMs: number;
  targetP99LatencyMs: number;
  currentQps: number;
  peakQps: number;
}

export type TargetKind = 'kubernetes' | 'argo-rollouts' | 'azure-container-apps' | 'custom';

export interface DeploymentTarget {
  kind: TargetKind;
  /** Kubernetes namespace (kubernetes, argo-rollouts) or Azure resource group (azure-container-apps). */
  namespace: string;
  /** Deployment / Rollout / Container App name; defaults to the service name. */
  resourceName: string;
  /** For custom targets: the operator's own rollback and health commands. */
  customRollbackCommand?: string;
  customHealthCommand?: string;
}

export interface DeploymentRequest {
  deploymentId: string;
  serviceName: string;
  environment: string;
  version: string;
  previousVersion?: string;
  changes: FileChange[];
  commitMessages: string[];
  totalLinesChanged: number;
  spread: ChangeSpread;
  slo: ServiceSlo;
  ownerTeam: string;
  author?: string;
  reviewers: string[];
  rollbackCapability: boolean;
  featureFlag?: string;
  dependencies: ServiceDependency[];
  target: DeploymentTarget;
  source: { kind: 'json' | 'git' | 'chat' | 'pull-request' | 'webhook'; ref?: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Risk

export const RISK_FACTORS = [
  'caching',
  'database_migration',
  'api_contract',
  'traffic_pattern',
  'dependency_update',
  'permissions_authz',
  'encryption_secrets',
  'networking_load_balancing',
  'storage',
  'configuration_flags',
  'infrastructure_as_code',
  'change_size_spread',
  /** The change's commit messages or description name a tracked issue (a bug fix); riskModel.ts. */
  'fixes_tracked_issue',
] as const;
export type RiskFactor = (typeof RISK_FACTORS)[number];

export interface Evidence {
  source: 'path' | 'description' | 'diff' | 'risk_tag' | 'commit_message' | 'metrics';
  file?: string;
  line?: number;
  /** The phrase, path or figure that triggered the factor. */
  text: string;
}

export interface FactorFinding {
  factor: RiskFactor;
  points: number;
  evidence: Evidence[];
  /** One line for the card, e.g. "schema migration in db/migrations/0042_add_index.sql". */
  summary: string;
}

export interface RiskAssessment {
  score: number;
  level: RiskLevel;
  /** 0..1: how much evidence the assessment rests on (diffs and paths > descriptions only). */
  confidence: number;
  findings: FactorFinding[];
  predictedImpact: { errorRateIncreasePercent: number; p95IncreasePercent: number; p99IncreasePercent: number };
  affected: { canarySharePercent: number; requestsPerMinuteInCanary: number; estimatedUsersInCanary: number };
  /** Version of the scoring rules and calibration data, so a score can be reproduced later. */
  modelVersion: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Contract terms

export const GUARDRAIL_METRICS = ['error_rate', 'latency_p95', 'latency_p99'] as const;
export type GuardrailMetric = (typeof GUARDRAIL_METRICS)[number];

export interface Guardrail {
  metric: GuardrailMetric;
  comparator: '<';
  threshold: number;
  unit: '%' | 'ms';
  windowSeconds: number;
  minimumEvidence: { minRequests: number; minIntervals: number };
  /** Why this number: e.g. "policy cap for high risk (0.3 %), below the SLO-derived cap 0.5 %". */
  basis: string;
}

export const VALIDATOR_KINDS = ['tests', 'canary', 'rollback_plan', 'feature_flag'] as const;
export type ValidatorKind = (typeof VALIDATOR_KINDS)[number];
export type Requirement = 'required' | 'recommended' | 'not_required';

export interface Validator {
  kind: ValidatorKind;
  requirement: Requirement;
  /** true / false when the request says so, null when nothing is known yet. */
  satisfied: boolean | null;
  description: string;
}

export interface RampStep {
  trafficPercent: number;
  minDurationSeconds: number;
  minRequests: number;
}

export interface RampSchedule {
  steps: RampStep[];
  bakeTimeSeconds: number;
  analysisIntervalSeconds: number;
  consecutiveFailureLimit: number;
  cumulativeFailureLimit: number;
}

export interface CanaryEvidencePlan {
  /** Smallest absolute increase of the error rate (percentage points) the first step can detect. */
  minimumDetectableEffectPercent: number;
  requestsNeededAtFirstStep: number;
  secondsNeededAtFirstStep: number;
  /** false when the first step's minimum duration is too short to see the effect at the expected traffic. */
  adequate: boolean;
  note: string;
  /** Whether each latency guardrail can conclude (PASS a healthy canary) at the service's traffic, and when. */
  latency?: LatencyEvidencePlan[];
  /**
   * The rollout's planned time (judge/configuration.ts `guardianRolloutPlan`) for a canary as healthy as today at
   * today's traffic, the first PASS's evidence included; still undecided past it, the rollout asks a person. Absent
   * in contracts drafted before it was stated.
   */
  plannedSeconds?: number;
}

export interface LatencyEvidencePlan {
  metric: 'latency_p95' | 'latency_p99';
  thresholdMs: number;
  /** Today's share of requests slower than the threshold (from the current p95/p99), %; -1 when unknown. */
  expectedSlowPercent: number;
  /** The share the guardrail allows (5 % for p95, 1 % for p99). */
  allowedSlowPercent: number;
  /** Canary requests a healthy canary needs to PASS with the stated power; -1 when it never can. */
  requestsNeeded: number;
  /** Seconds to gather them at the first step's share; -1 when unknown or never. */
  secondsNeeded: number;
  /** Gathered within the first step's minimum duration. */
  adequate: boolean;
  /** Gathered within the rollout's planned time (steps and bake) at the first step's share. */
  withinPlannedTime: boolean;
  note: string;
}

export interface RollbackStep {
  order: number;
  description: string;
  command: string;
  expectedDurationSeconds: number;
  validation: string;
  dependsOn: number[];
}

export interface RollbackPlan {
  targetKind: TargetKind;
  possible: boolean;
  steps: RollbackStep[];
  totalSeconds: number;
  windowSeconds: number;
  dataLossRisk: 'none' | 'low' | 'medium' | 'high';
  reasons: string[];
}

export interface Suggestion {
  factor?: RiskFactor;
  text: string;
}

export interface ContractTerms {
  guardrails: Guardrail[];
  validators: Validator[];
  ramp: RampSchedule;
  approvalsRequired: number;
  excludeAuthor: boolean;
}

export const CONTRACT_STATES = [
  'draft',
  'negotiating',
  'approved',
  'rejected',
  'rolling_out',
  'promoted',
  'rolled_back',
  'aborted',
] as const;
export type ContractState = (typeof CONTRACT_STATES)[number];

export interface AppliedAmendment {
  revision: number;
  amendment: Amendment;
  actor: string;
  /** Human-readable diff lines, e.g. "first canary step: 10 % → 25 %". */
  diff: string[];
}

export interface Contract {
  id: string;
  revision: number;
  /** sha256 over the canonical JSON of deployment, risk and terms: what an approver approves. */
  contentHash: string;
  state: ContractState;
  createdAt: string;
  policyVersion: string;
  deployment: DeploymentRequest;
  risk: RiskAssessment;
  terms: ContractTerms;
  rollbackPlan: RollbackPlan;
  suggestions: Suggestion[];
  canaryEvidence: CanaryEvidencePlan;
  amendments: AppliedAmendment[];
}

// ---------------------------------------------------------------------------------------------------------------
// Amendments: what a negotiation may propose. Untrusted (model or chat), so validated with zod.

const justification = z.string().max(2000).default('');

export const AmendmentSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('set_guardrail_threshold'),
    metric: z.enum(GUARDRAIL_METRICS),
    value: z.number().positive(),
    justification,
  }),
  z.object({
    kind: z.literal('set_guardrail_window'),
    metric: z.enum(GUARDRAIL_METRICS),
    windowSeconds: z.number().int().positive(),
    justification,
  }),
  z.object({
    kind: z.literal('set_first_canary_step'),
    percent: z.number().positive().max(100),
    justification,
  }),
  z.object({
    kind: z.literal('set_ramp_steps'),
    steps: z.array(z.number().positive().max(100)).min(1).max(20),
    justification,
  }),
  z.object({
    kind: z.literal('set_step_duration'),
    seconds: z.number().int().positive(),
    justification,
  }),
  z.object({
    kind: z.literal('set_bake_time'),
    seconds: z.number().int().nonnegative(),
    justification,
  }),
  z.object({ kind: z.literal('add_validator'), validator: z.enum(VALIDATOR_KINDS), justification }),
  z.object({ kind: z.literal('remove_validator'), validator: z.enum(VALIDATOR_KINDS), justification }),
]);
export type Amendment = z.infer<typeof AmendmentSchema>;

/** The engine's answer to a proposed amendment. `rule` names the floor rule that forbids it. */
export type AmendmentDecision = { allowed: true } | { allowed: false; rule: string; message: string };
