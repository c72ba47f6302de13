/**
 * Free-text `key=value` deployment requests from chat, e.g.
 *   service=checkout version=2.4.0 env=prod files=src/db/migrations/001.sql,src/api/x.ts lines=120 description="add index"
 *
 * Values may be quoted with "…" (backslash escapes \" and \\) or '…'. Lists (files, tags, reviewers) are
 * comma-separated; a file may carry its own line count: `files=a.sql:40,b.ts:80`. The text is turned into the
 * wire format of request.ts and goes through exactly the same validation; error paths name the chat key the user typed.
 *
 * Defaults specific to chat: environment `production` when not given (the conservative choice: production adds risk),
 * change type `modify` for listed files. `lines=` is the declared total; when files carry no counts, those lines are
 * attributed to no file (they count as size, not as spread). The description is stored as the request's commit message,
 * because a chat request has one description for the whole change rather than one per file.
 */
import { RequestValidationError, type ValidationIssue } from './errors.js';
import type { DeploymentRequest } from './model.js';
import { type DeploymentRequestDefaults, parseDeploymentRequest } from './request.js';

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'files';

interface KeySpec {
  /** Wire field (dotted for target.*). */
  field: string;
  kind: Kind;
}

const KEYS: Record<string, KeySpec> = {
  id: { field: 'deployment_id', kind: 'string' },
  deployment_id: { field: 'deployment_id', kind: 'string' },
  service: { field: 'service_name', kind: 'string' },
  service_name: { field: 'service_name', kind: 'string' },
  version: { field: 'version', kind: 'string' },
  previous: { field: 'previous_version', kind: 'string' },
  previous_version: { field: 'previous_version', kind: 'string' },
  env: { field: 'environment', kind: 'string' },
  environment: { field: 'environment', kind: 'string' },
  files: { field: 'changes', kind: 'files' },
  file: { field: 'changes', kind: 'files' },
  lines: { field: 'total_lines_changed', kind: 'integer' },
  description: { field: 'commit_messages', kind: 'string' },
  desc: { field: 'commit_messages', kind: 'string' },
  tags: { field: 'risk_tags', kind: 'list' },
  rollback: { field: 'rollback_capability', kind: 'boolean' },
  owner: { field: 'owner_team', kind: 'string' },
  team: { field: 'owner_team', kind: 'string' },
  author: { field: 'author', kind: 'string' },
  reviewers: { field: 'reviewers', kind: 'list' },
  flag: { field: 'feature_flag', kind: 'string' },
  feature_flag: { field: 'feature_flag', kind: 'string' },
  qps: { field: 'current_qps', kind: 'number' },
  peak_qps: { field: 'peak_qps', kind: 'number' },
  error_rate: { field: 'current_error_rate_percent', kind: 'number' },
  p95: { field: 'current_p95_latency_ms', kind: 'number' },
  p99: { field: 'current_p99_latency_ms', kind: 'number' },
  target_error_rate: { field: 'target_error_rate_percent', kind: 'number' },
  target_p95: { field: 'target_p95_latency_ms', kind: 'number' },
  target_p99: { field: 'target_p99_latency_ms', kind: 'number' },
  target: { field: 'target.kind', kind: 'string' },
  namespace: { field: 'target.namespace', kind: 'string' },
  resource: { field: 'target.resource_name', kind: 'string' },
};

/** The keys a chat request understands, for help texts. */
export const CHAT_REQUEST_KEYS: readonly string[] = Object.keys(KEYS);

export interface KeyValuePair {
  key: string;
  value: string;
  /** Offset of the key in the text (0-based), for error messages. */
  offset: number;
}

export interface ParseKeyValueOptions {
  /** Use this id instead of the derived one. */
  deploymentId?: string;
  /** Wire-format defaults, e.g. a channel's configured service or target. Typed keys in the text win. */
  defaults?: DeploymentRequestDefaults;
}

/**
 * Parses chat text into a DeploymentRequest. Deterministic: the same text (and `now`) gives the same deployment id,
 * `chat-<service>-<version>-<8 hex digits of a hash of the pairs and now>`, unless `id=` or `options.deploymentId`
 * names one. Throws RequestValidationError only.
 */
