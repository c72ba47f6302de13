import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_LEASE_MS, MIN_LEASE_MS } from '../domain/rollout/ownership.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { boolean, EnvReader, guid, idList, integer, postgresUrl, serviceUrl } from './fields.js';

export const CHAOS_MODES = ['development', 'production'] as const;
export type ChaosMode = (typeof CHAOS_MODES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const BOT_APP_TYPES = ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'] as const;
export type BotAppType = (typeof BOT_APP_TYPES)[number];
export const METRICS_PROVIDERS = ['simulator', 'azure-monitor', 'prometheus'] as const;
export type MetricsProviderName = (typeof METRICS_PROVIDERS)[number];
export const SIMULATOR_SCENARIOS = [
  'healthy',
  'error-spike',
  'latency-spike',
  'slow-leak',
  'no-data',
  'low-traffic',
  'shared-outage',
] as const;
export type SimulatorScenario = (typeof SIMULATOR_SCENARIOS)[number];
export const ROLLOUT_TARGETS = ['dry-run', 'kubernetes', 'argo-rollouts', 'azure-container-apps'] as const;
export type RolloutTargetName = (typeof ROLLOUT_TARGETS)[number];

export const DEFAULT_PORT = 3978;
export const DEFAULT_DATA_DIR = '.data';
export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 20_000;
export const DEFAULT_AZURE_OPENAI_API_VERSION = '2024-10-21';

/** How inbound Bot Framework requests are authenticated. `none` means anonymous (local development only). */
export type TeamsAuth =
  | { kind: 'none' }
  | { kind: 'secret'; appType: 'MultiTenant' | 'SingleTenant'; appId: string; appPassword: string; tenantId?: string }
  | { kind: 'managed-identity'; appType: 'UserAssignedMSI'; appId: string; tenantId: string };

export interface SlackConfig {
  botToken: string;
  /** Verifies HTTP requests; absent only in Socket Mode. */
  signingSecret?: string;
  /** Present means Socket Mode (no public URL needed). */
  appToken?: string;
  socketMode: boolean;
  /** Web API base URL (ends with "/"); absent: Slack's own. For a proxy, GovSlack, or a local fake in tests. */
  apiUrl?: string;
}

export type ModelConfig =
  | { provider: 'offline' }
  | {
      provider: 'azure-openai';
      endpoint: string;
      deployment: string;
      apiVersion: string;
      auth: { kind: 'api-key'; apiKey: string } | { kind: 'entra'; managedIdentityClientId?: string };
    }
  | { provider: 'openai-compatible'; baseUrl?: string; apiKey?: string; model: string };

export type MetricsConfig =
  | { provider: 'simulator'; scenario: SimulatorScenario }
  | {
      provider: 'azure-monitor';
      workspaceId?: string;
      appInsightsResourceId?: string;
      metricsEndpoint?: string;
      logsEndpoint?: string;
    }
  | { provider: 'prometheus'; url: string };

export type RolloutConfig =
  | { target: 'dry-run' }
  | { target: 'kubernetes' | 'argo-rollouts'; namespace: string; kubeContext?: string }
  | { target: 'azure-container-apps'; subscriptionId: string; resourceGroup: string; containerApp: string };

export type TrustProxy = boolean | number | string[];

export interface ApproverConfig {
  /** Entra object ids (Teams `from.aadObjectId`). */
  teams: string[];
  /** Slack user ids (U… / W…). */
  slack: string[];
  /** Named groups, each a list of Entra object ids and/or Slack user ids. */
  groups: Record<string, string[]>;
}

export interface GitHubConfig {
  token?: string;
  app?: { appId: string; privateKey: string };
  webhookSecret?: string;
  apiUrl?: string;
}

export interface StoreConfig {
  /** CHAOS_EVENT_DEDUP_TTL_SECONDS: how long an inbound event id (Slack retry, Teams redelivery) counts as seen. */
  eventDedupTtlMs: number;
  /** CHAOS_ANNOUNCEMENT_RETENTION_DAYS: how long a CI delivery is remembered against its contract. */
  announcementRetentionMs: number;
  /** CHAOS_AUDIT_KEY: the HMAC key of the audit chain; absent: plain SHA-256 (rewritable by a database writer). */
  auditKey?: string;
}

export interface AppConfig {
  mode: ChaosMode;
  logLevel: LogLevel;
  /**
   * `trustProxy`: which proxies' X-Forwarded-For express believes (express's `trust proxy`): false (none, the
   * default), a number of hops, or addresses / CIDR ranges / loopback, linklocal, uniquelocal. Client addresses key
   * the budget for unauthenticated requests, so behind an ingress this must name the ingress.
   */
  server: { host: string; port: number; trustProxy: TrustProxy };
  dataDir: string;
  /** Absent: the embedded PGlite store under dataDir. */
  databaseUrl?: string;
  store: StoreConfig;
  teams: { auth: TeamsAuth };
  /** Absent: Slack is not enabled. */
  slack?: SlackConfig;
  model: ModelConfig;
  negotiationTimeoutMs: number;
  metrics: MetricsConfig;
  rollout: RolloutConfig;
  /** The rollout worker: how long a claim holds a rollout (on the store's clock) and how often it looks for work. */
  guardian: { leaseMs: number; pollMs: number };
  approvers: ApproverConfig;
  policyFile?: string;
  servicesFile?: string;
  /** HMAC secret for POST /api/deployments; absent: the intake endpoint is disabled. */
  intakeSecret?: string;
  /** CI intake POSTs allowed per client and minute. */
  intakeRateLimitPerMinute: number;
  /** Bearer tokens that may read contracts (`GET /api/contracts/:id`) but never post: CI status polls, the CLI. */
  statusTokens?: string[];
  /** Shared token of the Flagger webhooks and the Argo Rollouts endpoints; absent: those endpoints are disabled. */
  engineWebhookToken?: string;
  /** Public base URL of the bot, for links in GitHub comments and Argo's web metric. */
  publicUrl?: string;
  github: GitHubConfig;
  /** Client id of the user-assigned managed identity DefaultAzureCredential should use (AZURE_CLIENT_ID). */
  azureClientId?: string;
  telemetry: { connectionString?: string };
  /** Things that are allowed but probably not intended, for the start-up log. */
  warnings: string[];
}

export interface LoadConfigOptions {
  /** Checks that referenced files exist; defaults to the real file system. */
  fileExists?: (path: string) => boolean;
}

const nonEmpty = z.string().min(1, 'must not be empty');
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id (U… or W…)');
const entraObjectId = guid('an Entra object id');
const groupMember = z
  .string()
  .refine(
    (id) => entraObjectId.safeParse(id).success || slackUserId.safeParse(id).success,
    'must be an Entra object id (GUID) or a Slack user id (U…/W…)',
  );
const approverGroups = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must be a JSON object mapping group names to arrays of ids',
      });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'group names use letters, digits, _ . - (at most 64)'),
      z.array(groupMember).min(1, 'a group needs at least one member'),
    ),
  );

