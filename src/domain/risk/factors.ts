/**
 * Risk factor detection: which of the RISK_FACTORS a deployment touches, how severely, and the evidence.
 *
 * Signals, strongest first: added diff lines, file paths (explicit rules + words of directory/file names), risk tags,
 * change descriptions, commit messages. Text is matched on whole words (tokenize.ts). Every factor is counted once per
 * deployment; its severity is the highest severity among its signals. Its points come from the calibrated model
 * (riskModel.ts), and only through path rules with measured lift (`FactorDetection.pathRules`).
 * Files that do not ship (docs, release notes, CI jobs, lint configuration, tests) are not scanned: their paths, diffs
 * and descriptions raise nothing (their risk tags still do: a tag is an explicit statement by the author).
 *
 * Everything here only ever adds signals when changes are added, so the detected severities are monotone
 * non-decreasing in the set of changes.
 */
import type { DeploymentRequest, Evidence, FileChange, RiskFactor } from '../model.js';
import { type PhraseMatch, PhraseMatcher, tokenize } from './tokenize.js';

export type Severity = 'low' | 'medium' | 'high';
export const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };
const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high'];

/**
 * Factors detected from content (everything except change_size_spread, which comes from the size model, and
 * fixes_tracked_issue, which comes from the change's messages: issueReference.ts).
 */
export type ContentFactor = Exclude<RiskFactor, 'change_size_spread' | 'fixes_tracked_issue'>;

export const FACTOR_LABELS: Record<RiskFactor, string> = {
  caching: 'caching',
  database_migration: 'database schema/migration',
  api_contract: 'API contract',
  traffic_pattern: 'traffic pattern',
  dependency_update: 'dependency update',
  permissions_authz: 'permissions/authorization',
  encryption_secrets: 'encryption/secrets',
  networking_load_balancing: 'networking/load balancing',
  storage: 'storage',
  configuration_flags: 'configuration/feature flags',
  infrastructure_as_code: 'infrastructure as code',
  change_size_spread: 'change size and spread',
  fixes_tracked_issue: 'fixes a tracked issue',
};

// ---------------------------------------------------------------------------------------------------------------
// Word dictionary: phrases (matched on whole tokens) → factor and severity. Used for diff lines, descriptions,
// commit messages, risk tags and the words of file paths.

type Dictionary = Record<ContentFactor, Partial<Record<Severity, readonly string[]>>>;

