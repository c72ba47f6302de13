/**
 * A change read from GitHub (pull request or comparison) → DeploymentRequest, through the same wire format and
 * `parseDeploymentRequest` as every other intake, so validation, line counts and spread metrics are computed the
 * same way as for a local git range (src/intake/gitRange.ts builds the identical wire `changes`).
 *
 * GitHub's per-file `patch` is the hunks of a unified diff without the `diff --git` header; it is given a synthetic
 * header and read by the shared `parseUnifiedDiff`, so added lines carry the same new-file line numbers as git's.
 * The pull request title and body are author-controlled text: they travel as the first commit message, which every
 * consumer already treats as untrusted.
 */
import { parseUnifiedDiff } from '../domain/gitDiff.js';
import type { ChangeType, DeploymentRequest } from '../domain/model.js';
import { type DeploymentRequestDefaults, parseDeploymentRequest } from '../domain/request.js';
import type { ChangedFile, RemoteChange } from '../intake/githubPullRequest.js';

export interface RemoteChangeMeta {
  serviceName: string;
  environment: string;
  version: string;
  deploymentId: string;
  previousVersion?: string;
  /** Defaults to the pull request's author. */
  author?: string;
  /** Wire-format values for what GitHub cannot know (SLO targets, qps, target, rollback_capability, …). */
  defaults?: DeploymentRequestDefaults;
  /** Defaults to `{ kind: 'pull-request' | 'webhook', ref: change.url }`. */
  source?: DeploymentRequest['source'];
}

const CHANGE_TYPE: Record<ChangedFile['status'], ChangeType> = {
  added: 'add',
  copied: 'add',
  removed: 'delete',
  renamed: 'rename',
  modified: 'modify',
  changed: 'modify',
  unchanged: 'modify',
};

// The wire format's limits (request.ts): at most 10,000 commit messages of at most 100,000 characters each.
const MAX_MESSAGES = 10_000;
const MAX_MESSAGE_CHARS = 100_000;

/** Throws RequestValidationError (naming the field) when the result is not a valid request. */
export function remoteChangeToRequest(change: RemoteChange, meta: RemoteChangeMeta): DeploymentRequest {
  const wire: Record<string, unknown> = {
    deployment_id: meta.deploymentId,
    service_name: meta.serviceName,
    environment: meta.environment,
    version: meta.version,
    changes: change.files.map(toWireChange),
    commit_messages: commitMessagesOf(change),
  };
  if (meta.previousVersion) wire.previous_version = meta.previousVersion;
  const author = meta.author ?? change.author;
  if (author) wire.author = author;
  return parseDeploymentRequest(wire, {
    ...(meta.defaults ? { defaults: meta.defaults } : {}),
    source: meta.source ?? { kind: change.kind === 'pull-request' ? 'pull-request' : 'webhook', ref: change.url },
  });
}

function toWireChange(file: ChangedFile): Record<string, unknown> {
  const notes: string[] = [];
  if (file.previousPath && file.status === 'renamed') notes.push(`renamed from ${file.previousPath}`);
  if (file.patch === undefined && file.additions + file.deletions > 0) notes.push('diff not provided by GitHub');
  const change: Record<string, unknown> = {
    file_path: file.path,
    change_type: CHANGE_TYPE[file.status],
    lines_added: file.additions,
    lines_deleted: file.deletions,
    description: notes.join('; '),
  };
  if (file.patch !== undefined) change.added_lines = addedLinesFromPatch(file.path, file.patch);
  // GitHub sends no patch for binary files (0/0 lines): like git's binary files they have no added lines.
  else if (file.additions + file.deletions === 0) change.added_lines = [];
  return change;
}

/** The `+` lines of one file's GitHub patch with their line numbers in the new file. */
export function addedLinesFromPatch(path: string, patch: string): { line: number; text: string }[] {
  const header = `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n`;
  const parsed = parseUnifiedDiff(`${header}${patch}\n`);
  return parsed.files[0]?.addedLines ?? [];
}

function commitMessagesOf(change: RemoteChange): string[] {
  const head: string[] = [];
  const headline = `${change.title}\n\n${change.body}`.trim();
  if (change.kind === 'pull-request' && headline !== '') head.push(headline);
  const tail: string[] = [];
  if (change.truncated) {
    tail.push(
      `[chaos] GitHub listed ${change.files.length} changed files, fewer than the change has: size and spread are a lower bound`,
    );
  }
  const commits = change.commitMessages.filter((m) => m !== '').slice(0, MAX_MESSAGES - head.length - tail.length);
  return [...head, ...commits, ...tail].map((m) => m.slice(0, MAX_MESSAGE_CHARS));
}
