export * from './config.js';
export * from './errors.js';
export { REDACTED, redactConfig, redactUrlPassword } from './redact.js';
export * from './services.js';
