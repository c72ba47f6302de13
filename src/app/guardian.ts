/**
 * Builds the rollout guardian from the configuration: the metric provider, the traffic actuator, the rollback
 * executor, the thread notifier, the worker and the service chat buttons and engine webhooks talk to.
 */

import { hostname } from 'node:os';
import type { TokenCredential } from '@azure/identity';
import type { TrafficActuator } from '../actuators/ports.js';
import { RollbackExecutor } from '../actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../actuators/simulatedActuator.js';
import {
  ARGO_ROLLOUTS_TEMPLATES,
  CommandTemplateActuator,
  type CommandTemplates,
} from '../actuators/templateActuator.js';
import type { ChatSurface, SurfaceName, ThreadRef } from '../chat/port.js';
import type { ChatStore } from '../chat/store.js';
import type { AppConfig } from '../config/index.js';
import { loadServiceDirectory, routeForService, type ServiceDirectory } from '../config/services.js';
import type { MetricProvider } from '../domain/metrics.js';
import type { Contract, ContractState } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import { EngineRollouts, stepHold } from '../guardian/engineRollouts.js';
import { ENGINE_PROMQL, type EngineName, engineWorkloads } from '../guardian/engineTargets.js';
import { ChatRolloutNotifier } from '../guardian/notifier.js';
import { InMemoryRolloutRepository, type RolloutRecord, type RolloutRepository } from '../guardian/repository.js';
import { GuardianService } from '../guardian/service.js';
import { RolloutWorker, type WorkerLogger } from '../guardian/worker.js';
import { PrometheusMetricProvider } from '../metrics/prometheus.js';
import { SimulatorFleet } from '../metrics/simulatorFleet.js';
import type { ChaosMetrics } from '../observability/metrics.js';
import {
  APPROVED_STATES,
  type EngineEvent,
  type EngineObjectRef,
  type EnginePort,
  type EngineRolloutView,
} from '../webhooks/enginePort.js';

/** What the guardian needs from the store beyond the chat port; absent parts fall back to memory (tests). */
export interface GuardianStore extends ChatStore {
  rollouts?: RolloutRepository;
  updateState?(contractId: string, expected: ContractState, next: ContractState): Promise<boolean>;
  findOpenContractByTarget?(namespace: string, resourceName: string): Promise<Contract | undefined>;
}

/** NGINX ingress canaries: the canary ingress's weight annotation carries the traffic share. */
export const KUBERNETES_INGRESS_TEMPLATES: CommandTemplates = {
  setWeight:
    'kubectl -n {{namespace}} annotate ingress {{name}}-canary nginx.ingress.kubernetes.io/canary-weight={{weight}} --overwrite',
  promote:
    'kubectl -n {{namespace}} annotate ingress {{name}}-canary nginx.ingress.kubernetes.io/canary-weight=100 --overwrite',
  abort:
    'kubectl -n {{namespace}} annotate ingress {{name}}-canary nginx.ingress.kubernetes.io/canary-weight=0 --overwrite',
};

export interface Guardian {
  service: GuardianService;
  engineRollouts: EngineRollouts;
  worker: RolloutWorker;
  engine: EnginePort;
  repository: RolloutRepository;
}

// The Azure SDKs are loaded only when the configuration uses them: together they cost tens of MB of memory that
// the embedded default (simulator, dry-run) never needs.
async function credentialFor(config: AppConfig): Promise<TokenCredential> {
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import('@azure/identity');
  return config.azureClientId
    ? new ManagedIdentityCredential({ clientId: config.azureClientId })
    : new DefaultAzureCredential();
}

async function metricProvider(config: AppConfig): Promise<{ provider: MetricProvider; simulator?: SimulatorFleet }> {
  const metrics = config.metrics;
  switch (metrics.provider) {
    case 'simulator': {
      // One simulator per rollout (its own seed, weight and interval), not one shared by every rollout.
      const simulator = new SimulatorFleet({ scenario: metrics.scenario, seed: 1, qps: 200, noise: 'realistic' });
      return { provider: simulator, simulator };
    }
    case 'prometheus':
      return { provider: new PrometheusMetricProvider({ baseUrl: metrics.url }) };
    case 'azure-monitor': {
      if (!metrics.workspaceId) throw new Error('METRICS_PROVIDER=azure-monitor needs AZURE_MONITOR_WORKSPACE_ID');
      const [{ LogsQueryClient }, { AppInsightsMetricProvider }] = await Promise.all([
        import('@azure/monitor-query-logs'),
        import('../metrics/appInsights.js'),
      ]);
      const client = new LogsQueryClient(
        await credentialFor(config),
        metrics.logsEndpoint ? { endpoint: metrics.logsEndpoint } : {},
      );
      return { provider: new AppInsightsMetricProvider({ client, workspaceId: metrics.workspaceId }) };
    }
  }
}

