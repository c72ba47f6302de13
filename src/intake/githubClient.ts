/**
 * An Octokit client for reading pull requests and comparisons: token or GitHub App installation auth,
 * and rate-limit handling (primary and secondary limits are waited out while the wait is short, else refused).
 */
import { createAppAuth } from '@octokit/auth-app';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

export interface GitHubAuth {
  token?: string;
  app?: { appId: string | number; privateKey: string; installationId: string | number };
}

export interface GitHubClientOptions extends GitHubAuth {
  /** API root; https://api.github.com by default, GitHub Enterprise Server's `/api/v3` otherwise. */
  baseUrl?: string;
  /** Longest wait for a rate limit to reset before the request fails (seconds). */
  maxRateLimitWaitSeconds?: number;
  /** How many times one request may be retried after a rate limit. */
  maxRateLimitRetries?: number;
  userAgent?: string;
}

const ThrottledOctokit = Octokit.plugin(throttling);
export type GitHubClient = InstanceType<typeof ThrottledOctokit>;

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const maxWait = options.maxRateLimitWaitSeconds ?? 60;
  const maxRetries = options.maxRateLimitRetries ?? 2;
  const retryWhenShort = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
    retryCount < maxRetries && retryAfter <= maxWait;
  return new ThrottledOctokit({
    baseUrl: options.baseUrl ?? 'https://api.github.com',
    userAgent: options.userAgent ?? 'chaos-negotiator',
    ...(options.app
      ? {
          authStrategy: createAppAuth,
          auth: {
            appId: options.app.appId,
            privateKey: options.app.privateKey,
            installationId: options.app.installationId,
          },
        }
      : options.token
        ? { auth: options.token }
        : {}),
    throttle: {
      onRateLimit: retryWhenShort,
      onSecondaryRateLimit: retryWhenShort,
    },
  });
}