/**
 * Reads and validates the whole configuration from environment variables. Throws a ConfigError listing every problem
 * (`VARIABLE: what is wrong`); in production mode also refuses to start without Bot Framework authentication.
 */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): AppConfig {
  const fileExists = options.fileExists ?? existsSync;
  const r = new EnvReader(env);
  const warnings: string[] = [];

  const mode: ChaosMode =
    r.read('CHAOS_MODE', z.enum(CHAOS_MODES)) ?? (r.raw('NODE_ENV') === 'production' ? 'production' : 'development');
  const logLevel = r.read('LOG_LEVEL', z.enum(LOG_LEVELS)) ?? 'info';
  const port = r.read('PORT', integer(0, 65535)) ?? DEFAULT_PORT;
  const explicitHost = r.read('HOST', z.string().regex(/^[^\s/]+$/, 'must be a host name or IP address'));
  const dataDir = r.read('CHAOS_DATA_DIR', nonEmpty) ?? DEFAULT_DATA_DIR;
  const databaseUrl = r.read('DATABASE_URL', postgresUrl);
  const auditKey = r.read(
    'CHAOS_AUDIT_KEY',
    z.string().min(32, 'must be at least 32 characters (for example the output of `openssl rand -hex 32`)'),
  );
  const store: StoreConfig = {
    eventDedupTtlMs: (r.read('CHAOS_EVENT_DEDUP_TTL_SECONDS', integer(60, 7 * 24 * 3600)) ?? 3600) * 1000,
    announcementRetentionMs: (r.read('CHAOS_ANNOUNCEMENT_RETENTION_DAYS', integer(1, 3650)) ?? 30) * 24 * 3600 * 1000,
    ...(auditKey ? { auditKey } : {}),
  };

  const teamsAuth = readTeamsAuth(r);
  const host = explicitHost ?? (teamsAuth.kind === 'none' ? '127.0.0.1' : '0.0.0.0');
  const slack = readSlack(r);
  const model = readModel(r);
  const negotiationTimeoutMs =
    r.read('NEGOTIATION_TIMEOUT_MS', integer(1000, 600_000)) ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
  const metrics = readMetrics(r);
  const rollout = readRollout(r);
  const guardian = readGuardian(r);

  const approvers: ApproverConfig = {
    teams: r.read('TEAMS_APPROVERS', idList(entraObjectId)) ?? [],
    slack: r.read('SLACK_APPROVERS', idList(slackUserId)) ?? [],
    groups: r.read('APPROVER_GROUPS', approverGroups) ?? {},
  };

  const policyFile = readExistingFile(r, 'CHAOS_POLICY_FILE', fileExists);
  const servicesFile = readExistingFile(r, 'CHAOS_SERVICES_FILE', fileExists);
  const intakeSecret = r.read(
    'CHAOS_INTAKE_SECRET',
    z.string().min(32, 'must be at least 32 characters (for example the output of `openssl rand -hex 32`)'),
  );
  const intakeRateLimitPerMinute = r.read('CHAOS_INTAKE_RATE_LIMIT', integer(1, 1_000_000)) ?? 30;
  const statusTokens = r.read(
    'CHAOS_STATUS_TOKENS',
    z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().min(24, 'each token must be at least 24 characters')).min(1, 'must list a token')),
  );
  const engineWebhookToken = r.read(
    'CHAOS_ENGINE_WEBHOOK_TOKEN',
    z.string().min(24, 'must be at least 24 characters (for example the output of `openssl rand -hex 24`)'),
  );
  const publicUrl = r.read(
    'CHAOS_PUBLIC_URL',
    z.string().url('must be an absolute URL such as https://chaos.example.com'),
  );
  const github = readGitHub(r);
  const azureClientId = r.read('AZURE_CLIENT_ID', guid('the managed identity client id'));
  const connectionString = r.read(
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    z
      .string()
      .regex(
        /(^|;)\s*InstrumentationKey=[^;]+/i,
        'must be an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…)',
      ),
  );

  if (model.provider === 'azure-openai' && model.auth.kind === 'entra' && azureClientId) {
    model.auth.managedIdentityClientId = azureClientId;
  }

  const config: AppConfig = {
    mode,
    logLevel,
    server: { host, port, trustProxy: readTrustProxy(r) },
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    store,
    teams: { auth: teamsAuth },
    ...(slack ? { slack } : {}),
    model,
    negotiationTimeoutMs,
    metrics,
    rollout,
    guardian,
    approvers,
    ...(policyFile ? { policyFile } : {}),
    ...(servicesFile ? { servicesFile } : {}),
    ...(intakeSecret ? { intakeSecret } : {}),
    ...(statusTokens ? { statusTokens } : {}),
    intakeRateLimitPerMinute,
    ...(engineWebhookToken ? { engineWebhookToken } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    github,
    ...(azureClientId ? { azureClientId } : {}),
    telemetry: connectionString ? { connectionString } : {},
    warnings,
  };

  // A malformed bot or Slack variable is already reported; do not pile a production complaint on top of it.
  const reported = r.issues.map((issue) => issue.variable);
  const productionIssues = (mode === 'production' ? productionReadinessIssues(config) : []).filter(
    (issue) => !reported.some((variable) => sameFamily(variable, issue.variable)),
  );
  if (r.issues.length > 0) throw new ConfigError('config_invalid', [...r.issues, ...productionIssues]);
  if (productionIssues.length > 0) throw new ConfigError('config_not_production_ready', productionIssues);

  warnings.push(...collectWarnings(config));
  return config;
}

