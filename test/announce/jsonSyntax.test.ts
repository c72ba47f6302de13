import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxProblem } from '../../src/announce/jsonSyntax.js';

describe('findJsonSyntaxProblem', () => {
  it('names line and column of the first problem', () => {
    expect(findJsonSyntaxProblem('{\n  "a": 1,\n  "b": checkout\n}')).toMatchObject({ line: 3, column: 8 });
    expect(findJsonSyntaxProblem('{"a": 1,}')).toMatchObject({
      position: 8,
      reason: 'expected a double-quoted property name',
    });
    expect(findJsonSyntaxProblem('[1, 2')).toMatchObject({ position: 5, reason: 'unexpected end of input' });
    expect(findJsonSyntaxProblem('{"a": "x\ny"}')?.reason).toBe('unescaped control character in a string');
    expect(findJsonSyntaxProblem('{"a": 01}')?.reason).toBe("expected ',' or '}' after a property value");
    expect(findJsonSyntaxProblem('{} {}')?.reason).toBe('unexpected text after the JSON value');
    expect(findJsonSyntaxProblem('"\\x"')?.reason).toBe('invalid escape sequence in a string');
    expect(findJsonSyntaxProblem('')?.reason).toBe('unexpected end of input');
  });

  it('survives deep nesting without recursion', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(findJsonSyntaxProblem(deep)).toBeUndefined();
    expect(findJsonSyntaxProblem(`${'['.repeat(200_000)}`)?.reason).toBe('unexpected end of input');
  });

  it('agrees with JSON.parse on valid documents and on mutated ones', () => {
    const accepts = (text: string) => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', 'x', ' ', '0', '\\', '-'),
        (v, at, insert) => {
          const text = JSON.stringify(v, null, at % 3 === 0 ? 2 : undefined);
          expect(findJsonSyntaxProblem(text)).toBeUndefined();
          const cut = at % (text.length + 1);
          const mutated = text.slice(0, cut) + insert + text.slice(cut);
          expect(findJsonSyntaxProblem(mutated) === undefined).toBe(accepts(mutated));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
