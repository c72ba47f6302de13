/**
 * Streams the commits of a local git range as deployment requests, one per commit (`commit^..commit`; the root
 * commit against the empty tree), for `chaos backtest`. ONE `git log --numstat --summary -p -U0` process is read line
 * by line, so thousands of commits cost one process and memory stays bounded by the largest commit's (capped) diff.
 *
 * Each commit becomes the same kind of request `chaos assess --git` builds: files with added/deleted lines and change
 * types, the added lines of the diff with their line numbers (capped per commit), its message, and the same
 * defaults (environment production, no rollback capability declared) unless the caller passes others.
 *
 * Merge commits are skipped by default (their changes are already in the commits they merge); with `firstParent`
 * only the first-parent chain is walked and a merge is scored as its diff against the first parent (the pull
 * request it brought in).
 *
 * Safety as in gitRange.ts: revisions are validated, resolved with `rev-parse --verify --end-of-options`, and git
 * only ever sees resolved object ids; external diff drivers and textconv filters are off.
 */
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { type NumstatEntry, parseNumstat, parseUnifiedDiff, type UnifiedDiff, unquote } from '../domain/gitDiff.js';
import type { DeploymentRequest } from '../domain/model.js';
import { type DeploymentRequestDefaults, parseDeploymentRequest } from '../domain/request.js';
import { GitIntakeError, validateRange } from './gitRange.js';

export interface ReadGitHistoryOptions {
  repoDir: string;
  /** `A..B` (commits in B not in A), or a single revision `B` (all of B's history, root commit included). */
  range: string;
  /** Walk only the first-parent chain and score merges against their first parent (default: skip merges). */
  firstParent?: boolean;
  /** Cap on the diff text read per commit for added lines (default 512 KiB); 0 reads no diff (numstat only). */
  maxDiffBytesPerCommit?: number;
  /** Stop after this many commits (newest first). */
  maxCommits?: number;
  /** For the whole `git log` (default 10 min). */
  timeoutMs?: number;
  /** Wire-format fields git cannot know; defaults as in gitRange.ts (service = directory name, production). */
  defaults?: DeploymentRequestDefaults;
  gitBinary?: string;
}

export interface HistoryCommit {
  sha: string;
  parents: string[];
  subject: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 author date. */
  authoredAt: string;
  /** The commit as a request; absent when it cannot be one (then `error` says why). */
  request?: DeploymentRequest;
  error?: string;
  /** True when the commit's diff exceeded the cap: files past the cut have no added lines (counts stay exact). */
  diffTruncated: boolean;
}

export interface GitHistoryInfo {
  /** The range as resolved: `from` absent for a single revision. */
  from?: string;
  to: string;
  /** Merge commits in the range that were not scored (0 with firstParent). */
  mergesSkipped: number;
}

const DEFAULT_MAX_DIFF_BYTES = 512 * 1024;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const REVISION = /^[A-Za-z0-9_./~^@{}+-]+$/;
/** Starts every commit's record; patch lines never start with it (they start with +, -, space, @, \ or a word). */
const MARKER = '\x1echaos-commit\x1f';
/** Marker, then sha, parents, author name, author email, author date, full message, each ended by \x1f. */
export const HISTORY_LOG_FORMAT = '%x1echaos-commit%x1f%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B%x1f';
const HEADER_SEPARATORS = 7;
const MAX_ADDED_LINE_CHARS = 4000;
const MAX_MESSAGE_CHARS = 100_000;

/** Checks the range and resolves its ends to commit ids, and counts the merges that will be skipped. */
export async function resolveGitHistory(options: ReadGitHistoryOptions): Promise<GitHistoryInfo> {
  const [fromRev, toRev] = splitHistoryRange(options.range);
  const git = runner(options);
  const gitDir = (await git(['rev-parse', '--git-dir'])).trim();
  if (gitDir === '') throw new GitIntakeError('intake_not_a_repository', `${options.repoDir} is not a git repository`);
  const from = fromRev === undefined ? undefined : await resolveCommit(git, fromRev);
  const to = await resolveCommit(git, toRev);
  const mergesSkipped = options.firstParent
    ? 0
    : Number((await git(['rev-list', '--count', '--merges', ...revisionArgs(from, to)])).trim()) || 0;
  return from === undefined ? { to, mergesSkipped } : { from, to, mergesSkipped };
}

