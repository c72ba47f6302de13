/**
 * The risk engine: a deterministic, explainable score for a deployment request.
 *
 *   score = min(100, S + Σ F(f) + X + C), rounded to 0.1
 *
 *   S + Σ F(f) + X  the calibrated model (riskModel.ts, risk-model.v4.json), fitted on real commit history:
 *        S     size and spread points (lines added and deleted, files, lines in files that ship, lines added to
 *              files that also lost lines), 20 points per doubling of the odds of a later bug fix;
 *        F(f)  for a content factor f (factors.ts), k·ln(lower 95 % bound of the observed / expected ratio) of the
 *              strongest path rule that raised it, measured on projects the size part was not fitted on. Factors
 *              raised only by unmeasured signals (diff words, descriptions, tags, commit messages, rules without
 *              lift) add 0 points: they are evidence on the card and still drive validators and suggestions.
 *        X     "fixes a tracked issue": k·w_fix when a commit message, the pull request's text or a description names
 *              an issue (issueReference.ts), weight fitted on the data's Kamei `fix` label; 0 otherwise, also when
 *              there is no text at all (the card then says so; riskModel.ts explains why unknown scores as "no").
 *   C    context points about the deployment rather than the change (not measurable on commit history, documented as
 *        such in docs/risk-model.md): +12 no rollback capability, +8 / +4 per critical / high dependency of a detected
 *        factor's type (at most +12), +10 / +5 error budget, +5 a change tagged critical by its author.
 *
 * The environment does not change the score: it chooses the policy row. In production, an assessment with too little
 * information to rank (no file and no line count) is never below medium, whatever its score ("low information is never
 * low risk"); the size finding then says what is missing and how to give it.
 *
 * Monotone: the model's features never decrease when a change is added and its weights are ≥ 0, a change only adds
 * factors and path rules, and C depends on the detected factors (monotone) and on request-level fields.
 * Level: levelForScore (critical ≥ 70, high ≥ 50, medium ≥ 30): odds of a later fix 1:1, 1:2, 1:4 on the model scale.
 * docs/risk-model.md explains the model for humans.
 */
import {
  type DeploymentRequest,
  type Evidence,
  type FactorFinding,
  levelForScore,
  levelRank,
  RISK_FACTORS,
  type RiskAssessment,
  type RiskLevel,
} from '../model.js';
import {
  type ContentFactor,
  declaredCriticalTags,
  detectFactors,
  FACTOR_LABELS,
  type FactorDetection,
  type Severity,
} from './factors.js';
import { defaultRiskModel, type ModelScore, type RiskModel } from './riskModel.js';
import { summarizeSpread } from './sizeModel.js';
import { tokenize } from './tokenize.js';

export const RISK_RULES_VERSION = 'risk-rules-2';

/** First canary share by level when the caller does not pass one (PRODUCT.md §2.3: 5 / 10 / 25 %, none for low). */
export const DEFAULT_CANARY_SHARE_PERCENT: Record<RiskLevel, number> = { critical: 5, high: 10, medium: 25, low: 100 };

/**
 * Requests per active user per minute, to turn canary traffic into people. An assumption, not a measurement: an
 * interactive user of an API-backed product issues on the order of one or two requests a minute over a session.
 * Services that know better pass `requestsPerUserPerMinute`.
 */
export const DEFAULT_REQUESTS_PER_USER_PER_MINUTE = 2;

export interface AssessRiskOptions {
  /** Overrides the reported model version (e.g. when a caller pins a rule set). */
  modelVersion?: string;
  /** Share of traffic the first canary step receives; defaults to DEFAULT_CANARY_SHARE_PERCENT of the level. */
  canarySharePercent?: number;
  requestsPerUserPerMinute?: number;
  /** Evidence kept per factor (default 5). */
  maxEvidence?: number;
  /** The calibrated model to score with (default: the committed risk-model.v4.json; calibrate passes candidates). */
  model?: RiskModel;
}

export interface ContextContribution {
  kind: 'no_rollback' | 'critical_dependency' | 'error_budget' | 'declared_critical';
  points: number;
  reason: string;
}

