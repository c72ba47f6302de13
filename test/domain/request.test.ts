import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../src/domain/errors.js';
import { parseDeploymentJson, parseDeploymentRequest } from '../../src/domain/request.js';

const SEED_TEXT = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');
const seed = (): Record<string, unknown> => JSON.parse(SEED_TEXT) as Record<string, unknown>;

function validationError(fn: () => unknown): RequestValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestValidationError) return error;
    throw error;
  }
  throw new Error('expected a RequestValidationError');
}

describe('parseDeploymentRequest: the prior JSON format', () => {
  it('parses the seed example unchanged', () => {
    const r = parseDeploymentJson(SEED_TEXT);
    expect(r.deploymentId).toBe('deploy-example-prod-001');
    expect(r.serviceName).toBe('payment-service');
    expect(r.environment).toBe('production');
    expect(r.version).toBe('v3.0.0');
    expect(r.changes.map((c) => [c.filePath, c.changeType, c.linesChanged])).toEqual([
      ['src/processor/payment_processor.py', 'modify', 120],
      ['src/cache/redis_client.py', 'modify', 45],
      ['src/api/handlers.py', 'modify', 78],
    ]);
    expect(r.changes[0]?.riskTags).toEqual(['payment', 'database', 'critical']);
    expect(r.changes[2]?.description).toBe('Optimize API response serialization using protobuf format');
    expect(r.totalLinesChanged).toBe(243);
    expect(r.slo).toEqual({
      currentErrorRatePercent: 0.02,
      currentP95LatencyMs: 200,
      currentP99LatencyMs: 450,
      targetErrorRatePercent: 0.1,
      targetP95LatencyMs: 300,
      targetP99LatencyMs: 800,
      currentQps: 15000,
      peakQps: 25000,
    });
    expect(r.ownerTeam).toBe('Platform & Payments Team');
    expect(r.reviewers).toEqual(['lead@example.com', 'reliability@example.com']);
    expect(r.rollbackCapability).toBe(true);
    expect(r.dependencies[0]).toEqual({
      serviceName: 'database',
      serviceType: 'database',
      criticality: 'critical',
      averageLatencyMs: 50,
      errorRatePercent: 0.01,
    });
    expect(r.target).toEqual({ kind: 'kubernetes', namespace: 'default', resourceName: 'payment-service' });
    expect(r.source).toEqual({ kind: 'json' });
    expect(r.commitMessages).toEqual([]);
  });

  it('computes the Kamei spread of the seed (entropy in bits over 120/45/78 lines)', () => {
    const { spread } = parseDeploymentJson(SEED_TEXT);
    const p = [120, 45, 78].map((n) => n / 243);
    const h = -p.reduce((s, x) => s + x * Math.log2(x), 0);
    expect(spread).toMatchObject({ linesAdded: 243, linesDeleted: 0, files: 3, directories: 3, subsystems: 1 });
    expect(spread.entropy).toBeCloseTo(h, 12);
  });

  it('derives total_lines_changed from the changes when absent (the prior system used 0)', () => {
    const input = seed();
    delete input.total_lines_changed;
    expect(parseDeploymentRequest(input).totalLinesChanged).toBe(243);
  });

  it('rejects a declared total smaller than the sum of the changes', () => {
    const err = validationError(() => parseDeploymentRequest({ ...seed(), total_lines_changed: 100 }));
    expect(err.issues[0]).toMatchObject({ path: 'total_lines_changed', rule: 'consistency' });
    expect(err.message).toContain('243');
  });

  it('counts lines declared only in the total as size, not as spread', () => {
    const r = parseDeploymentRequest({ ...seed(), total_lines_changed: 300 });
    expect(r.totalLinesChanged).toBe(300);
    expect(r.spread.linesAdded).toBe(300);
    expect(r.spread.files).toBe(3);
  });

  it('applies the prior defaults and documents unknown rollback as false', () => {
    const r = parseDeploymentRequest({
      deployment_id: 'd-1',
      service_name: 'svc',
      environment: 'staging',
      version: '1',
    });
    expect(r.changes).toEqual([]);
    expect(r.totalLinesChanged).toBe(0);
    expect(r.slo).toMatchObject({ targetErrorRatePercent: 0.1, targetP95LatencyMs: 500, targetP99LatencyMs: 1000 });
    expect(r.slo.currentQps).toBe(0);
    expect(r.rollbackCapability).toBe(false);
  });

  it('raises the default p99 target to the p95 target when that is higher', () => {
    const r = parseDeploymentRequest({ ...seed(), target_p95_latency_ms: 1500, target_p99_latency_ms: undefined });
    expect(r.slo.targetP99LatencyMs).toBe(1500);
    const err = validationError(() => parseDeploymentRequest({ ...seed(), target_p99_latency_ms: 100 }));
    expect(err.issues[0]).toMatchObject({ path: 'target_p99_latency_ms', rule: 'consistency' });
  });

  it('ignores unknown extra fields, like the prior system', () => {
    const r = parseDeploymentRequest({ ...seed(), timestamp: '2026-03-06T04:38:40', confidence: 0.9 });
    expect(r.deploymentId).toBe('deploy-example-prod-001');
  });

  it('accepts the new optional fields', () => {
    const input = seed();
    input.author = 'dev@example.com';
    input.previous_version = 'v2.9.1';
    input.feature_flag = 'payments.new-schema';
    input.commit_messages = ['Add transaction tracking table'];
    input.target = { kind: 'argo-rollouts', namespace: 'payments', resource_name: 'payment-api' };
    const changes = input.changes as Record<string, unknown>[];
    changes[0] = {
      ...changes[0],
      lines_added: 100,
      lines_deleted: 20,
      added_lines: [{ line: 3, text: 'ALTER TABLE x' }],
    };
    const r = parseDeploymentRequest(input);
    expect(r.author).toBe('dev@example.com');
    expect(r.previousVersion).toBe('v2.9.1');
    expect(r.featureFlag).toBe('payments.new-schema');
    expect(r.commitMessages).toEqual(['Add transaction tracking table']);
    expect(r.target).toEqual({ kind: 'argo-rollouts', namespace: 'payments', resourceName: 'payment-api' });
    expect(r.changes[0]).toMatchObject({ linesAdded: 100, linesDeleted: 20, linesChanged: 120 });
    expect(r.changes[0]?.addedLines).toEqual([{ line: 3, text: 'ALTER TABLE x' }]);
    expect(r.spread.linesDeleted).toBe(20);
  });

  it('treats a bare lines_changed as added lines and fills the missing half of added/deleted', () => {
    const base = { deployment_id: 'd', service_name: 's', environment: 'e', version: '1' };
    const r = parseDeploymentRequest({
      ...base,
      changes: [
        { file_path: 'a.ts', change_type: 'modify', lines_changed: 10 },
        { file_path: 'b.ts', change_type: 'modify', lines_changed: 10, lines_deleted: 4 },
        { file_path: 'c.ts', change_type: 'modify', lines_added: 3 },
      ],
    });
    expect(r.changes.map((c) => [c.linesAdded, c.linesDeleted, c.linesChanged])).toEqual([
      [10, 0, 10],
      [6, 4, 10],
      [3, 0, 3],
    ]);
    const err = validationError(() =>
      parseDeploymentRequest({
        ...base,
        changes: [{ file_path: 'a.ts', change_type: 'modify', lines_changed: 10, lines_added: 8, lines_deleted: 8 }],
      }),
    );
    expect(err.issues[0]).toMatchObject({ path: 'changes[0].lines_changed', rule: 'consistency' });
    const missing = validationError(() =>
      parseDeploymentRequest({ ...base, changes: [{ file_path: 'a.ts', change_type: 'modify' }] }),
    );
    expect(missing.issues[0]).toMatchObject({ path: 'changes[0].lines_changed', rule: 'required' });
  });

  it('normalises change types and criticality case-insensitively', () => {
    const input = seed();
    const changes = input.changes as Record<string, unknown>[];
    (changes[0] as Record<string, unknown>).change_type = 'Deleted';
    ((input.dependencies as Record<string, unknown>[])[0] as Record<string, unknown>).criticality = 'HIGH';
    const r = parseDeploymentRequest(input);
    expect(r.changes[0]?.changeType).toBe('delete');
    expect(r.dependencies[0]?.criticality).toBe('high');
  });
});