async function actuatorFor(config: AppConfig, simulator: SimulatorFleet | undefined): Promise<TrafficActuator> {
  const rollout = config.rollout;
  switch (rollout.target) {
    case 'dry-run':
      return simulator
        ? new SimulatedActuator((target, percent) => simulator.setCanaryPercent(target, percent))
        : new CommandTemplateActuator(KUBERNETES_INGRESS_TEMPLATES, { dryRun: true });
    case 'kubernetes':
      return new CommandTemplateActuator(KUBERNETES_INGRESS_TEMPLATES);
    case 'argo-rollouts':
      return new CommandTemplateActuator(ARGO_ROLLOUTS_TEMPLATES);
    case 'azure-container-apps': {
      const [{ ContainerAppsAPIClient }, { ContainerAppsActuator }] = await Promise.all([
        import('@azure/arm-appcontainers'),
        import('../actuators/containerAppsActuator.js'),
      ]);
      return new ContainerAppsActuator({
        client: new ContainerAppsAPIClient(await credentialFor(config), rollout.subscriptionId),
        resourceGroup: rollout.resourceGroup,
      });
    }
  }
}

const FINAL_STATE: Partial<Record<RolloutRecord['state']['phase'], ContractState>> = {
  promoted: 'promoted',
  rolled_back: 'rolled_back',
  aborted: 'aborted',
  failed: 'aborted',
};