const DICTIONARY: Dictionary = {
  caching: {
    low: ['cache', 'caches', 'cached', 'caching', 'cacheable', 'memoize', 'memoization', 'lru'],
    medium: [
      'redis',
      'memcached',
      'memcache',
      'ttl',
      'ttls',
      'time to live',
      'eviction',
      'evict',
      'cache invalidation',
      'invalidate cache',
      'cache key',
      'cache keys',
      'cache control',
      'write through',
      'write behind',
      'cache aside',
      'varnish',
      'expire after',
    ],
    high: [
      'flushall',
      'flushdb',
      'flush all',
      'flush cache',
      'cache flush',
      'clear cache',
      'purge cache',
      'cache stampede',
      'disable cache',
      'disable caching',
    ],
  },
  database_migration: {
    low: [
      'sql',
      'database',
      'databases',
      'db',
      'dbs',
      'query',
      'queries',
      'postgres',
      'postgresql',
      'mysql',
      'mariadb',
      'mongodb',
      'mongo',
      'dynamodb',
      'cosmosdb',
      'sqlserver',
      'orm',
      'prisma',
      'sequelize',
      'typeorm',
      'hibernate',
      'jpa',
      'stored procedure',
      'delete from',
    ],
    medium: [
      'schema',
      'schemas',
      'migration',
      'migrations',
      'migrate',
      'alter table',
      'create table',
      'add column',
      'create index',
      'drop index',
      'foreign key',
      'primary key',
      'unique constraint',
      'not null',
      'alembic',
      'flyway',
      'liquibase',
      'backfill',
      'data migration',
      'ddl',
      'rename table',
    ],
    high: [
      'drop table',
      'drop column',
      'drop database',
      'drop schema',
      'rename column',
      'truncate table',
      'alter column',
    ],
  },
  api_contract: {
    low: [
      'api',
      'apis',
      'endpoint',
      'endpoints',
      'route',
      'routes',
      'grpc',
      'g rpc',
      'graphql',
      'graph ql',
      'webhook',
      'webhooks',
      'rest api',
    ],
    medium: [
      'protobuf',
      'proto',
      'open api',
      'openapi',
      'swagger',
      'serialization',
      'serialisation',
      'deserialization',
      'response format',
      'response schema',
      'request schema',
      'response body',
      'request body',
      'payload',
      'json schema',
      'api version',
      'versioning',
      'status code',
      'status codes',
      'content type',
      'new endpoint',
      'api contract',
    ],
    high: [
      'breaking change',
      'breaking changes',
      'breaking api',
      'remove endpoint',
      'removed endpoint',
      'delete endpoint',
      'deprecate',
      'deprecated',
      'deprecation',
      'remove field',
      'removed field',
      'rename field',
      'backward incompatible',
      'backwards incompatible',
      'not backward compatible',
      'not backwards compatible',
    ],
  },
  traffic_pattern: {
    low: [
      'traffic',
      'qps',
      'rps',
      'throughput',
      'concurrency',
      'concurrent',
      'parallelism',
      'batch size',
      'backpressure',
    ],
    medium: [
      'rate limit',
      'rate limits',
      'rate limiting',
      'rate limiter',
      'ratelimit',
      'throttle',
      'throttling',
      'throttled',
      'retry',
      'retries',
      'retrying',
      'backoff',
      'back off',
      'timeout',
      'timeouts',
      'circuit breaker',
      'connection pool',
      'pool size',
      'max connections',
      'keep alive',
      'keepalive',
      'load shedding',
      'queue size',
      'prefetch',
      'fan out',
      'fanout',
      'autoscale',
      'autoscaling',
      'autoscaler',
      'hpa',
      'replicas',
      'scale out',
      'traffic shift',
      'traffic split',
      'rampup',
      'ramp up',
      'connection limit',
      'max retries',
    ],
    high: [
      'retry storm',
      'thundering herd',
      'disable rate limit',
      'remove rate limit',
      'unbounded',
      'infinite retry',
      'no timeout',
    ],
  },
  dependency_update: {
    low: ['dependency', 'dependencies', 'dependabot', 'renovate'],
    medium: [
      'upgrade',
      'upgraded',
      'upgrades',
      'upgrading',
      'bump',
      'bumped',
      'bumps',
      'version bump',
      'lockfile',
      'lock file',
      'update dependencies',
      'dependency update',
    ],
    high: ['major version', 'major upgrade', 'major release', 'framework upgrade', 'runtime upgrade'],
  },
  permissions_authz: {
    low: ['auth', 'login', 'logout', 'session', 'sessions', 'sign in', 'signin', 'sso', 'admin'],
    medium: [
      'authz',
      'authn',
      'authorization',
      'authorisation',
      'authorize',
      'authorise',
      'authorized',
      'authentication',
      'authenticate',
      'permission',
      'permissions',
      'oauth',
      'oidc',
      'openid',
      'open id',
      'jwt',
      'saml',
      'access control',
      'acl',
      'acls',
      'iam',
      'pre authorize',
      'post authorize',
      'secured',
      'roles allowed',
      'has role',
      'has authority',
      'entitlement',
      'entitlements',
      'privilege',
      'privileges',
      'claims',
      'service account',
    ],
    high: [
      'rbac',
      'role binding',
      'rolebinding',
      'cluster role',
      'clusterrole',
      'privilege escalation',
      'bypass auth',
      'skip auth',
      'disable auth',
      'allow anonymous',
      'permit all',
      'superuser',
      'grant all',
    ],
  },
  encryption_secrets: {
    low: ['crypto', 'cryptography', 'cryptographic', 'cipher'],
    medium: [
      'encrypt',
      'encrypted',
      'encryption',
      'decrypt',
      'decryption',
      'tls',
      'mtls',
      'ssl',
      'certificate',
      'certificates',
      'cert',
      'certs',
      'x509',
      'x 509',
      'secret',
      'secrets',
      'kms',
      'key vault',
      'keyvault',
      'vault',
      'hsm',
      'hmac',
      'signing key',
      'api key',
      'api keys',
      'access key',
      'credentials',
      'credential',
      'password',
      'passwords',
      'client secret',
      'aes',
      'rsa',
      'sha 256',
      'bcrypt',
      'key rotation',
    ],
    high: [
      'private key',
      'disable tls',
      'skip tls',
      'insecure skip verify',
      'reject unauthorized',
      'plaintext password',
      'hardcoded password',
      'hard coded password',
    ],
  },
  networking_load_balancing: {
    low: ['network', 'networking', 'proxy', 'dns', 'port', 'cors', 'gateway', 'cdn', 'vpc', 'subnet', 'subnets'],
    medium: [
      'load balancer',
      'load balancers',
      'load balancing',
      'loadbalancer',
      'ingress',
      'egress',
      'nginx',
      'envoy',
      'istio',
      'linkerd',
      'haproxy',
      'traefik',
      'reverse proxy',
      'service mesh',
      'virtual service',
      'network policy',
      'security group',
      'dns record',
      'health check',
      'readiness probe',
      'liveness probe',
      'sticky session',
      'sticky sessions',
      'api gateway',
      'front door',
      'application gateway',
      'traffic manager',
      'firewall',
      'ip allowlist',
      'ip whitelist',
      'tls termination',
      'proxy pass',
    ],
    high: ['dns cutover', 'open port', 'allow all traffic', 'public ip'],
  },
  storage: {
    low: [
      'storage',
      'disk',
      'disks',
      'filesystem',
      'file system',
      'blob',
      'blobs',
      'bucket',
      'buckets',
      's3',
      'object storage',
    ],
    medium: [
      'volume',
      'volumes',
      'pvc',
      'persistent volume',
      'storage class',
      'storageclass',
      'nfs',
      'efs',
      'azure files',
      'blob storage',
      'storage account',
      'backup',
      'backups',
      'snapshot',
      'snapshots',
      'retention',
      'lifecycle policy',
      'file share',
      'replication',
    ],
    high: ['delete bucket', 'delete volume', 'delete blobs', 'purge data', 'delete snapshots', 'reclaim policy delete'],
  },
  configuration_flags: {
    low: [
      'config',
      'configs',
      'configuration',
      'configurations',
      'setting',
      'settings',
      'env',
      'environment variable',
      'environment variables',
      'env var',
      'env vars',
      'toggle',
      'toggles',
      'flag',
      'flags',
    ],
    medium: [
      'feature flag',
      'feature flags',
      'feature toggle',
      'feature toggles',
      'featureflag',
      'launchdarkly',
      'launch darkly',
      'unleash',
      'flagd',
      'config map',
      'configmap',
      'app settings',
      'appsettings',
      'kill switch',
      'runtime config',
      'dynamic config',
      'default value',
    ],
    high: ['enable for all', 'enabled for all', 'enable globally', 'remove feature flag', 'default on'],
  },
  infrastructure_as_code: {
    low: ['infrastructure', 'infra', 'docker', 'container', 'containers', 'kubernetes', 'k 8 s'],
    medium: [
      'terraform',
      'bicep',
      'helm',
      'helm chart',
      'dockerfile',
      'docker file',
      'base image',
      'docker compose',
      'kustomize',
      'kustomization',
      'cloudformation',
      'cloud formation',
      'pulumi',
      'ansible',
      'arm template',
      'node pool',
      'nodepool',
      'instance type',
      'vm size',
      'sku',
      'resource group',
      'container app',
      'container apps',
      'app service',
      'aks',
      'eks',
      'gke',
      'statefulset',
      'stateful set',
      'daemonset',
      'daemon set',
      'resource limits',
      'cpu limit',
      'memory limit',
    ],
    high: [
      'terraform destroy',
      'force replacement',
      'force new',
      'replace cluster',
      'recreate cluster',
      'delete resource group',
      'prevent destroy',
      'region move',
    ],
  },
};

