import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { RISK_LEVELS } from '../domain/model.js';

export const DECISION_OUTCOMES = ['approved', 'rejected', 'refused', 'stale'] as const;
export const ROLLOUT_OUTCOMES = ['promoted', 'rolled_back', 'aborted'] as const;
export const JUDGE_VERDICTS = ['PASS', 'HOLD', 'FAIL'] as const;
export const NEGOTIATION_MODES = ['model', 'offline', 'fallback'] as const;

type Known<T extends readonly string[]> = T[number] | (string & {});

export interface ChaosMetrics {
  registry: Registry;
  /** chaos_contracts_created_total{level} */
  contractsCreated: Counter<'level'>;
  /** chaos_decisions_total{outcome}: approved, rejected, refused (not allowed), stale (old revision). */
  decisions: Counter<'outcome'>;
  /** chaos_rollouts_total{outcome}: promoted, rolled_back, aborted. */
  rollouts: Counter<'outcome'>;
  /** chaos_judge_verdicts_total{verdict}: PASS, HOLD, FAIL. */
  judgeVerdicts: Counter<'verdict'>;
  /** chaos_negotiation_turns_total{mode}: model, offline, fallback (model failed, offline answered). */
  negotiationTurns: Counter<'mode'>;
  /** chaos_model_request_duration_seconds{provider,outcome} */
  modelLatency: Histogram<'provider' | 'outcome'>;
  /** chaos_http_request_duration_seconds{method,route,status_code} */
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
}

export interface CreateMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag) with the `chaos_` prefix. Default true. */
  collectDefaults?: boolean;
  /** Labels on every series, e.g. { replica: 'ca-chaos-1' }. */
  defaultLabels?: Record<string, string>;
}

/** A fresh registry per call (tests and several app instances never share counters). */
export function createMetrics(options: CreateMetricsOptions = {}): ChaosMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'chaos_' });

  const contractsCreated = new Counter({
    name: 'chaos_contracts_created_total',
    help: 'Deployment contracts created, by risk level',
    labelNames: ['level'] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'chaos_decisions_total',
    help: 'Approval decisions on contract cards, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const rollouts = new Counter({
    name: 'chaos_rollouts_total',
    help: 'Finished rollouts, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const judgeVerdicts = new Counter({
    name: 'chaos_judge_verdicts_total',
    help: 'Rollout judge verdicts per evaluation, by verdict',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  const negotiationTurns = new Counter({
    name: 'chaos_negotiation_turns_total',
    help: 'Negotiation turns answered, by negotiator mode',
    labelNames: ['mode'] as const,
    registers: [registry],
  });
  const modelLatency = new Histogram({
    name: 'chaos_model_request_duration_seconds',
    help: 'Language model request latency in seconds',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    registers: [registry],
  });
  const httpRequestDuration = new Histogram({
    name: 'chaos_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  // Zero-valued series for the known labels, so dashboards and rate() see them before the first event.
  for (const level of RISK_LEVELS) contractsCreated.inc({ level }, 0);
  for (const outcome of DECISION_OUTCOMES) decisions.inc({ outcome }, 0);
  for (const outcome of ROLLOUT_OUTCOMES) rollouts.inc({ outcome }, 0);
  for (const verdict of JUDGE_VERDICTS) judgeVerdicts.inc({ verdict }, 0);
  for (const mode of NEGOTIATION_MODES) negotiationTurns.inc({ mode }, 0);

  return {
    registry,
    contractsCreated,
    decisions,
    rollouts,
    judgeVerdicts,
    negotiationTurns,
    modelLatency,
    httpRequestDuration,
  };
}

/** Starts timing a model call; call the result with the outcome when it ends. */
export function timeModelRequest(
  metrics: ChaosMetrics,
  provider: string,
): (outcome: Known<['ok', 'error', 'timeout', 'invalid']>) => void {
  const end = metrics.modelLatency.startTimer({ provider });
  return (outcome) => {
    end({ outcome });
  };
}

/**
 * Starts timing an HTTP request. `route` must be the route template (`/api/contracts/:id`), never the raw path,
 * or every contract id becomes its own series.
 */
export function timeHttpRequest(metrics: ChaosMetrics, method: string): (route: string, statusCode: number) => void {
  const end = metrics.httpRequestDuration.startTimer({ method });
  return (route, statusCode) => {
    end({ route, status_code: String(statusCode) });
  };
}

/** The Prometheus exposition text and its content type, for GET /metrics. */
export async function metricsExposition(
  metrics: ChaosMetrics | Registry,
): Promise<{ contentType: string; body: string }> {
  const registry = metrics instanceof Registry ? metrics : metrics.registry;
  return { contentType: registry.contentType, body: await registry.metrics() };
}
