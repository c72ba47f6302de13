import { randomUUID } from 'node:crypto';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { REDACTED, redactSecrets, scrubText } from './redact.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** Where JSON lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
  /** Fields on every line (e.g. service version). */
  base?: Record<string, unknown>;
}

/**
 * A pino JSON logger that never writes secrets: fields named like secrets (authorization, cookie, *token, *secret,
 * *password, *key, *signature, connection strings) become "[REDACTED]" at any depth, and token shapes (Bearer …,
 * xoxb-…, ghp_…, sk-…, JWTs, InstrumentationKey=…, URL passwords, PEM keys) are scrubbed from messages and errors.
 * A secret with no recognisable shape interpolated into a message (`log.info('%s', secret)`) cannot be detected:
 * pass such values as named fields instead.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    ...(options.name ? { name: options.name } : {}),
    base: { pid: process.pid, ...(options.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // pino applies formatters.bindings to the root only, never to log.child(bindings); these paths cover children.
    redact: { paths: CHILD_BINDING_REDACT_PATHS, censor: REDACTED },
    // Errors are turned into plain, scrubbed objects by formatters.log; pino's own err serializer would redo it.
    serializers: { err: passThrough, error: passThrough },
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactSecrets(bindings) as Record<string, unknown>,
      log: (object) => redactSecrets(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, scrubArguments(args) as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

const SECRET_FIELD_NAMES = [
  'authorization',
  'cookie',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'botToken',
  'appToken',
  'apiKey',
  'password',
  'secret',
  'clientSecret',
  'signingSecret',
  'webhookSecret',
  'connectionString',
  'privateKey',
  'signature',
];
const CHILD_BINDING_REDACT_PATHS = [
  ...SECRET_FIELD_NAMES,
  ...SECRET_FIELD_NAMES.map((name) => `*.${name}`),
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

function passThrough(value: unknown): unknown {
  return value;
}

function scrubArguments(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  // pino would take the message straight from err.message, bypassing the formatter.
  if (first instanceof Error) {
    return [{ err: first }, ...(rest.length > 0 ? rest.map(scrubArgument) : [scrubText(first.message)])];
  }
  if (first !== null && typeof first === 'object' && rest.length === 0) {
    const err = (first as { err?: unknown }).err;
    if (err instanceof Error) return [first, scrubText(err.message)];
  }
  return args.map(scrubArgument);
}

function scrubArgument(arg: unknown): unknown {
  return typeof arg === 'string' ? scrubText(arg) : arg;
}

/** The minimal request shape (node:http IncomingMessage and express Request both fit). */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A child logger for one HTTP request, carrying `requestId` (the caller's `x-request-id` when it looks safe, else a
 * fresh UUID), the method and the path without its query string (queries can hold tokens).
 */
export function requestLogger(
  parent: Logger,
  req: RequestLike,
  newId: () => string = randomUUID,
): { requestId: string; log: Logger } {
  const header = req.headers['x-request-id'];
  const incoming = Array.isArray(header) ? header[0] : header;
  const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : newId();
  const path = req.url?.split('?')[0];
  const log = parent.child({
    requestId,
    ...(req.method ? { method: req.method } : {}),
    ...(path ? { path } : {}),
  });
  return { requestId, log };
}
