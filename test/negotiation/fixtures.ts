/**
 * Contracts for negotiation tests, drafted by the real engine (parseDeploymentRequest → draftContract under
 * DEFAULT_POLICY). The risk assessment is fixed per fixture instead of computed, so golden dialogues keep their
 * meaning when the risk weights are recalibrated; `contractAssessed` uses the real risk engine instead.
 */
import { readFileSync } from 'node:fs';
import { draftContract } from '../../src/domain/contract.js';
import type { Contract, FactorFinding, RiskAssessment, RiskLevel } from '../../src/domain/model.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/policy.js';
import { parseDeploymentRequest } from '../../src/domain/request.js';
import { assessRisk } from '../../src/domain/risk/engine.js';

export const FIXED_NOW = new Date('2026-11-24T09:00:00.000Z');

const SEED = JSON.parse(
  readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

interface Fixture {
  request: Record<string, unknown>;
  risk: { level: RiskLevel; score: number; confidence: number; findings: FactorFinding[] };
}

const base = {
  environment: 'production',
  current_error_rate_percent: 0.05,
  current_p95_latency_ms: 180,
  current_p99_latency_ms: 420,
  target_error_rate_percent: 0.1,
  target_p95_latency_ms: 300,
  target_p99_latency_ms: 800,
  current_qps: 1200,
  peak_qps: 2400,
  owner_team: 'Commerce',
  reviewers: ['lead@example.com'],
  rollback_capability: true,
  author: 'dev@example.com',
};

export const FIXTURES: Record<string, Fixture> = {
  /** The seed example: payment refactor with a schema change, caching and an API serialisation change. */
  'payment-critical': {
    request: SEED,
    risk: {
      level: 'critical',
      score: 74,
      confidence: 0.6,
      findings: [
        {
          factor: 'database_migration',
          points: 22,
          summary: 'new database schema for transaction tracking',
          evidence: [
            {
              source: 'description',
              file: 'src/processor/payment_processor.py',
              text: 'new database schema for transaction tracking',
            },
          ],
        },
        {
          factor: 'caching',
          points: 14,
          summary: 'caching strategy changed in src/cache/redis_client.py',
          evidence: [{ source: 'path', file: 'src/cache/redis_client.py', text: 'redis_client' }],
        },
        {
          factor: 'api_contract',
          points: 12,
          summary: 'API response serialization changed to protobuf',
          evidence: [
            { source: 'description', file: 'src/api/handlers.py', text: 'API response serialization using protobuf' },
          ],
        },
      ],
    },
  },
  'search-high': {
    request: {
      ...base,
      deployment_id: 'deploy-search-042',
      service_name: 'search-api',
      version: '5.2.0',
      changes: [
        {
          file_path: 'src/api/query.ts',
          change_type: 'modify',
          lines_changed: 220,
          risk_tags: ['api'],
          description: 'new ranking endpoint parameters',
        },
        {
          file_path: 'package-lock.json',
          change_type: 'modify',
          lines_changed: 800,
          description: 'bump elasticsearch client to 8.x',
        },
      ],
    },
    risk: {
      level: 'high',
      score: 58,
      confidence: 0.7,
      findings: [
        {
          factor: 'api_contract',
          points: 18,
          summary: 'API parameters changed in src/api/query.ts',
          evidence: [{ source: 'description', file: 'src/api/query.ts', text: 'new ranking endpoint parameters' }],
        },
        {
          factor: 'dependency_update',
          points: 16,
          summary: 'dependency lock file changed (package-lock.json)',
          evidence: [{ source: 'path', file: 'package-lock.json', text: 'package-lock.json' }],
        },
      ],
    },
  },
  'orders-migration-high': {
    request: {
      ...base,
      deployment_id: 'deploy-orders-7',
      service_name: 'orders',
      version: '2.4.0',
      changes: [
        {
          file_path: 'db/migrations/0042_add_index.sql',
          change_type: 'add',
          lines_changed: 30,
          description: 'add index on orders.created_at',
        },
        {
          file_path: 'src/orders/repository.ts',
          change_type: 'modify',
          lines_changed: 90,
          description: 'use new index',
        },
      ],
    },
    risk: {
      level: 'high',
      score: 55,
      confidence: 0.8,
      findings: [
        {
          factor: 'database_migration',
          points: 25,
          summary: 'schema migration in db/migrations/0042_add_index.sql',
          evidence: [{ source: 'path', file: 'db/migrations/0042_add_index.sql', text: 'db/migrations/' }],
        },
      ],
    },
  },
  'checkout-medium': {
    request: {
      ...base,
      deployment_id: 'deploy-checkout-9',
      service_name: 'checkout',
      version: '3.1.0',
      changes: [
        {
          file_path: 'config/checkout.yaml',
          change_type: 'modify',
          lines_changed: 12,
          risk_tags: ['config'],
          description: 'raise payment provider timeout from 2s to 3s',
        },
      ],
    },
    risk: {
      level: 'medium',
      score: 36,
      confidence: 0.5,
      findings: [
        {
          factor: 'configuration_flags',
          points: 12,
          summary: 'configuration change in config/checkout.yaml',
          evidence: [{ source: 'path', file: 'config/checkout.yaml', text: 'config/' }],
        },
      ],
    },
  },
  'docs-low': {
    request: {
      ...base,
      deployment_id: 'deploy-docs-1',
      service_name: 'help-center',
      version: '1.0.1',
      changes: [{ file_path: 'docs/faq.md', change_type: 'modify', lines_changed: 8, description: 'fix typo in FAQ' }],
    },
    risk: { level: 'low', score: 6, confidence: 0.9, findings: [] },
  },
};

export const FIXTURE_NAMES = Object.keys(FIXTURES);

function riskFor(f: Fixture, canarySharePercent: number, qps: number): RiskAssessment {
  return {
    score: f.risk.score,
    level: f.risk.level,
    confidence: f.risk.confidence,
    findings: f.risk.findings,
    predictedImpact: { errorRateIncreasePercent: 0.1, p95IncreasePercent: 8, p99IncreasePercent: 12 },
    affected: {
      canarySharePercent,
      requestsPerMinuteInCanary: Math.round((qps * 60 * canarySharePercent) / 100),
      estimatedUsersInCanary: Math.round((qps * 30 * canarySharePercent) / 100),
    },
    modelVersion: 'fixture',
  };
}

const FIRST_STEP: Record<RiskLevel, number> = { critical: 5, high: 10, medium: 25, low: 100 };

/** A fresh contract (revision 1, state draft) for the named fixture. */
export function contractFixture(name: string, policy: Policy = DEFAULT_POLICY): Contract {
  const f = FIXTURES[name];
  if (!f) throw new Error(`unknown contract fixture "${name}" (known: ${FIXTURE_NAMES.join(', ')})`);
  const request = parseDeploymentRequest(f.request);
  const risk = riskFor(f, FIRST_STEP[f.risk.level], request.slo.currentQps);
  return draftContract(request, risk, policy, { now: FIXED_NOW });
}

/** A contract drafted from any wire-format request with a given risk (for dialogue files with inline requests). */
export function contractFromRequest(
  request: unknown,
  risk: { level: RiskLevel; score: number; confidence?: number; findings?: FactorFinding[] },
  policy: Policy = DEFAULT_POLICY,
): Contract {
  const parsed = parseDeploymentRequest(request);
  const fixture: Fixture = {
    request: {},
    risk: { level: risk.level, score: risk.score, confidence: risk.confidence ?? 0.5, findings: risk.findings ?? [] },
  };
  return draftContract(parsed, riskFor(fixture, FIRST_STEP[risk.level], parsed.slo.currentQps), policy, {
    now: FIXED_NOW,
  });
}

/** A contract drafted by the whole real pipeline: parse, assess risk, draft. */
export function contractAssessed(request: unknown, policy: Policy = DEFAULT_POLICY): Contract {
  const parsed = parseDeploymentRequest(request);
  return draftContract(parsed, assessRisk(parsed), policy, { now: FIXED_NOW });
}
