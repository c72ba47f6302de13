/**
 * The contract a replay runs under: drafted exactly as `chaos assess` drafts it (risk assessment, then the policy's
 * terms), with the policy's analysis interval set to the series' interval so the guardian judges the rows it has.
 * A risk level given by the user replaces the assessed one (a what-if: the terms of that policy row).
 */
import { assessDeployment, draftContract } from '../domain/contract.js';
import type { Contract, DeploymentRequest, RiskLevel } from '../domain/model.js';
import { loadPolicyFromObject, type Policy } from '../domain/policy.js';
import { assessRisk } from '../domain/risk/engine.js';

export interface ReplayContractInput {
  request: DeploymentRequest;
  policy: Policy;
  intervalSeconds: number;
  riskLevel?: RiskLevel;
  now: Date;
}

/** The policy with the replay's analysis interval, validated again (throws PolicyValidationError). */
export function policyForInterval(policy: Policy, intervalSeconds: number): Policy {
  if (policy.analysisIntervalSeconds === intervalSeconds) return policy;
  return loadPolicyFromObject({ ...structuredClone(policy), analysisIntervalSeconds: intervalSeconds });
}

export function draftReplayContract(input: ReplayContractInput): { contract: Contract; policy: Policy } {
  const policy = policyForInterval(input.policy, input.intervalSeconds);
  const contract =
    input.riskLevel === undefined
      ? assessDeployment(input.request, policy, { now: input.now })
      : draftContract(input.request, { ...assessRisk(input.request), level: input.riskLevel }, policy, {
          now: input.now,
        });
  return { contract, policy };
}
