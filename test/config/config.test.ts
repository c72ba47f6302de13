import { describe, expect, it } from 'vitest';
import {
  type AppConfig,
  assertProductionReady,
  ConfigError,
  DEFAULT_PORT,
  loadConfig,
  productionReadinessIssues,
  redactConfig,
} from '../../src/config/index.js';

const APP_ID = '11111111-2222-4333-8444-555555555555';
const TENANT = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const PASSWORD = 'bot-password-value-7Hq~s3cr3t';
const noFiles = { fileExists: () => false };
const allFiles = { fileExists: () => true };

function configError(env: NodeJS.ProcessEnv, options = noFiles): ConfigError {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig defaults', () => {
  it('gives an embedded, offline, anonymous development setup for an empty environment', () => {
    const config = loadConfig({}, noFiles);
    expect(config).toMatchObject({
      mode: 'development',
      logLevel: 'info',
      server: { host: '127.0.0.1', port: DEFAULT_PORT },
      dataDir: '.data',
      teams: { auth: { kind: 'none' } },
      model: { provider: 'offline' },
      negotiationTimeoutMs: 20_000,
      metrics: { provider: 'simulator', scenario: 'healthy' },
      rollout: { target: 'dry-run' },
      approvers: { teams: [], slack: [], groups: {} },
      github: {},
      telemetry: {},
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.slack).toBeUndefined();
    expect(config.warnings).toContain('no approvers configured (TEAMS_APPROVERS, SLACK_APPROVERS, APPROVER_GROUPS)');
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', MicrosoftAppId: '  ', SLACK_BOT_TOKEN: '' }, noFiles);
    expect(config.server.port).toBe(DEFAULT_PORT);
    expect(config.teams.auth.kind).toBe('none');
  });

  it('binds 0.0.0.0 by default once bot authentication is configured', () => {
    const config = loadConfig({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: PASSWORD }, noFiles);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.teams.auth).toEqual({ kind: 'secret', appType: 'MultiTenant', appId: APP_ID, appPassword: PASSWORD });
  });

  it('keeps an explicit HOST and PORT', () => {
    const config = loadConfig({ HOST: '::', PORT: '0' }, noFiles);
    expect(config.server).toEqual({ host: '::', port: 0, trustProxy: false });
  });

  it('derives production mode from NODE_ENV and lets CHAOS_MODE override it', () => {
    const secret = { MicrosoftAppId: APP_ID, MicrosoftAppPassword: PASSWORD };
    expect(loadConfig({ ...secret, NODE_ENV: 'production' }, noFiles).mode).toBe('production');
    expect(loadConfig({ NODE_ENV: 'production', CHAOS_MODE: 'development' }, noFiles).mode).toBe('development');
    expect(loadConfig({ NODE_ENV: 'test' }, noFiles).mode).toBe('development');
  });
});