/**
 * Phrases that make a database change irreversible in the author's own words. They do not form a factor by themselves;
 * they raise a detected database_migration to high severity.
 */
const IRREVERSIBLE_PHRASES = [
  'no fallback',
  'no rollback',
  'without rollback',
  'irreversible',
  'not reversible',
  'non reversible',
  'destructive',
  'data loss',
  'cannot be undone',
  'can not be undone',
  'one way migration',
  'no down migration',
];

/** `factor` null marks an irreversibility phrase. One matcher for both, so each text is scanned once. */
interface WordRule {
  factor: ContentFactor | null;
  severity: Severity;
}

const WORDS = new PhraseMatcher<WordRule>([
  ...(Object.entries(DICTIONARY) as [ContentFactor, Dictionary[ContentFactor]][]).flatMap(([factor, bySeverity]) =>
    SEVERITIES.flatMap((severity) =>
      (bySeverity[severity] ?? []).map((phrase) => ({ phrase, value: { factor, severity } })),
    ),
  ),
  ...IRREVERSIBLE_PHRASES.map((phrase) => ({ phrase, value: { factor: null, severity: 'high' as const } })),
]);

// ---------------------------------------------------------------------------------------------------------------
// Explicit path rules, matched against the lower-cased path with forward slashes.

interface PathRule {
  pattern: RegExp;
  factor: ContentFactor;
  severity: Severity;
  label: string;
}

