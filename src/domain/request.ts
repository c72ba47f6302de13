/**
 * The deployment request wire format: the prior system's snake_case JSON (see /work/shared/seed/deployment-example.json),
 * accepted unchanged, plus optional new fields. Parsed strictly into the normalised `DeploymentRequest` of model.ts.
 *
 * Compatibility with the prior system:
 * - Unknown extra fields are ignored (the prior Pydantic models ignored them too); typed fields are validated strictly
 *   (a string where a number is expected is an error, not a coercion).
 * - Defaults are the prior system's: target p95 500 ms, target p99 1000 ms (raised to the p95 target when that is
 *   higher), target error rate 0.1 %, current figures and qps 0, `rollback_capability` false.
 * - Fixed bugs: `total_lines_changed` is derived from the changes when absent (the prior system used 0), and a
 *   declared total smaller than the sum of the changes is rejected instead of silently trusted.
 *
 * New optional fields: author, previous_version, feature_flag, commit_messages, target {kind, namespace,
 * resource_name, custom_rollback_command, custom_health_command}, and per change lines_added, lines_deleted,
 * added_lines [{line, text}].
 *
 * Anything thrown from here is a RequestValidationError naming the JSON path and rule of every problem.
 */
import { z } from 'zod';
import { describeValue, formatJsonPath, RequestValidationError, type ValidationIssue } from './errors.js';
import type { ChangeType, DeploymentRequest, FileChange, ServiceDependency, TargetKind } from './model.js';
import { computeSpreadFromFiles } from './risk/spread.js';

// ---------------------------------------------------------------------------------------------------------------
// Field schemas

const NON_NEGATIVE_INTEGER = 'must be a non-negative integer';
const NON_NEGATIVE_NUMBER = 'must be a non-negative number';
const POSITIVE_NUMBER = 'must be a positive number';
const PERCENT = 'must be a percentage between 0 and 100';

const nonNegativeInteger = () =>
  z
    .number({ invalid_type_error: NON_NEGATIVE_INTEGER })
    .int(NON_NEGATIVE_INTEGER)
    .nonnegative(NON_NEGATIVE_INTEGER)
    .max(Number.MAX_SAFE_INTEGER, NON_NEGATIVE_INTEGER);
const nonNegativeNumber = () =>
  z.number({ invalid_type_error: NON_NEGATIVE_NUMBER }).finite(NON_NEGATIVE_NUMBER).nonnegative(NON_NEGATIVE_NUMBER);
const positiveNumber = () =>
  z.number({ invalid_type_error: POSITIVE_NUMBER }).finite(POSITIVE_NUMBER).positive(POSITIVE_NUMBER);
const percent = () => z.number({ invalid_type_error: PERCENT }).finite(PERCENT).min(0, PERCENT).max(100, PERCENT);
const text = (max: number) =>
  z.string({ invalid_type_error: 'must be a string' }).max(max, `must be at most ${max} characters`);
const nonEmptyText = (max: number) => text(max).trim().min(1, 'must not be empty');
const stringList = (maxItems: number, maxLength: number) =>
  z
    .array(text(maxLength), { invalid_type_error: 'must be an array of strings' })
    .max(maxItems, `at most ${maxItems} items`);

