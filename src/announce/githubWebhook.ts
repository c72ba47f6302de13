/**
 * GitHub App webhooks (issue 9): `POST /webhooks/github`.
 *
 * - Every delivery must carry `X-Hub-Signature-256` made with the app's webhook secret (else 401, nothing recorded)
 *   and is de-duplicated by `X-GitHub-Delivery`.
 * - `deployment_protection_rule` (action `requested`): answered 202 at once (GitHub waits 10 s for an answer), then
 *   the change is read (first pull request, else the comparison with the previous successful deployment of the
 *   environment), the repository is mapped to a service, the deployment is announced and the callback remembered.
 *   When the contract is decided, `reportDecision(contractId)` answers GitHub `approved` / `rejected` with a comment
 *   carrying the contract link, score, deciders and reason. If the deployment cannot be announced, GitHub gets a
 *   comment-only review saying why, so the run stays waiting for a human instead of silently hanging.
 * - `deployment_status` of an announced deployment: `in_progress` → RolloutHooks.started, `success` / `failure` /
 *   `error` → RolloutHooks.finished. Other states are acknowledged and ignored.
 */
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { RequestValidationError } from '../domain/errors.js';
import type { DeploymentRequestDefaults } from '../domain/request.js';
import type { GitHubClient } from '../intake/githubClient.js';
import type { Logger } from '../observability/logger.js';
import { AnnounceError } from './errors.js';
import { readProtectionRuleChange } from './githubChanges.js';
import { PUBLIC_GITHUB_API } from './githubClients.js';
import { bodyErrorHandler, hubSignatureValid } from './http.js';
import { statusUrlOf } from './intakeRouter.js';
import { createMemoryCallbackStore, createMemoryLedger } from './memoryStores.js';
import { AnnouncementOnce } from './once.js';
import type {
  AnnouncementLedger,
  ContractStatus,
  DeploymentAnnouncer,
  DeploymentStatusInfo,
  ProtectionCallback,
  ProtectionCallbackStore,
  RolloutHooks,
} from './port.js';
import { remoteChangeToRequest } from './remoteChange.js';

export interface RepositoryRef {
  owner: string;
  name: string;
  /** `owner/name`. */
  fullName: string;
}

export interface GitHubWebhookOptions {
  /** GITHUB_WEBHOOK_SECRET of the GitHub App. */
  webhookSecret: string;
  announcer: DeploymentAnnouncer;
  /** An Octokit client acting as the given installation (see installationClients in githubClients.ts). */
  clientForInstallation: (installationId: number) => GitHubClient;
  /** GITHUB_API_URL; callback URLs must point below it. Default https://api.github.com. */
  apiBaseUrl?: string;
  /** Repository → service name; default: the repository name (see serviceResolver). */
  resolveService?: (repository: RepositoryRef) => string;
  /** Wire-format values per service (SLO targets, target, rollback_capability, …). */
  defaultsForService?: (service: string) => DeploymentRequestDefaults | undefined;
  hooks?: RolloutHooks;
  ledger?: AnnouncementLedger;
  callbacks?: ProtectionCallbackStore;
  /** Absolute base URL of this server, for contract links in GitHub comments when the announcer gives none. */
  publicBaseUrl?: string;
  /** Largest accepted delivery (default 5 MiB; GitHub caps payloads at 25 MB). */
  bodyLimitBytes?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface ReportOutcome {
  contractId: string;
  /** Callbacks answered by this call. */
  reported: { url: string; state: 'approved' | 'rejected' }[];
  /** Why nothing (more) was sent. */
  skipped?: 'no_pending_callback' | 'unknown_contract' | 'not_decided';
}

export interface GitHubWebhook {
  router: Router;
  /** Answers every pending protection-rule callback of the contract once it is decided; idempotent. */
  reportDecision(contractId: string): Promise<ReportOutcome>;
  /** Resolves when the protection-rule events received so far are processed (tests, graceful shutdown). */
  idle(): Promise<void>;
}

export const DEFAULT_GITHUB_BODY_LIMIT = 5 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Payloads (the fields we use; GitHub sends many more)

const repositorySchema = z.object({
  name: z.string().min(1).max(100),
  full_name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'must be owner/name'),
  owner: z.object({ login: z.string().min(1).max(100) }),
});
const loginSchema = z.object({ login: z.string().max(100) }).nullish();
const shaSchema = z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a commit sha');