const DIR = '(?:^|/)';
const PATH_RULES: readonly PathRule[] = [
  // database
  {
    pattern: new RegExp(`${DIR}(?:migrations?|migrate|alembic|flyway|liquibase|changesets?)/`),
    factor: 'database_migration',
    severity: 'medium',
    label: 'migration directory',
  },
  { pattern: /\.sql$/, factor: 'database_migration', severity: 'medium', label: 'SQL file' },
  {
    pattern: new RegExp(`${DIR}schema\\.(?:prisma|rb|sql|graphql)$`),
    factor: 'database_migration',
    severity: 'medium',
    label: 'database schema file',
  },
  { pattern: /\.prisma$/, factor: 'database_migration', severity: 'medium', label: 'Prisma schema' },
  // caching
  {
    pattern: new RegExp(`${DIR}(?:redis|memcached?)[^/]*\\.(?:conf|ya?ml|json|toml)$`),
    factor: 'caching',
    severity: 'medium',
    label: 'cache server configuration',
  },
  // API contracts
  { pattern: /\.proto$/, factor: 'api_contract', severity: 'medium', label: 'protobuf contract' },
  {
    pattern: new RegExp(`${DIR}(?:openapi|swagger|asyncapi)[^/]*\\.(?:ya?ml|json)$`),
    factor: 'api_contract',
    severity: 'medium',
    label: 'API specification',
  },
  {
    pattern: /\.(?:graphqls?|gql|avsc|thrift|wsdl)$/,
    factor: 'api_contract',
    severity: 'medium',
    label: 'API schema file',
  },
  // dependencies
  {
    pattern: new RegExp(
      `${DIR}(?:package-lock\\.json|npm-shrinkwrap\\.json|yarn\\.lock|pnpm-lock\\.yaml|bun\\.lockb?|go\\.sum|poetry\\.lock|pipfile\\.lock|uv\\.lock|cargo\\.lock|gemfile\\.lock|composer\\.lock|packages\\.lock\\.json|gradle\\.lockfile|mix\\.lock|podfile\\.lock)$`,
    ),
    factor: 'dependency_update',
    severity: 'medium',
    label: 'dependency lock file',
  },
  {
    pattern: new RegExp(
      `${DIR}(?:go\\.mod|requirements[^/]*\\.(?:txt|in)|pipfile|pom\\.xml|build\\.gradle(?:\\.kts)?|gemfile|directory\\.packages\\.props|packages\\.config|constraints\\.txt)$`,
    ),
    factor: 'dependency_update',
    severity: 'medium',
    label: 'dependency manifest',
  },
  {
    pattern: new RegExp(
      `${DIR}(?:package\\.json|cargo\\.toml|pyproject\\.toml|composer\\.json|setup\\.py|setup\\.cfg)$|\\.csproj$`,
    ),
    factor: 'dependency_update',
    severity: 'low',
    label: 'package manifest',
  },
  // permissions
  { pattern: /\.rego$/, factor: 'permissions_authz', severity: 'medium', label: 'authorization policy' },
  {
    pattern: new RegExp(
      `${DIR}(?:auth|authz|authn|authentication|authorization|authorisation|permissions?|iam|acl|oauth|sso|security)/`,
    ),
    factor: 'permissions_authz',
    severity: 'medium',
    label: 'authentication/authorization module',
  },
  {
    pattern: new RegExp(`${DIR}[^/]*(?:rbac|clusterrole|rolebinding)[^/]*$`),
    factor: 'permissions_authz',
    severity: 'high',
    label: 'RBAC definition',
  },
  // secrets
  {
    pattern: /\.(?:pem|key|p12|pfx|jks|keystore)$/,
    factor: 'encryption_secrets',
    severity: 'high',
    label: 'key material file',
  },
  { pattern: /\.(?:crt|cer|csr)$/, factor: 'encryption_secrets', severity: 'medium', label: 'certificate file' },
  {
    pattern: new RegExp(`${DIR}\\.env(?:\\.[^/]*)?$`),
    factor: 'encryption_secrets',
    severity: 'medium',
    label: 'environment/secrets file',
  },
  {
    pattern: new RegExp(`${DIR}[^/]*secrets?(?:[./_-][^/]*)?$`),
    factor: 'encryption_secrets',
    severity: 'medium',
    label: 'secrets file',
  },
  // networking
  {
    pattern: new RegExp(`${DIR}nginx[^/]*\\.conf$|${DIR}nginx/`),
    factor: 'networking_load_balancing',
    severity: 'medium',
    label: 'nginx configuration',
  },
  {
    pattern: new RegExp(`${DIR}[^/]*ingress[^/]*\\.(?:ya?ml|json)$|${DIR}ingress/`),
    factor: 'networking_load_balancing',
    severity: 'medium',
    label: 'ingress definition',
  },
  {
    pattern: new RegExp(`${DIR}(?:haproxy[^/]*\\.cfg|envoy[^/]*\\.ya?ml|caddyfile|traefik[^/]*\\.(?:ya?ml|toml))$`),
    factor: 'networking_load_balancing',
    severity: 'medium',
    label: 'proxy configuration',
  },
  {
    pattern: new RegExp(
      `${DIR}[^/]*(?:networkpolicy|network-policy|virtualservice|destinationrule|gateway)[^/]*\\.ya?ml$`,
    ),
    factor: 'networking_load_balancing',
    severity: 'medium',
    label: 'network/mesh policy',
  },
  // storage
  {
    pattern: new RegExp(`${DIR}[^/]*(?:pvc|persistentvolume|storageclass)[^/]*\\.ya?ml$`),
    factor: 'storage',
    severity: 'medium',
    label: 'volume definition',
  },
  // infrastructure as code
  { pattern: /\.(?:tf|tfvars|hcl)$/, factor: 'infrastructure_as_code', severity: 'medium', label: 'Terraform' },
  { pattern: /\.(?:bicep|bicepparam)$/, factor: 'infrastructure_as_code', severity: 'medium', label: 'Bicep' },
  {
    pattern: new RegExp(`${DIR}(?:helm|charts?)/|${DIR}chart\\.ya?ml$`),
    factor: 'infrastructure_as_code',
    severity: 'medium',
    label: 'Helm chart',
  },
  {
    pattern: new RegExp(`${DIR}(?:k8s|kubernetes|manifests|kustomize|overlays)/|${DIR}kustomization\\.ya?ml$`),
    factor: 'infrastructure_as_code',
    severity: 'medium',
    label: 'Kubernetes manifest',
  },
  {
    pattern: new RegExp(`${DIR}dockerfile(?:\\.[^/]*)?$|\\.dockerfile$|${DIR}containerfile$`),
    factor: 'infrastructure_as_code',
    severity: 'medium',
    label: 'Dockerfile',
  },
  {
    pattern: new RegExp(`${DIR}(?:docker-)?compose[^/]*\\.ya?ml$`),
    factor: 'infrastructure_as_code',
    severity: 'medium',
    label: 'Compose file',
  },
  {
    pattern: new RegExp(
      `${DIR}(?:azuredeploy[^/]*\\.json|[^/]*\\.cfn\\.(?:ya?ml|json)|cloudformation/[^/]*|pulumi[^/]*\\.ya?ml|serverless\\.ya?ml)$`,
    ),
    factor: 'infrastructure_as_code',
    severity: 'medium',
    label: 'cloud template',
  },
  {
    pattern: new RegExp(`${DIR}(?:ansible|playbooks?)/`),
    factor: 'infrastructure_as_code',
    severity: 'medium',
    label: 'Ansible',
  },
  // configuration and feature flags
  {
    pattern: new RegExp(`${DIR}[^/]*(?:feature[-_]?flags?|flags|toggles)[^/]*\\.(?:ya?ml|json|toml)$`),
    factor: 'configuration_flags',
    severity: 'medium',
    label: 'feature flag definitions',
  },
  {
    pattern: new RegExp(
      `${DIR}(?:config|configs|conf|settings)/|${DIR}(?:appsettings|application|settings|config)[^/]*\\.(?:json|ya?ml|properties|toml|ini)$`,
    ),
    factor: 'configuration_flags',
    severity: 'medium',
    label: 'service configuration',
  },
  {
    pattern: /\.(?:ya?ml|toml|ini|properties|conf|cfg)$/,
    factor: 'configuration_flags',
    severity: 'low',
    label: 'configuration file',
  },
];

