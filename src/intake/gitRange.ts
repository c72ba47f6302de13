/**
 * Reads a local git range (`A..B`) into a DeploymentRequest: the files B changes relative to A with added/deleted
 * lines, change types and renames, the added lines of the diff with their line numbers (capped), the commit messages
 * of A..B, and the change-spread metrics. Runs the real `git` with a timeout and no shell.
 *
 * Safety: the range is validated before git sees it (no leading `-`, no whitespace, only characters git revisions
 * use), both ends are resolved with `rev-parse --verify --end-of-options`, and every later command gets the resolved
 * object ids, never user text. External diff drivers and textconv filters are disabled.
 */

import { basename } from 'node:path';
import { execa } from 'execa';
import { DomainError } from '../domain/errors.js';
import {
  GIT_LOG_FORMAT,
  type NameStatusEntry,
  type NumstatEntry,
  parseGitLog,
  parseNameStatus,
  parseNumstat,
  parseUnifiedDiff,
  type UnifiedDiff,
} from '../domain/gitDiff.js';
import type { DeploymentRequest } from '../domain/model.js';
import { type DeploymentRequestDefaults, parseDeploymentRequest } from '../domain/request.js';
import type { AreaCode } from '../errors.js';

export type GitIntakeErrorCode = Exclude<
  AreaCode<'intake'>,
  'intake_invalid_pull_request_url' | 'intake_pull_request_unreadable'
>;

export class GitIntakeError extends DomainError {
  override readonly code: GitIntakeErrorCode;

  constructor(code: GitIntakeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'GitIntakeError';
    this.code = code;
  }
}

export interface ReadGitRangeOptions {
  repoDir: string;
  /** `A..B`: what B deploys on top of A. */
  range: string;
  /** Cap on the unified diff read for added lines (default 5 MiB); line counts come from numstat and stay exact. */
  maxDiffBytes?: number;
  /** Per git command (default 20 s). */
  timeoutMs?: number;
  /**
   * Wire-format fields git cannot know (service_name, environment, qps, targets, rollback_capability, …).
   * Defaults when absent: service_name = the repository directory name, environment = production (the conservative
   * choice), version = B's short id, previous_version = A's short id, deployment_id = git-<service>-<B short id>.
   */
  defaults?: DeploymentRequestDefaults;
  /** The git executable (default `git` on PATH). */
  gitBinary?: string;
}

export interface GitRangeResult {
  request: DeploymentRequest;
  fromCommit: string;
  toCommit: string;
  /** True when the unified diff exceeded maxDiffBytes: files past the cut have no addedLines. */
  diffTruncated: boolean;
  diffBytesRead: number;
  warnings: string[];
}

const DEFAULT_MAX_DIFF_BYTES = 5 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 20_000;
const REVISION = /^[A-Za-z0-9_./~^@{}+-]+$/;

export async function readGitRange(options: ReadGitRangeOptions): Promise<DeploymentRequest> {
  return (await readGitRangeDetailed(options)).request;
}

export async function readGitRangeDetailed(options: ReadGitRangeOptions): Promise<GitRangeResult> {
  const [fromRev, toRev] = validateRange(options.range);
  const git = gitRunner(options);

  await ensureRepository(git, options.repoDir);
  const fromCommit = await resolveCommit(git, fromRev);
  const toCommit = await resolveCommit(git, toRev);

  const common = ['--no-color', '--no-ext-diff', '--no-textconv', '-M'];
  const [nameStatusOut, numstatOut, logOut] = await Promise.all([
    git.run(['diff', '--name-status', '-z', ...common, fromCommit, toCommit]),
    git.run(['diff', '--numstat', '-z', ...common, fromCommit, toCommit]),
    git.run(['log', '--reverse', '--no-color', `--format=${GIT_LOG_FORMAT}`, `${fromCommit}..${toCommit}`]),
  ]);
  const maxDiffBytes = options.maxDiffBytes ?? DEFAULT_MAX_DIFF_BYTES;
  const diffOut = await git.runCapped(['diff', '-U0', ...common, fromCommit, toCommit], maxDiffBytes);

  const nameStatus = parseNameStatus(nameStatusOut);
  const numstat = parseNumstat(numstatOut);
  const commits = parseGitLog(logOut);
  const diff: UnifiedDiff = parseUnifiedDiff(diffOut.text);
  const diffTruncated = diffOut.truncated || diff.truncated;

  const warnings: string[] = [];
  if (diffTruncated) {
    warnings.push(
      `diff larger than ${maxDiffBytes} bytes: added lines were read for the first ${diff.files.length} of ${numstat.length} files; line counts are complete`,
    );
  }

  const changes = buildChanges(nameStatus, numstat, diff, diffTruncated);
  const short = (sha: string) => sha.slice(0, 12);
  const service = sanitizeName(options.defaults?.service_name ?? basename(options.repoDir.replace(/[\\/]+$/, '')));
  const lastCommit = commits[commits.length - 1];
  const wire: Record<string, unknown> = {
    changes,
    commit_messages: commits.map((c) => c.message),
  };
  const defaults: DeploymentRequestDefaults = {
    deployment_id: `git-${service}-${short(toCommit)}`,
    service_name: service,
    environment: 'production',
    version: short(toCommit),
    previous_version: short(fromCommit),
    ...(lastCommit ? { author: lastCommit.authorEmail || lastCommit.authorName || null } : {}),
    ...options.defaults,
  };
  const request = parseDeploymentRequest(wire, { defaults, source: { kind: 'git', ref: options.range } });
  return { request, fromCommit, toCommit, diffTruncated, diffBytesRead: diffOut.bytes, warnings };
}

