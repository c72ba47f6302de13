import type { AppConfig } from './config.js';

export const REDACTED = '***';

/** Field names inside AppConfig that hold secrets. */
const SECRET_FIELDS = new Set([
  'appPassword',
  'botToken',
  'signingSecret',
  'appToken',
  'apiKey',
  'intakeSecret',
  'statusTokens',
  'engineWebhookToken',
  'token',
  'privateKey',
  'webhookSecret',
  'connectionString',
  'auditKey',
]);

/** A copy of the configuration that is safe to log at start-up: secrets become `***`, URL passwords too. */
export function redactConfig(config: AppConfig): unknown {
  return redactValue(config, undefined);
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && SECRET_FIELDS.has(key)) return REDACTED;
    if (key === 'databaseUrl') return redactUrlPassword(value);
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => (key !== undefined && SECRET_FIELDS.has(key) ? REDACTED : redactValue(item, undefined)));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}

export function redactUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    const queryPassword = parsed.searchParams.has('password');
    if (parsed.password === '' && !queryPassword) return url;
    if (parsed.password !== '') parsed.password = REDACTED;
    if (queryPassword) parsed.searchParams.set('password', REDACTED);
    return parsed.toString();
  } catch {
    return REDACTED;
  }
}
