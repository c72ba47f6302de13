/**
 * Octokit clients per GitHub App installation, from the configured app credentials (GITHUB_APP_ID,
 * GITHUB_APP_PRIVATE_KEY, GITHUB_API_URL). Installation tokens are minted and refreshed by @octokit/auth-app; one
 * client is kept per installation. Without an app, a configured GITHUB_TOKEN is used for every installation
 * (enough to read changes; GitHub only accepts protection-rule reviews from the app itself).
 */
import type { GitHubConfig } from '../config/config.js';
import { createGitHubClient, type GitHubClient } from '../intake/githubClient.js';

export const PUBLIC_GITHUB_API = 'https://api.github.com';

export type InstallationClientFactory = (installationId: number) => GitHubClient;

export function installationClients(
  github: GitHubConfig,
  options: { maxRateLimitWaitSeconds?: number } = {},
): InstallationClientFactory | undefined {
  const baseUrl = github.apiUrl ?? PUBLIC_GITHUB_API;
  const maxRateLimitWaitSeconds = options.maxRateLimitWaitSeconds ?? 30;
  if (github.app) {
    const app = github.app;
    const clients = new Map<number, GitHubClient>();
    return (installationId) => {
      let client = clients.get(installationId);
      if (!client) {
        client = createGitHubClient({
          baseUrl,
          app: { appId: app.appId, privateKey: app.privateKey, installationId },
          maxRateLimitWaitSeconds,
        });
        clients.set(installationId, client);
      }
      return client;
    };
  }
  if (github.token) {
    const client = createGitHubClient({ baseUrl, token: github.token, maxRateLimitWaitSeconds });
    return () => client;
  }
  return undefined;
}
