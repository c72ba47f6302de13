/**
 * Pure parsers for git's machine-readable outputs:
 * - `git diff --numstat [-z]` / `git log --numstat` lines: per-file added/deleted lines, binary files, renames;
 * - `git diff --name-status [-z]`: change type per file;
 * - `git log --format=GIT_LOG_FORMAT [--numstat]`: commits with author and full message;
 * - unified diffs (`git diff -U0`): per-file added lines with their line numbers in the new file.
 * No I/O here; src/intake/gitRange.ts runs git and feeds these.
 */
import type { ChangeType } from './model.js';

export interface NumstatEntry {
  path: string;
  /** Set for renames and copies. */
  oldPath?: string;
  /** null for binary files (git prints `-`). */
  added: number | null;
  deleted: number | null;
  binary: boolean;
}

export interface NameStatusEntry {
  path: string;
  oldPath?: string;
  changeType: ChangeType;
  /** Raw git status letter(s), e.g. `M`, `R087`. */
  status: string;
}

export interface GitCommit {
  hash: string;
  authorName: string;
  authorEmail: string;
  message: string;
  files: NumstatEntry[];
}

export interface DiffFile {
  path: string;
  oldPath?: string;
  changeType: ChangeType;
  binary: boolean;
  added: number;
  deleted: number;
  addedLines: { line: number; text: string }[];
}

