/**
 * `assess <pull request link>` in chat: reads the pull request through the GitHub API (src/intake) and turns it into
 * a DeploymentRequest. Only links to the configured Git host are followed, so the token is never sent to a host named
 * by whoever typed the link.
 */

import { remoteChangeToRequest } from '../announce/remoteChange.js';
import type { PullRequestReader } from '../chat/service.js';
import type { GitHubConfig } from '../config/config.js';
import type { DeploymentRequest } from '../domain/model.js';
import type { CodedError } from '../errors.js';
import type { GitHubClient } from '../intake/githubClient.js';
import {
  PullRequestUrlError,
  parsePullRequestUrl,
  type RemoteChange,
  readPullRequest,
} from '../intake/githubPullRequest.js';

const PUBLIC_API = 'https://api.github.com';

/** A reader when a token is configured; undefined otherwise (the help card then says links need a token). */
export function pullRequestReaderFrom(github: GitHubConfig): PullRequestReader | undefined {
  if (!github.token) return undefined;
  const token = github.token;
  const apiUrl = github.apiUrl ?? PUBLIC_API;
  const linkHost = apiUrl === PUBLIC_API ? 'github.com' : new URL(apiUrl).host;
  // Octokit (and its app-auth and throttling plugins) is loaded on the first link, not at start-up.
  let client: Promise<GitHubClient> | undefined;
  const clientOnce = () => {
    client ??= import('../intake/githubClient.js').then(({ createGitHubClient }) =>
      createGitHubClient({ token, baseUrl: apiUrl, maxRateLimitWaitSeconds: 5, maxRateLimitRetries: 1 }),
    );
    return client;
  };
  return async (link) => {
    const ref = parsePullRequestUrl(link);
    const host = new URL(link).host;
    if (host !== linkHost) {
      throw new PullRequestUrlError(`links to ${host} are not followed: the configured Git host is ${linkHost}`);
    }
    let change: RemoteChange;
    try {
      change = await readPullRequest(await clientOnce(), ref);
    } catch (error) {
      throw new PullRequestReadError(describeFailure(error, `${ref.owner}/${ref.repo}#${ref.number}`), {
        cause: error,
      });
    }
    return requestFromPullRequest(change, ref.repo);
  };
}

/** The Git host could not give us the pull request; the message is safe to show in chat. */
export class PullRequestReadError extends Error implements CodedError {
  readonly code = 'intake_pull_request_unreadable' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PullRequestReadError';
  }
}

function describeFailure(error: unknown, what: string): string {
  const status = (error as { status?: unknown }).status;
  if (status === 404) return `${what} was not found (or the configured token cannot see it)`;
  if (status === 401 || status === 403) return `the Git host refused the configured token for ${what} (HTTP ${status})`;
  if (typeof status === 'number') return `the Git host answered HTTP ${status} for ${what}`;
  return `the Git host could not be reached for ${what}`;
}

/** RemoteChange → DeploymentRequest, the same mapping the announced deployments use. */
export function requestFromPullRequest(change: RemoteChange, repo: string): DeploymentRequest {
  const head = change.headSha.slice(0, 12);
  const number = /\/pull\/(\d+)/.exec(change.url)?.[1] ?? 'x';
  return remoteChangeToRequest(change, {
    deploymentId: `pr-${repo}-${number}-${head}`.slice(0, 128),
    serviceName: repo.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
    environment: 'production',
    version: head,
    previousVersion: change.baseSha.slice(0, 12),
    ...(change.author ? { author: change.author } : {}),
  });
}
