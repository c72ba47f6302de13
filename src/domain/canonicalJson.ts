/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined` members dropped (as JSON.stringify does).
 * Two structurally equal values always give the same text, so the text can be hashed (contract content hash).
 * Non-finite numbers are refused rather than silently turned into `null`, which would let two different values collide.
 */

import { createHash } from 'node:crypto';
import type { CodedError } from '../errors.js';

export class CanonicalJsonError extends Error implements CodedError {
  readonly code = 'canonical_json_invalid' as const;
  override readonly name = 'CanonicalJsonError';
}

export function canonicalJson(value: unknown): string {
  try {
    return write(value, new Map());
  } catch (error) {
    if (error === INVALID) throw new CanonicalJsonError(describeInvalid(value, '$') ?? '$: cannot encode');
    throw error;
  }
}

/** Strings that JSON.stringify would print as-is between quotes (checked so the common case skips the call). */
// Printable ASCII without `"` and `\\`.
const PLAIN_STRING = /^[ !#-[\]-~]*$/;
const INVALID = Symbol('invalid');

// Hot path (every draft and amendment hashes the contract, 2,000-file requests included): plain string building,
// no path bookkeeping; the path of an invalid value is found afterwards by describeInvalid.
function write(value: unknown, keys: Map<string, string>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw INVALID;
      return String(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : write(item, keys);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        if (member === undefined) continue;
        if (!first) out += ',';
        first = false;
        let encoded = keys.get(key);
        if (encoded === undefined) {
          encoded = `${JSON.stringify(key)}:`;
          keys.set(key, encoded);
        }
        out += encoded + write(member, keys);
      }
      return `${out}}`;
    }
    default:
      throw INVALID;
  }
}

function describeInvalid(value: unknown, path: string): string | null {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path}: non-finite number ${String(value)}`;
    case 'object': {
      const entries = Array.isArray(value)
        ? value.map((item, i) => [`${path}[${i}]`, item] as const)
        : Object.entries(value as Record<string, unknown>).map(([key, member]) => [`${path}.${key}`, member] as const);
      for (const [at, member] of entries) {
        if (member === undefined) continue;
        const found = describeInvalid(member, at);
        if (found) return found;
      }
      return null;
    }
    default:
      return `${path}: cannot encode a ${typeof value}`;
  }
}

/** Hex sha256 of the canonical JSON of `value`. */
export function sha256Canonical(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