/** What production needs beyond a well-formed configuration. Pure: callable on any config. */
export function productionReadinessIssues(config: AppConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.teams.auth.kind === 'none') {
    issues.push({
      variable: 'MicrosoftAppId',
      message:
        'Bot Framework authentication is required in production (otherwise /api/messages accepts unauthenticated ' +
        'requests): set MicrosoftAppId + MicrosoftAppPassword (MicrosoftAppType MultiTenant or SingleTenant), or ' +
        'MicrosoftAppType=UserAssignedMSI with MicrosoftAppId (the identity client id) and MicrosoftAppTenantId',
    });
  }
  if (config.slack && !config.slack.socketMode && !config.slack.signingSecret) {
    issues.push({ variable: 'SLACK_SIGNING_SECRET', message: 'is required in production to verify Slack requests' });
  }
  return issues;
}

/** Throws ConfigError(config_not_production_ready) when the configuration lacks what production needs. */
export function assertProductionReady(config: AppConfig): void {
  const issues = productionReadinessIssues(config);
  if (issues.length > 0) throw new ConfigError('config_not_production_ready', issues);
}

function sameFamily(a: string, b: string): boolean {
  const family = (name: string) =>
    name.startsWith('MicrosoftApp') ? 'bot' : name.startsWith('SLACK_') ? 'slack' : name;
  return family(a) === family(b);
}

