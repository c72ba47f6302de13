/**
 * Exports a contract to Argo Rollouts: an AnalysisTemplate (each guardrail as a Prometheus metric with success and
 * failure conditions and the contract's failure limits, plus the Chaos Negotiator judge as a `web` metric) and the
 * canary steps of the ramp as a Rollout strategy patch. Pure: returns plain objects for a YAML writer.
 */
import type { Contract, Guardrail } from '../model.js';

export interface ArgoExportOptions {
  prometheusAddress: string;
  /** Base URL where this bot serves the judge's verdict for Argo's web provider. */
  verdictBaseUrl?: string;
  /** Rollout resource name; defaults to the deployment target's resource name. */
  rolloutName?: string;
}

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
          // The judge already applies the contract's consecutive and cumulative limits: its FAIL is final.
          failureLimit: 0,
          consecutiveErrorLimit: 4,
          failureCondition: 'result == "FAIL"',
          provider: {
            web: {
              url: `${options.verdictBaseUrl.replace(/\/$/, '')}/api/argo/verdict/${encodeURIComponent(contract.id)}`,
              jsonPath: '{$.verdict}',
              timeoutSeconds: 10,
            },
          },
        },
      ]
    : [];

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
