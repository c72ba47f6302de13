/**
 * What a progressive-delivery engine calls its objects, and how the bot queries their metrics. The engine names one
 * object in its request (Flagger: the Canary's `namespace`/`name`; Argo Rollouts: the Rollout's); the workloads the
 * judge compares follow from the engine's own naming:
 *
 * - Flagger keeps the new version in the target Deployment `<name>` and the serving version in `<name>-primary`
 *   (Flagger's `GetServiceNames` / primary deployment naming in pkg/apis/flagger/v1beta1 and pkg/canary).
 * - Argo Rollouts routes through the Rollout's `canaryService` and `stableService`; the bot expects them named
 *   `<name>-canary` and `<name>-stable`, as in Argo's canary traffic-routing examples.
 *
 * A service's route in the services file may override both names (`canaryWorkload`, `baselineWorkload`, with
 * `{{name}}` standing for the engine's object name).
 */
import type { PromQlTemplates } from '../metrics/prometheus.js';

export type EngineName = 'flagger' | 'argo-rollouts';

export interface EngineWorkloads {
  canary: string;
  baseline: string;
}

const DEFAULT_WORKLOADS: Record<EngineName, { canary: string; baseline: string }> = {
  flagger: { canary: '{{name}}', baseline: '{{name}}-primary' },
  'argo-rollouts': { canary: '{{name}}-canary', baseline: '{{name}}-stable' },
};

export function engineWorkloads(
  engine: EngineName,
  name: string,
  override?: { canaryWorkload?: string; baselineWorkload?: string },
): EngineWorkloads {
  const defaults = DEFAULT_WORKLOADS[engine];
  const fill = (template: string) => template.replace(/\{\{name\}\}/g, name);
  return {
    canary: fill(override?.canaryWorkload ?? defaults.canary),
    baseline: fill(override?.baselineWorkload ?? defaults.baseline),
  };
}

/**
 * PromQL for engine-driven canaries, where the two versions are told apart by workload, not by a `version` label.
 * `{{version}}` is the workload name from engineWorkloads().
 *
 * Flagger: pods of Deployment `X` are `X-<replicaset hash>-<pod hash>`, so the anchored regex below matches the
 * canary's pods and never the primary's (`X-primary-<hash>-<hash>` has one segment more); Flagger's own builtin
 * metric templates select pods the same way. Argo Rollouts: requests are counted by the Kubernetes Service they
 * were routed to (the canary or the stable service).
 */
export const ENGINE_PROMQL: Record<EngineName, PromQlTemplates> = {
  flagger: {
    requests:
      'sum(increase(http_requests_total{namespace="{{namespace}}",pod=~"{{version}}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{window}}]))',
    failures:
      'sum(increase(http_requests_total{namespace="{{namespace}}",pod=~"{{version}}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",code=~"5.."}[{{window}}]))',
    latencyBuckets:
      'sum by (le) (increase(http_request_duration_seconds_bucket{namespace="{{namespace}}",pod=~"{{version}}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{window}}]))',
  },
  'argo-rollouts': {
    requests: 'sum(increase(http_requests_total{namespace="{{namespace}}",service="{{version}}"}[{{window}}]))',
    failures:
      'sum(increase(http_requests_total{namespace="{{namespace}}",service="{{version}}",code=~"5.."}[{{window}}]))',
    latencyBuckets:
      'sum by (le) (increase(http_request_duration_seconds_bucket{namespace="{{namespace}}",service="{{version}}"}[{{window}}]))',
  },
};
