import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHAT_REQUEST_KEYS, parseKeyValueRequest, tokenizeKeyValues } from '../../src/domain/chatRequest.js';
import { RequestValidationError } from '../../src/domain/errors.js';

function validationError(fn: () => unknown): RequestValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestValidationError) return error;
    throw error;
  }
  throw new Error('expected a RequestValidationError');
}

const EXAMPLE =
  'service=checkout version=2.4.0 env=prod files=src/db/migrations/001.sql,src/api/x.ts lines=120 description="add index"';

describe('parseKeyValueRequest', () => {
  it('parses the product example into a DeploymentRequest', () => {
    const r = parseKeyValueRequest(EXAMPLE);
    expect(r.serviceName).toBe('checkout');
    expect(r.version).toBe('2.4.0');
    expect(r.environment).toBe('prod');
    expect(r.changes.map((c) => c.filePath)).toEqual(['src/db/migrations/001.sql', 'src/api/x.ts']);
    expect(r.changes.every((c) => c.changeType === 'modify')).toBe(true);
    expect(r.totalLinesChanged).toBe(120);
    expect(r.commitMessages).toEqual(['add index']);
    expect(r.source).toEqual({ kind: 'chat' });
    // Lines without a per-file split count as size but are attributed to no file.
    expect(r.spread).toMatchObject({ linesAdded: 120, files: 2, directories: 2, subsystems: 1, entropy: 0 });
  });

  it('derives a deterministic deployment id from the pairs and now', () => {
    const a = parseKeyValueRequest(EXAMPLE);
    const b = parseKeyValueRequest(
      'description="add index" lines=120 files=src/db/migrations/001.sql,src/api/x.ts env=prod version=2.4.0 service=checkout',
    );
    expect(a.deploymentId).toMatch(/^chat-checkout-2\.4\.0-[0-9a-f]{8}$/);
    expect(b.deploymentId).toBe(a.deploymentId);
    const t1 = parseKeyValueRequest(EXAMPLE, new Date('2026-01-01T00:00:00Z'));
    const t2 = parseKeyValueRequest(EXAMPLE, new Date('2026-01-01T00:00:01Z'));
    expect(t1.deploymentId).not.toBe(t2.deploymentId);
    expect(parseKeyValueRequest(EXAMPLE, new Date('2026-01-01T00:00:00Z')).deploymentId).toBe(t1.deploymentId);
    expect(parseKeyValueRequest(EXAMPLE, undefined, { deploymentId: 'dep-42' }).deploymentId).toBe('dep-42');
    expect(parseKeyValueRequest(`${EXAMPLE} id=mine-1`).deploymentId).toBe('mine-1');
  });

  it('reads quoted values, escapes, per-file line counts, lists, booleans and numbers', () => {
    const r = parseKeyValueRequest(
      `service=api version=1.0 files=a/x.sql:40,b/y.ts:80 tags=database,critical reviewers="ann, bob" ` +
        `rollback=yes qps=1500.5 p95=120 target_p95=300 owner='Team "Core"' desc="say \\"hi\\" \\\\ now" ` +
        'target=argo-rollouts namespace=shop resource=api-rollout flag=new-checkout',
    );
    expect(r.changes.map((c) => [c.filePath, c.linesChanged, c.riskTags])).toEqual([
      ['a/x.sql', 40, ['database', 'critical']],
      ['b/y.ts', 80, ['database', 'critical']],
    ]);
    expect(r.totalLinesChanged).toBe(120);
    expect(r.reviewers).toEqual(['ann', 'bob']);
    expect(r.rollbackCapability).toBe(true);
    expect(r.slo.currentQps).toBe(1500.5);
    expect(r.slo.currentP95LatencyMs).toBe(120);
    expect(r.slo.targetP95LatencyMs).toBe(300);
    expect(r.ownerTeam).toBe('Team "Core"');
    expect(r.commitMessages).toEqual(['say "hi" \\ now']);
    expect(r.target).toEqual({ kind: 'argo-rollouts', namespace: 'shop', resourceName: 'api-rollout' });
    expect(r.featureFlag).toBe('new-checkout');
    expect(r.environment).toBe('production');
  });

  it('reports unknown keys by name with the list of known keys', () => {
    const err = validationError(() => parseKeyValueRequest('service=x version=1 colour=blue'));
    expect(err.issues[0]).toMatchObject({ path: 'colour', rule: 'unknown_key' });
    expect(err.message).toContain('colour: is not a known key; known keys: id, deployment_id, service');
    for (const key of CHAT_REQUEST_KEYS) expect(err.message).toContain(key);
  });

  it('names the chat key in validation errors from the shared schema', () => {
    expect(validationError(() => parseKeyValueRequest('version=1')).issues[0]).toMatchObject({
      path: 'service',
      rule: 'required',
    });
    expect(validationError(() => parseKeyValueRequest('service=x version=1 qps=lots')).message).toBe(
      'qps: must be a non-negative number (got "lots")',
    );
    expect(validationError(() => parseKeyValueRequest('svc=x')).issues[0]?.path).toBe('svc');
    expect(validationError(() => parseKeyValueRequest('service="a b" version=1')).issues[0]).toMatchObject({
      path: 'service',
      rule: 'pattern',
    });
    expect(validationError(() => parseKeyValueRequest('service=x version=1 error_rate=150')).issues[0]).toMatchObject({
      path: 'error_rate',
      rule: 'maximum',
    });
    expect(
      validationError(() => parseKeyValueRequest('service=x version=1 files=a:5 lines=2')).issues[0],
    ).toMatchObject({ path: 'lines', rule: 'consistency' });
    expect(validationError(() => parseKeyValueRequest('service=x version=1 target=nomad')).issues[0]).toMatchObject({
      path: 'target',
      rule: 'enum',
    });
  });

  it('rejects duplicate keys, bare words, bad booleans and tags without files', () => {
    expect(validationError(() => parseKeyValueRequest('service=x service=y version=1')).issues[0]?.rule).toBe(
      'duplicate_key',
    );
    expect(
      validationError(() => parseKeyValueRequest('env=prod environment=prod service=x version=1')).issues[0],
    ).toMatchObject({ path: 'environment', rule: 'duplicate_key' });
    expect(validationError(() => parseKeyValueRequest('please service=x version=1')).issues[0]).toMatchObject({
      path: 'please',
      rule: 'syntax',
    });
    expect(validationError(() => parseKeyValueRequest('service=x version=1 rollback=maybe')).issues[0]?.path).toBe(
      'rollback',
    );
    expect(validationError(() => parseKeyValueRequest('service=x version=1 tags=db')).issues[0]).toMatchObject({
      path: 'tags',
      rule: 'requires',
    });
  });

  it('reports an unterminated quote with its position', () => {
    const err = validationError(() => parseKeyValueRequest('service=x description="half'));
    expect(err.issues[0]).toMatchObject({ path: 'description', rule: 'syntax' });
    expect(err.message).toContain('unterminated');
  });

  it('uses caller defaults below typed keys', () => {
    const r = parseKeyValueRequest('version=3', undefined, {
      defaults: { service_name: 'billing', environment: 'staging', rollback_capability: true },
    });
    expect(r.serviceName).toBe('billing');
    expect(r.environment).toBe('staging');
    expect(r.rollbackCapability).toBe(true);
  });

  it('throws nothing but RequestValidationError for arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 120 }), (text) => {
        try {
          parseKeyValueRequest(text);
        } catch (error) {
          expect(error).toBeInstanceOf(RequestValidationError);
          expect((error as RequestValidationError).issues[0]?.path.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('tokenizeKeyValues', () => {
  it('keeps offsets and raw values', () => {
    expect(tokenizeKeyValues(`a=1  b="two words" c='x y'`)).toEqual([
      { key: 'a', value: '1', offset: 0 },
      { key: 'b', value: 'two words', offset: 5 },
      { key: 'c', value: 'x y', offset: 19 },
    ]);
    expect(tokenizeKeyValues('')).toEqual([]);
    expect(tokenizeKeyValues('k=')).toEqual([{ key: 'k', value: '', offset: 0 }]);
  });
});
