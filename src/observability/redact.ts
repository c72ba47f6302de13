export const REDACTED = '[REDACTED]';

/**
 * Keys whose string values are secrets wherever they appear (headers, bodies, options objects).
 * Counts such as `promptTokens: 120` stay visible because only string values are replaced.
 */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-hub-signature-256|x-api-key|api-key|ocp-apim-subscription-key|x-functions-key|sig|.*(token|secret|password|passwd|pwd|signature|credential|credentials|connection[-_]?string)|.*(api|access|private|secret|signing|subscription|account|instrumentation|encryption|client)[-_]?key)$/i;

/** Token shapes that must not leak even inside free text (messages, error strings). */
const SECRET_TEXT: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  [/\bx(?:ox[abpros]|app)-[A-Za-z0-9-]{4,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{10,}/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{10,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, REDACTED],
  [/(InstrumentationKey|AccountKey|SharedAccessKey|password|pwd|sig)=([^;&\s]+)/gi, `$1=${REDACTED}`],
  [/(\/\/[^/:@\s]+:)[^@\s/]+@/g, `$1${REDACTED}@`],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
];

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A deep copy with secret-named string fields replaced and known token shapes scrubbed from every string.
 * Errors become plain objects (type, message, stack, code) so their text is scrubbed too. Cycles are cut.
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, new WeakSet(), 0);
}

function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth > 12) return '[Truncated]';
  seen.add(value);
  if (value instanceof Error) return walk(errorToObject(value), seen, depth + 1);
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => walk(item, seen, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      isSecretKey(key) && (typeof item === 'string' || Array.isArray(item)) ? REDACTED : walk(item, seen, depth + 1);
  }
  return out;
}

function errorToObject(error: Error): Record<string, unknown> {
  const extra = Object.fromEntries(Object.entries(error));
  return {
    type: error.name,
    message: error.message,
    ...(error.stack ? { stack: error.stack } : {}),
    ...extra,
    ...(error.cause !== undefined ? { cause: error.cause } : {}),
  };
}