/**
 * Files that never run in production. Measured on the shared defect data (docs/calibration.md): the configuration-file
 * rule fired mostly on these (release notes, `.zuul.yaml`, `tox.ini`, API-reference sources) before they were listed.
 */
const NON_SHIPPING = [
  // documentation, release notes, changelogs, API-reference sources
  /\.(?:md|mdx|rst|adoc|asciidoc|qdoc|qdocconf|texi)$/,
  new RegExp(
    `${DIR}(?:docs?|documentation|api-ref|api-reference|apiref|doc-src|releasenotes|release-notes|release_notes)/`,
  ),
  new RegExp(
    `${DIR}(?:license|licence|copying|authors|contributors|codeowners|notice|readme|releasenotes|release-notes)(?:[-_.][^/]*)?$`,
  ),
  new RegExp(`${DIR}(?:changelog|changes|news|history)(?:\\.(?:txt|md|rst|adoc|html?))?$|${DIR}dist/changes-[^/]*$`),
  // CI job definitions and tox / lint configuration: they change how the project is checked, not what ships
  new RegExp(
    `${DIR}(?:\\.zuul\\.ya?ml|zuul\\.ya?ml|\\.travis\\.ya?ml|\\.gitlab-ci\\.ya?ml|azure-pipelines[^/]*\\.ya?ml|jenkinsfile|\\.pre-commit-config\\.ya?ml|tox\\.ini|\\.flake8|\\.pylintrc|pylintrc|\\.coveragerc|\\.golangci\\.ya?ml|\\.editorconfig|\\.eslintrc[^/]*|\\.prettierrc[^/]*|\\.stylelintrc[^/]*|biome\\.jsonc?|\\.clang-format|\\.clang-tidy|checkstyle[^/]*\\.xml|\\.yamllint[^/]*|\\.markdownlint[^/]*|\\.gitignore|\\.gitattributes|\\.mailmap)$`,
  ),
  new RegExp(`${DIR}(?:zuul\\.d|\\.zuul\\.d|\\.github/workflows|\\.circleci|\\.buildkite|\\.ci)/`),
  // tests
  new RegExp(
    `${DIR}(?:tests?|__tests__|spec|specs|testdata|test-data|testsuite|autotests|javatests|fixtures|__mocks__)/`,
  ),
  new RegExp(`${DIR}[^/]*\\.tests?(?:\\.[^/]*)?/`),
  /\.(?:test|spec)\.[a-z0-9]+$/,
  /_test\.(?:go|py|rb|exs?|cc|cpp)$/,
  new RegExp(`${DIR}(?:test_[^/]*\\.py|tst_[^/]*\\.(?:cpp|qml))$`),
];

