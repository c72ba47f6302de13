import { describe, expect, it } from 'vitest';
import type { RiskFactor } from '../../../src/domain/model.js';
import { parseDeploymentRequest } from '../../../src/domain/request.js';
import { detectFactors, isNonShippingPath } from '../../../src/domain/risk/factors.js';
import { PhraseMatcher, tokenize } from '../../../src/domain/risk/tokenize.js';

type WireChange = Record<string, unknown>;

function request(changes: WireChange[], extra: Record<string, unknown> = {}) {
  return parseDeploymentRequest({
    deployment_id: 'd-1',
    service_name: 'svc',
    environment: 'staging',
    version: '1.0.0',
    changes: changes.map((c) => ({ change_type: 'modify', lines_changed: 10, ...c })),
    ...extra,
  });
}

function factorsOf(changes: WireChange[], extra: Record<string, unknown> = {}): Map<RiskFactor, string> {
  return new Map(detectFactors(request(changes, extra)).map((d) => [d.factor, d.severity]));
}

const described = (description: string) => factorsOf([{ file_path: 'src/core/service.ts', description }]);

describe('tokenize', () => {
  it('splits words, identifiers and acronyms', () => {
    expect(tokenize('maxConnections @PreAuthorize redis_client SQLAlchemy APIs rate-limit HTTPServer TTLs')).toEqual([
      'max',
      'connections',
      'pre',
      'authorize',
      'redis',
      'client',
      'sql',
      'alchemy',
      'apis',
      'rate',
      'limit',
      'http',
      'server',
      'ttls',
    ]);
    expect(tokenize('k8s v3_schema 0.0.0.0/0 café')).toEqual([
      'k',
      '8',
      's',
      'v',
      '3',
      'schema',
      '0',
      '0',
      '0',
      '0',
      '0',
      'caf',
    ]);
    expect(tokenize('')).toEqual([]);
  });

  it('matches phrases on whole tokens only', () => {
    const m = new PhraseMatcher([
      { phrase: 'api', value: 1 },
      { phrase: 'rate limit', value: 2 },
      { phrase: 'load balancer', value: 3 },
    ]);
    const values = (text: string) => m.match(tokenize(text)).map((x) => x.rule.value);
    expect(values('rapid capital api')).toEqual([1]);
    expect(values('Raise the rate-limit; new LoadBalancer')).toEqual([2, 3]);
    expect(values('rate of limit; load the balancer')).toEqual([]);
  });
});

describe('word boundaries (the prior system matched substrings)', () => {
  it('raises nothing for words that merely contain keywords', () => {
    const found = described('rapid download of sqlite capital feedback upload');
    expect(found.has('api_contract')).toBe(false);
    expect(found.has('traffic_pattern')).toBe(false);
    expect(found.has('database_migration')).toBe(false);
    expect([...found.keys()]).toEqual([]);
  });

  it.each<[string, RiskFactor]>([
    ['Add SQL migration', 'database_migration'],
    ['new API endpoint', 'api_contract'],
    ['raise the rate limit', 'traffic_pattern'],
    ['raise the rate-limit', 'traffic_pattern'],
    ['warm the cache', 'caching'],
    ['shorter TTL', 'caching'],
    ['move to the new load balancer', 'networking_load_balancing'],
    ['rotate TLS certificates', 'encryption_secrets'],
    ['tighten RBAC for operators', 'permissions_authz'],
    ['bump lodash to 4.17.21', 'dependency_update'],
    ['put it behind a feature flag', 'configuration_flags'],
    ['resize the terraform node pool', 'infrastructure_as_code'],
    ['new blob storage bucket', 'storage'],
  ])('"%s" raises %s', (text, factor) => {
    expect(described(text).has(factor)).toBe(true);
  });
});