function readTeamsAuth(r: EnvReader): TeamsAuth {
  const appType = r.read('MicrosoftAppType', z.enum(BOT_APP_TYPES)) ?? 'MultiTenant';
  const appId = r.read('MicrosoftAppId', guid('the Entra application or managed identity client id'));
  const appPassword = r.read('MicrosoftAppPassword', nonEmpty);
  const tenantId = r.read('MicrosoftAppTenantId', guid('the Entra tenant id'));
  const idGiven = r.has('MicrosoftAppId');

  if (appType === 'UserAssignedMSI') {
    if (!idGiven)
      r.problem('MicrosoftAppId', 'is required when MicrosoftAppType=UserAssignedMSI (the identity client id)');
    if (!r.has('MicrosoftAppTenantId')) {
      r.problem('MicrosoftAppTenantId', 'is required when MicrosoftAppType=UserAssignedMSI');
    }
    if (r.has('MicrosoftAppPassword')) {
      r.problem(
        'MicrosoftAppPassword',
        'must be empty when MicrosoftAppType=UserAssignedMSI (a managed identity has no secret)',
      );
    }
    return appId && tenantId ? { kind: 'managed-identity', appType, appId, tenantId } : { kind: 'none' };
  }

  if (!idGiven) {
    if (r.has('MicrosoftAppPassword')) r.problem('MicrosoftAppId', 'is required when MicrosoftAppPassword is set');
    if (r.has('MicrosoftAppType')) r.problem('MicrosoftAppId', `is required when MicrosoftAppType=${appType}`);
    return { kind: 'none' };
  }
  if (!r.has('MicrosoftAppPassword')) {
    r.problem('MicrosoftAppPassword', `is required when MicrosoftAppId is set and MicrosoftAppType=${appType}`);
  }
  if (appType === 'SingleTenant' && !r.has('MicrosoftAppTenantId')) {
    r.problem('MicrosoftAppTenantId', 'is required when MicrosoftAppType=SingleTenant');
  }
  if (!appId || !appPassword) return { kind: 'none' };
  return { kind: 'secret', appType, appId, appPassword, ...(tenantId ? { tenantId } : {}) };
}

