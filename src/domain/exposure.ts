/**
 * Who the first canary step exposes under a contract's current terms. The risk assessment's `affected` figures are
 * for the share the risk engine assumed when it drafted the contract; once the first step is amended, this is what
 * the card and the explanations must show.
 */
import type { Contract } from './model.js';
import { DEFAULT_REQUESTS_PER_USER_PER_MINUTE } from './risk/engine.js';

export interface Exposure {
  /** false when the ramp has no canary step: the change goes straight to 100 %. */
  canary: boolean;
  sharePercent: number;
  requestsPerMinute: number;
  /** 0 when the service reports no traffic. */
  estimatedUsers: number;
}

export function currentExposure(contract: Contract): Exposure {
  const first = contract.terms.ramp.steps[0];
  const sharePercent = first ? first.trafficPercent : 100;
  const requestsPerMinute = Math.round(contract.deployment.slo.currentQps * 60 * sharePercent * 10) / 1000;
  // Keep the assessment's requests-per-user assumption (it may have been configured), else the engine's default.
  const assessed = contract.risk.affected;
  const requestsPerUser =
    assessed.estimatedUsersInCanary > 0 && assessed.requestsPerMinuteInCanary > 0
      ? assessed.requestsPerMinuteInCanary / assessed.estimatedUsersInCanary
      : DEFAULT_REQUESTS_PER_USER_PER_MINUTE;
  return {
    canary: first !== undefined,
    sharePercent,
    requestsPerMinute,
    estimatedUsers: Math.round(requestsPerMinute / requestsPerUser),
  };
}