export interface UnifiedDiff {
  files: DiffFile[];
  /** True when the text ended in the middle of a file (the caller capped the diff). */
  truncated: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// numstat

/**
 * Parses numstat output. With `-z` (recommended: paths are not quoted), records are `A\tD\tpath\0` or, for renames,
 * `A\tD\t\0old\0new\0`. Without `-z`, one record per line, renames as `old => new` or `dir/{old => new}/file`.
 */
export function parseNumstat(text: string): NumstatEntry[] {
  return text.includes('\0') ? parseNumstatZ(text) : parseNumstatLines(text.split('\n'));
}

function parseNumstatZ(text: string): NumstatEntry[] {
  const parts = text.split('\0');
  const entries: NumstatEntry[] = [];
  let i = 0;
  while (i < parts.length) {
    const record = (parts[i] ?? '').replace(/^\n+/, '');
    i++;
    if (record === '') continue;
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(record);
    if (!m) continue;
    const counts = countsOf(m[1] ?? '-', m[2] ?? '-');
    if (m[3] === '') {
      const oldPath = parts[i] ?? '';
      const path = parts[i + 1] ?? '';
      i += 2;
      entries.push({ path, oldPath, ...counts });
    } else {
      entries.push({ path: m[3] ?? '', ...counts });
    }
  }
  return entries;
}

function parseNumstatLines(lines: readonly string[]): NumstatEntry[] {
  const entries: NumstatEntry[] = [];
  for (const line of lines) {
    const m = /^(-|\d+)\t(-|\d+)\t(.+)$/.exec(line);
    if (!m) continue;
    const counts = countsOf(m[1] ?? '-', m[2] ?? '-');
    const renamed = splitRename(unquote(m[3] ?? ''));
    entries.push({ ...renamed, ...counts });
  }
  return entries;
}

function countsOf(a: string, d: string): Pick<NumstatEntry, 'added' | 'deleted' | 'binary'> {
  const binary = a === '-' && d === '-';
  return { added: a === '-' ? null : Number(a), deleted: d === '-' ? null : Number(d), binary };
}

/** `src/{old => new}/x.ts` → old `src/old/x.ts`, new `src/new/x.ts`; `a => b` → a, b. */
function splitRename(spec: string): { path: string; oldPath?: string } {
  const brace = /^(.*)\{(.*) => (.*)\}(.*)$/.exec(spec);
  if (brace) {
    const [, prefix = '', from = '', to = '', suffix = ''] = brace;
    const join = (middle: string) => `${prefix}${middle}${suffix}`.replace(/\/\//g, '/');
    return { path: join(to), oldPath: join(from) };
  }
  const arrow = spec.indexOf(' => ');
  if (arrow >= 0) return { path: spec.slice(arrow + 4), oldPath: spec.slice(0, arrow) };
  return { path: spec };
}

// ---------------------------------------------------------------------------------------------------------------
// name-status

export function parseNameStatus(text: string): NameStatusEntry[] {
  const entries: NameStatusEntry[] = [];
  if (text.includes('\0')) {
    const parts = text.split('\0');
    let i = 0;
    while (i < parts.length) {
      const status = (parts[i] ?? '').replace(/^\n+/, '');
      i++;
      if (status === '') continue;
      if (/^[RC]/.test(status)) {
        entries.push(nameStatusEntry(status, parts[i + 1] ?? '', parts[i] ?? ''));
        i += 2;
      } else {
        entries.push(nameStatusEntry(status, parts[i] ?? ''));
        i++;
      }
    }
    return entries;
  }
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    const status = fields[0] ?? '';
    if (status === '' || fields.length < 2) continue;
    if (/^[RC]/.test(status) && fields.length >= 3)
      entries.push(nameStatusEntry(status, unquote(fields[2] ?? ''), unquote(fields[1] ?? '')));
    else entries.push(nameStatusEntry(status, unquote(fields[1] ?? '')));
  }
  return entries;
}

function nameStatusEntry(status: string, path: string, oldPath?: string): NameStatusEntry {
  const letter = status[0];
  const changeType: ChangeType =
    letter === 'A' || letter === 'C' ? 'add' : letter === 'D' ? 'delete' : letter === 'R' ? 'rename' : 'modify';
  return oldPath === undefined ? { path, changeType, status } : { path, oldPath, changeType, status };
}

// ---------------------------------------------------------------------------------------------------------------
// git log

/** Record separator \x1e before each commit, unit separator \x1f between fields; the message is the full body (%B). */
export const GIT_LOG_FORMAT = '%x1e%H%x1f%an%x1f%ae%x1f%B%x1f';

/** Parses `git log --format=GIT_LOG_FORMAT` output, with or without `--numstat` (not `-z`). */
export function parseGitLog(text: string): GitCommit[] {
  const commits: GitCommit[] = [];
  for (const record of text.split('\x1e')) {
    if (record.trim() === '') continue;
    const fields = record.split('\x1f');
    if (fields.length < 5) continue;
    const [hash = '', authorName = '', authorEmail = '', message = ''] = fields;
    const rest = fields.slice(4).join('\x1f');
    commits.push({
      hash: hash.trim(),
      authorName,
      authorEmail,
      message: message.replace(/\s+$/, ''),
      files: parseNumstatLines(rest.split('\n')),
    });
  }
  return commits;
}

// ---------------------------------------------------------------------------------------------------------------
// unified diff

const HUNK_HEADER = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/;

/**
 * Parses a unified diff (`git diff -U0 --no-color`, any context size works). Line numbers of added lines are their
 * numbers in the new file. `truncated` is true when the text stops inside a hunk (a capped diff): the files and lines
 * read up to that point are still correct.
 */
export function parseUnifiedDiff(text: string): UnifiedDiff {
  const files: DiffFile[] = [];
  let current: DiffFile | undefined;
  let newLine = 0;
  let remainingNew = 0;
  let remainingOld = 0;
  let inHunk = false;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  for (const line of lines) {
    if (line.startsWith('diff --git ')) {
      current = startFile(line);
      files.push(current);
      inHunk = false;
      continue;
    }
    if (!current) continue;
    if (inHunk && (remainingNew > 0 || remainingOld > 0)) {
      const tag = line[0];
      if (tag === '+') {
        current.added++;
        current.addedLines.push({ line: newLine, text: line.slice(1) });
        newLine++;
        remainingNew--;
        continue;
      }
      if (tag === '-') {
        current.deleted++;
        remainingOld--;
        continue;
      }
      if (tag === ' ') {
        newLine++;
        remainingNew--;
        remainingOld--;
        continue;
      }
      if (tag === '\\') continue; // "\ No newline at end of file"
    }
    if (line.startsWith('\\')) continue;
    const hunk = HUNK_HEADER.exec(line);
    if (hunk) {
      const oldCount = /^@@ -\d+(?:,(\d+))?/.exec(line)?.[1];
      newLine = Number(hunk[1]);
      remainingNew = hunk[2] === undefined ? 1 : Number(hunk[2]);
      remainingOld = oldCount === undefined ? 1 : Number(oldCount);
      inHunk = true;
      continue;
    }
    inHunk = false;
    if (line.startsWith('new file mode')) current.changeType = 'add';
    else if (line.startsWith('deleted file mode')) current.changeType = 'delete';
    else if (line.startsWith('rename from ')) {
      current.oldPath = unquote(line.slice('rename from '.length));
      current.changeType = 'rename';
    } else if (line.startsWith('rename to ')) {
      current.path = unquote(line.slice('rename to '.length));
      current.changeType = 'rename';
    } else if (line.startsWith('Binary files ') || line === 'GIT binary patch') current.binary = true;
    else if (line.startsWith('+++ ')) {
      const p = diffHeaderPath(line.slice(4));
      if (p !== null) current.path = p;
    } else if (line.startsWith('--- ')) {
      const p = diffHeaderPath(line.slice(4));
      if (p !== null && current.changeType === 'delete') current.path = p;
    }
  }
  const truncated = inHunk && (remainingNew > 0 || remainingOld > 0);
  return { files, truncated };
}

function startFile(header: string): DiffFile {
  // `diff --git a/x b/x`; paths may be quoted. The ---/+++ and rename lines refine this below.
  const rest = header.slice('diff --git '.length);
  let path = rest;
  const quoted = /^"(?:[^"\\]|\\.)*" "((?:[^"\\]|\\.)*)"$/.exec(rest);
  if (quoted) path = unquote(`"${quoted[1]}"`).replace(/^b\//, '');
  else {
    const half = (rest.length - 1) / 2;
    const candidate = Number.isInteger(half) ? rest.slice(half + 1) : undefined;
    if (candidate?.startsWith('b/') && rest.slice(0, half) === `a/${candidate.slice(2)}`) path = candidate.slice(2);
    else {
      const idx = rest.lastIndexOf(' b/');
      path = idx >= 0 ? rest.slice(idx + 3) : rest;
    }
  }
  return { path, changeType: 'modify', binary: false, added: 0, deleted: 0, addedLines: [] };
}

function diffHeaderPath(spec: string): string | null {
  const p = unquote(spec.replace(/\t.*$/, ''));
  if (p === '/dev/null') return null;
  return p.replace(/^[ab]\//, '');
}

/** Undoes git's C-style quoting of unusual paths: `"a/caf\303\251.txt"` → `a/café.txt`. */
export function unquote(spec: string): string {
  if (!(spec.length >= 2 && spec.startsWith('"') && spec.endsWith('"'))) return spec;
  const body = spec.slice(1, -1);
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, a: 7, v: 11, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      for (const b of UTF8_ENCODER.encode(ch)) bytes.push(b);
      continue;
    }
    const next = body[i + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return UTF8_DECODER.decode(new Uint8Array(bytes));
}

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder('utf-8');