export const ProtectionRuleEventSchema = z.object({
  action: z.string().max(64),
  environment: z.string().min(1).max(255),
  event: z.string().max(100).nullish(),
  sha: shaSchema.nullish(),
  ref: z.string().max(1024).nullish(),
  deployment_callback_url: z.string().url().max(2048),
  deployment: z
    .object({
      id: z.number().int().positive(),
      sha: shaSchema,
      environment: z.string().max(255).nullish(),
      payload: z.unknown().optional(),
      creator: loginSchema,
    })
    .nullish(),
  pull_requests: z
    .array(z.object({ number: z.number().int().positive(), user: loginSchema }))
    .max(1000)
    .nullish(),
  repository: repositorySchema,
  installation: z.object({ id: z.number().int().positive() }),
  sender: loginSchema,
});
export type ProtectionRuleEvent = z.infer<typeof ProtectionRuleEventSchema>;

export const DeploymentStatusEventSchema = z.object({
  action: z.string().max(64),
  deployment_status: z.object({
    state: z.string().max(64),
    description: z.string().max(4000).nullish(),
    log_url: z.string().max(2048).nullish(),
    target_url: z.string().max(2048).nullish(),
    environment: z.string().max(255).nullish(),
  }),
  deployment: z.object({ id: z.number().int().positive(), sha: shaSchema, environment: z.string().max(255).nullish() }),
  repository: repositorySchema,
});

const DELIVERY_ID = /^[A-Za-z0-9-]{1,128}$/;
const APPROVED_STATES = new Set(['approved', 'rolling_out', 'promoted']);
const REJECTED_STATES = new Set(['rejected', 'aborted', 'rolled_back']);
/** Wire fields a deployment's `payload` may set (what GitHub cannot know); identity fields are ours. */
const PAYLOAD_FIELDS = [
  'current_error_rate_percent',
  'current_p95_latency_ms',
  'current_p99_latency_ms',
  'target_error_rate_percent',
  'target_p95_latency_ms',
  'target_p99_latency_ms',
  'current_qps',
  'peak_qps',
  'owner_team',
  'reviewers',
  'rollback_capability',
  'dependencies',
  'feature_flag',
  'target',
] as const;

// ---------------------------------------------------------------------------------------------------------------

