/**
 * Exports a contract to Argo Rollouts: an AnalysisTemplate (each guardrail as a Prometheus metric with success and
 * failure conditions and the contract's failure limits, plus the Chaos Negotiator judge as a `web` metric) and the
 * canary steps of the ramp as a Rollout strategy patch. Pure: returns plain objects for a YAML writer.
 *
 * The judge metric follows Argo's web provider (metricproviders/webmetric/webmetric.go): a GET of `url` with the
 * `headers` listed, the value at `jsonPath` evaluated by the conditions (utils/evaluate/evaluate.go). Its bearer token
 * comes from a Kubernetes Secret through an argument (`valueFrom.secretKeyRef`), so it never sits in the template.
 * With both conditions, PASS is Successful, FAIL is Failed and HOLD meets neither: Inconclusive. Argo fails the
 * metric on the first FAIL (failureLimit 0: the judge already applied the contract's limits) and pauses the Rollout
 * once HOLDs exceed `inconclusiveLimit` (the intervals the judge may need before its first verdict: cold start and
 * the guardrails' minimum evidence), so a person looks at the thread and resumes or aborts.
 */
import type { Contract, Guardrail } from '../model.js';

export interface ArgoExportOptions {
  prometheusAddress: string;
  /** Base URL where this bot serves the judge's verdict for Argo's web provider. */
  verdictBaseUrl?: string;
  /** Rollout resource name; defaults to the deployment target's resource name. */
  rolloutName?: string;
  /** The Secret holding the bot's engine token (CHAOS_ENGINE_WEBHOOK_TOKEN); default chaos-negotiator / engine-token. */
  tokenSecret?: { name: string; key: string };
}

export const DEFAULT_TOKEN_SECRET = { name: 'chaos-negotiator', key: 'engine-token' };
const COLD_START_SECONDS = 60;

export interface ArgoExport {
  analysisTemplate: Record<string, unknown>;
  rolloutPatch: Record<string, unknown>;
}

const SELECTOR = 'service="{{args.service-name}}",namespace="{{args.namespace}}",version="{{args.canary-version}}"';

function promqlFor(guardrail: Guardrail): { query: string; bound: number } {
  const window = `${Math.max(60, guardrail.windowSeconds)}s`;
  switch (guardrail.metric) {
    case 'error_rate':
      return {
        query: `sum(rate(http_requests_total{${SELECTOR},code=~"5.."}[${window}])) / sum(rate(http_requests_total{${SELECTOR}}[${window}]))`,
        bound: guardrail.threshold / 100,
      };
    case 'latency_p95':
    case 'latency_p99': {
      const q = guardrail.metric === 'latency_p95' ? '0.95' : '0.99';
      return {
        query: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${SELECTOR}}[${window}]))) * 1000`,
        bound: guardrail.threshold,
      };
    }
  }
}

function metricName(guardrail: Guardrail): string {
  return guardrail.metric.replace(/_/g, '-');
}

export function exportToArgoRollouts(contract: Contract, options: ArgoExportOptions): ArgoExport {
  const { deployment, terms } = contract;
  const rolloutName = options.rolloutName ?? deployment.target.resourceName;
  const templateName = `chaos-${rolloutName}-r${contract.revision}`.toLowerCase().slice(0, 63);
  const interval = `${terms.ramp.analysisIntervalSeconds}s`;
  // Argo fails a metric when failures > failureLimit, so the contract's cumulative limit N maps to N - 1.
  const failureLimit = Math.max(0, terms.ramp.cumulativeFailureLimit - 1);

  const guardrailMetrics = terms.guardrails.map((guardrail) => {
    const { query, bound } = promqlFor(guardrail);
    return {
      name: metricName(guardrail),
      interval,
      failureLimit,
      consecutiveErrorLimit: 4,
      // No data (empty vector or 0/0) never fails a guardrail: it is not evidence of a regression.
      successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] < ${bound}`,
      failureCondition: `len(result) > 0 && !isNaN(result[0]) && result[0] >= ${bound}`,
      provider: { prometheus: { address: options.prometheusAddress, query } },
    };
  });

  const judgeMetric = options.verdictBaseUrl
    ? [
        {
          name: 'chaos-judge',
          interval,
          failureLimit: 0,
          inconclusiveLimit: judgeWarmupIntervals(contract),
          consecutiveErrorLimit: 4,
          successCondition: 'result == "PASS"',
          failureCondition: 'result == "FAIL"',
          provider: {
            web: {
              url: `${options.verdictBaseUrl.replace(/\/$/, '')}/api/argo/verdict/${encodeURIComponent(contract.id)}?namespace={{args.namespace}}&rollout={{args.rollout-name}}`,
              headers: [{ key: 'Authorization', value: 'Bearer {{args.chaos-token}}' }],
              jsonPath: '{$.verdict}',
              timeoutSeconds: 10,
            },
          },
        },
      ]
    : [];
  const tokenSecret = options.tokenSecret ?? DEFAULT_TOKEN_SECRET;

  const analysisTemplate = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: {
      name: templateName,
      labels: { 'app.kubernetes.io/managed-by': 'chaos-negotiator' },
      annotations: {
        'chaos-negotiator/contract-id': contract.id,
        'chaos-negotiator/revision': String(contract.revision),
        'chaos-negotiator/content-hash': contract.contentHash,
      },
    },
    spec: {
      args: [
        { name: 'service-name', value: deployment.serviceName },
        { name: 'namespace', value: deployment.target.namespace },
        { name: 'canary-version', value: deployment.version },
        ...(options.verdictBaseUrl
          ? [
              { name: 'rollout-name', value: rolloutName },
              { name: 'chaos-token', valueFrom: { secretKeyRef: { name: tokenSecret.name, key: tokenSecret.key } } },
            ]
          : []),
      ],
      metrics: [...guardrailMetrics, ...judgeMetric],
    },
  };

  // The ramp holds the canary steps (each below 100 %); full traffic and the bake follow the last one.
  const steps: Record<string, unknown>[] = [];
  for (const step of terms.ramp.steps) {
    steps.push({ setWeight: step.trafficPercent });
    if (step.minDurationSeconds > 0) steps.push({ pause: { duration: `${step.minDurationSeconds}s` } });
  }
  steps.push({ setWeight: 100 });
  if (terms.ramp.bakeTimeSeconds > 0) steps.push({ pause: { duration: `${terms.ramp.bakeTimeSeconds}s` } });

  const rolloutPatch = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: rolloutName, namespace: deployment.target.namespace },
    spec: {
      strategy: {
        canary: {
          steps,
          analysis: {
            templates: [{ templateName }],
            startingStep: 1,
          },
        },
      },
    },
  };
  return { analysisTemplate, rolloutPatch };
}

/** Intervals before the judge can give its first PASS: the cold start plus the guardrails' minimum evidence. */
function judgeWarmupIntervals(contract: Contract): number {
  const interval = contract.terms.ramp.analysisIntervalSeconds;
  const minIntervals = Math.max(1, ...contract.terms.guardrails.map((g) => g.minimumEvidence?.minIntervals ?? 1));
  return Math.ceil(COLD_START_SECONDS / interval) + minIntervals + 1;
}
