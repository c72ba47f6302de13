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
import type { MetricProvider } from '../domain/metrics.js';
import type { Contract, ContractState } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import { ChatRolloutNotifier } from '../guardian/notifier.js';
import { InMemoryRolloutRepository, type RolloutRecord, type RolloutRepository } from '../guardian/repository.js';
import { GuardianService } from '../guardian/service.js';
import { RolloutWorker, type WorkerLogger } from '../guardian/worker.js';
import { PrometheusMetricProvider } from '../metrics/prometheus.js';
import { SimulatorFleet } from '../metrics/simulatorFleet.js';
import type { ChaosMetrics } from '../observability/metrics.js';
import type { EngineEvent, EnginePort } from '../webhooks/enginePort.js';

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
  const worker = new RolloutWorker({
    repository,
    metrics: provider,
    actuator: await actuatorFor(config, simulator),
    rollback: new RollbackExecutor({ dryRun: config.rollout.target === 'dry-run' }),
    notifier: new ChatRolloutNotifier(surfaces, clock),
    workerId: `${hostname()}:${process.pid}`,
    ...(input.policy ? { policy: input.policy } : {}),
    clock,
    logger,
    onVerdict: (_record, result) => input.metrics?.judgeVerdicts.inc({ verdict: result.verdict }),
    onFinished: (record) => {
      const next = FINAL_STATE[record.state.phase];
      input.metrics?.rollouts.inc({ outcome: record.state.phase });
      if (!next) return;
      void (async () => {
        await store.updateState?.(record.contractId, 'rolling_out', next);
        await store.audit({
          type: `rollout.${record.state.phase}`,
          contractId: record.contractId,
          revision: record.revision,
          data: { rollout: record.id, verdict: record.latestVerdict, reasons: record.latestReasons.slice(0, 3) },
          at: clock(),
        });
      })().catch((error: unknown) =>
        logger.error({ err: error, rollout: record.id }, 'could not record the rollout outcome'),
      );
    },
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

  const contractFor = async (namespace: string, name: string) => store.findOpenContractByTarget?.(namespace, name);
  const engine: EnginePort = {
    async findByTarget(_engine, namespace, name) {
      const contract = await contractFor(namespace, name);
      return contract ? service.engineView(contract) : null;
    },
    async findByContractId(contractId) {
      const contract = await store.getContract(contractId);
      return contract ? service.engineView(contract) : null;
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
  return { service, worker, engine, repository };
}
