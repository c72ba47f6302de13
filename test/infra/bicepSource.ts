/**
 * A small Bicep reader for tests, since no Bicep compiler is available here: it lexes strings (with ${} interpolation
 * and ''' multi-line strings) and comments, checks that brackets balance, and extracts top-level declarations and the
 * parameter names passed to modules. It understands only what these checks need.
 */

export interface Declaration {
  kind: 'param' | 'var' | 'resource' | 'module' | 'output' | 'targetScope' | 'type' | 'import' | 'metadata';
  name: string;
  /** The statement text with string literals replaced by '§<index>'. */
  code: string;
  decorators: string[];
}

export interface BicepSource {
  /** Code with comments removed and each string literal replaced by '§<index>'. */
  code: string;
  strings: string[];
  declarations: Declaration[];
}

const OPEN = '([{';
const CLOSE = ')]}';

export function parseBicep(text: string, file = 'bicep'): BicepSource {
  const strings: string[] = [];
  let code = '';
  let i = 0;
  const stack: { char: string; line: number }[] = [];
  let line = 1;
  const fail = (message: string): never => {
    throw new Error(`${file}:${line}: ${message}`);
  };

  const readString = (): string => {
    // At a single quote. Multi-line string: no escapes, no interpolation.
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      if (end < 0) fail('unterminated multi-line string');
      const value = text.slice(i + 3, end);
      line += value.split('\n').length - 1;
      i = end + 3;
      return value;
    }
    i++;
    let value = '';
    while (i < text.length) {
      const c = text[i] as string;
      if (c === '\n') fail('newline inside a single-quoted string');
      if (c === '\\') {
        value += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === "'") {
        i++;
        return value;
      }
      if (c === '$' && text[i + 1] === '{') {
        // Interpolation: balanced braces, nested strings allowed.
        const start = i;
        i += 2;
        let depth = 1;
        while (i < text.length && depth > 0) {
          const d = text[i] as string;
          if (d === "'") {
            readString();
            continue;
          }
          if (d === '\n') fail('newline inside a string interpolation');
          if (d === '{') depth++;
          if (d === '}') depth--;
          i++;
        }
        if (depth !== 0) fail('unterminated interpolation');
        value += text.slice(start, i);
        continue;
      }
      value += c;
      i++;
    }
    return fail('unterminated string');
  };

  while (i < text.length) {
    const c = text[i] as string;
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated block comment');
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 2;
      continue;
    }
    if (c === "'") {
      strings.push(readString());
      code += `'§${strings.length - 1}'`;
      continue;
    }
    if (c === '"') fail('double quotes are not Bicep strings');
    if (OPEN.includes(c)) stack.push({ char: c, line });
    if (CLOSE.includes(c)) {
      const open = stack.pop();
      if (!open || OPEN.indexOf(open.char) !== CLOSE.indexOf(c)) fail(`unbalanced '${c}'`);
    }
    if (c === '\n') line++;
    code += c;
    i++;
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    throw new Error(`${file}:${open?.line}: '${open?.char}' is never closed`);
  }
  return { code, strings, declarations: declarations(code) };
}

/** Splits code into top-level statements (newlines at bracket depth 0). */
export function statements(code: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of code) {
    if (OPEN.includes(c)) depth++;
    if (CLOSE.includes(c)) depth--;
    if (c === '\n' && depth === 0) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

function declarations(code: string): Declaration[] {
  const out: Declaration[] = [];
  let decorators: string[] = [];
  for (const statement of statements(code)) {
    if (statement.startsWith('@')) {
      decorators.push(statement);
      continue;
    }
    const match = /^(param|var|resource|module|output|type|import|metadata)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(statement);
    if (match) {
      out.push({ kind: match[1] as Declaration['kind'], name: match[2] as string, code: statement, decorators });
    } else if (statement.startsWith('targetScope')) {
      out.push({ kind: 'targetScope', name: 'targetScope', code: statement, decorators });
    } else {
      throw new Error(`unexpected top-level statement: ${statement.slice(0, 80)}`);
    }
    decorators = [];
  }
  return out;
}

/** The text of the first balanced `{...}` that follows `key:` at the top level of an object body. */
export function objectProperty(objectCode: string, key: string): string | undefined {
  const inner = innerOf(objectCode);
  if (inner === undefined) return undefined;
  for (const statement of statements(inner)) {
    const match = new RegExp(`^${key}\\s*:\\s*`).exec(statement);
    if (match) return statement.slice(match[0].length);
  }
  return undefined;
}

/** Keys at the top level of an object literal. */
export function objectKeys(objectCode: string): string[] {
  const inner = innerOf(objectCode);
  if (inner === undefined) return [];
  return statements(inner)
    .map((statement) => /^([A-Za-z_][A-Za-z0-9_]*|'§\d+')\s*:/.exec(statement)?.[1])
    .filter((key): key is string => key !== undefined);
}

function innerOf(code: string): string | undefined {
  const start = code.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start; i < code.length; i++) {
    const c = code[i] as string;
    if (OPEN.includes(c)) depth++;
    if (CLOSE.includes(c)) depth--;
    if (depth === 0) return code.slice(start + 1, i);
  }
  return undefined;
}

export function stringAt(source: BicepSource, token: string): string {
  const match = /^'§(\d+)'$/.exec(token.trim());
  if (!match) throw new Error(`not a string token: ${token}`);
  return source.strings[Number(match[1])] as string;
}

/** For a module declaration: its path, whether it is conditional or a loop, and the body object. */
export function moduleParts(
  source: BicepSource,
  declaration: Declaration,
): { path: string; body: string; header: string } {
  const match = /^module\s+\w+\s+('§\d+')\s*=\s*/.exec(declaration.code);
  if (!match) throw new Error(`cannot read module ${declaration.name}`);
  const rest = declaration.code.slice(match[0].length);
  const bodyStart = rest.indexOf('{');
  return { path: stringAt(source, match[1] as string), header: rest.slice(0, bodyStart), body: rest.slice(bodyStart) };
}

export function paramInfo(declaration: Declaration): {
  type: string;
  hasDefault: boolean;
  secure: boolean;
  allowed?: string;
} {
  const match = /^param\s+\w+\s+(\w+)(\s*=)?/.exec(declaration.code);
  if (!match) throw new Error(`cannot read param ${declaration.name}`);
  const allowed = declaration.decorators.find((d) => d.startsWith('@allowed('));
  return {
    type: match[1] as string,
    hasDefault: match[2] !== undefined,
    secure: declaration.decorators.some((d) => d.startsWith('@secure(')),
    ...(allowed ? { allowed } : {}),
  };
}
