/**
 * The composition root: builds every adapter from the validated configuration and injects them. Nothing else in
 * the process constructs a store, a negotiator, a chat surface, the rollout guardian or the HTTP server. Tests call
 * composeApp with overrides (a store, a clock, a logger) and get the same wiring as production.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express, Router } from 'express';
import { Counter, type Registry } from 'prom-client';
import { InboundEvents } from '../chat/inboundEvents.js';
import type { ChatSurface, SurfaceName } from '../chat/port.js';
import { ChatService, type NegotiationPort, type PullRequestReader, type RolloutControl } from '../chat/service.js';
import type { AppConfig } from '../config/config.js';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../domain/policy.js';
import { createPolicyEngine } from '../negotiation/engine.js';
import { OfflineNegotiator } from '../negotiation/offlineNegotiator.js';
import { NegotiationService } from '../negotiation/service.js';
import type { TurnLog } from '../negotiation/types.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { type ChaosMetrics, createMetrics } from '../observability/metrics.js';
import type { SqlStatistics } from '../persistence/driver.js';
import { createHttpApp, type HealthReport, type ListeningServer, listen } from '../server/http.js';
import type { SlackApp, SlackClientOptions } from '../slack/index.js';
import { botAppIdOf, createTeamsAdapter } from '../teams/adapter.js';
import { createTeamsApplication } from '../teams/bot.js';
import { TeamsSurface } from '../teams/surface.js';
import { notifyDecisions } from './announcer.js';
import type { AppStore } from './appStore.js';
import { createGuardian, type Guardian } from './guardian.js';
import { createIntegrations } from './integrations.js';
import { pullRequestReaderFrom } from './pullRequests.js';
import { openAppStore } from './storeAdapter.js';

export type { AppStore } from './appStore.js';

export interface ComposeOverrides {
  /** How the store is opened; default: PGlite under CHAOS_DATA_DIR, or PostgreSQL with DATABASE_URL. */
  openStore?: StoreOpener;
  logger?: Logger;
  metrics?: ChaosMetrics;
  /** The store to use instead of opening one from the configuration. */
  store?: AppStore;
  negotiation?: NegotiationPort;
  clock?: () => Date;
  newIdSuffix?: () => string;
  pullRequests?: PullRequestReader;
  /** Replaces the rollout guardian's chat entry point (tests). */
  rollouts?: RolloutControl;
  /** Start the rollout worker's polling loop on listen (default true). */
  startWorker?: boolean;
  /** Slack Web API client options (tests point it at a local fake). */
  slackClientOptions?: SlackClientOptions;
  /** Other adapters' HTTP routes (CI intake, webhooks). */
  routers?: { path: string; router: Router }[];
}

export interface ChaosApp {
  config: AppConfig;
  logger: Logger;
  metrics: ChaosMetrics;
  store: AppStore;
  policy: Policy;
  chat: ChatService;
  teams: TeamsSurface;
  /** Present when Slack is configured. */
  slack?: SlackApp;
  /** Absent when `rollouts` was overridden. */
  guardian?: Guardian;
  http: Express;
  /** Listens on config.server (host, port); resolves with the URL. */
  listen(): Promise<ListeningServer>;
  /** Waits for background chat work, stops listening, closes the store. */
  close(): Promise<void>;
}

export type StoreOpener = (config: AppConfig, logger: Logger) => Promise<AppStore>;

