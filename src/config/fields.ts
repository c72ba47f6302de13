import { type ZodErrorMap, type ZodType, type ZodTypeDef, z } from 'zod';
import type { ConfigIssue } from './errors.js';

/**
 * Reads environment variables one at a time through zod schemas and collects every problem instead of stopping at
 * the first. Messages never contain the offending value, so a secret pasted into the wrong variable is not echoed.
 */
export class EnvReader {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The trimmed value; an empty string counts as unset (common in .env files). */
  raw(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** Parses a set variable with the schema; returns undefined (and records an issue) when it is invalid. */
  read<T>(name: string, schema: ZodType<T, ZodTypeDef, string>): T | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const result = schema.safeParse(value, { errorMap: valueFreeErrorMap });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
      this.issues.push({ variable: name, message: `${where}${issue.message}` });
    }
    return undefined;
  }

  problem(variable: string, message: string): void {
    this.issues.push({ variable, message });
  }
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/** zod's default messages include the received value ("received 'xoxb-…'"); these never do. */
export const valueFreeErrorMap: ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_enum_value:
      return { message: `must be one of ${issue.options.map(String).join(', ')}` };
    case z.ZodIssueCode.invalid_literal:
      return { message: `must be ${JSON.stringify(issue.expected)}` };
    case z.ZodIssueCode.invalid_type:
      return { message: issue.received === 'undefined' ? 'is required' : `must be ${article(issue.expected)}` };
    case z.ZodIssueCode.unrecognized_keys:
      return { message: `unknown key(s) ${issue.keys.join(', ')}` };
    case z.ZodIssueCode.invalid_union_discriminator:
      return { message: `must be one of ${issue.options.map(String).join(', ')}` };
    default:
      return { message: issue.message ?? ctx.defaultError };
  }
};

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const guid = (what: string) => z.string().regex(GUID, `must be a GUID (${what})`);

export const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number between ${min} and ${max}`);

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
export const boolean = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine((s) => TRUE.has(s) || FALSE.has(s), 'must be true or false')
  .transform((s) => TRUE.has(s));

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** An absolute http(s) URL; plain http only towards this machine (local fakes and sidecars). */
export const serviceUrl = (opts: { allowHttp?: boolean } = {}) =>
  z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be an absolute URL' });
      return;
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must not embed credentials in the URL' });
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && (opts.allowHttp || isLoopback(url.hostname))) return;
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: opts.allowHttp ? 'must be an http(s) URL' : 'must be an https URL (http is accepted only for localhost)',
    });
  });

export const postgresUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a postgres:// or postgresql:// URL' });
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a postgres:// or postgresql:// URL' });
  }
});

/** A list given either as a JSON array of strings or as a comma-separated list. */
export const idList = (item: ZodType<string>) =>
  z
    .string()
    .transform((value, ctx) => {
      if (value.startsWith('[')) {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: 'must be a JSON array of strings or a comma-separated list',
          });
          return z.NEVER;
        }
      }
      return value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
    })
    .pipe(z.array(item).transform((ids) => [...new Set(ids)]));