export async function createGuardian(input: {
  config: AppConfig;
  store: GuardianStore;
  surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  logger: WorkerLogger;
  metrics?: ChaosMetrics;
  clock?: () => Date;
  /** The policy contracts are drafted under; the judge configuration derives from it (default DEFAULT_POLICY). */
  policy?: Policy;
}): Promise<Guardian> {
  const { config, store, surfaces, logger } = input;
  const clock = input.clock ?? (() => new Date());
  const repository = store.rollouts ?? new InMemoryRolloutRepository();
  const { provider, simulator } = await metricProvider(config);
  const notifier = new ChatRolloutNotifier(surfaces, clock);
  const workerId = `${hostname()}:${process.pid}`;
  const recordOutcome = (record: RolloutRecord) => {
    const next = FINAL_STATE[record.state.phase];
    input.metrics?.rollouts.inc({ outcome: record.state.phase });
    if (!next) return;
    void (async () => {
      await store.updateState?.(record.contractId, 'rolling_out', next);
      await store.audit({
        type: `rollout.${record.state.phase}`,
        contractId: record.contractId,
        revision: record.revision,
        data: {
          rollout: record.id,
          ...(record.engine ? { engine: record.engine } : {}),
          verdict: record.latestVerdict,
          reasons: record.latestReasons.slice(0, 3),
        },
        at: clock(),
      });
    })().catch((error: unknown) =>
      logger.error({ err: error, rollout: record.id }, 'could not record the rollout outcome'),
    );
  };
  const worker = new RolloutWorker({
    repository,
    metrics: provider,
    actuator: await actuatorFor(config, simulator),
    rollback: new RollbackExecutor({ dryRun: config.rollout.target === 'dry-run' }),
    notifier,
    workerId,
    ...(input.policy ? { policy: input.policy } : {}),
    clock,
    leaseMs: config.guardian.leaseMs,
    pollMs: config.guardian.pollMs,
    logger,
    onVerdict: (_record, result) => input.metrics?.judgeVerdicts.inc({ verdict: result.verdict }),
    onFinished: recordOutcome,
  });
  const service = new GuardianService({
    repository,
    clock,
    onStarted: async (contract, record, actor) => {
      await store.updateState?.(contract.id, 'approved', 'rolling_out');
      await store.audit({
        type: 'rollout.started',
        contractId: contract.id,
        revision: contract.revision,
        actor: {
          id: actor.id,
          surface: actor.surface,
          ...(actor.displayName ? { displayName: actor.displayName } : {}),
        },
        data: { rollout: record.id },
        at: clock(),
      });
    },
  });

  const services: ServiceDirectory | undefined = config.servicesFile
    ? loadServiceDirectory(config.servicesFile)
    : undefined;
  const engineProviders = new Map<EngineName, MetricProvider>();
  const engineRollouts = new EngineRollouts({
    repository,
    // With Prometheus the engine's workloads are told apart by pod or service (ENGINE_PROMQL); other providers
    // receive the workload names as the versions to compare.
    metricsFor: (engine) => {
      if (config.metrics.provider !== 'prometheus') return provider;
      let engineProvider = engineProviders.get(engine);
      if (!engineProvider) {
        engineProvider = new PrometheusMetricProvider({
          baseUrl: config.metrics.url,
          templates: ENGINE_PROMQL[engine],
        });
        engineProviders.set(engine, engineProvider);
      }
      return engineProvider;
    },
    notifier,
    workerId,
    clock,
    ...(input.policy ? { policy: input.policy } : {}),
    onStarted: async (contract, record) => {
      await store.updateState?.(contract.id, 'approved', 'rolling_out');
      await store.audit({
        type: 'rollout.started',
        contractId: contract.id,
        revision: contract.revision,
        actor: { id: `engine:${record.engine}`, displayName: record.engine, surface: 'system' },
        data: {
          rollout: record.id,
          engine: record.engine,
          target: `${record.target.namespace}/${record.target.resourceName}`,
        },
        at: clock(),
      });
    },
    onVerdict: (record, result) => {
      input.metrics?.judgeVerdicts.inc({ verdict: result.verdict });
      if (result.verdict !== 'FAIL') return;
      void store
        .audit({
          type: 'rollout.judge_failed',
          contractId: record.contractId,
          revision: record.revision,
          data: { rollout: record.id, engine: record.engine, reasons: result.reasons.slice(0, 3) },
          at: clock(),
        })
        .catch((error: unknown) => logger.error({ err: error, rollout: record.id }, 'could not audit the verdict'));
    },
    onFinished: recordOutcome,
    onWarning: (record, error) =>
      logger.warn({ err: error, rollout: record.id }, 'metrics unavailable for an engine call'),
  });

  const contractFor = async (namespace: string, name: string) => store.findOpenContractByTarget?.(namespace, name);
  const viewOf = async (contract: Contract): Promise<EngineRolloutView> => {
    const record = await repository.findByContract(contract.id);
    return engineView(contract, record, clock());
  };
  /** The engine's object for a contract: the names in the request, or the contract's target when Argo sends none. */
  const objectFor = (ref: EngineObjectRef, contract: Contract) => {
    const name = ref.name || contract.deployment.target.resourceName;
    const route = services ? routeForService(services, contract.deployment.serviceName) : undefined;
    const workloads = engineWorkloads(ref.engine, name, route);
    return {
      engine: ref.engine,
      namespace: route?.namespace ?? (ref.namespace || contract.deployment.target.namespace),
      name,
      canaryWorkload: workloads.canary,
      baselineWorkload: workloads.baseline,
    };
  };
  const begin = async (ref: EngineObjectRef, contract: Contract) => {
    const link = await store.getLink(contract.id);
    return engineRollouts.begin(contract, objectFor(ref, contract), link?.thread);
  };
  const engine: EnginePort = {
    async findByTarget(ref) {
      const contract = await contractFor(ref.namespace, ref.name);
      return contract ? viewOf(contract) : null;
    },
    async findByContractId(contractId) {
      const contract = await store.getContract(contractId);
      return contract ? viewOf(contract) : null;
    },
    async start(ref) {
      const contract = await contractFor(ref.namespace, ref.name);
      if (!contract) return null;
      if (!APPROVED_STATES.has(contract.state)) return viewOf(contract);
      const record = await begin(ref, contract);
      const current = (await store.getContract(contract.id)) ?? contract;
      return engineView(current, record, clock());
    },
    async judge(ref, options = {}) {
      const contract = options.contractId
        ? await store.getContract(options.contractId)
        : await contractFor(ref.namespace, ref.name);
      if (!contract) return null;
      if (!APPROVED_STATES.has(contract.state)) return viewOf(contract);
      const record = await begin(ref, contract);
      const current = (await store.getContract(contract.id)) ?? contract;
      if (!record.engine) return engineView(current, record, clock());
      const judged = await engineRollouts.judge(record, options.trafficPercent);
      return engineView(current, judged.record, clock());
    },
    async finish(ref, outcome, reason) {
      const contract = await contractFor(ref.namespace, ref.name);
      if (!contract) return null;
      const record = await repository.findByContract(contract.id);
      if (!record?.engine) return engineView(contract, record, clock());
      const finished = await engineRollouts.finish(record, outcome, reason);
      return engineView(contract, finished, clock());
    },
    async postEvent(event: EngineEvent) {
      const contract = await contractFor(event.namespace, event.name);
      const link = contract ? await store.getLink(contract.id) : undefined;
      const surface = link ? surfaces[link.thread.surface] : undefined;
      if (!link || !surface) return false;
      const icon = event.severity === 'error' ? '🛑' : event.severity === 'warning' ? '⚠️' : 'ℹ️';
      await surface.postInThread(link.thread as ThreadRef, {
        text: `${icon} ${event.engine} ${event.namespace}/${event.name}${event.phase ? ` (${event.phase})` : ''}: ${event.message}`,
      });
      return true;
    },
  };
  return { service, engineRollouts, worker, engine, repository };
}

/** What an engine needs to know about a contract's rollout, whoever moves its traffic. */
export function engineView(contract: Contract, record: RolloutRecord | undefined, now: Date): EngineRolloutView {
  const phase = record?.state.phase ?? null;
  const rollbackRequested =
    phase === 'rolling_back' ||
    phase === 'rolled_back' ||
    Boolean(record?.pendingCommands.some((c) => c.type === 'rollback_now' || c.type === 'abort'));
  const held = record?.engine ? stepHold(record, now) : undefined;
  return {
    contractId: contract.id,
    revision: contract.revision,
    contractState: contract.state,
    rolloutPhase: phase,
    latestVerdict: record?.latestVerdict ?? null,
    verdictEvidence: record?.latestReasons ?? [],
    rollbackRequested,
    ...(held ? { stepHeld: held } : {}),
  };
}