/** Names that end up in rollback commands and URLs: no spaces, no leading dash, no shell metacharacters. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const safeName = (max: number, what: string) =>
  nonEmptyText(max).regex(
    SAFE_NAME,
    `must be letters, digits, ".", "_" or "-", starting with a letter or digit (${what})`,
  );
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;
const identifier = (max: number) =>
  nonEmptyText(max).regex(IDENTIFIER, 'must start with a letter or digit and contain no spaces or shell characters');

const CHANGE_TYPE_ALIASES: Record<string, ChangeType> = {
  add: 'add',
  added: 'add',
  new: 'add',
  create: 'add',
  created: 'add',
  a: 'add',
  modify: 'modify',
  modified: 'modify',
  update: 'modify',
  updated: 'modify',
  change: 'modify',
  changed: 'modify',
  edit: 'modify',
  m: 'modify',
  delete: 'delete',
  deleted: 'delete',
  remove: 'delete',
  removed: 'delete',
  d: 'delete',
  rename: 'rename',
  renamed: 'rename',
  move: 'rename',
  moved: 'rename',
  r: 'rename',
};
const changeType = z
  .string({ invalid_type_error: 'must be one of add, modify, delete, rename' })
  .transform((value, ctx): ChangeType => {
    const normalised = CHANGE_TYPE_ALIASES[value.trim().toLowerCase()];
    if (normalised) return normalised;
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'must be one of add, modify, delete, rename',
      params: { rule: 'enum' },
    });
    return z.NEVER;
  });

const criticality = z
  .string({ invalid_type_error: 'must be one of critical, high, medium, low' })
  .transform((value, ctx): ServiceDependency['criticality'] => {
    const v = value.trim().toLowerCase();
    if (v === 'critical' || v === 'high' || v === 'medium' || v === 'low') return v;
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'must be one of critical, high, medium, low',
      params: { rule: 'enum' },
    });
    return z.NEVER;
  });

const TARGET_KINDS = [
  'kubernetes',
  'argo-rollouts',
  'azure-container-apps',
  'custom',
] as const satisfies readonly TargetKind[];

const addedLineSchema = z.object(
  {
    line: z
      .number({ invalid_type_error: 'must be a positive integer' })
      .int('must be a positive integer')
      .positive('must be a positive integer'),
    text: text(100_000),
  },
  { invalid_type_error: 'must be an object {line, text}' },
);

const changeSchema = z.object(
  {
    file_path: nonEmptyText(4096),
    change_type: changeType,
    lines_changed: nonNegativeInteger().optional(),
    lines_added: nonNegativeInteger().nullish(),
    lines_deleted: nonNegativeInteger().nullish(),
    risk_tags: stringList(100, 200).default([]),
    description: text(20_000).default(''),
    added_lines: z.array(addedLineSchema, { invalid_type_error: 'must be an array' }).max(1_000_000).nullish(),
  },
  { invalid_type_error: 'must be an object' },
);

const dependencySchema = z.object(
  {
    service_name: nonEmptyText(256),
    service_type: text(64),
    criticality,
    average_latency_ms: nonNegativeNumber(),
    error_rate_percent: percent(),
  },
  { invalid_type_error: 'must be an object' },
);

const targetSchema = z.object(
  {
    kind: z
      .enum(TARGET_KINDS, { invalid_type_error: `must be one of ${TARGET_KINDS.join(', ')}` })
      .default('kubernetes'),
    namespace: safeName(253, 'a namespace or resource group').nullish(),
    resource_name: safeName(253, 'a resource name').nullish(),
    custom_rollback_command: nonEmptyText(4000).nullish(),
    custom_health_command: nonEmptyText(4000).nullish(),
  },
  { invalid_type_error: 'must be an object' },
);

export const DeploymentRequestWireSchema = z.object(
  {
    deployment_id: identifier(128),
    service_name: safeName(128, 'it names the deployed resource'),
    environment: safeName(64, 'an environment name'),
    version: identifier(128),
    previous_version: identifier(128).nullish(),
    changes: z.array(changeSchema, { invalid_type_error: 'must be an array' }).max(100_000).default([]),
    total_lines_changed: nonNegativeInteger().optional(),
    current_error_rate_percent: percent().default(0),
    current_p95_latency_ms: nonNegativeNumber().default(0),
    current_p99_latency_ms: nonNegativeNumber().default(0),
    target_error_rate_percent: percent()
      .refine((v) => v > 0, { message: 'must be greater than 0', params: { rule: 'minimum' } })
      .default(0.1),
    target_p95_latency_ms: positiveNumber().default(500),
    target_p99_latency_ms: positiveNumber().optional(),
    current_qps: nonNegativeNumber().default(0),
    peak_qps: nonNegativeNumber().default(0),
    owner_team: text(256).default(''),
    reviewers: stringList(200, 320).default([]),
    // The prior system defaulted to false and so do we: a request that does not say it can roll back is treated as
    // unable to. The contract engine must not read `false` as "proven impossible" (see request.rollbackCapability).
    rollback_capability: z.boolean({ invalid_type_error: 'must be true or false' }).default(false),
    dependencies: z.array(dependencySchema, { invalid_type_error: 'must be an array' }).max(1000).default([]),
    author: nonEmptyText(320).nullish(),
    feature_flag: identifier(256).nullish(),
    target: targetSchema.nullish(),
    commit_messages: stringList(10_000, 100_000).default([]),
  },
  { invalid_type_error: 'must be a JSON object' },
);

/** The wire format as accepted (before defaults), e.g. for `defaults` or for building requests in tests. */
export type DeploymentRequestWire = z.input<typeof DeploymentRequestWireSchema>;
export type DeploymentRequestDefaults = Partial<DeploymentRequestWire>;