/** Splits and checks `A..B`; throws GitIntakeError('intake_invalid_range'). */
export function validateRange(range: string): [string, string] {
  const fail = (why: string): never => {
    throw new GitIntakeError('intake_invalid_range', `invalid git range ${JSON.stringify(range.slice(0, 80))}: ${why}`);
  };
  if (typeof range !== 'string' || range.length === 0) fail('expected A..B');
  if (range.length > 256) fail('too long');
  if (range.startsWith('-')) fail('must not start with "-"');
  if (range.includes('...')) fail('use A..B (two dots), not A...B');
  const parts = range.split('..');
  if (parts.length !== 2) fail('expected exactly one ".." as in A..B');
  const [from = '', to = ''] = parts;
  for (const [name, rev] of [
    ['start', from],
    ['end', to],
  ] as const) {
    if (rev === '') fail(`the ${name} revision is empty`);
    if (rev.startsWith('-')) fail(`the ${name} revision must not start with "-"`);
    if (!REVISION.test(rev)) fail(`the ${name} revision contains characters git revisions do not use`);
  }
  return [from, to];
}

interface GitRunner {
  run(args: string[]): Promise<string>;
  runCapped(args: string[], maxBytes: number): Promise<{ text: string; truncated: boolean; bytes: number }>;
}

function gitRunner(options: ReadGitRangeOptions): GitRunner {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const binary = options.gitBinary ?? 'git';
  const env = { GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', GIT_PAGER: 'cat', PAGER: 'cat' };
  const base = { cwd: options.repoDir, timeout, env, stdin: 'ignore' as const, stripFinalNewline: false };
  const describe = (args: string[]) => `git ${args.slice(0, 2).join(' ')}`;

  const failure = (args: string[], error: unknown): GitIntakeError => {
    const e = error as {
      code?: string;
      timedOut?: boolean;
      stderr?: unknown;
      shortMessage?: string;
      exitCode?: number;
    };
    if (e.code === 'ENOENT' && typeof e.shortMessage === 'string' && e.shortMessage.includes('cwd')) {
      return new GitIntakeError('intake_not_a_repository', `${options.repoDir} does not exist`, { cause: error });
    }
    if (e.timedOut)
      return new GitIntakeError('intake_git_failed', `${describe(args)} timed out after ${timeout} ms`, {
        cause: error,
      });
    const stderr = typeof e.stderr === 'string' ? e.stderr.trim().split('\n')[0] : '';
    if (/not a git repository/i.test(stderr ?? '')) {
      return new GitIntakeError('intake_not_a_repository', `${options.repoDir} is not a git repository`, {
        cause: error,
      });
    }
    const detail = stderr || e.shortMessage || (error instanceof Error ? error.message : String(error));
    return new GitIntakeError('intake_git_failed', `${describe(args)} failed: ${detail}`, { cause: error });
  };

  return {
    async run(args) {
      try {
        const result = await execa(binary, args, { ...base, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
        return result.stdout;
      } catch (error) {
        throw failure(args, error);
      }
    },
    async runCapped(args, maxBytes) {
      try {
        const result = await execa(binary, args, { ...base, encoding: 'buffer', maxBuffer: maxBytes });
        return { text: Buffer.from(result.stdout).toString('utf8'), truncated: false, bytes: result.stdout.length };
      } catch (error) {
        const e = error as { isMaxBuffer?: boolean; stdout?: unknown };
        if (e.isMaxBuffer && e.stdout instanceof Uint8Array) {
          return { text: Buffer.from(e.stdout).toString('utf8'), truncated: true, bytes: e.stdout.length };
        }
        throw failure(args, error);
      }
    },
  };
}

async function ensureRepository(git: GitRunner, repoDir: string): Promise<void> {
  // Exit status 128 with "not a git repository" is mapped to intake_not_a_repository by the runner; bare repositories pass.
  const gitDir = (await git.run(['rev-parse', '--git-dir'])).trim();
  if (gitDir === '') throw new GitIntakeError('intake_not_a_repository', `${repoDir} is not a git repository`);
}

async function resolveCommit(git: GitRunner, rev: string): Promise<string> {
  try {
    const out = await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
    const sha = out.trim();
    if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new GitIntakeError('intake_invalid_range', `${rev} is not a commit`);
    return sha;
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
}

function buildChanges(
  nameStatus: NameStatusEntry[],
  numstat: NumstatEntry[],
  diff: UnifiedDiff,
  diffTruncated: boolean,
): Record<string, unknown>[] {
  const statusByPath = new Map(nameStatus.map((e) => [e.path, e]));
  const diffByPath = new Map(diff.files.map((f) => [f.path, f]));
  // With a truncated diff the last file read may be incomplete: keep its lines (they are real) but mark nothing else.
  return numstat.map((entry) => {
    const status = statusByPath.get(entry.path);
    const diffFile = diffByPath.get(entry.path);
    const changeType = status?.changeType ?? (entry.oldPath ? 'rename' : 'modify');
    const oldPath = entry.oldPath ?? status?.oldPath;
    const notes: string[] = [];
    if (oldPath && changeType === 'rename') notes.push(`renamed from ${oldPath}`);
    if (entry.binary) notes.push('binary file');
    if (diffTruncated && !diffFile && !entry.binary) notes.push('diff not read (size cap)');
    const change: Record<string, unknown> = {
      file_path: entry.path,
      change_type: changeType,
      lines_added: entry.added ?? 0,
      lines_deleted: entry.deleted ?? 0,
      description: notes.join('; '),
    };
    if (diffFile) change.added_lines = diffFile.addedLines;
    else if (!diffTruncated || entry.binary) change.added_lines = [];
    return change;
  });
}

function sanitizeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return s === '' ? 'service' : s.slice(0, 128);
}
