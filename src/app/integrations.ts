/**
 * HTTP integrations beyond chat, each enabled by its own setting: the CI intake and contract status (HMAC secret),
 * GitHub deployment protection rules (GitHub App), and the Flagger and Argo Rollouts endpoints (engine token).
 */
import express, { Router } from 'express';
import type { ChatSurface, SurfaceName } from '../chat/port.js';
import type { ChatService } from '../chat/service.js';
import type { AppConfig } from '../config/index.js';
import { loadServiceDirectory, type ServiceDirectory } from '../config/services.js';
import type { Logger } from '../observability/logger.js';
import type { PersistentStore } from '../persistence/index.js';
import { createArgoRouter } from '../webhooks/argo.js';
import { createFlaggerRouter } from '../webhooks/flagger.js';
import { createChatAnnouncer } from './announcer.js';
import type { AppStore } from './appStore.js';
import type { Guardian } from './guardian.js';

export interface Integrations {
  routers: { path: string; router: Router }[];
  /** Called when a contract is decided: answers GitHub protection-rule callbacks. */
  onDecided(contractId: string): void;
  idle(): Promise<void>;
}

function withJson(router: Router): Router {
  const wrapped = Router();
  wrapped.use(express.json({ limit: '64kb' }));
  wrapped.use(router);
  return wrapped;
}

export async function createIntegrations(input: {
  config: AppConfig;
  store: AppStore & Partial<Pick<PersistentStore, 'announcements' | 'protectionCallbacks'>>;
  chat: ChatService;
  surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  botAppId: string;
  guardian?: Guardian;
  logger: Logger;
}): Promise<Integrations> {
  const { config, store, guardian, logger } = input;
  const routers: Integrations['routers'] = [];
  const services: ServiceDirectory | undefined = config.servicesFile
    ? loadServiceDirectory(config.servicesFile)
    : undefined;

  if (guardian && config.engineWebhookToken) {
    routers.push({
      path: '/webhooks/flagger',
      router: withJson(createFlaggerRouter(guardian.engine, { token: config.engineWebhookToken })),
    });
    routers.push({
      path: '/api/argo',
      router: withJson(createArgoRouter(guardian.engine, { token: config.engineWebhookToken })),
    });
  }

  const needsAnnouncer = Boolean(config.intakeSecret || config.github.webhookSecret);
  if (!needsAnnouncer) return { routers, onDecided: () => undefined, idle: async () => undefined };

  const announce = await import('../announce/index.js');
  const announcer = createChatAnnouncer({
    chat: input.chat,
    store,
    surfaces: input.surfaces,
    ...(services ? { services } : {}),
    botAppId: input.botAppId,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  });
  const ledger = store.announcements ?? announce.createMemoryLedger();

  if (config.intakeSecret) {
    routers.push({
      path: '/',
      router: announce.createIntakeRouter({
        secret: config.intakeSecret,
        ...(config.statusTokens ? { readTokens: config.statusTokens } : {}),
        announcer,
        ledger,
        rateLimit: { windowMs: 60_000, limit: config.intakeRateLimitPerMinute },
      }),
    });
  }

  const clientForInstallation = config.github.webhookSecret ? announce.installationClients(config.github) : undefined;
  if (!config.github.webhookSecret || !clientForInstallation) {
    if (config.github.webhookSecret)
      logger.warn({}, 'GITHUB_WEBHOOK_SECRET is set without a GitHub App (GITHUB_APP_ID): protection rules are off');
    return { routers, onDecided: () => undefined, idle: async () => undefined };
  }
  const repositories: Record<string, string> = {};
  for (const [service, route] of Object.entries(services?.services ?? {})) {
    for (const repository of route.repositories ?? []) repositories[repository] = service;
  }
  const webhook = announce.createGitHubWebhook({
    webhookSecret: config.github.webhookSecret,
    announcer,
    clientForInstallation,
    ...(config.github.apiUrl ? { apiBaseUrl: config.github.apiUrl } : {}),
    resolveService: announce.serviceResolver(repositories),
    ledger,
    callbacks: store.protectionCallbacks ?? announce.createMemoryCallbackStore(),
    ...(config.publicUrl ? { publicBaseUrl: config.publicUrl } : {}),
    ...(guardian ? { hooks: rolloutHooks(guardian, store) } : {}),
    logger,
  });
  routers.push({ path: '/', router: webhook.router });
  return {
    routers,
    onDecided: (contractId) =>
      void webhook
        .reportDecision(contractId)
        .catch((error: unknown) => logger.error({ err: error, contractId }, 'could not report the decision to GitHub')),
    idle: () => webhook.idle(),
  };
}

/** GitHub `deployment_status` events start and finish the guardian's watch of an approved contract. */
function rolloutHooks(guardian: Guardian, store: AppStore) {
  const actor = { id: 'github', displayName: 'GitHub deployment', surface: 'teams' as const };
  return {
    async started(contractId: string): Promise<void> {
      const contract = await store.getContract(contractId);
      if (contract?.state === 'approved') await guardian.service.startRollout(contract, actor);
    },
    async finished(contractId: string, state: 'success' | 'failure' | 'error'): Promise<void> {
      const record = await guardian.repository.findByContract(contractId);
      if (!record) return;
      await guardian.service
        .send(
          contractId,
          state === 'success'
            ? { type: 'promote', actor: 'GitHub deployment', full: true }
            : { type: 'rollback_now', actor: 'GitHub deployment', reason: `the deployment ended in ${state}` },
        )
        .catch(() => undefined);
    },
  };
}