describe('loadConfig full production setup', () => {
  const env: NodeJS.ProcessEnv = {
    CHAOS_MODE: 'production',
    LOG_LEVEL: 'warn',
    CHAOS_DATA_DIR: '/var/lib/chaos',
    DATABASE_URL: 'postgres://chaos:pg-pass@db.example.com:5432/chaos?sslmode=require',
    MicrosoftAppType: 'UserAssignedMSI',
    MicrosoftAppId: APP_ID,
    MicrosoftAppTenantId: TENANT,
    SLACK_BOT_TOKEN: 'xoxb-123-456-abc',
    SLACK_SIGNING_SECRET: '0123456789abcdef0123456789abcdef',
    AZURE_OPENAI_ENDPOINT: 'https://chaos.openai.azure.com',
    AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
    AZURE_OPENAI_USE_ENTRA: 'true',
    AZURE_CLIENT_ID: APP_ID,
    NEGOTIATION_TIMEOUT_MS: '15000',
    METRICS_PROVIDER: 'azure-monitor',
    AZURE_MONITOR_WORKSPACE_ID: TENANT,
    AZURE_MONITOR_METRICS_ENDPOINT: 'https://westeurope.metrics.monitor.azure.com',
    ROLLOUT_TARGET: 'azure-container-apps',
    AZURE_SUBSCRIPTION_ID: TENANT,
    AZURE_RESOURCE_GROUP: 'rg-chaos-prod',
    AZURE_CONTAINER_APP_NAME: 'checkout-api',
    TEAMS_APPROVERS: `${APP_ID}, ${TENANT}, ${APP_ID}`,
    SLACK_APPROVERS: '["U012ABC","W0456DEF"]',
    APPROVER_GROUPS: JSON.stringify({ sre: [TENANT, 'U012ABC'] }),
    CHAOS_POLICY_FILE: 'policy.yaml',
    CHAOS_SERVICES_FILE: 'services.yaml',
    CHAOS_INTAKE_SECRET: 'i'.repeat(40),
    CHAOS_AUDIT_KEY: 'a'.repeat(40),
    CHAOS_EVENT_DEDUP_TTL_SECONDS: '7200',
    CHAOS_ANNOUNCEMENT_RETENTION_DAYS: '14',
    GITHUB_APP_ID: '12345',
    GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\\nMIIEabc\\n-----END RSA PRIVATE KEY-----',
    GITHUB_WEBHOOK_SECRET: 'w'.repeat(20),
    APPLICATIONINSIGHTS_CONNECTION_STRING:
      'InstrumentationKey=abc;IngestionEndpoint=https://x.in.applicationinsights.azure.com/',
  };

  it('reads every section', () => {
    const config = loadConfig(env, allFiles);
    expect(config.mode).toBe('production');
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.teams.auth).toEqual({
      kind: 'managed-identity',
      appType: 'UserAssignedMSI',
      appId: APP_ID,
      tenantId: TENANT,
    });
    expect(config.slack).toEqual({
      botToken: 'xoxb-123-456-abc',
      signingSecret: '0123456789abcdef0123456789abcdef',
      socketMode: false,
    });
    expect(config.model).toEqual({
      provider: 'azure-openai',
      endpoint: 'https://chaos.openai.azure.com',
      deployment: 'gpt-4o',
      apiVersion: '2024-10-21',
      auth: { kind: 'entra', managedIdentityClientId: APP_ID },
    });
    expect(config.negotiationTimeoutMs).toBe(15_000);
    expect(config.metrics).toEqual({
      provider: 'azure-monitor',
      workspaceId: TENANT,
      metricsEndpoint: 'https://westeurope.metrics.monitor.azure.com',
    });
    expect(config.rollout).toEqual({
      target: 'azure-container-apps',
      subscriptionId: TENANT,
      resourceGroup: 'rg-chaos-prod',
      containerApp: 'checkout-api',
    });
    expect(config.approvers).toEqual({
      teams: [APP_ID, TENANT],
      slack: ['U012ABC', 'W0456DEF'],
      groups: { sre: [TENANT, 'U012ABC'] },
    });
    expect(config.policyFile).toBe('policy.yaml');
    expect(config.servicesFile).toBe('services.yaml');
    expect(config.store).toEqual({
      eventDedupTtlMs: 7_200_000,
      announcementRetentionMs: 14 * 24 * 3600_000,
      auditKey: 'a'.repeat(40),
    });
    expect(redactConfig(config)).toMatchObject({ store: { auditKey: '***' } });
    expect(config.github.app?.privateKey).toBe(
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----',
    );
    expect(config.telemetry.connectionString).toContain('InstrumentationKey=abc');
    expect(config.warnings).toEqual([]);
  });

  it('warns about dry-run, simulated metrics and the embedded store in production', () => {
    const { ROLLOUT_TARGET, METRICS_PROVIDER, DATABASE_URL, CHAOS_AUDIT_KEY, ...rest } = env;
    const config = loadConfig(rest, allFiles);
    expect(config.warnings.join('\n')).toMatch(/CHAOS_AUDIT_KEY is not set: the audit chain is plain SHA-256/);
    expect(config.warnings.join('\n')).toMatch(/ROLLOUT_TARGET is dry-run/);
    expect(config.warnings.join('\n')).toMatch(/METRICS_PROVIDER is simulator/);
    expect(config.warnings.join('\n')).toMatch(/DATABASE_URL is not set/);
  });

  it('accepts an OpenAI-compatible endpoint, socket-mode Slack, prometheus and kubernetes', () => {
    const config = loadConfig(
      {
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
        OPENAI_MODEL: 'llama3',
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_APP_TOKEN: 'xapp-1-2',
        METRICS_PROVIDER: 'prometheus',
        PROMETHEUS_URL: 'http://prometheus.monitoring:9090',
        ROLLOUT_TARGET: 'argo-rollouts',
        KUBE_NAMESPACE: 'shop',
        METRICS_SIMULATOR_SCENARIO: 'slow-leak',
      },
      noFiles,
    );
    expect(config.model).toEqual({
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3',
    });
    expect(config.slack).toEqual({ botToken: 'xoxb-1', appToken: 'xapp-1-2', socketMode: true });
    expect(config.metrics).toEqual({ provider: 'prometheus', url: 'http://prometheus.monitoring:9090' });
    const gov = loadConfig(
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-2', SLACK_API_URL: 'https://slack-gov.com/api' },
      noFiles,
    );
    expect(gov.slack?.apiUrl).toBe('https://slack-gov.com/api/');
    expect(config.rollout).toEqual({ target: 'argo-rollouts', namespace: 'shop' });
  });

  it('accepts Azure OpenAI with a key and a simulator scenario', () => {
    const config = loadConfig(
      {
        AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com/',
        AZURE_OPENAI_DEPLOYMENT: 'chaos-gpt4o',
        AZURE_OPENAI_API_KEY: 'azure-key',
        AZURE_OPENAI_API_VERSION: '2025-01-01-preview',
        METRICS_SIMULATOR_SCENARIO: 'error-spike',
      },
      noFiles,
    );
    expect(config.model).toMatchObject({
      provider: 'azure-openai',
      apiVersion: '2025-01-01-preview',
      auth: { kind: 'api-key' },
    });
    expect(config.metrics).toEqual({ provider: 'simulator', scenario: 'error-spike' });
  });
});