export interface SizeContribution {
  points: number;
  probability: number;
  summary: string;
}

/** Why a production contract is held at a level its score alone would not reach. */
export interface LevelFloor {
  level: RiskLevel;
  reason: string;
}

/** The assessment plus the parts of the score that are not factor findings, so a card can show the whole sum. */
export interface RiskBreakdown {
  assessment: RiskAssessment;
  size: SizeContribution;
  context: ContextContribution[];
  factorPoints: number;
  contextPoints: number;
  /** The level the score alone gives; `assessment.level` is this or the floor, whichever is higher. */
  scoreLevel: RiskLevel;
  floor?: LevelFloor;
  model: ModelScore;
}

export function assessRisk(request: DeploymentRequest, options: AssessRiskOptions = {}): RiskAssessment {
  return assessRiskDetailed(request, options).assessment;
}

export function assessRiskDetailed(request: DeploymentRequest, options: AssessRiskOptions = {}): RiskBreakdown {
  const detections = detectFactors(request, { maxEvidence: options.maxEvidence ?? 5 });
  const model = options.model ?? defaultRiskModel();
  const scored = model.score(request, detections);
  const context = contextContributions(request, detections);
  const lowInformation = isLowInformation(request);

  const findings: FactorFinding[] = detections.map((d, i) => {
    const points = scored.factors[i]?.points ?? 0;
    return {
      factor: d.factor,
      points,
      evidence: d.evidence,
      summary: summarise(d, scored.factors[i]?.rule),
    };
  });
  const fixFinding = issueReferenceFinding(scored, model);
  if (fixFinding) findings.push(fixFinding);
  const production = isProduction(request.environment);
  if (scored.sizePoints > 0 || lowInformation) {
    const text = lowInformation ? missingInformation(production) : undefined;
    findings.push({
      factor: 'change_size_spread',
      points: scored.sizePoints,
      evidence: [{ source: 'metrics', text: text ?? spreadEvidenceText(request) }],
      summary: `${FACTOR_LABELS.change_size_spread}: ${text ?? sizeSummary(request, scored)}`,
    });
  }
  findings.sort((a, b) => b.points - a.points || RISK_FACTORS.indexOf(a.factor) - RISK_FACTORS.indexOf(b.factor));

  const factorPoints = round(
    scored.factors.reduce((sum, f) => sum + f.points, 0),
    1,
  );
  const contextPoints = context.reduce((sum, c) => sum + c.points, 0);
  const score = round(Math.min(100, scored.score + contextPoints), 1);
  const scoreLevel = levelForScore(score);
  const floor = lowInformation && production ? LOW_INFORMATION_FLOOR : undefined;
  const level = floor && levelRank(floor.level) > levelRank(scoreLevel) ? floor.level : scoreLevel;

  const share = clampShare(options.canarySharePercent ?? DEFAULT_CANARY_SHARE_PERCENT[level]);
  const requestsPerUser = options.requestsPerUserPerMinute ?? DEFAULT_REQUESTS_PER_USER_PER_MINUTE;
  const requestsPerMinuteInCanary = round(request.slo.currentQps * 60 * (share / 100), 1);
  const estimatedUsersInCanary = requestsPerUser > 0 ? Math.round(requestsPerMinuteInCanary / requestsPerUser) : 0;

  const assessment: RiskAssessment = {
    score,
    level,
    confidence: confidenceFor(request, detections),
    findings,
    predictedImpact: predictImpact(detections, scored.sizeProbability),
    affected: { canarySharePercent: share, requestsPerMinuteInCanary, estimatedUsersInCanary },
    modelVersion: options.modelVersion ?? modelVersion(model),
  };
  const size: SizeContribution = {
    points: scored.sizePoints,
    probability: scored.sizeProbability,
    summary: sizeSummary(request, scored),
  };
  return { assessment, size, context, factorPoints, contextPoints, scoreLevel, floor, model: scored };
}