export function parseKeyValueRequest(text: string, now?: Date, options: ParseKeyValueOptions = {}): DeploymentRequest {
  const pairs = tokenizeKeyValues(text);
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, string>();
  const wire: Record<string, unknown> = {};
  const target: Record<string, unknown> = {};
  const fieldToKey = new Map<string, string>();
  let tags: string[] | undefined;
  let files: { path: string; lines?: number }[] | undefined;

  for (const { key: rawKey, value } of pairs) {
    const key = rawKey.toLowerCase();
    const spec = KEYS[key];
    if (!spec) {
      issues.push({
        path: rawKey,
        rule: 'unknown_key',
        message: `is not a known key; known keys: ${CHAT_REQUEST_KEYS.join(', ')}`,
      });
      continue;
    }
    const earlier = seen.get(spec.field);
    if (earlier !== undefined) {
      issues.push({ path: rawKey, rule: 'duplicate_key', message: `is given twice (also as ${earlier}=)` });
      continue;
    }
    seen.set(spec.field, key);
    fieldToKey.set(spec.field, key);
    const converted = convert(key, spec.kind, value, issues);
    if (converted === undefined) continue;
    if (spec.field === 'changes') files = converted as { path: string; lines?: number }[];
    else if (spec.field === 'risk_tags') tags = converted as string[];
    else if (spec.field === 'commit_messages') wire.commit_messages = [converted];
    else if (spec.field.startsWith('target.')) target[spec.field.slice('target.'.length)] = converted;
    else wire[spec.field] = converted;
  }
  if (tags && !files) {
    issues.push({
      path: fieldToKey.get('risk_tags') ?? 'tags',
      rule: 'requires',
      message: 'needs files= (risk tags belong to changed files)',
    });
  }
  if (issues.length > 0) throw new RequestValidationError(issues);

  if (files) {
    wire.changes = files.map((f) => ({
      file_path: f.path,
      change_type: 'modify',
      lines_changed: f.lines ?? 0,
      risk_tags: tags ?? [],
      description: '',
    }));
  }
  if (Object.keys(target).length > 0) wire.target = target;
  if (options.deploymentId !== undefined) wire.deployment_id = options.deploymentId;

  const defaults: DeploymentRequestDefaults = { environment: 'production', ...options.defaults };
  if (wire.deployment_id === undefined && defaults.deployment_id === undefined) {
    const service = String(wire.service_name ?? defaults.service_name ?? 'unknown');
    const version = String(wire.version ?? defaults.version ?? 'unknown');
    const canonical = pairs
      .map((p) => `${p.key.toLowerCase()}=${p.value}`)
      .sort()
      .join('\u0000');
    const hash = fnv1a32(`${canonical}\u0000${now ? now.toISOString() : ''}`);
    wire.deployment_id = `chat-${slug(service)}-${slug(version)}-${hash}`.slice(0, 128);
  }

  try {
    return parseDeploymentRequest(wire, { defaults, source: { kind: 'chat' } });
  } catch (error) {
    if (error instanceof RequestValidationError) throw renameIssues(error, fieldToKey);
    throw error;
  }
}

/**
 * Splits `a=1 b="two words" c='x'` into pairs. Bare words (no `=`) and unterminated quotes are errors naming the
 * offset. Whitespace separates pairs; commas inside a value are kept (lists are split later).
 */
