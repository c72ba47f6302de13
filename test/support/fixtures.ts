/**
 * Hand-made domain fixtures: a DeploymentRequest and a RiskAssessment with sensible defaults, overridable per test.
 * Independent of the request parser and risk engine so contract tests pin the contract logic alone.
 */
import type {
  DeploymentRequest,
  Evidence,
  FactorFinding,
  FileChange,
  RiskAssessment,
  RiskFactor,
  RiskLevel,
  ServiceSlo,
} from '../../src/domain/model.js';

export function makeChange(filePath: string, overrides: Partial<FileChange> = {}): FileChange {
  const linesAdded = overrides.linesAdded ?? 40;
  const linesDeleted = overrides.linesDeleted ?? 10;
  return {
    filePath,
    changeType: 'modify',
    linesAdded,
    linesDeleted,
    linesChanged: linesAdded + linesDeleted,
    riskTags: [],
    description: '',
    ...overrides,
  };
}

export function makeRequest(
  overrides: Omit<Partial<DeploymentRequest>, 'slo'> & { slo?: Partial<ServiceSlo> } = {},
): DeploymentRequest {
  const { slo, ...rest } = overrides;
  const changes = rest.changes ?? [makeChange('src/api/handlers.ts')];
  const request: DeploymentRequest = {
    deploymentId: 'deploy-test-001',
    serviceName: 'checkout',
    environment: 'production',
    version: 'v2.4.0',
    previousVersion: 'v2.3.9',
    changes,
    commitMessages: [],
    totalLinesChanged: changes.reduce((sum, c) => sum + c.linesChanged, 0),
    spread: { linesAdded: 40, linesDeleted: 10, files: changes.length, directories: 1, subsystems: 1, entropy: 0 },
    slo: {
      currentErrorRatePercent: 0.05,
      currentP95LatencyMs: 180,
      currentP99LatencyMs: 450,
      targetErrorRatePercent: 0.1,
      targetP95LatencyMs: 250,
      targetP99LatencyMs: 800,
      currentQps: 5000,
      peakQps: 8000,
      ...slo,
    },
    ownerTeam: 'Platform',
    author: 'dev@example.com',
    reviewers: ['lead@example.com'],
    rollbackCapability: true,
    dependencies: [],
    target: { kind: 'kubernetes', namespace: 'shop', resourceName: 'checkout' },
    source: { kind: 'json' },
    ...rest,
  };
  return request;
}

export function makeFinding(factor: RiskFactor, evidence: Partial<Evidence>[] = [], points = 15): FactorFinding {
  return {
    factor,
    points,
    evidence: evidence.map((e) => ({ source: 'path', text: factor, ...e })),
    summary: `${factor} detected`,
  };
}

const SCORE_FOR: Record<RiskLevel, number> = { low: 20, medium: 40, high: 60, critical: 80 };

export function makeRisk(
  level: RiskLevel,
  findings: FactorFinding[] = [],
  overrides: Partial<RiskAssessment> = {},
): RiskAssessment {
  return {
    score: SCORE_FOR[level],
    level,
    confidence: 0.8,
    findings,
    predictedImpact: { errorRateIncreasePercent: 0.5, p95IncreasePercent: 10, p99IncreasePercent: 12 },
    affected: { canarySharePercent: 10, requestsPerMinuteInCanary: 30000, estimatedUsersInCanary: 1200 },
    modelVersion: 'test-fixture',
    ...overrides,
  };
}

export const FIXED_NOW = new Date('2026-11-24T12:00:00.000Z');
