/**
 * Where JSON text first breaks the grammar, with line and column. Node 20's JSON.parse names no position for many
 * errors ("Unexpected token 'c', … is not valid JSON"), so the intake finds it itself. Iterative (an explicit
 * stack), so deeply nested input cannot overflow the call stack. Pure.
 */

export interface JsonSyntaxProblem {
  /** 0-based offset into the text. */
  position: number;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  reason: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** undefined when `text` is one valid JSON value (surrounded by optional whitespace). */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  const n = text.length;
  const stack: ('{' | '[')[] = [];
  let i = 0;
  let state: 'value' | 'key' | 'after' = 'value';

  const problem = (reason: string): JsonSyntaxProblem => {
    const before = text.slice(0, i);
    const line = (before.match(/\n/g)?.length ?? 0) + 1;
    const column = i - (before.lastIndexOf('\n') + 1) + 1;
    return { position: i, line, column, reason };
  };
  const skipWhitespace = () => {
    while (i < n) {
      const c = text[i];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      i++;
    }
  };
  const scanString = (): JsonSyntaxProblem | undefined => {
    i++;
    while (i < n) {
      const c = text[i] as string;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === '\\') {
        const next = text[i + 1] ?? '';
        if (ESCAPES.has(next)) i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else return problem('invalid escape sequence in a string');
        continue;
      }
      if (c.charCodeAt(0) < 0x20) return problem('unescaped control character in a string');
      i++;
    }
    return problem('unterminated string');
  };

  for (;;) {
    skipWhitespace();
    if (state === 'value') {
      if (i >= n) return problem('unexpected end of input');
      const c = text[i] as string;
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        skipWhitespace();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          stack.pop();
          state = 'after';
        } else state = c === '{' ? 'key' : 'value';
        continue;
      }
      if (c === '"') {
        const bad = scanString();
        if (bad) return bad;
        state = 'after';
        continue;
      }
      if (c === '-' || (c >= '0' && c <= '9')) {
        NUMBER.lastIndex = i;
        const match = NUMBER.exec(text);
        if (!match || match[0] === '-') return problem('invalid number');
        i += match[0].length;
        state = 'after';
        continue;
      }
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (literal) {
        i += literal.length;
        state = 'after';
        continue;
      }
      return problem(`unexpected ${describe(c)} where a value should be (strings need double quotes)`);
    }
    if (state === 'key') {
      if (text[i] !== '"') {
        return problem(i >= n ? 'unexpected end of input' : 'expected a double-quoted property name');
      }
      const bad = scanString();
      if (bad) return bad;
      skipWhitespace();
      if (text[i] !== ':') return problem("expected ':' after the property name");
      i++;
      state = 'value';
      continue;
    }
    // after a value
    const top = stack.at(-1);
    if (top === undefined) return i < n ? problem('unexpected text after the JSON value') : undefined;
    const c = text[i];
    if (c === ',') {
      i++;
      state = top === '{' ? 'key' : 'value';
      continue;
    }
    if (c === (top === '{' ? '}' : ']')) {
      i++;
      stack.pop();
      continue;
    }
    if (i >= n) return problem('unexpected end of input');
    return problem(top === '{' ? "expected ',' or '}' after a property value" : "expected ',' or ']' after an item");
  }
}

function describe(c: string): string {
  return /[\x21-\x7e]/.test(c) ? `'${c}'` : `character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