function readSlack(r: EnvReader): SlackConfig | undefined {
  const botToken = r.read('SLACK_BOT_TOKEN', z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)'));
  const signingSecret = r.read('SLACK_SIGNING_SECRET', z.string().min(8, 'must be at least 8 characters'));
  const appToken = r.read('SLACK_APP_TOKEN', z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)'));
  const apiUrl = r.read('SLACK_API_URL', serviceUrl());
  const anySet = r.has('SLACK_BOT_TOKEN') || r.has('SLACK_SIGNING_SECRET') || r.has('SLACK_APP_TOKEN');
  if (!anySet) return undefined;
  if (!r.has('SLACK_BOT_TOKEN')) {
    r.problem('SLACK_BOT_TOKEN', 'is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
  }
  if (!r.has('SLACK_SIGNING_SECRET') && !r.has('SLACK_APP_TOKEN')) {
    r.problem('SLACK_SIGNING_SECRET', 'is required to verify Slack requests (or set SLACK_APP_TOKEN for Socket Mode)');
  }
  if (!botToken) return undefined;
  return {
    botToken,
    ...(signingSecret ? { signingSecret } : {}),
    ...(appToken ? { appToken } : {}),
    socketMode: appToken !== undefined,
    // The Web API client joins method names onto the base, so it must end with a slash.
    ...(apiUrl ? { apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
  };
}

function readModel(r: EnvReader): ModelConfig {
  const endpoint = r.read('AZURE_OPENAI_ENDPOINT', serviceUrl());
  const deployment = r.read(
    'AZURE_OPENAI_DEPLOYMENT',
    z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a deployment name (letters, digits, . _ -, at most 64)'),
  );
  const apiKey = r.read('AZURE_OPENAI_API_KEY', nonEmpty);
  const useEntra = r.read('AZURE_OPENAI_USE_ENTRA', boolean) ?? false;
  const apiVersion =
    r.read(
      'AZURE_OPENAI_API_VERSION',
      z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'must look like 2024-10-21 or 2025-01-01-preview'),
    ) ?? DEFAULT_AZURE_OPENAI_API_VERSION;
  const baseUrl = r.read('OPENAI_BASE_URL', serviceUrl());
  const openAiKey = r.read('OPENAI_API_KEY', nonEmpty);
  const openAiModel = r.read('OPENAI_MODEL', nonEmpty);

  const azureWanted =
    r.has('AZURE_OPENAI_ENDPOINT') || r.has('AZURE_OPENAI_DEPLOYMENT') || r.has('AZURE_OPENAI_API_KEY');
  const openAiWanted = r.has('OPENAI_BASE_URL') || r.has('OPENAI_API_KEY') || r.has('OPENAI_MODEL');

  if (azureWanted && openAiWanted) {
    r.problem(
      'OPENAI_BASE_URL',
      'configure either Azure OpenAI (AZURE_OPENAI_*) or an OpenAI-compatible endpoint (OPENAI_*), not both',
    );
    return { provider: 'offline' };
  }
  if (azureWanted) {
    if (!r.has('AZURE_OPENAI_ENDPOINT')) r.problem('AZURE_OPENAI_ENDPOINT', 'is required to use Azure OpenAI');
    if (!r.has('AZURE_OPENAI_DEPLOYMENT')) r.problem('AZURE_OPENAI_DEPLOYMENT', 'is required to use Azure OpenAI');
    if (r.has('AZURE_OPENAI_API_KEY') && useEntra) {
      r.problem('AZURE_OPENAI_USE_ENTRA', 'set either AZURE_OPENAI_API_KEY or AZURE_OPENAI_USE_ENTRA=true, not both');
    } else if (!r.has('AZURE_OPENAI_API_KEY') && !useEntra) {
      r.problem(
        'AZURE_OPENAI_API_KEY',
        'is required unless AZURE_OPENAI_USE_ENTRA=true (Microsoft Entra ID through the managed identity)',
      );
    }
    if (!endpoint || !deployment) return { provider: 'offline' };
    const auth = apiKey ? { kind: 'api-key' as const, apiKey } : { kind: 'entra' as const };
    return { provider: 'azure-openai', endpoint, deployment, apiVersion, auth };
  }
  if (useEntra) r.problem('AZURE_OPENAI_ENDPOINT', 'is required when AZURE_OPENAI_USE_ENTRA=true');
  if (openAiWanted) {
    if (!r.has('OPENAI_MODEL')) r.problem('OPENAI_MODEL', 'is required to use an OpenAI-compatible endpoint');
    if (!r.has('OPENAI_API_KEY') && !r.has('OPENAI_BASE_URL')) {
      r.problem('OPENAI_API_KEY', 'is required unless OPENAI_BASE_URL points at a server that needs no key');
    }
    if (!openAiModel) return { provider: 'offline' };
    return {
      provider: 'openai-compatible',
      model: openAiModel,
      ...(baseUrl ? { baseUrl } : {}),
      ...(openAiKey ? { apiKey: openAiKey } : {}),
    };
  }
  return { provider: 'offline' };
}

function readMetrics(r: EnvReader): MetricsConfig {
  const provider = r.read('METRICS_PROVIDER', z.enum(METRICS_PROVIDERS)) ?? 'simulator';
  const scenario = r.read('METRICS_SIMULATOR_SCENARIO', z.enum(SIMULATOR_SCENARIOS)) ?? 'healthy';
  const workspaceId = r.read('AZURE_MONITOR_WORKSPACE_ID', guid('the Log Analytics workspace id'));
  const appInsightsResourceId = r.read(
    'AZURE_MONITOR_APP_INSIGHTS_RESOURCE_ID',
    z
      .string()
      .regex(
        /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/microsoft\.insights\/components\/[^/]+$/i,
        'must be an Application Insights resource id (/subscriptions/…/providers/microsoft.insights/components/NAME)',
      ),
  );
  const metricsEndpoint = r.read('AZURE_MONITOR_METRICS_ENDPOINT', serviceUrl());
  const logsEndpoint = r.read('AZURE_MONITOR_LOGS_ENDPOINT', serviceUrl());
  const prometheusUrl = r.read('PROMETHEUS_URL', serviceUrl({ allowHttp: true }));

  switch (provider) {
    case 'simulator':
      return { provider, scenario };
    case 'azure-monitor':
      if (!r.has('AZURE_MONITOR_WORKSPACE_ID') && !r.has('AZURE_MONITOR_APP_INSIGHTS_RESOURCE_ID')) {
        r.problem(
          'AZURE_MONITOR_WORKSPACE_ID',
          'METRICS_PROVIDER=azure-monitor needs AZURE_MONITOR_WORKSPACE_ID or AZURE_MONITOR_APP_INSIGHTS_RESOURCE_ID',
        );
      }
      return {
        provider,
        ...(workspaceId ? { workspaceId } : {}),
        ...(appInsightsResourceId ? { appInsightsResourceId } : {}),
        ...(metricsEndpoint ? { metricsEndpoint } : {}),
        ...(logsEndpoint ? { logsEndpoint } : {}),
      };
    case 'prometheus':
      if (!r.has('PROMETHEUS_URL')) r.problem('PROMETHEUS_URL', 'is required when METRICS_PROVIDER=prometheus');
      return prometheusUrl ? { provider, url: prometheusUrl } : { provider: 'simulator', scenario };
  }
}

function readRollout(r: EnvReader): RolloutConfig {
  const target = r.read('ROLLOUT_TARGET', z.enum(ROLLOUT_TARGETS)) ?? 'dry-run';
  const namespace =
    r.read(
      'KUBE_NAMESPACE',
      z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name (RFC 1123 label)'),
    ) ?? 'default';
  const kubeContext = r.read('KUBE_CONTEXT', nonEmpty);
  const subscriptionId = r.read('AZURE_SUBSCRIPTION_ID', guid('the Azure subscription id'));
  const resourceGroup = r.read(
    'AZURE_RESOURCE_GROUP',
    z
      .string()
      .regex(/^[-\w.()]{0,89}[-\w()]$/, 'must be a resource group name (at most 90 characters, not ending in .)'),
  );
  const containerApp = r.read(
    'AZURE_CONTAINER_APP_NAME',
    z
      .string()
      .regex(
        /^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$/,
        'must be a Container App name (2-32 lowercase letters, digits and single hyphens)',
      ),
  );

  switch (target) {
    case 'dry-run':
      return { target };
    case 'kubernetes':
    case 'argo-rollouts':
      return { target, namespace, ...(kubeContext ? { kubeContext } : {}) };
    case 'azure-container-apps':
      for (const name of ['AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_CONTAINER_APP_NAME']) {
        if (!r.has(name)) r.problem(name, 'is required when ROLLOUT_TARGET=azure-container-apps');
      }
      if (!subscriptionId || !resourceGroup || !containerApp) return { target: 'dry-run' };
      return { target, subscriptionId, resourceGroup, containerApp };
  }
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function readTrustProxy(r: EnvReader): TrustProxy {
  const raw = r.raw('TRUST_PROXY')?.trim();
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !PROXY_NAMES.has(entry) && !isAddressOrRange(entry));
  if (bad.length > 0) {
    r.problem(
      'TRUST_PROXY',
      `must be false, true, a hop count, or a comma-separated list of IP addresses, CIDR ranges or loopback / linklocal / uniquelocal (not ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
    );
    return false;
  }
  return entries;
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function readGuardian(r: EnvReader): AppConfig['guardian'] {
  const leaseMs = r.read('ROLLOUT_LEASE_MS', integer(MIN_LEASE_MS, MAX_LEASE_MS)) ?? 60_000;
  const pollMs = r.read('ROLLOUT_POLL_MS', integer(50, 60_000)) ?? Math.min(1_000, Math.floor(leaseMs / 4));
  // A takeover happens within one lease plus one poll; a poll slower than half the lease would stretch it past 2×.
  if (pollMs * 2 > leaseMs) r.problem('ROLLOUT_POLL_MS', `must be at most half of ROLLOUT_LEASE_MS (${leaseMs} ms)`);
  return { leaseMs, pollMs };
}

function readGitHub(r: EnvReader): GitHubConfig {
  const token = r.read('GITHUB_TOKEN', nonEmpty);
  const appId = r.read('GITHUB_APP_ID', z.string().regex(/^\d+$/, 'must be the numeric GitHub App id'));
  const privateKey = r.read(
    'GITHUB_APP_PRIVATE_KEY',
    z
      .string()
      // .env files usually carry the PEM on one line with literal \n.
      .transform((pem) => pem.replace(/\\n/g, '\n'))
      .refine((pem) => /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----/.test(pem), {
        message: 'must be a PEM private key (-----BEGIN … PRIVATE KEY-----)',
      }),
  );
  const webhookSecret = r.read('GITHUB_WEBHOOK_SECRET', z.string().min(16, 'must be at least 16 characters'));
  const apiUrl = r.read('GITHUB_API_URL', serviceUrl());
  if (r.has('GITHUB_APP_ID') !== r.has('GITHUB_APP_PRIVATE_KEY')) {
    const missing = r.has('GITHUB_APP_ID') ? 'GITHUB_APP_PRIVATE_KEY' : 'GITHUB_APP_ID';
    r.problem(missing, 'GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY must be set together');
  }
  return {
    ...(token ? { token } : {}),
    ...(appId && privateKey ? { app: { appId, privateKey } } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(apiUrl ? { apiUrl } : {}),
  };
}

function readExistingFile(r: EnvReader, name: string, fileExists: (path: string) => boolean): string | undefined {
  const path = r.read(name, nonEmpty);
  if (path === undefined) return undefined;
  if (!fileExists(path)) {
    r.problem(name, 'file not found');
    return undefined;
  }
  return path;
}

function collectWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.mode === 'production' && config.rollout.target === 'dry-run') {
    warnings.push('ROLLOUT_TARGET is dry-run: rollbacks and traffic changes are reported but not executed');
  }
  if (config.server.trustProxy === true) {
    warnings.push(
      'TRUST_PROXY=true believes any X-Forwarded-For: clients can pick their own address; name the ingress',
    );
  }
  if (config.mode === 'production' && config.metrics.provider === 'simulator') {
    warnings.push('METRICS_PROVIDER is simulator: rollouts are judged on simulated metrics');
  }
  if (config.mode === 'production' && !config.databaseUrl) {
    warnings.push('DATABASE_URL is not set: state lives in the embedded store, so run a single replica only');
  }
  if (config.mode === 'production' && !config.store.auditKey) {
    warnings.push(
      'CHAOS_AUDIT_KEY is not set: the audit chain is plain SHA-256, which whoever can write the database can recompute',
    );
  }
  const { teams, slack, groups } = config.approvers;
  if (teams.length === 0 && slack.length === 0 && Object.keys(groups).length === 0) {
    warnings.push('no approvers configured (TEAMS_APPROVERS, SLACK_APPROVERS, APPROVER_GROUPS)');
  }
  if (config.teams.auth.kind === 'none' && config.server.host !== '127.0.0.1' && config.server.host !== 'localhost') {
    warnings.push(`HOST=${config.server.host} without Bot Framework authentication exposes an anonymous /api/messages`);
  }
  return warnings;
}