export async function composeApp(config: AppConfig, overrides: ComposeOverrides = {}): Promise<ChaosApp> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, name: 'chaos-negotiator' });
  const metrics = overrides.metrics ?? createMetrics();
  const policy = config.policyFile ? loadPolicyFile(config.policyFile) : DEFAULT_POLICY;
  const store = overrides.store ?? (await (overrides.openStore ?? openAppStore)(config, logger));
  const clock = overrides.clock ?? (() => new Date());
  if (store.driver) exportStoreStatistics(metrics.registry, store.driver);

  const negotiation = overrides.negotiation ?? (await negotiationFor(config, policy, store.turnLog, logger));

  const pullRequests = overrides.pullRequests ?? pullRequestReaderFrom(config.github);
  const adapter = createTeamsAdapter(config.teams.auth);
  const botAppId = botAppIdOf(config.teams.auth);
  const teams = new TeamsSurface(adapter, store, botAppId);
  // Slack (Bolt and its Web API client) is loaded only when configured.
  const slackModule = config.slack ? await import('../slack/index.js') : undefined;
  const slackSurface =
    config.slack && slackModule
      ? slackModule.createSlackSurface({
          botToken: config.slack.botToken,
          logger,
          clientOptions: {
            ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
            ...overrides.slackClientOptions,
          },
        })
      : undefined;
  const surfaces: Partial<Record<SurfaceName, ChatSurface>> = {
    teams,
    ...(slackSurface ? { slack: slackSurface } : {}),
  };

  const guardian = overrides.rollouts
    ? undefined
    : await createGuardian({ config, store, surfaces, logger, metrics, clock, policy });
  const rollouts = overrides.rollouts ?? guardian?.service;

  // Decisions settle GitHub protection-rule callbacks; the integrations are built after the chat service.
  let onDecided: (contractId: string) => void = () => undefined;
  const chat = new ChatService({
    store: notifyDecisions(store, (contractId) => onDecided(contractId)),
    negotiation,
    surfaces,
    policy,
    authorization: { approvers: config.approvers, openWhenUnconfigured: config.mode === 'development' },
    clock,
    newIdSuffix: overrides.newIdSuffix ?? (() => randomBytes(3).toString('hex')),
    ...(pullRequests ? { pullRequests } : {}),
    ...(rollouts ? { rollouts } : {}),
    metrics,
    logger,
  });

  // Redelivered Teams and Slack messages: claimed in the store before the work, done once it is stored.
  const inboundEvents = new InboundEvents(store, { logger });
  const slack =
    config.slack && slackSurface && slackModule
      ? slackModule.createSlackApp({
          chat,
          surface: slackSurface,
          botToken: config.slack.botToken,
          ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
          ...(config.slack.appToken ? { appToken: config.slack.appToken } : {}),
          socketMode: config.slack.socketMode,
          inboundEvents,
          logger,
        })
      : undefined;
  const integrations = await createIntegrations({
    config,
    store,
    chat,
    surfaces,
    botAppId,
    ...(guardian ? { guardian } : {}),
    logger,
  });
  onDecided = integrations.onDecided;
  const routers = [
    ...(slack?.router && slackModule ? [{ path: slackModule.SLACK_EVENTS_PATH, router: slack.router }] : []),
    ...integrations.routers,
    ...(overrides.routers ?? []),
  ];

  const application = createTeamsApplication({
    adapter,
    chat,
    surface: teams,
    botAppId,
    logger,
    inboundEvents,
    isContractThread: async (threadKey) => (await store.contractForThread('teams', threadKey)) !== undefined,
  });

  const http = createHttpApp({
    logger,
    metrics,
    trustProxy: config.server.trustProxy,
    teams: (req, res) => adapter.process(req, res, async (context) => void (await application.run(context))),
    health: async (): Promise<HealthReport> => {
      const db = await store.health().catch((error: unknown) => ({ ok: false, detail: String(error) }));
      return {
        status: db.ok ? 'ok' : 'down',
        checks: {
          store: db,
          teams: {
            ok: true,
            detail: config.teams.auth.kind === 'none' ? 'authentication off (local only)' : 'authenticated',
          },
        },
      };
    },
    routers,
  });

  let listening: ListeningServer | undefined;
  return {
    config,
    logger,
    metrics,
    store,
    policy,
    chat,
    teams,
    ...(slack ? { slack } : {}),
    ...(guardian ? { guardian } : {}),
    http,
    async listen() {
      listening = await listen(http, listenHost(config), config.server.port);
      if (slack?.mode === 'socket') await slack.start();
      if (guardian && overrides.startWorker !== false) guardian.worker.start();
      return listening;
    },
    async close() {
      await listening?.close();
      await guardian?.worker.stop();
      await slack?.close();
      await integrations.idle();
      await chat.background.idle();
      await store.close();
    },
  };
}

/**
 * The negotiation service. The model path (openai, @azure/identity, the tokenizer tables) is loaded only when a model
 * is configured; the embedded default is the offline negotiator alone.
 */
async function negotiationFor(
  config: AppConfig,
  policy: Policy,
  turns: TurnLog,
  logger: Logger,
): Promise<NegotiationPort> {
  if (config.model.provider === 'offline') {
    return new NegotiationService({ turns, offline: new OfflineNegotiator({ engine: createPolicyEngine(policy) }) });
  }
  const { createNegotiationService } = await import('../negotiation/index.js');
  return createNegotiationService({
    model: config.model,
    policy,
    turns,
    timeoutMs: config.negotiationTimeoutMs,
    onFallback: (error, contractId) =>
      logger.warn({ contractId, code: error.code }, 'model negotiation fell back to the offline negotiator'),
  });
}

/**
 * Where to listen. Without Bot Framework authentication /api/messages accepts anyone's activities and replies to
 * whatever serviceUrl they name, so the server then binds to the loopback interface only, whatever HOST says.
 */
export function listenHost(config: AppConfig): string {
  return config.teams.auth.kind === 'none' ? '127.0.0.1' : config.server.host;
}

/** chaos_store_statements_total and chaos_store_transactions_total, read from the driver when scraped. */
function exportStoreStatistics(registry: Registry, driver: { statistics(): SqlStatistics }): void {
  const series = [
    ['chaos_store_statements_total', 'SQL statements sent to the store (BEGIN and COMMIT not counted)', 'statements'],
    ['chaos_store_transactions_total', 'Store transactions', 'transactions'],
  ] as const;
  for (const [name, help, field] of series) {
    if (registry.getSingleMetric(name)) continue;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(driver.statistics()[field]);
      },
    });
  }
}

function loadPolicyFile(path: string): Policy {
  const text = readFileSync(path, 'utf8');
  return parsePolicy(text, /\.json$/i.test(path) ? 'json' : 'yaml');
}
