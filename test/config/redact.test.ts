import { describe, expect, it } from 'vitest';
import { loadConfig, REDACTED, redactConfig, redactUrlPassword } from '../../src/config/index.js';

const SECRETS = {
  MicrosoftAppPassword: 'bot-password-4f1c2e',
  SLACK_BOT_TOKEN: 'xoxb-slack-bot-token-9a8b',
  SLACK_SIGNING_SECRET: 'slack-signing-secret-77aa',
  SLACK_APP_TOKEN: 'xapp-slack-app-token-55cc',
  OPENAI_API_KEY: 'sk-openai-key-1234abcd',
  CHAOS_INTAKE_SECRET: 'intake-secret-0123456789abcdef0123456789',
  CHAOS_STATUS_TOKENS: 'status-token-ci-0123456789abcdef',
  GITHUB_TOKEN: 'ghp_github-token-zzyy',
  GITHUB_WEBHOOK_SECRET: 'github-webhook-secret-8877',
  GITHUB_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nprivate-key-body-qqq\n-----END PRIVATE KEY-----',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=ikey-3344;IngestionEndpoint=https://x/',
};

describe('redactConfig', () => {
  it('replaces every secret with *** and keeps the rest readable', () => {
    const config = loadConfig(
      {
        ...SECRETS,
        MicrosoftAppId: '11111111-2222-4333-8444-555555555555',
        OPENAI_MODEL: 'gpt-4o-mini',
        GITHUB_APP_ID: '42',
        DATABASE_URL: 'postgres://chaos:db-password-6655@db:5432/chaos?sslmode=require',
      },
      { fileExists: () => true },
    );
    const text = JSON.stringify(redactConfig(config));
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(text, name).not.toContain(value);
    }
    expect(text).not.toContain('db-password-6655');
    expect(text).not.toContain('private-key-body');
    expect(text).toContain('11111111-2222-4333-8444-555555555555');
    expect(text).toContain('gpt-4o-mini');
    expect(text).toContain('postgres://chaos:***@db:5432/chaos?sslmode=require');
    const redacted = redactConfig(config) as { teams: { auth: { appPassword: string } }; slack: { botToken: string } };
    expect(redacted.teams.auth.appPassword).toBe(REDACTED);
    expect(redacted.slack.botToken).toBe(REDACTED);
  });

  it('does not modify the config it was given', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-1', OPENAI_MODEL: 'm' }, { fileExists: () => true });
    redactConfig(config);
    expect(config.model).toEqual({ provider: 'openai-compatible', apiKey: 'sk-1', model: 'm' });
  });

  it('masks passwords in URLs, in the user part and in the query', () => {
    expect(redactUrlPassword('postgres://u:p@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrlPassword('postgres://h/db?user=u&password=p')).toBe('postgres://h/db?user=u&password=***');
    expect(redactUrlPassword('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrlPassword('not a url with secret')).toBe(REDACTED);
  });
});