/** `risk-rules-2+risk-model.v4`: the rule set and the calibration, so a score can be reproduced later. */
export function modelVersion(model: RiskModel = defaultRiskModel()): string {
  return `${RISK_RULES_VERSION}+${model.params.modelVersion}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Low information

/** What a request with nothing to rank is missing, and how to give it (fits the card's 160-character evidence line). */
export function missingInformation(production: boolean): string {
  const how = 'give a git range (chaos assess --git A..B), a PR link, or a deployment JSON with changes';
  return production
    ? `no files or line counts, so held at medium at least: ${how}`
    : `no files or line counts to rank the change: ${how}`;
}

const LOW_INFORMATION_FLOOR: LevelFloor = {
  level: 'medium',
  reason: 'production deployment with no files or line counts: too little information to call it low risk',
};

/** Nothing to rank the change by: no file path and no changed line (a version, maybe a description or tags). */
export function isLowInformation(request: DeploymentRequest): boolean {
  const lines = request.spread.linesAdded + request.spread.linesDeleted + request.totalLinesChanged;
  return lines === 0 && !request.changes.some((c) => c.filePath.trim() !== '');
}

// ---------------------------------------------------------------------------------------------------------------
// Fixes a tracked issue

/**
 * The card line of the fix feature: when the change's text names an issue, and when there was no text to read (scored
 * as no issue named, riskModel.ts says why). A text that names no issue adds nothing and shows nothing.
 */
function issueReferenceFinding(scored: ModelScore, model: RiskModel): FactorFinding | undefined {
  const { state, points } = scored.issueReference;
  const label = FACTOR_LABELS.fixes_tracked_issue;
  if (state.kind === 'references') {
    return {
      factor: 'fixes_tracked_issue',
      points,
      evidence: [{ source: state.source, text: state.reference }],
      summary: `${label}: ${state.reference} (bug-fix commits are more often bug-inducing)`,
    };
  }
  if (state.kind === 'unknown') {
    const share = Math.round(100 * model.params.issueReference.trainingShare);
    const text = 'no commit message, PR text or description to read';
    return {
      factor: 'fixes_tracked_issue',
      points,
      evidence: [{ source: 'metrics', text }],
      summary: `${label}: unknown, ${text} (scored as not a fix; ${share} % of the changes the model learnt from were)`,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Size

function sizeSummary(request: DeploymentRequest, scored: ModelScore): string {
  const drivers = scored.drivers.map((d) => d.label).slice(0, 2);
  return `${summarizeSpread(request.spread)}${drivers.length > 0 ? ` (weighted by ${drivers.join(' and ')})` : ''}`;
}

/** "1 file", "2 files": the singular for exactly one. */
function count(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function spreadEvidenceText(request: DeploymentRequest): string {
  const s = request.spread;
  return (
    `${count(s.linesAdded, 'line')} added, ${s.linesDeleted} deleted in ${count(s.files, 'file')}, ` +
    `${count(s.directories, 'directory', 'directories')}, ${count(s.subsystems, 'subsystem')} ` +
    `(entropy ${round(s.entropy, 2)} bits)`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Context

const PRODUCTION = /^(?:prod|production|prd|live)(?:[-_.].*)?$|[-_.](?:prod|production)$/i;

export function isProduction(environment: string): boolean {
  return PRODUCTION.test(environment);
}

/** Dependency type words → the factors that touch such a dependency. */
const DEPENDENCY_FACTORS: [readonly string[], readonly ContentFactor[]][] = [
  [
    ['database', 'db', 'sql', 'postgres', 'postgresql', 'mysql', 'mongo', 'mongodb', 'cosmos', 'cosmosdb', 'rdbms'],
    ['database_migration', 'storage'],
  ],
  [['cache', 'redis', 'memcached', 'cdn'], ['caching']],
  [['api', 'http', 'grpc', 'rest', 'service', 'graphql'], ['api_contract']],
  [['queue', 'kafka', 'bus', 'eventhub', 'rabbitmq', 'sqs', 'stream', 'pubsub'], ['traffic_pattern']],
  [['storage', 'blob', 's3', 'bucket', 'filesystem', 'disk'], ['storage']],
  [['auth', 'identity', 'iam', 'oauth', 'idp', 'sso', 'ldap'], ['permissions_authz']],
  [['kms', 'vault', 'keyvault', 'secrets', 'hsm'], ['encryption_secrets']],
  [['gateway', 'lb', 'loadbalancer', 'dns', 'proxy', 'ingress', 'network'], ['networking_load_balancing']],
];

function contextContributions(request: DeploymentRequest, detections: FactorDetection[]): ContextContribution[] {
  const out: ContextContribution[] = [];
  if (!request.rollbackCapability) {
    out.push({ kind: 'no_rollback', points: 12, reason: 'no rollback capability declared' });
  }

  const detected = new Set(detections.map((d) => d.factor));
  let dependencyPoints = 0;
  const touched: string[] = [];
  for (const dep of request.dependencies) {
    if (dep.criticality !== 'critical' && dep.criticality !== 'high') continue;
    const words = new Set([...tokenize(dep.serviceType), ...tokenize(dep.serviceName)]);
    const hit = DEPENDENCY_FACTORS.some(
      ([typeWords, factors]) => typeWords.some((w) => words.has(w)) && factors.some((f) => detected.has(f)),
    );
    if (!hit) continue;
    dependencyPoints += dep.criticality === 'critical' ? 8 : 4;
    touched.push(`${dep.serviceName} (${dep.criticality})`);
  }
  if (dependencyPoints > 0) {
    out.push({
      kind: 'critical_dependency',
      points: Math.min(12, dependencyPoints),
      reason: `touches ${touched.join(', ')}`,
    });
  }

  const slo = request.slo;
  let budgetPoints = 0;
  const budgetReasons: string[] = [];
  const errorRatio = slo.targetErrorRatePercent > 0 ? slo.currentErrorRatePercent / slo.targetErrorRatePercent : 0;
  if (errorRatio >= 1) {
    budgetPoints += 10;
    budgetReasons.push(
      `error rate ${slo.currentErrorRatePercent} % already at or above the ${slo.targetErrorRatePercent} % target`,
    );
  } else if (errorRatio >= 0.5) {
    budgetPoints += 5;
    budgetReasons.push(
      `error rate ${slo.currentErrorRatePercent} % is over half the ${slo.targetErrorRatePercent} % target`,
    );
  }
  if (slo.currentP95LatencyMs > 0 && slo.currentP95LatencyMs >= 0.9 * slo.targetP95LatencyMs) {
    budgetPoints += 5;
    budgetReasons.push(`p95 ${slo.currentP95LatencyMs} ms is within 10 % of the ${slo.targetP95LatencyMs} ms target`);
  }
  if (budgetPoints > 0) {
    out.push({ kind: 'error_budget', points: Math.min(10, budgetPoints), reason: budgetReasons.join('; ') });
  }

  const tags = declaredCriticalTags(request);
  if (tags.length > 0) {
    out.push({ kind: 'declared_critical', points: 5, reason: `tagged ${[...new Set(tags)].join(', ')} by the author` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Confidence

/**
 * How much the assessment rests on, 0..0.95: the kind of evidence the request offers (a diff 0.75, file paths 0.6,
 * only descriptions, commit messages or tags 0.4, nothing 0.25), +0.04 per factor confirmed by two or more kinds of
 * evidence (at most +0.12), +0.04 when live traffic figures are known.
 */
function confidenceFor(request: DeploymentRequest, detections: FactorDetection[]): number {
  let base = 0.25;
  if (request.changes.some((c) => c.addedLines !== undefined)) base = 0.75;
  else if (request.changes.some((c) => c.filePath.trim() !== '')) base = 0.6;
  else if (
    request.commitMessages.some((m) => m.trim() !== '') ||
    request.changes.some((c) => c.description.trim() !== '' || c.riskTags.length > 0)
  ) {
    base = 0.4;
  }
  const corroborated = detections.filter((d) => d.sources.size >= 2).length;
  const traffic = request.slo.currentQps > 0 ? 0.04 : 0;
  return round(Math.min(0.95, base + 0.04 * Math.min(3, corroborated) + traffic), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Predicted impact

/**
 * Rule-of-thumb increments per factor at medium severity (×0.5 low, ×1.5 high); not calibrated on outcomes.
 * p95: relative increase of p95 latency (fraction). error: absolute increase of the error rate in percentage points.
 * p99 uses 1.5× the p95 increment (tails degrade more), each capped at 0.9.
 */
const IMPACT: Record<ContentFactor, { p95: number; error: number }> = {
  database_migration: { p95: 0.15, error: 0.1 },
  api_contract: { p95: 0.08, error: 0.08 },
  traffic_pattern: { p95: 0.2, error: 0.05 },
  caching: { p95: 0.05, error: 0.02 },
  networking_load_balancing: { p95: 0.1, error: 0.08 },
  permissions_authz: { p95: 0.03, error: 0.08 },
  encryption_secrets: { p95: 0.05, error: 0.05 },
  storage: { p95: 0.08, error: 0.05 },
  dependency_update: { p95: 0.05, error: 0.05 },
  infrastructure_as_code: { p95: 0.05, error: 0.05 },
  configuration_flags: { p95: 0.03, error: 0.05 },
};
const SEVERITY_MULTIPLIER: Record<Severity, number> = { low: 0.5, medium: 1, high: 1.5 };

/**
 * Combines independent increments as 1 − Π(1 − x): never above 100 %, close to the sum while increments are small.
 * The size model's probability adds 0.1 pp error and 5 % p95 at probability 1.
 */
function predictImpact(detections: FactorDetection[], sizeProbability: number): RiskAssessment['predictedImpact'] {
  let keepP95 = 1 - 0.05 * sizeProbability;
  let keepP99 = 1 - Math.min(0.9, 0.075 * sizeProbability);
  let keepRequests = 1 - (0.1 * sizeProbability) / 100;
  for (const d of detections) {
    const m = SEVERITY_MULTIPLIER[d.severity];
    const p95 = Math.min(0.9, IMPACT[d.factor].p95 * m);
    keepP95 *= 1 - p95;
    keepP99 *= 1 - Math.min(0.9, 1.5 * p95);
    keepRequests *= 1 - (IMPACT[d.factor].error * m) / 100;
  }
  return {
    errorRateIncreasePercent: round(100 * (1 - keepRequests), 3),
    p95IncreasePercent: round(100 * (1 - keepP95), 1),
    p99IncreasePercent: round(100 * (1 - keepP99), 1),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Text

function summarise(d: FactorDetection, rule: { id: string; ratio: number } | undefined): string {
  const first = d.evidence[0];
  const more = d.signals > 1 ? ` (+${d.signals - 1} more)` : '';
  const why = rule
    ? ` — ${rule.id.replace(/^path:|^word:/, '')}: ${round(rule.ratio, 2)}× the bug-inducing rate expected for its size on held-out projects`
    : ' — evidence only (no measured lift, adds no points)';
  return `${FACTOR_LABELS[d.factor]} (${d.severity}): ${first ? describeEvidence(first) : 'detected'}${more}${why}`;
}

export function describeEvidence(e: Evidence): string {
  const where = e.file === undefined ? '' : e.line === undefined ? e.file : `${e.file}:${e.line}`;
  switch (e.source) {
    case 'diff':
      return `${quotePhrase(e.text)} at ${where}`;
    case 'path':
      return `${e.text} in ${where}`;
    case 'risk_tag':
      return `risk tag "${e.text}"${where ? ` on ${where}` : ''}`;
    case 'description':
      return `"${e.text}" in the description${where ? ` of ${where}` : ''}`;
    case 'commit_message':
      return `"${e.text}" in a commit message`;
    case 'metrics':
      return e.text;
  }
}

function quotePhrase(text: string): string {
  const colon = text.indexOf(': ');
  return colon > 0 ? `"${text.slice(0, colon)}"` : `"${text}"`;
}

function clampShare(value: number): number {
  if (!Number.isFinite(value)) return 100;
  return Math.min(100, Math.max(0, value));
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