describe('detection sources', () => {
  it('detects factors from file paths', () => {
    const found = factorsOf([
      { file_path: 'db/migrations/001_add_orders.sql' },
      { file_path: 'prisma/schema.prisma' },
      { file_path: 'infra/main.bicep' },
      { file_path: 'infra/network.tf' },
      { file_path: 'Dockerfile' },
      { file_path: 'deploy/helm/values.yaml' },
      { file_path: 'package-lock.json' },
      { file_path: 'services/api/go.sum' },
      { file_path: 'src/auth/session.ts' },
      { file_path: 'certs/server.pem' },
      { file_path: 'conf/nginx.conf' },
      { file_path: 'api/v1/orders.proto' },
      { file_path: 'k8s/pvc-data.yaml' },
    ]);
    expect(found).toEqual(
      new Map<RiskFactor, string>([
        ['database_migration', 'medium'],
        ['infrastructure_as_code', 'medium'],
        ['configuration_flags', 'medium'],
        ['dependency_update', 'medium'],
        ['permissions_authz', 'medium'],
        ['encryption_secrets', 'high'],
        ['networking_load_balancing', 'medium'],
        ['api_contract', 'medium'],
        ['storage', 'medium'],
      ]),
    );
  });

  it('reads added diff lines with their line numbers', () => {
    const [db] = detectFactors(
      request([
        {
          file_path: 'src/repo/orders.ts',
          added_lines: [
            { line: 10, text: 'const total = 1;' },
            { line: 11, text: 'await sql`DROP TABLE legacy_orders`;' },
          ],
        },
      ]),
    ).filter((d) => d.factor === 'database_migration');
    expect(db?.severity).toBe('high');
    expect(db?.evidence[0]).toEqual({
      source: 'diff',
      file: 'src/repo/orders.ts',
      line: 11,
      text: 'drop table: await sql`DROP TABLE legacy_orders`;',
    });
  });

  it('finds identifiers in code: @PreAuthorize, maxConnections, redis, crypto', () => {
    const found = factorsOf([
      {
        file_path: 'src/main/java/Orders.java',
        added_lines: [
          { line: 3, text: '@PreAuthorize("hasRole(\'ADMIN\')")' },
          { line: 4, text: 'pool.maxConnections = 50;' },
          { line: 5, text: 'const client = new RedisClient();' },
          { line: 6, text: "import crypto from 'node:crypto';" },
        ],
      },
    ]);
    expect(found.get('permissions_authz')).toBe('medium');
    expect(found.get('traffic_pattern')).toBe('medium');
    expect(found.get('caching')).toBe('medium');
    expect(found.get('encryption_secrets')).toBe('low');
  });

  it('uses risk tags (the prior system ignored them) and commit messages', () => {
    expect(factorsOf([{ file_path: 'src/x.ts', risk_tags: ['caching'] }]).get('caching')).toBe('medium');
    expect(factorsOf([], { commit_messages: ['Add index on orders (CREATE INDEX)'] }).get('database_migration')).toBe(
      'medium',
    );
  });

  it('raises a database migration described as irreversible to high', () => {
    expect(described('schema migration').get('database_migration')).toBe('medium');
    expect(described('schema migration with no fallback').get('database_migration')).toBe('high');
    // Without a database signal the phrase raises nothing.
    expect([...described('no fallback').keys()]).toEqual([]);
  });

  it('ignores the content of documentation and tests, but not their risk tags', () => {
    expect(isNonShippingPath('docs/README.md')).toBe(true);
    expect(isNonShippingPath('src/cache/redis.test.ts')).toBe(true);
    expect(isNonShippingPath('src/cache/redis.ts')).toBe(false);
    expect(isNonShippingPath('requirements.txt')).toBe(false);
    const found = factorsOf([
      {
        file_path: 'docs/cache.md',
        description: 'document the redis TTL',
        added_lines: [{ line: 1, text: 'DROP TABLE is never used' }],
      },
      { file_path: 'test/db/migration.test.ts', description: 'migration test' },
    ]);
    expect([...found.keys()]).toEqual([]);
    expect(factorsOf([{ file_path: 'docs/x.md', risk_tags: ['database'] }]).has('database_migration')).toBe(true);
  });

  it('recognises files that never ship: release notes, changelogs, CI jobs, tox/lint config, API reference, tests', () => {
    for (const path of [
      'releasenotes/notes/fix-quota-1234.yaml',
      'ReleaseNotes/ReleaseNotes-2.14.txt',
      'dist/changes-5.9.0',
      'CHANGES',
      'ChangeLog',
      '.zuul.yaml',
      'zuul.d/jobs.yaml',
      '.github/workflows/ci.yml',
      '.gitlab-ci.yml',
      'Jenkinsfile',
      'tox.ini',
      '.pre-commit-config.yaml',
      '.eslintrc.json',
      'biome.json',
      'api-ref/source/v2/servers.inc',
      'doc/src/qtcore.qdoc',
      'javatests/com/google/gerrit/server/ChangeIT.java',
      'src/main/java/org/x/CacheTest.java',
      'org.eclipse.jdt.core.tests.model/src/Foo.java',
      'tests/auto/corelib/tst_qstring.cpp',
    ]) {
      expect(isNonShippingPath(path), path).toBe(true);
    }
    // Code that ships, even when its name looks like one of the above.
    for (const path of ['src/history.go', 'src/testing/testing.go', 'src/Latest.java', 'src/changes.go', 'setup.cfg']) {
      expect(isNonShippingPath(path), path).toBe(false);
    }
    // The configuration-file rule no longer fires on them.
    expect(factorsOf([{ file_path: '.zuul.yaml' }, { file_path: 'tox.ini' }]).size).toBe(0);
  });

  it('reads paths as engineers do: a module named api is not an API contract, package names give no words', () => {
    expect(factorsOf([{ file_path: 'src/api/handlers.py' }]).has('api_contract')).toBe(false);
    expect(factorsOf([{ file_path: 'java/com/google/gerrit/extensions/api/changes/ChangeApi.java' }]).size).toBe(0);
    expect(factorsOf([{ file_path: 'org.eclipse.core.cache.db/src/Main.java' }]).size).toBe(0);
    // Contract files still are API contracts, and a module word still counts for other factors.
    expect(factorsOf([{ file_path: 'api/v1/orders.proto' }]).get('api_contract')).toBe('medium');
    expect(factorsOf([{ file_path: 'src/cache/redis_client.py' }]).has('caching')).toBe(true);
  });

  it('records which path rules and path words raised a factor (the measured features)', () => {
    const request = parseDeploymentRequest({
      deployment_id: 'd',
      service_name: 's',
      environment: 'staging',
      version: '1',
      changes: [
        { file_path: 'package.json', change_type: 'modify', lines_changed: 2, description: 'bump dependencies' },
        { file_path: 'src/cache/redis_client.py', change_type: 'modify', lines_changed: 2 },
      ],
    });
    const rules = new Map(detectFactors(request).map((d) => [d.factor, [...d.pathRules].sort()]));
    expect(rules.get('dependency_update')).toEqual(['path:package manifest']);
    expect(rules.get('caching')).toEqual(['word:cache', 'word:redis']);
  });

  it('escalates deleting a migration or infrastructure file', () => {
    expect(factorsOf([{ file_path: 'infra/main.tf', change_type: 'delete' }]).get('infrastructure_as_code')).toBe(
      'high',
    );
    expect(factorsOf([{ file_path: 'infra/main.tf' }]).get('infrastructure_as_code')).toBe('medium');
  });

  it('counts a factor once, keeps at most 5 pieces of evidence and counts the rest', () => {
    const detections = detectFactors(
      request(
        Array.from({ length: 12 }, (_, i) => ({
          file_path: `src/cache/c${i}.ts`,
          description: 'cache TTL redis',
          added_lines: [{ line: 1, text: 'redis.set(key, value, { ttl: 60 })' }],
        })),
      ),
    );
    const caching = detections.filter((d) => d.factor === 'caching');
    expect(caching).toHaveLength(1);
    expect(caching[0]?.evidence).toHaveLength(5);
    expect(caching[0]?.signals).toBeGreaterThan(30);
    expect(caching[0]?.evidence.every((e) => e.source === 'diff')).toBe(true);
  });

  it('is deterministic', () => {
    const r = request([
      { file_path: 'db/migrations/1.sql', added_lines: [{ line: 1, text: 'ALTER TABLE a ADD COLUMN b int' }] },
      { file_path: 'src/cache/x.ts', description: 'cache TTL' },
    ]);
    expect(detectFactors(r)).toEqual(detectFactors(r));
  });
});
