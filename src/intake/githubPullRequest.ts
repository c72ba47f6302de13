/**
 * Reads what a pull request (or a base...head comparison) changes through the GitHub REST API: every file with
 * its status, added and deleted lines and patch, plus the commit messages. Pagination is followed to the API's
 * own limits (3,000 files for a pull request); anything the API leaves out is reported as truncated.
 */
import type { CodedError } from '../errors.js';
import type { GitHubClient } from './githubClient.js';

export interface ChangedFile {
  path: string;
  previousPath?: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  additions: number;
  deletions: number;
  /** Unified diff hunks; GitHub omits it for binary and very large files. */
  patch?: string;
}

export interface RemoteChange {
  kind: 'pull-request' | 'compare';
  url: string;
  title: string;
  body: string;
  author?: string;
  baseSha: string;
  headSha: string;
  files: ChangedFile[];
  commitMessages: string[];
  /** True when the API returned fewer files than the change has. */
  truncated: boolean;
}

export interface PullRequestRef {
  owner: string;
  repo: string;
  number: number;
  /** API base URL for the host the link points at. */
  apiBaseUrl: string;
}

export class PullRequestUrlError extends Error implements CodedError {
  readonly code = 'intake_invalid_pull_request_url' as const;
  constructor(message: string) {
    super(message);
    this.name = 'PullRequestUrlError';
  }
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** `https://github.com/o/r/pull/12` (or a GitHub Enterprise host) → owner, repo, number and the API base URL. */
export function parsePullRequestUrl(text: string): PullRequestRef {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new PullRequestUrlError(`"${text.slice(0, 80)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PullRequestUrlError(`pull request links must be http(s), got ${url.protocol}`);
  }
  const [owner, repo, pull, number] = url.pathname.split('/').filter(Boolean);
  if (!owner || !repo || (pull !== 'pull' && pull !== 'pulls') || !number || !/^\d+$/.test(number)) {
    throw new PullRequestUrlError(
      `expected a link like https://github.com/<owner>/<repo>/pull/<number>, got ${url.href}`,
    );
  }
  if (!NAME.test(owner) || !NAME.test(repo))
    throw new PullRequestUrlError(`"${owner}/${repo}" is not a repository name`);
  const apiBaseUrl = url.hostname === 'github.com' ? 'https://api.github.com' : `${url.protocol}//${url.host}/api/v3`;
  return { owner, repo, number: Number(number), apiBaseUrl };
}

const PULL_REQUEST_FILE_LIMIT = 3000;

export async function readPullRequest(
  client: GitHubClient,
  ref: Omit<PullRequestRef, 'apiBaseUrl'>,
): Promise<RemoteChange> {
  const { data: pr } = await client.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: ref.number });
  const files = await client.paginate(client.rest.pulls.listFiles, {
    owner: ref.owner,
    repo: ref.repo,
    pull_number: ref.number,
    per_page: 100,
  });
  const commits = await client.paginate(client.rest.pulls.listCommits, {
    owner: ref.owner,
    repo: ref.repo,
    pull_number: ref.number,
    per_page: 100,
  });
  return {
    kind: 'pull-request',
    url: pr.html_url,
    title: pr.title,
    body: pr.body ?? '',
    author: pr.user?.login,
    baseSha: pr.base.sha,
    headSha: pr.head.sha,
    files: files.map(toChangedFile),
    commitMessages: commits.map((c) => c.commit.message),
    truncated: pr.changed_files > files.length || files.length >= PULL_REQUEST_FILE_LIMIT,
  };
}

/**
 * The change between two commits, as a deployment protection rule sees it (`base...head`). GitHub returns the
 * changed files (at most 300) with the first page only and pages through the commits.
 */
export async function readComparison(
  client: GitHubClient,
  ref: { owner: string; repo: string; base: string; head: string },
  options: { maxCommitPages?: number } = {},
): Promise<RemoteChange> {
  const request = { owner: ref.owner, repo: ref.repo, basehead: `${ref.base}...${ref.head}`, per_page: 100 };
  const { data: first } = await client.rest.repos.compareCommitsWithBasehead({ ...request, page: 1 });
  const commitMessages = first.commits.map((c) => c.commit.message);
  const maxPages = options.maxCommitPages ?? 20;
  for (let page = 2; page <= maxPages && commitMessages.length < first.total_commits; page++) {
    const { data } = await client.rest.repos.compareCommitsWithBasehead({ ...request, page });
    if (data.commits.length === 0) break;
    commitMessages.push(...data.commits.map((c) => c.commit.message));
  }
  const files = (first.files ?? []).map(toChangedFile);
  return {
    kind: 'compare',
    url: first.html_url,
    title: commitMessages.at(-1)?.split('\n')[0] ?? `${ref.base}...${ref.head}`,
    body: '',
    baseSha: first.base_commit.sha,
    headSha: first.commits.at(-1)?.sha ?? ref.head,
    files,
    commitMessages,
    truncated: files.length >= COMPARE_FILE_LIMIT || commitMessages.length < first.total_commits,
  };
}

const COMPARE_FILE_LIMIT = 300;

function toChangedFile(file: {
  filename: string;
  previous_filename?: string;
  status: string;
  additions: number;
  deletions: number;
  patch?: string;
}): ChangedFile {
  const status = (
    ['added', 'removed', 'modified', 'renamed', 'copied', 'changed', 'unchanged'].includes(file.status)
      ? file.status
      : 'modified'
  ) as ChangedFile['status'];
  return {
    path: file.filename,
    ...(file.previous_filename ? { previousPath: file.previous_filename } : {}),
    status,
    additions: file.additions,
    deletions: file.deletions,
    ...(file.patch !== undefined ? { patch: file.patch } : {}),
  };
}