export interface ParseDeploymentRequestOptions {
  /** Wire-format values used when the input does not have the field (the input always wins). */
  defaults?: DeploymentRequestDefaults;
  /** Where the request came from; `{ kind: 'json' }` when not given. */
  source?: DeploymentRequest['source'];
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

export function parseDeploymentRequest(input: unknown, options: ParseDeploymentRequestOptions = {}): DeploymentRequest {
  try {
    const merged = withDefaults(input, options.defaults);
    const result = DeploymentRequestWireSchema.safeParse(merged);
    if (!result.success) throw new RequestValidationError(result.error.issues.map((issue) => toIssue(issue, merged)));
    return normalise(result.data, options.source ?? { kind: 'json' });
  } catch (error) {
    if (error instanceof RequestValidationError) throw error;
    // Nothing else may escape: an input crafted to break the validator is still just an invalid request.
    throw new RequestValidationError([{ path: '$', rule: 'unparseable', message: 'could not be read as a request' }]);
  }
}

/** Parses JSON text; syntax errors become a RequestValidationError at path `$` with line, column and offset. */
export function parseDeploymentJson(text: string, options: ParseDeploymentRequestOptions = {}): DeploymentRequest {
  let value: unknown;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new RequestValidationError([{ path: '$', rule: 'json_syntax', message: describeJsonError(body, error) }]);
  }
  return parseDeploymentRequest(value, options);
}

function describeJsonError(body: string, error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  if (body.trim() === '') return 'is not valid JSON: the input is empty';
  const match = /position (\d+)/.exec(raw);
  let position = match?.[1] !== undefined ? Number(match[1]) : undefined;
  if (position === undefined && /Unexpected end of JSON input/i.test(raw)) position = body.length;
  const reason = raw
    .replace(/\s*in JSON at position \d+.*$/s, '')
    .replace(/^JSON\.parse: /, '')
    .slice(0, 120);
  if (position === undefined) return `is not valid JSON: ${reason}`;
  const before = body.slice(0, position);
  const line = (before.match(/\n/g)?.length ?? 0) + 1;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return `is not valid JSON: ${reason} at line ${line}, column ${column} (position ${position})`;
}

function withDefaults(input: unknown, defaults: DeploymentRequestDefaults | undefined): unknown {
  if (!defaults || !isPlainObject(input)) return input;
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(input)) if (value !== undefined) merged[key] = value;
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Wire = z.output<typeof DeploymentRequestWireSchema>;
type WireChange = Wire['changes'][number];