/**
 * Yields the commits of the range newest first, each as its own change. Throws GitIntakeError (`intake_invalid_range`,
 * `intake_not_a_repository`, `intake_git_failed`) for a bad range or repository, before yielding anything.
 */
export async function* readGitHistory(
  options: ReadGitHistoryOptions,
  resolved?: GitHistoryInfo,
): AsyncGenerator<HistoryCommit> {
  const info = resolved ?? (await resolveGitHistory(options));
  const maxDiff = options.maxDiffBytesPerCommit ?? DEFAULT_MAX_DIFF_BYTES;
  const args = [
    'log',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '-M',
    '--root',
    `--format=${HISTORY_LOG_FORMAT}`,
    '--numstat',
    '--summary',
    ...(options.firstParent ? ['--first-parent', '--diff-merges=first-parent'] : ['--no-merges']),
    ...(maxDiff > 0 ? ['-p', '-U0'] : []),
    ...(options.maxCommits !== undefined ? [`--max-count=${Math.max(0, Math.floor(options.maxCommits))}`] : []),
    ...revisionArgs(info.from, info.to),
  ];
  const child = execa(options.gitBinary ?? 'git', args, {
    ...execOptions(options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    buffer: { stdout: false, stderr: true },
    encoding: 'utf8',
  });
  // Errors surface through `await child` below; keep an early failure from becoming an unhandled rejection.
  child.catch(() => undefined);
  const service = sanitizeName(options.defaults?.service_name ?? basename(options.repoDir.replace(/[\\/]+$/, '')));
  const reader = new HistoryRecordReader(maxDiff);
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  let finished = false;
  try {
    for await (const line of lines) {
      const record = reader.push(line);
      if (record) yield historyCommit(record, service, options.defaults);
    }
    const last = reader.end();
    if (last) yield historyCommit(last, service, options.defaults);
    finished = true;
  } finally {
    if (!finished) child.kill();
  }
  try {
    await child;
  } catch (error) {
    throw gitFailure(options, args, error, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Record parsing (pure; exported for tests)

export interface HistoryRecord {
  sha: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authoredAt: string;
  message: string;
  numstat: NumstatEntry[];
  /** Paths git's --summary reports as created or deleted. */
  created: Set<string>;
  deleted: Set<string>;
  diff: UnifiedDiff;
  diffTruncated: boolean;
}

/** Turns the lines of `git log --format=HISTORY_LOG_FORMAT --numstat --summary [-p]` into one record per commit. */
export class HistoryRecordReader {
  private header: string[] = [];
  private separators = 0;
  private stat: string[] = [];
  private patch: string[] = [];
  private patchBytes = 0;
  private truncated = false;
  private phase: 'none' | 'header' | 'stat' | 'patch' = 'none';

  constructor(private readonly maxDiffBytes: number) {}

  /** Feeds one line (without its newline); returns the previous commit's record when this line starts a new one. */
  push(line: string): HistoryRecord | undefined {
    if (line.startsWith(MARKER)) {
      const done = this.phase === 'none' ? undefined : this.finish();
      this.reset();
      this.phase = 'header';
      this.addHeader(line.slice(MARKER.length));
      return done;
    }
    switch (this.phase) {
      case 'none':
        return undefined;
      case 'header':
        this.addHeader(line);
        return undefined;
      case 'stat':
        if (line.startsWith('diff --git ')) {
          this.phase = 'patch';
          this.addPatch(line);
        } else if (line !== '') this.stat.push(line);
        return undefined;
      case 'patch':
        this.addPatch(line);
        return undefined;
    }
  }

  /** The last commit's record, at the end of the output. */
  end(): HistoryRecord | undefined {
    const done = this.phase === 'none' ? undefined : this.finish();
    this.reset();
    return done;
  }

  private addHeader(line: string): void {
    const needed = HEADER_SEPARATORS - 1 - this.separators;
    let index = -1;
    let seen = 0;
    for (let i = 0; i < line.length && seen < needed; i++) {
      if (line.charCodeAt(i) === 0x1f) {
        seen++;
        index = i;
      }
    }
    this.separators += seen;
    if (this.separators < HEADER_SEPARATORS - 1) {
      this.header.push(line);
      return;
    }
    // All fields read: whatever follows the last separator on this line already belongs to the stat section.
    this.header.push(line.slice(0, index + 1));
    this.phase = 'stat';
    const rest = line.slice(index + 1);
    if (rest !== '') this.push(rest);
  }

  private addPatch(line: string): void {
    if (this.truncated) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (this.patchBytes + bytes > this.maxDiffBytes) {
      this.truncated = true;
      return;
    }
    this.patchBytes += bytes;
    this.patch.push(line);
  }

  private finish(): HistoryRecord {
    const fields = this.header.join('\n').split('\x1f');
    const [sha = '', parents = '', authorName = '', authorEmail = '', authoredAt = '', message = ''] = fields;
    const created = new Set<string>();
    const deleted = new Set<string>();
    const numstatLines: string[] = [];
    for (const line of this.stat) {
      const summary = /^ (create|delete) mode \d+ (.+)$/.exec(line);
      if (summary) (summary[1] === 'create' ? created : deleted).add(unquote(summary[2] ?? ''));
      else numstatLines.push(line);
    }
    const diff = parseUnifiedDiff(this.patch.join('\n'));
    return {
      sha: sha.trim(),
      parents: parents.trim() === '' ? [] : parents.trim().split(/\s+/),
      authorName,
      authorEmail,
      authoredAt,
      message: message.replace(/\s+$/, ''),
      numstat: parseNumstat(numstatLines.join('\n')),
      created,
      deleted,
      diff,
      diffTruncated: this.truncated || diff.truncated,
    };
  }

  private reset(): void {
    this.header = [];
    this.separators = 0;
    this.stat = [];
    this.patch = [];
    this.patchBytes = 0;
    this.truncated = false;
    this.phase = 'none';
  }
}

/** Builds the commit's request the way gitRange.ts builds one for a range; an unusable commit gets `error` instead. */
export function historyCommit(
  record: HistoryRecord,
  service: string,
  defaults: DeploymentRequestDefaults = {},
): HistoryCommit {
  const short = (sha: string) => sha.slice(0, 12);
  const parent = record.parents[0];
  const diffByPath = new Map(record.diff.files.map((f) => [f.path, f]));
  const changes = record.numstat.map((entry) => {
    const diffFile = diffByPath.get(entry.path);
    const changeType = entry.oldPath
      ? 'rename'
      : record.created.has(entry.path)
        ? 'add'
        : record.deleted.has(entry.path)
          ? 'delete'
          : (diffFile?.changeType ?? 'modify');
    const notes: string[] = [];
    if (entry.oldPath) notes.push(`renamed from ${entry.oldPath}`);
    if (entry.binary) notes.push('binary file');
    if (record.diffTruncated && !diffFile && !entry.binary) notes.push('diff not read (size cap)');
    const change: Record<string, unknown> = {
      file_path: entry.path,
      change_type: changeType,
      lines_added: entry.added ?? 0,
      lines_deleted: entry.deleted ?? 0,
      description: notes.join('; '),
    };
    if (diffFile) {
      change.added_lines = diffFile.addedLines.map((l) => ({
        line: l.line,
        text: l.text.slice(0, MAX_ADDED_LINE_CHARS),
      }));
    }
    return change;
  });
  const subject = record.message.split('\n', 1)[0] ?? '';
  const base: HistoryCommit = {
    sha: record.sha,
    parents: record.parents,
    subject,
    authorName: record.authorName,
    authorEmail: record.authorEmail,
    authoredAt: record.authoredAt,
    diffTruncated: record.diffTruncated,
  };
  try {
    const request = parseDeploymentRequest(
      { changes, commit_messages: [record.message.slice(0, MAX_MESSAGE_CHARS)] },
      {
        defaults: {
          deployment_id: `git-${service}-${short(record.sha)}`,
          service_name: service,
          environment: 'production',
          version: short(record.sha),
          ...(parent ? { previous_version: short(parent) } : {}),
          author: record.authorEmail || record.authorName || null,
          ...defaults,
        },
        source: { kind: 'git', ref: parent ? `${parent}..${record.sha}` : record.sha },
      },
    );
    return { ...base, request };
  } catch (error) {
    return { ...base, error: error instanceof Error ? error.message : String(error) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// git plumbing

/** `A..B` → [A, B]; a single revision `B` → [undefined, B]. Throws GitIntakeError('intake_invalid_range'). */
export function splitHistoryRange(range: string): [string | undefined, string] {
  if (typeof range === 'string' && range.includes('..')) return validateRange(range);
  const fail = (why: string): never => {
    throw new GitIntakeError(
      'intake_invalid_range',
      `invalid git range ${JSON.stringify(String(range).slice(0, 80))}: ${why}`,
    );
  };
  if (typeof range !== 'string' || range.length === 0) fail('expected A..B or a revision');
  if (range.length > 256) fail('too long');
  if (range.startsWith('-')) fail('must not start with "-"');
  if (!REVISION.test(range)) fail('contains characters git revisions do not use');
  return [undefined, range];
}

function revisionArgs(from: string | undefined, to: string): string[] {
  return from === undefined ? [to] : [`${from}..${to}`];
}

type Git = (args: string[]) => Promise<string>;

function execOptions(options: ReadGitHistoryOptions, timeout: number) {
  return {
    cwd: options.repoDir,
    timeout,
    env: { GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', GIT_PAGER: 'cat', PAGER: 'cat' },
    stdin: 'ignore' as const,
    stripFinalNewline: false,
  };
}

function runner(options: ReadGitHistoryOptions): Git {
  const timeout = 20_000;
  return async (args) => {
    try {
      const result = await execa(options.gitBinary ?? 'git', args, {
        ...execOptions(options, timeout),
        encoding: 'utf8',
      });
      return result.stdout;
    } catch (error) {
      throw gitFailure(options, args, error, timeout);
    }
  };
}

function gitFailure(options: ReadGitHistoryOptions, args: string[], error: unknown, timeout: number): GitIntakeError {
  const e = error as { code?: string; timedOut?: boolean; stderr?: unknown; shortMessage?: string };
  const what = `git ${args.slice(0, 1).join(' ')}`;
  if (e.code === 'ENOENT' && typeof e.shortMessage === 'string' && e.shortMessage.includes('cwd')) {
    return new GitIntakeError('intake_not_a_repository', `${options.repoDir} does not exist`, { cause: error });
  }
  if (e.timedOut)
    return new GitIntakeError('intake_git_failed', `${what} timed out after ${timeout} ms`, { cause: error });
  const stderr = typeof e.stderr === 'string' ? (e.stderr.trim().split('\n')[0] ?? '') : '';
  if (/not a git repository/i.test(stderr)) {
    return new GitIntakeError('intake_not_a_repository', `${options.repoDir} is not a git repository`, {
      cause: error,
    });
  }
  const detail = stderr || e.shortMessage || (error instanceof Error ? error.message : String(error));
  return new GitIntakeError('intake_git_failed', `${what} failed: ${detail}`, { cause: error });
}

async function resolveCommit(git: Git, rev: string): Promise<string> {
  let sha = '';
  try {
    sha = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`])).trim();
  } catch (error) {
    if (error instanceof GitIntakeError && error.code === 'intake_git_failed') {
      throw new GitIntakeError(
        'intake_invalid_range',
        `unknown revision ${JSON.stringify(rev)} (not a commit in this repository)`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new GitIntakeError('intake_invalid_range', `${rev} is not a commit`);
  return sha;
}

function sanitizeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return s === '' ? 'service' : s.slice(0, 128);
}
