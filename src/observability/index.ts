export * from './logger.js';
export * from './metrics.js';
export { isSecretKey, REDACTED, redactSecrets, scrubText } from './redact.js';
export * from './telemetry.js';
