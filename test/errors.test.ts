import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliInputError } from '../src/cli/deps.js';
import { RequestValidationError } from '../src/domain/errors.js';
import { ERROR_CATALOG, type ErrorArea, isCodedError, isInputError } from '../src/errors.js';
import { StoreError } from '../src/persistence/driver.js';

const SRC = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the error catalog', () => {
  it('has every code once, across every area and kind', () => {
    const all = Object.values(ERROR_CATALOG).flatMap((area) => [...area.input, ...area.fault]);
    const repeated = all.filter((code, i) => all.indexOf(code) !== i);
    expect(repeated).toEqual([]);
    expect(all.filter((code) => !/^[a-z][a-z0-9_]*$/.test(code))).toEqual([]);
  });

  it('prefixes every code with its area', () => {
    const unprefixed = (Object.keys(ERROR_CATALOG) as ErrorArea[]).flatMap((area) =>
      [...ERROR_CATALOG[area].input, ...ERROR_CATALOG[area].fault]
        .filter((code) => !code.startsWith(`${area}_`))
        .map((code) => `${area}: ${code}`),
    );
    expect(unprefixed).toEqual([]);
  });

  it('tells input errors from faults, and ignores objects with uncatalogued codes', () => {
    expect(isInputError(new RequestValidationError([]))).toBe(true);
    expect(isInputError(new CliInputError('x'))).toBe(true);
    expect(isInputError(new StoreError('store_conflict', 'x'))).toBe(false);
    expect(isCodedError(new StoreError('store_conflict', 'x'))).toBe(true);
    expect(isCodedError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isCodedError({ name: 'Error', message: 'x', code: 'store_conflict' })).toBe(false);
  });

  it('types each error class to its area: a code from another area or outside the catalog does not compile', () => {
    // Checked by `tsc` (the test files are type-checked); at run time the constructor takes what it is given.
    // @ts-expect-error not a store code
    const foreign = new StoreError('chat_no_input', 'x');
    // @ts-expect-error not a catalogued code
    const unknown = new StoreError('conflict', 'x');
    expect([foreign.code, unknown.code]).toEqual(['chat_no_input', 'conflict']);
  });

  it('every error class in src implements CodedError, itself or through its base class', () => {
    const classes = new Map<string, { base: string; coded: boolean; file: string }>();
    for (const file of sourceFiles(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bclass (\w+) extends (\w+)(?:<[^>]*>)?(?: implements ([\w\s,<>]+?))?\s*\{/g)) {
        const [, name = '', base = '', implemented = ''] = m;
        classes.set(name, { base, coded: /\bCodedError\b/.test(implemented), file: relative(SRC, file) });
      }
    }
    const coded = (name: string, seen = new Set<string>()): boolean => {
      const cls = classes.get(name);
      if (!cls || seen.has(name)) return false;
      seen.add(name);
      return cls.coded || coded(cls.base, seen);
    };
    const isError = (name: string, seen = new Set<string>()): boolean => {
      if (name === 'Error') return true;
      const cls = classes.get(name);
      if (!cls || seen.has(name)) return false;
      seen.add(name);
      return isError(cls.base, seen);
    };
    const errorClasses = [...classes.keys()].filter((name) => isError(name));
    expect(errorClasses.length).toBeGreaterThan(20);
    expect(errorClasses.filter((name) => !coded(name)).map((name) => `${classes.get(name)?.file}: ${name}`)).toEqual(
      [],
    );
  });
});