export function tokenizeKeyValues(text: string): KeyValuePair[] {
  const pairs: KeyValuePair[] = [];
  const issues: ValidationIssue[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i] ?? '')) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && text[i] !== '=' && !/\s/.test(text[i] ?? '')) i++;
    const key = text.slice(start, i);
    if (text[i] !== '=' || key === '') {
      issues.push({
        path: key === '' ? `$[${start}]` : key,
        rule: 'syntax',
        message: `expected key=value at position ${start + 1} (got ${JSON.stringify(clip(text.slice(start, i || start + 1)))})`,
      });
      while (i < n && !/\s/.test(text[i] ?? '')) i++;
      continue;
    }
    i++; // '='
    let value = '';
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const ch = text[i] as string;
        if (ch === '\\' && quote === '"' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (ch === quote) {
          closed = true;
          i++;
          break;
        }
        value += ch;
        i++;
      }
      if (!closed) {
        issues.push({
          path: key,
          rule: 'syntax',
          message: `has an unterminated ${quote} quote (opened at position ${start + key.length + 2})`,
        });
        break;
      }
      if (i < n && !/\s/.test(text[i] ?? '')) {
        issues.push({
          path: key,
          rule: 'syntax',
          message: `needs a space after the closing quote (position ${i + 1})`,
        });
        while (i < n && !/\s/.test(text[i] ?? '')) i++;
        continue;
      }
    } else {
      while (i < n && !/\s/.test(text[i] ?? '')) value += text[i++];
    }
    pairs.push({ key, value, offset: start });
  }
  if (issues.length > 0) throw new RequestValidationError(issues);
  return pairs;
}

function convert(key: string, kind: Kind, value: string, issues: ValidationIssue[]): unknown {
  const fail = (message: string, rule = 'type') => {
    issues.push({ path: key, rule, message: `${message} (got ${JSON.stringify(clip(value))})` });
    return undefined;
  };
  switch (kind) {
    case 'string':
      return value;
    case 'number':
      return /^\d+(\.\d+)?$/.test(value) ? Number(value) : fail('must be a non-negative number');
    case 'integer':
      return /^\d+$/.test(value) && Number.isSafeInteger(Number(value))
        ? Number(value)
        : fail('must be a non-negative integer');
    case 'boolean': {
      const v = value.toLowerCase();
      if (['true', 'yes', 'y', '1', 'on'].includes(v)) return true;
      if (['false', 'no', 'n', '0', 'off'].includes(v)) return false;
      return fail('must be true or false (yes/no)');
    }
    case 'list':
      return splitList(value);
    case 'files': {
      const files: { path: string; lines?: number }[] = [];
      for (const item of splitList(value)) {
        const m = /^(.*?):(\d+)$/.exec(item);
        if (m?.[1] && m[2] !== undefined && Number.isSafeInteger(Number(m[2])))
          files.push({ path: m[1], lines: Number(m[2]) });
        else files.push({ path: item });
      }
      if (files.length === 0) return fail('must list at least one file path', 'non_empty');
      return files;
    }
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Maps wire paths back to the chat key the user typed: `current_qps` → `qps`, `changes[1].file_path` → `files[1]`. */
function renameIssues(error: RequestValidationError, fieldToKey: Map<string, string>): RequestValidationError {
  const issues = error.issues.map((issue) => {
    const changeMatch = /^changes\[(\d+)\]\.(\w+)/.exec(issue.path);
    if (changeMatch) {
      const key =
        changeMatch[2] === 'risk_tags'
          ? (fieldToKey.get('risk_tags') ?? 'tags')
          : (fieldToKey.get('changes') ?? 'files');
      return { ...issue, path: `${key}[${changeMatch[1]}]` };
    }
    if (issue.path.startsWith('commit_messages'))
      return { ...issue, path: fieldToKey.get('commit_messages') ?? 'description' };
    const head = issue.path.split(/[.[]/)[0] ?? issue.path;
    const field = issue.path.startsWith('target.') ? issue.path.replace(/\[.*$/, '') : head;
    const key = fieldToKey.get(field) ?? fieldToKey.get(head) ?? defaultKeyFor(field);
    return key ? { ...issue, path: key } : issue;
  });
  return new RequestValidationError(issues);
}

function defaultKeyFor(field: string): string | undefined {
  for (const [key, spec] of Object.entries(KEYS)) if (spec.field === field) return key;
  return undefined;
}

function slug(value: string): string {
  const s = value
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return s === '' ? 'x' : s;
}

function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/** FNV-1a, 32 bit, as 8 hex digits: a stable, dependency-free hash for ids (not for security). */
export function fnv1a32(input: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    hash ^= input.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
