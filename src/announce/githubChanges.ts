/**
 * What a deployment protection rule is about to deploy, read through the GitHub REST API:
 * - the first pull request of the event (its files, patches and commits), or else
 * - the comparison between the sha last deployed to the environment and the sha being deployed, where "last
 *   deployed" is the newest other deployment of that environment whose latest status is `success` (or `inactive`,
 *   which GitHub sets on a previously successful deployment when a newer one succeeds).
 * Without an earlier deployment there is nothing to compare with: the change is empty and says so.
 */
import type { GitHubClient } from '../intake/githubClient.js';
import { type RemoteChange, readComparison, readPullRequest } from '../intake/githubPullRequest.js';

export interface ProtectionRuleTarget {
  owner: string;
  repo: string;
  environment: string;
  /** The sha being deployed. */
  sha: string;
  pullRequestNumber?: number;
  /** GitHub's id of the deployment being gated, excluded from the search for the previous one. */
  deploymentId?: number;
}

export interface ProtectionRuleChange {
  change: RemoteChange;
  /** The sha the change is measured from (pull request base or previous deployment). */
  baseSha?: string;
}

/** How many earlier deployments are checked for a successful status. */
const MAX_CANDIDATES = 10;
const LIVE_STATES = new Set(['success', 'inactive']);

export async function readProtectionRuleChange(
  client: GitHubClient,
  target: ProtectionRuleTarget,
): Promise<ProtectionRuleChange> {
  const { owner, repo } = target;
  if (target.pullRequestNumber !== undefined) {
    const change = await readPullRequest(client, { owner, repo, number: target.pullRequestNumber });
    return { change, baseSha: change.baseSha };
  }
  const previous = await findPreviousDeploymentSha(client, target);
  if (previous) {
    const change = await readComparison(client, { owner, repo, base: previous, head: target.sha });
    return { change, baseSha: previous };
  }
  return {
    change: {
      kind: 'compare',
      url: `https://github.com/${owner}/${repo}/commit/${target.sha}`,
      title: `first recorded deployment of ${owner}/${repo} to ${target.environment}`,
      body: '',
      baseSha: target.sha,
      headSha: target.sha,
      files: [],
      commitMessages: [
        `[chaos] no earlier successful deployment to ${target.environment} was found, so the change could not be measured`,
      ],
      truncated: false,
    },
  };
}

/** The sha of the newest other successful deployment of the environment, if any. */
export async function findPreviousDeploymentSha(
  client: GitHubClient,
  target: Pick<ProtectionRuleTarget, 'owner' | 'repo' | 'environment' | 'sha' | 'deploymentId'>,
): Promise<string | undefined> {
  const { data: deployments } = await client.rest.repos.listDeployments({
    owner: target.owner,
    repo: target.repo,
    environment: target.environment,
    per_page: 30,
  });
  const candidates = deployments
    .filter((d) => d.id !== target.deploymentId && d.sha !== target.sha)
    .slice(0, MAX_CANDIDATES);
  for (const candidate of candidates) {
    const { data: statuses } = await client.rest.repos.listDeploymentStatuses({
      owner: target.owner,
      repo: target.repo,
      deployment_id: candidate.id,
      per_page: 1,
    });
    const latest = statuses[0]?.state;
    if (latest && LIVE_STATES.has(latest)) return candidate.sha;
  }
  return undefined;
}