/** Test classes by naming convention (FooTest.java, FooTests.kt): case matters, so "Latest.java" is not one. */
const TEST_CLASS = /(?:^|\/)(?:[A-Za-z0-9_$]*[a-z0-9_]Tests?|Test[A-Z][A-Za-z0-9_$]*)\.(?:java|kt|scala|groovy|cs)$/;

/** Documentation and tests: they do not run in production, so their content does not raise factors. */
export function isNonShippingPath(path: string): boolean {
  const p = normalisePath(path);
  if (TEST_CLASS.test(p)) return true;
  const lower = p.toLowerCase();
  return NON_SHIPPING.some((re) => re.test(lower));
}

// ---------------------------------------------------------------------------------------------------------------
// Detection

/** Evidence sources, strongest first; evidence shown on the card is ordered by severity, then by this rank. */
const SOURCE_RANK: Record<Evidence['source'], number> = {
  diff: 0,
  path: 1,
  risk_tag: 2,
  description: 3,
  commit_message: 4,
  metrics: 5,
};

interface Candidate {
  evidence: Evidence;
  severity: Severity;
  order: number;
}

export interface FactorDetection {
  factor: ContentFactor;
  severity: Severity;
  /** Evidence, strongest first, at most `maxEvidence`. */
  evidence: Evidence[];
  /** Number of distinct signals found, including those not kept in `evidence`. */
  signals: number;
  /** Distinct evidence sources that raised this factor (for confidence). */
  sources: Set<Evidence['source']>;
  /**
   * Ids of the path rules (`path:<label>`) and path words (`word:<phrase>`) that raised it: the signals whose lift was
   * measured on real history, and the only ones the calibrated model gives points to.
   */
  pathRules: Set<string>;
}

