/**
 * Typed domain errors. Every error that crosses a module boundary carries a stable string `code`
 * from the error catalog (src/errors.ts), so adapters can map it to an HTTP status or a chat reply without parsing text.
 */
import type { CodedError, ErrorCode } from '../errors.js';

export class DomainError extends Error implements CodedError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
  }
}

/** One problem with an input: `path` is a JSON path such as `changes[2].lines_changed` (`$` for the whole input). */
export interface ValidationIssue {
  path: string;
  /** Short machine-readable rule name, e.g. `required`, `type`, `minimum`, `enum`, `unknown_key`, `syntax`. */
  rule: string;
  /** Human-readable, without the path, e.g. `must be a non-negative integer (got "abc")`. */
  message: string;
}

/** A deployment request (JSON, chat text, git range) that does not satisfy the contract of the request format. */
export class RequestValidationError extends DomainError {
  override readonly code = 'request_invalid' as const;
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    const list = issues.length > 0 ? issues : [{ path: '$', rule: 'invalid', message: 'is not a valid request' }];
    super('request_invalid', summarise(list));
    this.name = 'RequestValidationError';
    this.issues = list;
  }
}

function summarise(issues: ValidationIssue[]): string {
  const first = issues[0];
  if (!first) return 'invalid request';
  const more = issues.length > 1 ? ` (+${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  // One line, whatever the input contained: a chat reply or log line must not be split by user-supplied newlines.
  return `${first.path}: ${first.message}${more}`.replace(/[\r\n]+/g, ' ');
}

/** Formats a JSON path from segments: `['changes', 2, 'lines_changed']` → `changes[2].lines_changed`. */
export function formatJsonPath(segments: readonly (string | number)[]): string {
  if (segments.length === 0) return '$';
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Short rendering of an offending value for error messages: `"abc"`, `-3`, `null`, `an array`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const clipped = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(clipped);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