describe('parseDeploymentRequest: errors name the path and the rule', () => {
  it('reports a string where lines_changed must be an integer in one line', () => {
    const input = seed();
    ((input.changes as Record<string, unknown>[])[2] as Record<string, unknown>).lines_changed = 'abc';
    const err = validationError(() => parseDeploymentRequest(input));
    expect(err.code).toBe('request_invalid');
    expect(err.message).toBe('changes[2].lines_changed: must be a non-negative integer (got "abc")');
    expect(err.issues).toEqual([
      { path: 'changes[2].lines_changed', rule: 'type', message: 'must be a non-negative integer (got "abc")' },
    ]);
  });

  it.each([
    [{ current_qps: -1 }, 'current_qps', 'minimum'],
    [{ current_qps: '15000' }, 'current_qps', 'type'],
    [{ current_error_rate_percent: 120 }, 'current_error_rate_percent', 'maximum'],
    [{ rollback_capability: 'yes' }, 'rollback_capability', 'type'],
    [{ deployment_id: undefined }, 'deployment_id', 'required'],
    [{ service_name: 'payment service' }, 'service_name', 'pattern'],
    [{ environment: '' }, 'environment', 'non_empty'],
    [{ version: '--upload-pack=x' }, 'version', 'pattern'],
    [{ changes: {} }, 'changes', 'type'],
    [{ reviewers: [1] }, 'reviewers[0]', 'type'],
    [{ target: { kind: 'nomad' } }, 'target.kind', 'enum'],
    [{ target: { kind: 'custom' } }, 'target.custom_rollback_command', 'required'],
    [{ target: { namespace: 'a;rm -rf /' } }, 'target.namespace', 'pattern'],
    [{ target_error_rate_percent: 0 }, 'target_error_rate_percent', 'minimum'],
  ])('%j → %s (%s)', (patch, path, rule) => {
    const err = validationError(() => parseDeploymentRequest({ ...seed(), ...patch }));
    expect(err.issues.find((i) => i.path === path)).toMatchObject({ path, rule });
    expect(err.message.startsWith(`${err.issues[0]?.path}: `)).toBe(true);
  });

  it('names nested dependency and change paths', () => {
    const input = seed();
    ((input.dependencies as Record<string, unknown>[])[1] as Record<string, unknown>).criticality = 'urgent';
    ((input.changes as Record<string, unknown>[])[0] as Record<string, unknown>).change_type = 'weird';
    const err = validationError(() => parseDeploymentRequest(input));
    expect(err.issues.map((i) => `${i.path}:${i.rule}`)).toEqual([
      'changes[0].change_type:enum',
      'dependencies[1].criticality:enum',
    ]);
    expect(err.issues[1]?.message).toBe('must be one of critical, high, medium, low (got "urgent")');
    expect(err.message).toContain('(+1 more issue)');
  });

  it('rejects a non-object input at $', () => {
    for (const input of [null, 42, 'x', [1], undefined]) {
      const err = validationError(() => parseDeploymentRequest(input));
      expect(err.issues[0]?.path).toBe('$');
    }
  });

  it('applies defaults under the input', () => {
    const r = parseDeploymentRequest(
      { service_name: 'checkout', version: '2.4.0', environment: 'staging' },
      { defaults: { deployment_id: 'ci-77', environment: 'production', rollback_capability: true } },
    );
    expect(r.deploymentId).toBe('ci-77');
    expect(r.environment).toBe('staging');
    expect(r.rollbackCapability).toBe(true);
  });
});