/**
 * Collects one factor's signals. Evidence objects are built lazily and kept in buckets bounded per
 * (severity, source), so a huge diff costs time proportional to its size but memory proportional to the cap.
 */
class FactorAccumulator {
  severity: Severity = 'low';
  signals = 0;
  readonly sources = new Set<Evidence['source']>();
  /** Ids of the path rules and path words that fired (`path:<label>`, `word:<phrase>`): the measured features. */
  readonly pathRules = new Set<string>();
  private readonly keys = new Set<string>();
  /** Indexed by severity rank × 8 + source rank. */
  private readonly buckets: (Candidate[] | undefined)[] = [];

  constructor(private readonly cap: number) {}

  /** `key` de-duplicates signals across the request; null when the caller guarantees uniqueness (diff lines). */
  add(severity: Severity, source: Evidence['source'], key: string | null, make: () => Evidence, order: number): void {
    if (SEVERITY_RANK[severity] > SEVERITY_RANK[this.severity]) this.severity = severity;
    if (key !== null) {
      if (this.keys.has(key)) return;
      this.keys.add(key);
    }
    this.signals++;
    this.sources.add(source);
    const index = SEVERITY_RANK[severity] * 8 + SOURCE_RANK[source];
    const bucket = this.buckets[index];
    if (!bucket) this.buckets[index] = [{ evidence: make(), severity, order }];
    else if (bucket.length < this.cap) bucket.push({ evidence: make(), severity, order });
  }

  top(): Evidence[] {
    const all: Candidate[] = [];
    for (const bucket of this.buckets) if (bucket) all.push(...bucket);
    all.sort(
      (a, b) =>
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        SOURCE_RANK[a.evidence.source] - SOURCE_RANK[b.evidence.source] ||
        a.order - b.order,
    );
    return all.slice(0, this.cap).map((c) => c.evidence);
  }
}

export interface DetectOptions {
  /** Evidence kept per factor (default 5); the rest is counted in `signals`. */
  maxEvidence?: number;
}

class Detector {
  private readonly acc = new Map<ContentFactor, FactorAccumulator>();
  private readonly irreversible: Evidence[] = [];
  private order = 0;

  constructor(private readonly cap: number) {}

  add(
    factor: ContentFactor,
    severity: Severity,
    source: Evidence['source'],
    key: string | null,
    make: () => Evidence,
    pathRule?: string,
  ) {
    let a = this.acc.get(factor);
    if (!a) {
      a = new FactorAccumulator(this.cap);
      this.acc.set(factor, a);
    }
    if (pathRule !== undefined) a.pathRules.add(pathRule);
    a.add(severity, source, key, make, this.order++);
  }

  /** Prose (descriptions, commit messages): evidence text is the phrase. */
  scanProse(text: string, source: 'description' | 'commit_message', file?: string): void {
    if (text === '') return;
    for (const m of WORDS.match(tokenize(text))) {
      const { factor, severity } = m.rule.value;
      const phrase = m.rule.phrase;
      const make = (): Evidence => (file === undefined ? { source, text: phrase } : { source, file, text: phrase });
      if (factor === null) this.irreversible.push(make());
      else this.add(factor, severity, source, `${source}\u0000${file ?? ''}\u0000${phrase}`, make);
    }
  }

  /** One added diff line: evidence text is "phrase: the line", with file and line number. */
  scanDiffLine(file: string, line: number, text: string): void {
    const matches = WORDS.match(tokenize(text));
    for (let k = 0; k < matches.length; k++) {
      const m = matches[k] as PhraseMatch<WordRule>;
      // The same phrase twice on one line is one signal.
      let repeated = false;
      for (let j = 0; j < k; j++) if (matches[j]?.rule === m.rule) repeated = true;
      if (repeated) continue;
      const { factor, severity } = m.rule.value;
      if (factor === null) {
        this.irreversible.push({ source: 'diff', file, line, text: m.rule.phrase });
        continue;
      }
      this.add(factor, severity, 'diff', null, () => {
        const trimmed = text.trim();
        const display = trimmed.length > 100 ? `${trimmed.slice(0, 100)}…` : trimmed;
        return { source: 'diff', file, line, text: `${m.rule.phrase}: ${display}` };
      });
    }
  }

