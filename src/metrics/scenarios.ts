/**
 * Named simulator scenarios: how the canary (and, for a shared outage, the baseline) departs from the healthy
 * service in minute `t` of the rollout (0 = its first minute). Scenario times are minutes, not analysis intervals, so a
 * scenario shows the same thing at a 1 s or a 5 min interval. Pure data + small functions; the sampling lives in
 * simulator.ts.
 */

export const SCENARIO_NAMES = [
  'healthy',
  'error-spike',
  'latency-spike',
  'crash-loop',
  'slow-leak',
  'soft-error',
  'soft-latency',
  'variance-only',
  'no-data',
  'telemetry-gaps',
  'low-traffic',
  'shared-outage',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Multipliers and overrides for one version in one interval. */
export interface VersionEffect {
  /** Absolute error rate that replaces the healthy one (before noise), when set. */
  errorRate?: number;
  /** Multiplier on the healthy error rate. */
  errorFactor: number;
  /** Multiplier on the latency median. */
  latencyFactor: number;
  /** Multiplier on the log-normal sigma (spread) with the median unchanged. */
  sigmaFactor: number;
  /** The provider returns no data for this version. */
  missing: boolean;
}

export interface ScenarioEffect {
  canary: VersionEffect;
  baseline: VersionEffect;
}

export interface ScenarioParameters {
  /** First minute of the regression (scenario default when absent). */
  onsetMinute: number;
  /** Size of the regression (meaning depends on the scenario; see SCENARIO_DEFAULTS). */
  magnitude: number;
  /** Minutes the shared outage lasts. */
  durationMinutes: number;
}

export const SCENARIO_DEFAULTS: Record<ScenarioName, { parameters: ScenarioParameters; description: string }> = {
  healthy: { parameters: p(0, 1, 0), description: 'canary identical to the baseline' },
  'error-spike': {
    parameters: p(0, 0.03, 0),
    description: 'canary error rate jumps to `magnitude` (default 3 %, 10× a 0.3 % guardrail) from the onset',
  },
  'latency-spike': {
    parameters: p(0, 2, 0),
    description: 'canary latency × `magnitude` (default 2: p95 doubles) from the onset',
  },
  'crash-loop': { parameters: p(0, 0.4, 0), description: 'canary fails `magnitude` (default 40 %) of requests' },
  'slow-leak': {
    parameters: p(10, 1, 0),
    description:
      'from the onset (default minute 10) the canary degrades a little more every minute: error rate +50 % of the base and latency +4 % per minute, × `magnitude`',
  },
  'soft-error': { parameters: p(0, 2, 0), description: 'canary error rate × `magnitude` (default 2)' },
  'soft-latency': { parameters: p(0, 1.2, 0), description: 'canary latency × `magnitude` (default 1.2: p95 +20 %)' },
  'variance-only': {
    parameters: p(0, 1.5, 0),
    description: 'canary latency spread (log-normal sigma) × `magnitude` (default 1.5) with the same median',
  },
  'no-data': { parameters: p(0, 1, 0), description: 'the provider never returns canary data' },
  'telemetry-gaps': {
    parameters: p(0, 0.3, 0),
    description: 'canary data missing in a `magnitude` share of minutes (default 30 %), baseline in half as many',
  },
  'low-traffic': { parameters: p(0, 1, 0), description: 'healthy canary on a quiet service (default 0.5 requests/s)' },
  'shared-outage': {
    parameters: p(6, 0.05, 4),
    description:
      'a dependency outage hits both versions from the onset (default minute 6) for `durationMinutes` (4): error rate `magnitude` (5 %) and latency × 2',
  },
};

function p(onsetMinute: number, magnitude: number, durationMinutes: number): ScenarioParameters {
  return { onsetMinute, magnitude, durationMinutes };
}

const NEUTRAL: VersionEffect = { errorFactor: 1, latencyFactor: 1, sigmaFactor: 1, missing: false };

/** `t` is the minute of the rollout; `gapDraw` a uniform draw in [0, 1) from that minute's stream (telemetry-gaps). */
export function scenarioEffect(
  name: ScenarioName,
  t: number,
  params: ScenarioParameters,
  baseErrorRate: number,
  gapDraw: number,
): ScenarioEffect {
  const canary: VersionEffect = { ...NEUTRAL };
  const baseline: VersionEffect = { ...NEUTRAL };
  const active = t >= params.onsetMinute;
  switch (name) {
    case 'healthy':
    case 'low-traffic':
      break;
    case 'error-spike':
    case 'crash-loop':
      if (active) canary.errorRate = params.magnitude;
      break;
    case 'latency-spike':
    case 'soft-latency':
      if (active) canary.latencyFactor = params.magnitude;
      break;
    case 'soft-error':
      if (active) canary.errorFactor = params.magnitude;
      break;
    case 'variance-only':
      if (active) canary.sigmaFactor = params.magnitude;
      break;
    case 'slow-leak':
      if (active) {
        const k = t - params.onsetMinute + 1;
        canary.errorRate = baseErrorRate * (1 + 0.5 * k * params.magnitude);
        canary.latencyFactor = 1 + 0.04 * k * params.magnitude;
      }
      break;
    case 'no-data':
      canary.missing = true;
      break;
    case 'telemetry-gaps':
      canary.missing = gapDraw < params.magnitude;
      baseline.missing = gapDraw >= 1 - params.magnitude / 2;
      break;
    case 'shared-outage':
      if (active && t < params.onsetMinute + params.durationMinutes) {
        for (const v of [canary, baseline]) {
          v.errorRate = params.magnitude;
          v.latencyFactor = 2;
        }
      }
      break;
  }
  return { canary, baseline };
}