describe('parseDeploymentJson', () => {
  it('reports JSON syntax errors at $ with line, column and position', () => {
    const err = validationError(() => parseDeploymentJson('{\n  "deployment_id": "x",\n}'));
    expect(err.issues[0]?.path).toBe('$');
    expect(err.issues[0]?.rule).toBe('json_syntax');
    expect(err.message).toMatch(/^\$: is not valid JSON: .* at line 3, column 1 \(position \d+\)$/);
  });

  it('reports truncated and empty input', () => {
    expect(validationError(() => parseDeploymentJson('{"a":')).message).toMatch(/position 5/);
    expect(validationError(() => parseDeploymentJson('   ')).message).toContain('empty');
  });

  it('accepts a byte order mark', () => {
    expect(parseDeploymentJson(`\ufeff${SEED_TEXT}`).deploymentId).toBe('deploy-example-prod-001');
  });
});

describe('properties', () => {
  const onlyValidationErrors = (input: unknown) => {
    try {
      parseDeploymentRequest(input);
    } catch (error) {
      expect(error).toBeInstanceOf(RequestValidationError);
      const e = error as RequestValidationError;
      expect(e.issues.length).toBeGreaterThan(0);
      for (const issue of e.issues) {
        expect(typeof issue.path).toBe('string');
        expect(issue.path.length).toBeGreaterThan(0);
        expect(issue.rule.length).toBeGreaterThan(0);
      }
      expect(e.message).not.toMatch(/[\r\n]/);
    }
  };

  it('arbitrary values throw nothing but RequestValidationError', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withMap: true, withSet: true }), onlyValidationErrors),
      {
        numRuns: 500,
      },
    );
  });

  it('arbitrary JSON text throws nothing but RequestValidationError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        try {
          parseDeploymentJson(text);
        } catch (error) {
          expect(error).toBeInstanceOf(RequestValidationError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a seed with one field replaced by an arbitrary value either parses or names that field', () => {
    const keys = Object.keys(seed());
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        const input = { ...seed(), [key]: value };
        try {
          parseDeploymentRequest(input);
        } catch (error) {
          expect(error).toBeInstanceOf(RequestValidationError);
          const paths = (error as RequestValidationError).issues.map((i) => i.path);
          // Cross-field rules report the dependent field: total_lines_changed (checked against the changes) and
          // target_p99_latency_ms (at least the p95 target).
          const related = ['total_lines_changed', 'target_p99_latency_ms'];
          expect(paths.some((p) => p.startsWith(key) || related.includes(p))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