function normalise(wire: Wire, source: DeploymentRequest['source']): DeploymentRequest {
  const issues: ValidationIssue[] = [];
  const changes = wire.changes.map((change, index) => normaliseChange(change, index, issues));
  const sumOfChanges = changes.reduce((sum, c) => sum + c.linesChanged, 0);
  const totalLinesChanged = wire.total_lines_changed ?? sumOfChanges;
  if (totalLinesChanged < sumOfChanges) {
    issues.push({
      path: 'total_lines_changed',
      rule: 'consistency',
      message: `must be at least the sum of changes[].lines_changed (${sumOfChanges}) (got ${totalLinesChanged})`,
    });
  }
  const targetP99 = wire.target_p99_latency_ms ?? Math.max(1000, wire.target_p95_latency_ms);
  if (targetP99 < wire.target_p95_latency_ms) {
    issues.push({
      path: 'target_p99_latency_ms',
      rule: 'consistency',
      message: `must be at least target_p95_latency_ms (${wire.target_p95_latency_ms}) (got ${targetP99})`,
    });
  }
  if (wire.target?.kind === 'custom' && !wire.target.custom_rollback_command) {
    issues.push({
      path: 'target.custom_rollback_command',
      rule: 'required',
      message: 'is required when target.kind is custom (the bot cannot guess how to roll back)',
    });
  }
  if (issues.length > 0) throw new RequestValidationError(issues);

  // Lines declared only as a total (no per-file split) still count as change size; they are attributed to no file,
  // so they raise lines added but not files, directories or entropy.
  const spread = computeSpreadFromFiles(
    changes.map((c) => ({ path: c.filePath, linesAdded: c.linesAdded, linesDeleted: c.linesDeleted })),
  );
  spread.linesAdded += totalLinesChanged - sumOfChanges;

  const request: DeploymentRequest = {
    deploymentId: wire.deployment_id,
    serviceName: wire.service_name,
    environment: wire.environment,
    version: wire.version,
    changes,
    commitMessages: wire.commit_messages,
    totalLinesChanged,
    spread,
    slo: {
      currentErrorRatePercent: wire.current_error_rate_percent,
      currentP95LatencyMs: wire.current_p95_latency_ms,
      currentP99LatencyMs: wire.current_p99_latency_ms,
      targetErrorRatePercent: wire.target_error_rate_percent,
      targetP95LatencyMs: wire.target_p95_latency_ms,
      targetP99LatencyMs: targetP99,
      currentQps: wire.current_qps,
      peakQps: wire.peak_qps,
    },
    ownerTeam: wire.owner_team,
    reviewers: wire.reviewers,
    // `false` also means "not declared" (prior default). Downstream: treat it as "no rollback proven", not "impossible".
    rollbackCapability: wire.rollback_capability,
    dependencies: wire.dependencies.map((d) => ({
      serviceName: d.service_name,
      serviceType: d.service_type,
      criticality: d.criticality,
      averageLatencyMs: d.average_latency_ms,
      errorRatePercent: d.error_rate_percent,
    })),
    target: {
      kind: wire.target?.kind ?? 'kubernetes',
      namespace: wire.target?.namespace ?? 'default',
      resourceName: wire.target?.resource_name ?? wire.service_name,
      ...(wire.target?.custom_rollback_command ? { customRollbackCommand: wire.target.custom_rollback_command } : {}),
      ...(wire.target?.custom_health_command ? { customHealthCommand: wire.target.custom_health_command } : {}),
    },
    source,
  };
  if (wire.previous_version) request.previousVersion = wire.previous_version;
  if (wire.author) request.author = wire.author;
  if (wire.feature_flag) request.featureFlag = wire.feature_flag;
  return request;
}