  scanChange(change: FileChange): void {
    const file = change.filePath;
    for (const tag of change.riskTags) {
      // Risk tags are categories chosen by the author ("database", "caching", "breaking-change"): at least medium.
      for (const m of WORDS.match(tokenize(tag))) {
        if (m.rule.value.factor === null) continue;
        const factor = m.rule.value.factor;
        const severity = m.rule.value.severity === 'low' ? 'medium' : m.rule.value.severity;
        this.add(factor, severity, 'risk_tag', `tag\u0000${file}\u0000${tag}`, () => ({
          source: 'risk_tag',
          file,
          text: tag,
        }));
      }
    }
    const path = normalisePath(file);
    if (path === '' || isNonShippingPath(path)) return;

    const lower = path.toLowerCase();
    for (const rule of PATH_RULES) {
      if (!rule.pattern.test(lower)) continue;
      // Deleting a migration, key file or infrastructure definition is riskier than editing it.
      const severity = change.changeType === 'delete' ? bump(rule.severity) : rule.severity;
      this.add(
        rule.factor,
        severity,
        'path',
        `path\u0000${file}\u0000${rule.label}`,
        () => ({ source: 'path', file, text: rule.label }),
        `path:${rule.label}`,
      );
    }
    // Words of directory and file names ("src/cache/redis_client.py" → cache, redis, client), extension excluded.
    // Capped at medium: a name says what the code is about, not what the change does to it.
    for (const m of WORDS.match(tokenize(pathWordsText(path)))) {
      const factor = m.rule.value.factor;
      // A module or package named "api" is code like any other; an API contract change shows in the contract files
      // (path rules: .proto, OpenAPI, GraphQL schemas), in the diff or in what the author says.
      if (factor === null || factor === 'api_contract') continue;
      const severity = m.rule.value.severity === 'high' ? 'medium' : m.rule.value.severity;
      const text = `path word "${m.rule.phrase}"`;
      this.add(
        factor,
        severity,
        'path',
        `path\u0000${file}\u0000${text}`,
        () => ({ source: 'path', file, text }),
        `word:${m.rule.phrase}`,
      );
    }

    this.scanProse(change.description, 'description', file);
    if (change.addedLines) {
      for (const added of change.addedLines) this.scanDiffLine(file, added.line, added.text);
    }
  }

  finish(): FactorDetection[] {
    // An author saying the database change has no way back raises the migration to high severity.
    const db = this.acc.get('database_migration');
    if (db && SEVERITY_RANK[db.severity] >= SEVERITY_RANK.medium) {
      for (const ev of this.irreversible) {
        const evidence: Evidence = { ...ev, text: `irreversible: ${ev.text}` };
        const key = `irreversible\u0000${ev.source}\u0000${ev.file ?? ''}\u0000${ev.line ?? ''}\u0000${ev.text}`;
        this.add('database_migration', 'high', ev.source, key, () => evidence);
      }
    }
    const detections: FactorDetection[] = [];
    for (const [factor, a] of this.acc) {
      detections.push({
        factor,
        severity: a.severity,
        evidence: a.top(),
        signals: a.signals,
        sources: a.sources,
        pathRules: a.pathRules,
      });
    }
    return detections;
  }
}

/** Finds every content factor of a request with its highest severity and evidence. Deterministic. */
export function detectFactors(request: DeploymentRequest, options: DetectOptions = {}): FactorDetection[] {
  const detector = new Detector(options.maxEvidence ?? 5);
  for (const change of request.changes) detector.scanChange(change);
  for (const message of request.commitMessages) detector.scanProse(message, 'commit_message');
  return detector.finish();
}

/** Tags that declare the change itself critical; they add context points in the engine. */
const CRITICAL_TAGS = new Set(['critical', 'high risk', 'risky', 'dangerous']);
export function declaredCriticalTags(request: DeploymentRequest): string[] {
  const found: string[] = [];
  for (const change of request.changes) {
    for (const tag of change.riskTags) {
      if (CRITICAL_TAGS.has(tokenize(tag).join(' '))) found.push(tag);
    }
  }
  return found;
}

/**
 * The words of a path that describe what the code is about: directory names and the file name without its extension.
 * Dotted directory names are package or bundle names (`org.eclipse.jdt.core.dom/`, `com.example.cache.api/`): words
 * inside them name a product, not the kind of change, so they are left out.
 */
function pathWordsText(path: string): string {
  const segments = path.split('/');
  const file = (segments.pop() ?? '').replace(/\.[A-Za-z0-9]+$/, '');
  return [...segments.filter((segment) => !segment.includes('.')), file].join(' ');
}

function bump(severity: Severity): Severity {
  return severity === 'low' ? 'medium' : 'high';
}

function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}