export function createGitHubWebhook(options: GitHubWebhookOptions): GitHubWebhook {
  if (options.webhookSecret.length === 0) throw new TypeError('createGitHubWebhook: the webhook secret is empty');
  const router = Router();
  const limit = options.bodyLimitBytes ?? DEFAULT_GITHUB_BODY_LIMIT;
  const apiBase = (options.apiBaseUrl ?? PUBLIC_GITHUB_API).replace(/\/+$/, '');
  const ledger = options.ledger ?? createMemoryLedger();
  const callbacks = options.callbacks ?? createMemoryCallbackStore();
  const once = new AnnouncementOnce(ledger, options.announcer);
  const resolveService = options.resolveService ?? ((repo: RepositoryRef) => defaultServiceName(repo.name));
  const log = options.logger;
  const processing = new Set<string>();
  const background = new Set<Promise<void>>();
  const reporting = new Map<string, Promise<ReportOutcome>>();

  router.post(
    '/webhooks/github',
    express.raw({ type: ['application/json', 'application/*+json'], limit }),
    async (req: Request, res: Response) => {
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body)) {
        res.status(415).json({ error: 'unsupported_media_type', message: 'set the webhook content type to JSON' });
        return;
      }
      if (!(await hubSignatureValid(options.webhookSecret, body, req.get('x-hub-signature-256')))) {
        res.status(401).json({ error: 'unauthorized', message: 'missing or wrong X-Hub-Signature-256' });
        return;
      }
      const deliveryId = req.get('x-github-delivery') ?? '';
      const event = req.get('x-github-event') ?? '';
      if (!DELIVERY_ID.test(deliveryId)) {
        res.status(400).json({ error: 'invalid_delivery', message: 'X-GitHub-Delivery is missing or malformed' });
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        res.status(400).json({ error: 'invalid_json', message: 'the delivery is not valid JSON' });
        return;
      }
      const deliveryKey = `github-delivery:${deliveryId}`;
      if (processing.has(deliveryId)) {
        res.status(200).json({ duplicate: true, processing: true });
        return;
      }
      const seen = await once.existing([deliveryKey]);
      if (seen) {
        res.status(200).json({ duplicate: true, contractId: seen.contract.contractId });
        return;
      }

      if (event === 'ping') {
        res.status(200).json({ ok: true });
        return;
      }
      if (event === 'deployment_protection_rule') {
        const parsed = ProtectionRuleEventSchema.safeParse(payload);
        if (!parsed.success) {
          res.status(400).json({ error: 'invalid_payload', message: describeIssues(parsed.error) });
          return;
        }
        if (parsed.data.action !== 'requested') {
          res.status(202).json({ ignored: `action ${parsed.data.action}` });
          return;
        }
        const trusted = callbackRoute(parsed.data.deployment_callback_url, apiBase);
        if (!trusted) {
          log?.warn(
            { deliveryId, repository: parsed.data.repository.full_name },
            'deployment_callback_url is not below the configured GitHub API URL; event ignored',
          );
          res.status(422).json({
            error: 'callback_url_untrusted',
            message: `deployment_callback_url does not point at ${apiBase} (check GITHUB_API_URL)`,
          });
          return;
        }
        processing.add(deliveryId);
        const work = handleProtectionRule(parsed.data, deliveryId)
          .catch((error: unknown) => {
            log?.error({ deliveryId, err: error }, 'protection rule event failed');
          })
          .finally(() => {
            processing.delete(deliveryId);
            background.delete(work);
          });
        background.add(work);
        res.status(202).json({ accepted: true });
        return;
      }
      if (event === 'deployment_status') {
        const parsed = DeploymentStatusEventSchema.safeParse(payload);
        if (!parsed.success) {
          res.status(400).json({ error: 'invalid_payload', message: describeIssues(parsed.error) });
          return;
        }
        await handleDeploymentStatus(parsed.data, deliveryKey, res);
        return;
      }
      res.status(202).json({ ignored: `event ${event || '(none)'}` });
    },
  );
  router.use(bodyErrorHandler(limit));

  async function handleProtectionRule(event: ProtectionRuleEvent, deliveryId: string): Promise<void> {
    const repository: RepositoryRef = {
      owner: event.repository.owner.login,
      name: event.repository.name,
      fullName: event.repository.full_name,
    };
    const sha = event.deployment?.sha ?? event.sha;
    const runId = callbackRoute(event.deployment_callback_url, apiBase)?.runId;
    const callback: ProtectionCallback = {
      url: event.deployment_callback_url,
      environmentName: event.environment,
      installationId: event.installation.id,
      repository: repository.fullName,
      sha: sha ?? '',
      ...(event.deployment ? { githubDeploymentId: event.deployment.id } : {}),
    };
    const client = options.clientForInstallation(event.installation.id);
    try {
      if (!sha) throw new AnnounceError('announce_change_unreadable', 'the event names no commit (sha) to assess');
      const serviceName = resolveService(repository);
      const deploymentId = event.deployment
        ? `gh-${event.deployment.id}`
        : `gh-${repository.name}-${runId ?? sha.slice(0, 12)}`.slice(0, 128);
      const keys = [
        `github-delivery:${deliveryId}`,
        ...(event.deployment ? [githubDeploymentKey(repository.fullName, event.deployment.id)] : []),
        `deployment:${serviceName}:${deploymentId}`,
      ];
      const outcome = await once.run(keys, async () => {
        const { change, baseSha } = await readChange(client, event, repository, sha);
        const request = remoteChangeToRequest(change, {
          serviceName,
          environment: safeEnvironment(event.environment),
          version: sha.slice(0, 12),
          deploymentId,
          ...(baseSha && baseSha !== sha ? { previousVersion: baseSha.slice(0, 12) } : {}),
          ...(change.author
            ? {}
            : event.deployment?.creator?.login
              ? { author: event.deployment.creator.login }
              : event.sender?.login
                ? { author: event.sender.login }
                : {}),
          defaults: {
            ...(options.defaultsForService?.(serviceName) ?? {}),
            ...payloadDefaults(event.deployment?.payload),
          },
        });
        return options.announcer.announce({
          request,
          origin: { kind: 'github-protection-rule', deliveryId, callback },
        });
      });
      await callbacks.add(outcome.contract.contractId, callback);
      log?.info(
        { deliveryId, contractId: outcome.contract.contractId, duplicate: outcome.duplicate },
        'deployment protection rule announced',
      );
      // The contract may already be decided (a duplicate, or an approver faster than us).
      await reportDecision(outcome.contract.contractId);
    } catch (error) {
      await answerWithComment(client, callback, failureComment(error)).catch((commentError: unknown) => {
        log?.error({ deliveryId, err: commentError }, 'could not tell GitHub why the deployment was not announced');
      });
      throw error;
    }
  }

  async function readChange(client: GitHubClient, event: ProtectionRuleEvent, repo: RepositoryRef, sha: string) {
    const pullRequest = event.pull_requests?.[0];
    try {
      return await readProtectionRuleChange(client, {
        owner: repo.owner,
        repo: repo.name,
        environment: event.environment,
        sha,
        ...(pullRequest ? { pullRequestNumber: pullRequest.number } : {}),
        ...(event.deployment ? { deploymentId: event.deployment.id } : {}),
      });
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      throw new AnnounceError(
        'announce_change_unreadable',
        `GitHub did not give the change of ${repo.fullName}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`,
        { cause: error },
      );
    }
  }

  async function handleDeploymentStatus(
    event: z.infer<typeof DeploymentStatusEventSchema>,
    deliveryKey: string,
    res: Response,
  ): Promise<void> {
    const contractId = await ledger.lookup(githubDeploymentKey(event.repository.full_name, event.deployment.id));
    if (!contractId) {
      res.status(202).json({ ignored: 'not an announced deployment' });
      return;
    }
    const state = event.deployment_status.state;
    const info: DeploymentStatusInfo = {
      repository: event.repository.full_name,
      environment: event.deployment_status.environment ?? event.deployment.environment ?? '',
      githubDeploymentId: event.deployment.id,
      sha: event.deployment.sha,
      ...(event.deployment_status.description ? { description: event.deployment_status.description } : {}),
      ...(event.deployment_status.log_url || event.deployment_status.target_url
        ? { logUrl: (event.deployment_status.log_url ?? event.deployment_status.target_url) as string }
        : {}),
    };
    const hooks = options.hooks;
    if (!hooks || !['in_progress', 'success', 'failure', 'error'].includes(state)) {
      res.status(202).json({ contractId, ignored: `state ${state}` });
      return;
    }
    try {
      if (state === 'in_progress') await hooks.started(contractId, info);
      else await hooks.finished(contractId, state as 'success' | 'failure' | 'error', info);
    } catch (error) {
      log?.error({ contractId, err: error }, 'rollout hook failed for a deployment_status event');
      res.status(500).json({ error: 'hook_failed', message: 'the rollout guardian did not take the status' });
      return;
    }
    await ledger.record(deliveryKey, contractId);
    res.status(200).json({ contractId, hook: state === 'in_progress' ? 'started' : 'finished', state });
  }

  async function reportDecision(contractId: string): Promise<ReportOutcome> {
    // One report at a time per contract, so two decision events cannot both answer the same callback.
    const previous = reporting.get(contractId) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => reportNow(contractId));
    reporting.set(contractId, next);
    try {
      return await next;
    } finally {
      if (reporting.get(contractId) === next) reporting.delete(contractId);
    }
  }

  async function reportNow(contractId: string): Promise<ReportOutcome> {
    const pending = (await callbacks.list(contractId)).filter((entry) => !entry.reported);
    if (pending.length === 0) return { contractId, reported: [], skipped: 'no_pending_callback' };
    const status = await options.announcer.status(contractId);
    if (!status) return { contractId, reported: [], skipped: 'unknown_contract' };
    const verdict = APPROVED_STATES.has(status.state)
      ? 'approved'
      : REJECTED_STATES.has(status.state)
        ? 'rejected'
        : undefined;
    if (!verdict) return { contractId, reported: [], skipped: 'not_decided' };
    const comment = decisionComment(status, contractLink(status));
    const reported: ReportOutcome['reported'] = [];
    const failures: unknown[] = [];
    for (const { callback } of pending) {
      try {
        await review(options.clientForInstallation(callback.installationId), callback, { state: verdict, comment });
        await callbacks.markReported(contractId, callback.url, verdict);
        reported.push({ url: callback.url, state: verdict });
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) {
      throw new AnnounceError(
        'announce_callback_failed',
        `GitHub did not accept ${failures.length} of ${pending.length} protection-rule answers for ${contractId}`,
        { cause: failures[0] },
      );
    }
    return { contractId, reported };
  }

  function contractLink(status: ContractStatus): string {
    if (status.url) return status.url;
    const path = statusUrlOf(status.contractId);
    return options.publicBaseUrl ? `${options.publicBaseUrl.replace(/\/+$/, '')}${path}` : path;
  }

  async function answerWithComment(client: GitHubClient, callback: ProtectionCallback, comment: string) {
    await review(client, callback, { comment });
  }

  async function review(
    client: GitHubClient,
    callback: ProtectionCallback,
    answer: { state?: 'approved' | 'rejected'; comment: string },
  ): Promise<void> {
    const route = callbackRoute(callback.url, apiBase);
    if (!route) {
      throw new AnnounceError('announce_callback_url_untrusted', `the callback URL is not below ${apiBase}`);
    }
    try {
      await client.rest.actions.reviewCustomGatesForRun({
        owner: route.owner,
        repo: route.repo,
        run_id: route.runId,
        environment_name: callback.environmentName,
        ...(answer.state ? { state: answer.state } : {}),
        comment: answer.comment,
      });
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      throw new AnnounceError(
        'announce_callback_failed',
        `GitHub refused the protection-rule review${typeof status === 'number' ? ` (HTTP ${status})` : ''}`,
        { cause: error },
      );
    }
  }

  return {
    router,
    reportDecision,
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers (exported for tests and for the composition root)

/** `https://api.github.com/repos/o/r/actions/runs/42/deployment_protection_rule` → o, r, 42 (when below apiBase). */
export function callbackRoute(
  url: string,
  apiBase: string,
): { owner: string; repo: string; runId: number } | undefined {
  const base = apiBase.replace(/\/+$/, '');
  if (!url.startsWith(`${base}/`)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.search || parsed.hash) return undefined;
  const rest = parsed.pathname.slice(new URL(base).pathname.replace(/\/+$/, '').length);
  const match =
    /^\/repos\/([A-Za-z0-9_.-]{1,100})\/([A-Za-z0-9_.-]{1,100})\/actions\/runs\/(\d{1,20})\/deployment_protection_rule$/.exec(
      rest,
    );
  if (!match) return undefined;
  return { owner: match[1] as string, repo: match[2] as string, runId: Number(match[3]) };
}

/** Repository name → a valid service name (`Web.API` stays, `my repo` → `my-repo`). */
export function defaultServiceName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned === '' ? 'service' : cleaned.slice(0, 128);
}

/**
 * A resolver from an explicit map (`owner/name` or bare repository name → service), falling back to the
 * repository name. Keys are compared case-insensitively, as GitHub does.
 */
export function serviceResolver(map: Readonly<Record<string, string>> = {}): (repo: RepositoryRef) => string {
  const lower = new Map(Object.entries(map).map(([key, service]) => [key.toLowerCase(), service]));
  return (repo) =>
    lower.get(repo.fullName.toLowerCase()) ?? lower.get(repo.name.toLowerCase()) ?? defaultServiceName(repo.name);
}

/** GitHub environment names may contain spaces; the request's environment is a safe name. */
export function safeEnvironment(name: string): string {
  const cleaned = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return cleaned === '' ? 'production' : cleaned.slice(0, 64);
}

export function githubDeploymentKey(fullName: string, deploymentId: number): string {
  return `github-deployment:${fullName.toLowerCase()}:${deploymentId}`;
}

function payloadDefaults(payload: unknown): DeploymentRequestDefaults {
  let value = payload;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const source = value as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const field of PAYLOAD_FIELDS) if (Object.hasOwn(source, field)) picked[field] = source[field];
  // Validated by parseDeploymentRequest like any other input; a bad field is named in the failure comment.
  return picked as DeploymentRequestDefaults;
}

export function decisionComment(status: ContractStatus, link: string): string {
  const verdict = APPROVED_STATES.has(status.state) ? 'approved' : 'rejected';
  const state = status.state === verdict ? verdict : `${verdict} (${status.state})`;
  const parts = [`Chaos Negotiator: contract ${status.contractId} r${status.revision} ${state}`];
  if (status.risk) parts.push(`risk ${status.risk.score}/100 (${status.risk.level})`);
  if (status.decidedBy && status.decidedBy.length > 0) parts.push(`decided by ${status.decidedBy.join(', ')}`);
  if (status.reason) parts.push(`reason: ${status.reason.replace(/\s+/g, ' ').trim().slice(0, 500)}`);
  parts.push(link);
  return parts.join(' · ').slice(0, 2000);
}

function failureComment(error: unknown): string {
  const why =
    error instanceof AnnounceError
      ? error.message
      : error instanceof RequestValidationError
        ? `the deployment request is invalid: ${error.message}`
        : 'an internal error';
  return `Chaos Negotiator could not announce this deployment (${why.slice(0, 500)}). Approve or reject it in GitHub, or re-run the job.`;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '$'}: ${issue.message}`)
    .join('; ');
}