function normaliseChange(change: WireChange, index: number, issues: ValidationIssue[]): FileChange {
  const at = (field: string) => `changes[${index}].${field}`;
  const declared = change.lines_changed;
  const added = change.lines_added ?? undefined;
  const deleted = change.lines_deleted ?? undefined;
  if (declared === undefined && added === undefined && deleted === undefined) {
    issues.push({
      path: at('lines_changed'),
      rule: 'required',
      message: 'is required (or give lines_added / lines_deleted)',
    });
  }
  if (declared !== undefined && added !== undefined && deleted !== undefined && added + deleted !== declared) {
    issues.push({
      path: at('lines_changed'),
      rule: 'consistency',
      message: `must equal lines_added + lines_deleted (${added + deleted}) (got ${declared})`,
    });
  } else if (declared !== undefined && (added ?? 0) + (deleted ?? 0) > declared) {
    issues.push({
      path: at('lines_changed'),
      rule: 'consistency',
      message: `must be at least lines_added + lines_deleted (${(added ?? 0) + (deleted ?? 0)}) (got ${declared})`,
    });
  }
  // A bare `lines_changed` (the prior format) is counted as added lines: lines added is the strongest size signal
  // in the JIT defect data, so this errs towards more risk rather than less.
  let linesAdded = added ?? 0;
  let linesDeleted = deleted ?? 0;
  if (declared !== undefined) {
    if (added === undefined) linesAdded = Math.max(0, declared - linesDeleted);
    else if (deleted === undefined) linesDeleted = Math.max(0, declared - linesAdded);
  }
  const result: FileChange = {
    filePath: change.file_path,
    changeType: change.change_type,
    linesAdded,
    linesDeleted,
    linesChanged: linesAdded + linesDeleted,
    riskTags: change.risk_tags,
    description: change.description,
  };
  if (change.added_lines) result.addedLines = change.added_lines.map((l) => ({ line: l.line, text: l.text }));
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// zod issues → ValidationIssue

function toIssue(issue: z.ZodIssue, input: unknown): ValidationIssue {
  const path = formatJsonPath(issue.path);
  const got = valueAt(input, issue.path);
  const gotText = ` (got ${describeValue(got.value)})`;
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') {
    return { path, rule: 'required', message: 'is required' };
  }
  const rule = ruleFor(issue);
  const custom = issue.message && !isZodDefaultMessage(issue) ? issue.message : defaultMessage(issue);
  return { path, rule, message: got.found ? `${custom}${gotText}` : custom };
}

function ruleFor(issue: z.ZodIssue): string {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      return issue.expected === 'integer' ? 'integer' : 'type';
    case z.ZodIssueCode.too_small:
      return issue.type === 'string' && issue.minimum === 1 ? 'non_empty' : 'minimum';
    case z.ZodIssueCode.too_big:
      return 'maximum';
    case z.ZodIssueCode.invalid_enum_value:
      return 'enum';
    case z.ZodIssueCode.invalid_string:
      return 'pattern';
    case z.ZodIssueCode.not_finite:
      return 'finite';
    case z.ZodIssueCode.custom: {
      const rule = issue.params?.rule;
      return typeof rule === 'string' ? rule : 'invalid';
    }
    default:
      return issue.code;
  }
}

/** zod's built-in English messages ("Expected string, received number") are replaced by ours. */
function isZodDefaultMessage(issue: z.ZodIssue): boolean {
  return /^(Expected |Required$|Invalid |Number must|String must|Array must)/.test(issue.message);
}

function defaultMessage(issue: z.ZodIssue): string {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      return `must be ${article(issue.expected)}`;
    case z.ZodIssueCode.invalid_enum_value:
      return `must be one of ${issue.options.join(', ')}`;
    case z.ZodIssueCode.too_small:
      return `must be at least ${String(issue.minimum)}`;
    case z.ZodIssueCode.too_big:
      return `must be at most ${String(issue.maximum)}`;
    default:
      return 'is invalid';
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(input: unknown, path: readonly (string | number)[]): { found: boolean; value: unknown } {
  let current: unknown = input;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return { found: false, value: undefined };
    if (!Object.hasOwn(current, segment)) return { found: false, value: undefined };
    current = (current as Record<string | number, unknown>)[segment];
  }
  return { found: true, value: current };
}
