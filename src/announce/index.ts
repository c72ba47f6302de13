/**
 * Announced deployments: the CI intake (POST /api/deployments, GET /api/contracts/:id) and the GitHub App webhook
 * (deployment protection rules, deployment statuses). The composition root implements the ports in port.ts and
 * mounts the routers at `/`.
 */
export { AnnounceError, type AnnounceErrorCode } from './errors.js';
export { findPreviousDeploymentSha, readProtectionRuleChange } from './githubChanges.js';
export { type InstallationClientFactory, installationClients, PUBLIC_GITHUB_API } from './githubClients.js';
export {
  callbackRoute,
  createGitHubWebhook,
  DEFAULT_GITHUB_BODY_LIMIT,
  decisionComment,
  defaultServiceName,
  type GitHubWebhook,
  type GitHubWebhookOptions,
  type ReportOutcome,
  type RepositoryRef,
  safeEnvironment,
  serviceResolver,
} from './githubWebhook.js';
export type { RateLimitSettings } from './http.js';
export {
  contractView,
  createIntakeRouter,
  DEFAULT_INTAKE_BODY_LIMIT,
  DEFAULT_INTAKE_RATE_LIMIT,
  DEFAULT_STATUS_RATE_LIMIT,
  type IntakeRouterOptions,
  statusUrlOf,
} from './intakeRouter.js';
export { findJsonSyntaxProblem, type JsonSyntaxProblem } from './jsonSyntax.js';
export { createMemoryCallbackStore, createMemoryLedger } from './memoryStores.js';
export type * from './port.js';
export { addedLinesFromPatch, type RemoteChangeMeta, remoteChangeToRequest } from './remoteChange.js';
