/**
 * How many canary requests a canary as healthy as the service is today needs before the judge can PASS a guardrail.
 * The judge PASSes a guardrail when the upper bound (1 − passAlpha) of the canary's share is below the allowed share
 * (guardrailChecks.ts): the error rate against the error threshold, or the share of requests slower than T against
 * 1 − XX % for pXX < T. A healthy canary's share is today's, s0 (today's error rate, or the share slower than T read
 * off today's p95 and p99, log-normal between them; half the allowance when today's latency is unknown). With the
 * policy's power, one-sided, normal approximation:
 *
 *     n = max( minRequests, ( z₁₋passα · √(t·(1 − t)) + z_power · √(s0·(1 − s0)) )² / (t − s0)² )
 *
 * The contract's evidence block (canaryEvidence.ts) states it per guardrail; the rollout plan (rollout/plan.ts) gives
 * the first step the time it takes, so the planned time is what a healthy canary needs, not the fastest conceivable.
 */
import type { Guardrail, ServiceSlo } from '../model.js';
import { normalQuantile } from './distributions.js';
import { shareAboveKnownQuantiles } from './latencyEvidence.js';

/** The service's figures when the contract was drafted: what a healthy canary is expected to look like. */
export type ServiceToday = Pick<ServiceSlo, 'currentErrorRatePercent' | 'currentP95LatencyMs' | 'currentP99LatencyMs'>;

export interface PassRequirement {
  /** Allowed share t: the error threshold, or the share of requests a pXX guardrail lets be slower than T. */
  allowedShare: number;
  /** Today's share s0; null when today's latency figures cannot place T (then half the allowance is assumed). */
  todayShare: number | null;
  /** Requests a canary as healthy as today needs to PASS; null when it never can (today at or above the allowance). */
  requests: number | null;
}

export function passRequirement(
  guardrail: Guardrail,
  today: ServiceToday,
  settings: { passAlpha: number; power: number },
): PassRequirement {
  const allowedShare =
    guardrail.metric === 'error_rate'
      ? clamp01(guardrail.threshold / 100)
      : guardrail.metric === 'latency_p99'
        ? 0.01
        : 0.05;
  const todayShare =
    guardrail.metric === 'error_rate'
      ? clamp01(today.currentErrorRatePercent / 100)
      : shareAboveKnownQuantiles(
          [
            [0.95, today.currentP95LatencyMs],
            [0.99, today.currentP99LatencyMs],
          ],
          guardrail.threshold,
        );
  const expected = todayShare ?? allowedShare / 2;
  if (expected >= allowedShare) return { allowedShare, todayShare, requests: null };
  const num =
    normalQuantile(1 - settings.passAlpha) * Math.sqrt(allowedShare * (1 - allowedShare)) +
    normalQuantile(settings.power) * Math.sqrt(expected * (1 - expected));
  const requests = Math.ceil(
    Math.max(guardrail.minimumEvidence.minRequests, (num * num) / (allowedShare - expected) ** 2),
  );
  return { allowedShare, todayShare, requests };
}

/**
 * The requests before a healthy canary's first PASS: the most any guardrail needs. A guardrail that can never pass is
 * left out (the contract tells the approver to renegotiate it; the rollout asks a person at its planned time); null
 * when none can pass.
 */
export function requestsBeforeFirstPass(
  guardrails: readonly Guardrail[],
  today: ServiceToday,
  settings: { passAlpha: number; power: number },
): number | null {
  let most: number | null = null;
  for (const g of guardrails) {
    const { requests } = passRequirement(g, today, settings);
    if (requests !== null && (most === null || requests > most)) most = requests;
  }
  return most;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