// Every error path: [name, env, variable expected in the error, message fragment]
const errorCases: [string, NodeJS.ProcessEnv, string, RegExp][] = [
  ['unknown mode', { CHAOS_MODE: 'staging' }, 'CHAOS_MODE', /must be one of development, production/],
  ['unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /must be one of fatal, error/],
  ['non-numeric port', { PORT: 'eighty' }, 'PORT', /whole number between 0 and 65535/],
  ['port out of range', { PORT: '70000' }, 'PORT', /whole number between 0 and 65535/],
  ['host with a path', { HOST: 'http://x/' }, 'HOST', /host name or IP address/],
  ['database url not postgres', { DATABASE_URL: 'mysql://u@h/db' }, 'DATABASE_URL', /postgres:\/\//],
  ['database url not a url', { DATABASE_URL: 'not a url' }, 'DATABASE_URL', /postgres:\/\//],
  [
    'unknown bot app type',
    { MicrosoftAppType: 'Anonymous' },
    'MicrosoftAppType',
    /MultiTenant, SingleTenant, UserAssignedMSI/,
  ],
  [
    'app id not a guid',
    { MicrosoftAppId: 'my-bot', MicrosoftAppPassword: PASSWORD },
    'MicrosoftAppId',
    /must be a GUID/,
  ],
  [
    'password without app id',
    { MicrosoftAppPassword: PASSWORD },
    'MicrosoftAppId',
    /required when MicrosoftAppPassword/,
  ],
  [
    'app type without app id',
    { MicrosoftAppType: 'SingleTenant' },
    'MicrosoftAppId',
    /required when MicrosoftAppType=SingleTenant/,
  ],
  [
    'app id without password',
    { MicrosoftAppId: APP_ID },
    'MicrosoftAppPassword',
    /required when MicrosoftAppId is set/,
  ],
  [
    'single tenant without tenant',
    { MicrosoftAppId: APP_ID, MicrosoftAppPassword: PASSWORD, MicrosoftAppType: 'SingleTenant' },
    'MicrosoftAppTenantId',
    /required when MicrosoftAppType=SingleTenant/,
  ],
  ['tenant not a guid', { MicrosoftAppTenantId: 'contoso.com' }, 'MicrosoftAppTenantId', /must be a GUID/],
  [
    'msi without app id',
    { MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: TENANT },
    'MicrosoftAppId',
    /UserAssignedMSI/,
  ],
  [
    'msi without tenant',
    { MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppId: APP_ID },
    'MicrosoftAppTenantId',
    /UserAssignedMSI/,
  ],
  [
    'msi with a password',
    {
      MicrosoftAppType: 'UserAssignedMSI',
      MicrosoftAppId: APP_ID,
      MicrosoftAppTenantId: TENANT,
      MicrosoftAppPassword: PASSWORD,
    },
    'MicrosoftAppPassword',
    /must be empty/,
  ],
  ['slack user token', { SLACK_BOT_TOKEN: 'xoxp-1', SLACK_SIGNING_SECRET: 'abcdefgh12' }, 'SLACK_BOT_TOKEN', /xoxb-/],
  ['slack secret without token', { SLACK_SIGNING_SECRET: 'abcdefgh12' }, 'SLACK_BOT_TOKEN', /is required/],
  ['slack token without secret', { SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET', /Socket Mode/],
  [
    'short slack secret',
    { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abc' },
    'SLACK_SIGNING_SECRET',
    /at least 8/,
  ],
  ['bad slack app token', { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxa-1' }, 'SLACK_APP_TOKEN', /xapp-/],
  [
    'slack api url over http to another host',
    { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_API_URL: 'http://slack-proxy.internal/api/' },
    'SLACK_API_URL',
    /https URL/,
  ],
  [
    'azure endpoint over http',
    { AZURE_OPENAI_ENDPOINT: 'http://a.openai.azure.com', AZURE_OPENAI_DEPLOYMENT: 'd', AZURE_OPENAI_API_KEY: 'k' },
    'AZURE_OPENAI_ENDPOINT',
    /https URL/,
  ],
  [
    'azure endpoint not a url',
    { AZURE_OPENAI_ENDPOINT: 'openai', AZURE_OPENAI_DEPLOYMENT: 'd', AZURE_OPENAI_API_KEY: 'k' },
    'AZURE_OPENAI_ENDPOINT',
    /absolute URL/,
  ],
  [
    'azure endpoint with credentials',
    {
      AZURE_OPENAI_ENDPOINT: 'https://u:p@a.openai.azure.com',
      AZURE_OPENAI_DEPLOYMENT: 'd',
      AZURE_OPENAI_API_KEY: 'k',
    },
    'AZURE_OPENAI_ENDPOINT',
    /credentials/,
  ],
  [
    'azure without deployment',
    { AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com', AZURE_OPENAI_API_KEY: 'k' },
    'AZURE_OPENAI_DEPLOYMENT',
    /is required/,
  ],
  [
    'azure without endpoint',
    { AZURE_OPENAI_DEPLOYMENT: 'd', AZURE_OPENAI_API_KEY: 'k' },
    'AZURE_OPENAI_ENDPOINT',
    /is required/,
  ],
  [
    'azure bad deployment name',
    {
      AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com',
      AZURE_OPENAI_DEPLOYMENT: 'gpt 4o',
      AZURE_OPENAI_API_KEY: 'k',
    },
    'AZURE_OPENAI_DEPLOYMENT',
    /deployment name/,
  ],
  [
    'azure without key or entra',
    { AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com', AZURE_OPENAI_DEPLOYMENT: 'd' },
    'AZURE_OPENAI_API_KEY',
    /AZURE_OPENAI_USE_ENTRA=true/,
  ],
  [
    'azure key and entra',
    {
      AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com',
      AZURE_OPENAI_DEPLOYMENT: 'd',
      AZURE_OPENAI_API_KEY: 'k',
      AZURE_OPENAI_USE_ENTRA: 'true',
    },
    'AZURE_OPENAI_USE_ENTRA',
    /not both/,
  ],
  ['entra flag not boolean', { AZURE_OPENAI_USE_ENTRA: 'maybe' }, 'AZURE_OPENAI_USE_ENTRA', /true or false/],
  ['entra without endpoint', { AZURE_OPENAI_USE_ENTRA: 'yes' }, 'AZURE_OPENAI_ENDPOINT', /AZURE_OPENAI_USE_ENTRA=true/],
  ['bad api version', { AZURE_OPENAI_API_VERSION: 'latest' }, 'AZURE_OPENAI_API_VERSION', /2024-10-21/],
  [
    'azure and openai together',
    { AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com', OPENAI_MODEL: 'm' },
    'OPENAI_BASE_URL',
    /not both/,
  ],
  ['openai without model', { OPENAI_API_KEY: 'sk-1' }, 'OPENAI_MODEL', /is required/],
  ['openai model alone', { OPENAI_MODEL: 'gpt-4o' }, 'OPENAI_API_KEY', /OPENAI_BASE_URL/],
  ['openai base url bad scheme', { OPENAI_BASE_URL: 'ftp://x', OPENAI_MODEL: 'm' }, 'OPENAI_BASE_URL', /https URL/],
  ['timeout too small', { NEGOTIATION_TIMEOUT_MS: '10' }, 'NEGOTIATION_TIMEOUT_MS', /between 1000 and 600000/],
  [
    'unknown metrics provider',
    { METRICS_PROVIDER: 'datadog' },
    'METRICS_PROVIDER',
    /simulator, azure-monitor, prometheus/,
  ],
  ['unknown scenario', { METRICS_SIMULATOR_SCENARIO: 'meteor' }, 'METRICS_SIMULATOR_SCENARIO', /healthy, error-spike/],
  [
    'azure monitor without ids',
    { METRICS_PROVIDER: 'azure-monitor' },
    'AZURE_MONITOR_WORKSPACE_ID',
    /needs AZURE_MONITOR_WORKSPACE_ID or/,
  ],
  ['workspace id not a guid', { AZURE_MONITOR_WORKSPACE_ID: 'ws' }, 'AZURE_MONITOR_WORKSPACE_ID', /GUID/],
  [
    'bad app insights id',
    { AZURE_MONITOR_APP_INSIGHTS_RESOURCE_ID: '/subscriptions/x/appinsights' },
    'AZURE_MONITOR_APP_INSIGHTS_RESOURCE_ID',
    /microsoft.insights\/components/,
  ],
  [
    'metrics endpoint http',
    { AZURE_MONITOR_METRICS_ENDPOINT: 'http://westeurope.metrics.monitor.azure.com' },
    'AZURE_MONITOR_METRICS_ENDPOINT',
    /https/,
  ],
  ['logs endpoint not url', { AZURE_MONITOR_LOGS_ENDPOINT: 'logs' }, 'AZURE_MONITOR_LOGS_ENDPOINT', /absolute URL/],
  [
    'prometheus without url',
    { METRICS_PROVIDER: 'prometheus' },
    'PROMETHEUS_URL',
    /is required when METRICS_PROVIDER=prometheus/,
  ],
  ['prometheus url not url', { PROMETHEUS_URL: 'prom:9090/x y' }, 'PROMETHEUS_URL', /URL/],
  [
    'unknown rollout target',
    { ROLLOUT_TARGET: 'nomad' },
    'ROLLOUT_TARGET',
    /dry-run, kubernetes, argo-rollouts, azure-container-apps/,
  ],
  ['bad namespace', { KUBE_NAMESPACE: 'Shop_NS' }, 'KUBE_NAMESPACE', /RFC 1123/],
  [
    'aca without subscription',
    { ROLLOUT_TARGET: 'azure-container-apps', AZURE_RESOURCE_GROUP: 'rg', AZURE_CONTAINER_APP_NAME: 'app' },
    'AZURE_SUBSCRIPTION_ID',
    /ROLLOUT_TARGET=azure-container-apps/,
  ],
  [
    'aca without group',
    { ROLLOUT_TARGET: 'azure-container-apps', AZURE_SUBSCRIPTION_ID: TENANT, AZURE_CONTAINER_APP_NAME: 'app' },
    'AZURE_RESOURCE_GROUP',
    /ROLLOUT_TARGET=azure-container-apps/,
  ],
  [
    'aca without app',
    { ROLLOUT_TARGET: 'azure-container-apps', AZURE_SUBSCRIPTION_ID: TENANT, AZURE_RESOURCE_GROUP: 'rg' },
    'AZURE_CONTAINER_APP_NAME',
    /ROLLOUT_TARGET=azure-container-apps/,
  ],
  ['bad subscription', { AZURE_SUBSCRIPTION_ID: 'sub' }, 'AZURE_SUBSCRIPTION_ID', /GUID/],
  ['bad resource group', { AZURE_RESOURCE_GROUP: 'rg.' }, 'AZURE_RESOURCE_GROUP', /resource group name/],
  [
    'bad container app name',
    { AZURE_CONTAINER_APP_NAME: 'Checkout_API' },
    'AZURE_CONTAINER_APP_NAME',
    /Container App name/,
  ],
  [
    'teams approver not a guid',
    { TEAMS_APPROVERS: `${APP_ID},alice@contoso.com` },
    'TEAMS_APPROVERS',
    /\[1\]: must be a GUID/,
  ],
  [
    'teams approvers broken json',
    { TEAMS_APPROVERS: '["a",' },
    'TEAMS_APPROVERS',
    /JSON array of strings or a comma-separated list/,
  ],
  ['slack approver not an id', { SLACK_APPROVERS: '@alice' }, 'SLACK_APPROVERS', /Slack user id/],
  ['slack approvers json of numbers', { SLACK_APPROVERS: '[1]' }, 'SLACK_APPROVERS', /\[0\]: must be a string/],
  ['groups not json', { APPROVER_GROUPS: 'sre=U1' }, 'APPROVER_GROUPS', /JSON object/],
  [
    'group with bad member',
    { APPROVER_GROUPS: '{"sre":["bob"]}' },
    'APPROVER_GROUPS',
    /sre\[0\]: must be an Entra object id/,
  ],
  ['empty group', { APPROVER_GROUPS: '{"sre":[]}' }, 'APPROVER_GROUPS', /at least one member/],
  ['bad group name', { APPROVER_GROUPS: '{"s r e":["U123"]}' }, 'APPROVER_GROUPS', /group names/],
  ['policy file missing', { CHAOS_POLICY_FILE: 'nope.yaml' }, 'CHAOS_POLICY_FILE', /file not found/],
  ['services file missing', { CHAOS_SERVICES_FILE: 'nope.yaml' }, 'CHAOS_SERVICES_FILE', /file not found/],
  ['short intake secret', { CHAOS_INTAKE_SECRET: 'short' }, 'CHAOS_INTAKE_SECRET', /at least 32 characters/],
  ['short audit key', { CHAOS_AUDIT_KEY: 'short' }, 'CHAOS_AUDIT_KEY', /at least 32 characters/],
  ['dedup TTL too short', { CHAOS_EVENT_DEDUP_TTL_SECONDS: '5' }, 'CHAOS_EVENT_DEDUP_TTL_SECONDS', /./],
  [
    'retention not a number',
    { CHAOS_ANNOUNCEMENT_RETENTION_DAYS: 'a month' },
    'CHAOS_ANNOUNCEMENT_RETENTION_DAYS',
    /./,
  ],
  [
    'github app id not numeric',
    { GITHUB_APP_ID: 'abc', GITHUB_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----' },
    'GITHUB_APP_ID',
    /numeric/,
  ],
  [
    'github key not pem',
    { GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'abc' },
    'GITHUB_APP_PRIVATE_KEY',
    /PEM private key/,
  ],
  ['github app id alone', { GITHUB_APP_ID: '1' }, 'GITHUB_APP_PRIVATE_KEY', /set together/],
  [
    'github key alone',
    { GITHUB_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----' },
    'GITHUB_APP_ID',
    /set together/,
  ],
  ['short webhook secret', { GITHUB_WEBHOOK_SECRET: 'abc' }, 'GITHUB_WEBHOOK_SECRET', /at least 16/],
  ['github api url', { GITHUB_API_URL: 'github' }, 'GITHUB_API_URL', /absolute URL/],
  ['azure client id', { AZURE_CLIENT_ID: 'x' }, 'AZURE_CLIENT_ID', /GUID/],
  [
    'bad connection string',
    { APPLICATIONINSIGHTS_CONNECTION_STRING: 'https://x' },
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    /InstrumentationKey=/,
  ],
  [
    'empty data dir is unset, but a blank-only value too',
    { CHAOS_DATA_DIR: '   ', PORT: '-1' },
    'PORT',
    /whole number/,
  ],
];

describe('loadConfig errors', () => {
  it.each(errorCases)('%s', (_name, env, variable, message) => {
    const error = configError(env);
    expect(error.code).toBe('config_invalid');
    const issue = error.issues.find((i) => i.variable === variable && message.test(i.message));
    expect(issue, `issues were: ${error.message}`).toBeDefined();
    expect(error.message).toContain(`  - ${variable}: `);
  });

  it('lists every problem at once, one line each', () => {
    const error = configError({ PORT: 'x', LOG_LEVEL: 'loud', ROLLOUT_TARGET: 'nomad', SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'ROLLOUT_TARGET',
      'SLACK_SIGNING_SECRET',
    ]);
    expect(error.message.split('\n')).toHaveLength(5);
    expect(error.message.split('\n')[0]).toBe('Invalid configuration:');
  });

  it('never echoes a value, even a secret placed in the wrong variable', () => {
    const secret = 'xoxb-super-secret-token-value';
    const error = configError({
      LOG_LEVEL: secret,
      CHAOS_MODE: secret,
      MicrosoftAppId: secret,
      MicrosoftAppPassword: secret,
      SLACK_APP_TOKEN: secret,
      AZURE_OPENAI_ENDPOINT: secret,
      AZURE_OPENAI_API_VERSION: secret,
      METRICS_PROVIDER: secret,
      TEAMS_APPROVERS: secret,
      CHAOS_INTAKE_SECRET: 'tiny-secret',
      APPLICATIONINSIGHTS_CONNECTION_STRING: secret,
      DATABASE_URL: `mysql://user:${secret}@host/db`,
    });
    expect(error.issues.length).toBeGreaterThanOrEqual(10);
    expect(error.message).not.toContain('super-secret');
    expect(error.message).not.toContain('tiny-secret');
  });
});

describe('production readiness', () => {
  it('refuses production without bot authentication, with a clear message', () => {
    const error = configError({ CHAOS_MODE: 'production' });
    expect(error.code).toBe('config_not_production_ready');
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(/MicrosoftAppId: Bot Framework authentication is required in production/);
    expect(error.message).toMatch(/UserAssignedMSI/);
  });

  it('adds the production problem to other problems as one error', () => {
    const error = configError({ NODE_ENV: 'production', PORT: 'x' });
    expect(error.code).toBe('config_invalid');
    expect(error.issues.map((i) => i.variable)).toEqual(['PORT', 'MicrosoftAppId']);
  });

  it('does not pile a production complaint onto a malformed bot variable', () => {
    const error = configError({ CHAOS_MODE: 'production', MicrosoftAppId: 'bad', MicrosoftAppPassword: PASSWORD });
    expect(error.issues.map((i) => i.variable)).toEqual(['MicrosoftAppId']);
  });

  it('starts in production with a client secret or with a managed identity', () => {
    expect(
      loadConfig({ CHAOS_MODE: 'production', MicrosoftAppId: APP_ID, MicrosoftAppPassword: PASSWORD }, noFiles).mode,
    ).toBe('production');
    expect(
      loadConfig(
        {
          CHAOS_MODE: 'production',
          MicrosoftAppType: 'UserAssignedMSI',
          MicrosoftAppId: APP_ID,
          MicrosoftAppTenantId: TENANT,
        },
        noFiles,
      ).teams.auth.kind,
    ).toBe('managed-identity');
  });

  it('assertProductionReady checks any config, including one built in development', () => {
    const dev = loadConfig({}, noFiles);
    expect(productionReadinessIssues(dev).map((i) => i.variable)).toEqual(['MicrosoftAppId']);
    expect(() => assertProductionReady(dev)).toThrow(ConfigError);
    const slackOnly: AppConfig = { ...dev, slack: { botToken: 'xoxb-1', socketMode: false } };
    expect(productionReadinessIssues(slackOnly).map((i) => i.variable)).toContain('SLACK_SIGNING_SECRET');
    const ready = loadConfig({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: PASSWORD }, noFiles);
    expect(() => assertProductionReady(ready)).not.toThrow();
  });

  it('warns when an anonymous bot listens beyond loopback', () => {
    const config = loadConfig({ HOST: '0.0.0.0' }, noFiles);
    expect(config.warnings.join('\n')).toMatch(/anonymous \/api\/messages/);
  });
});
