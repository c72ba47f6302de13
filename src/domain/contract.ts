/**
 * Deployment contracts: drafting from a request and its risk assessment, and amending under the policy floor.
 * Pure: time and ids come from the caller. The content hash covers what an approver approves (deployment, risk,
 * terms, rollback plan), so any amendment yields a new hash and voids earlier approvals.
 */
import { checkAmendment, proposeTerms } from './amendment.js';
import { planContractEvidence } from './canaryEvidence.js';
import { sha256Canonical } from './canonicalJson.js';
import { canTransition, transition } from './contractState.js';
import { draftSuggestions, draftTerms } from './contractTerms.js';
import { DomainError } from './errors.js';
import { floorViolations, satisfiesFloor } from './floor.js';
import type {
  Amendment,
  AmendmentDecision,
  AppliedAmendment,
  CanaryEvidencePlan,
  Contract,
  ContractTerms,
  DeploymentRequest,
  RiskAssessment,
  RollbackPlan,
} from './model.js';
import type { Policy } from './policy.js';
import { assessRisk } from './risk/engine.js';
import { planRollback } from './rollbackPlan.js';

export { satisfiesFloor };

export interface DraftOptions {
  now: Date;
  /** Contract id for a deployment id; default `ctr-<deploymentId>`. */
  idFactory?: (deploymentId: string) => string;
}

export function contractIdFor(deploymentId: string): string {
  return `ctr-${deploymentId}`;
}

export function draftContract(
  request: DeploymentRequest,
  risk: RiskAssessment,
  policy: Policy,
  options: DraftOptions,
): Contract {
  const rollbackPlan = planRollback(request, risk);
  const terms = draftTerms(request, risk, rollbackPlan, policy);
  const contract: Contract = {
    id: (options.idFactory ?? contractIdFor)(request.deploymentId),
    revision: 1,
    contentHash: contentHash(request, risk, terms, rollbackPlan),
    state: 'draft',
    createdAt: options.now.toISOString(),
    policyVersion: policy.version,
    deployment: request,
    risk,
    terms,
    rollbackPlan,
    suggestions: draftSuggestions(request, risk, rollbackPlan),
    canaryEvidence: canaryEvidenceFor(request, terms, policy),
    amendments: [],
  };
  const violations = floorViolations(contract, policy);
  if (violations.length > 0) {
    // Cannot happen with a validated policy (its defaults are checked against its floor); guard against hand-built ones.
    throw new DomainError(
      'policy_inconsistent',
      `the policy's defaults break its own floor: ${violations.map((v) => v.rule).join(', ')}`,
    );
  }
  return contract;
}

/** The whole pipeline for one request: risk assessment, then the drafted contract. */
export function assessDeployment(request: DeploymentRequest, policy: Policy, options: DraftOptions): Contract {
  return draftContract(request, assessRisk(request), policy, options);
}

export type AmendmentResult =
  | { ok: true; contract: Contract; diff: string[] }
  | { ok: false; decision: AmendmentDecision };

/**
 * Applies an amendment when the floor allows it: revision + 1, new content hash, state → negotiating (voiding any
 * approval), the amendment recorded with its actor and diff. Refusals name the rule: a floor rule, `amendment.invalid`,
 * `amendment.no_change`, or `contract.not_negotiable` when the contract's state does not accept amendments.
 */
export function applyAmendment(
  contract: Contract,
  amendment: Amendment,
  actor: string,
  policy: Policy,
): AmendmentResult {
  if (!canTransition(contract.state, 'amend')) {
    return {
      ok: false,
      decision: {
        allowed: false,
        rule: 'contract.not_negotiable',
        message: `the contract is ${contract.state.replace('_', ' ')}; its terms can no longer change`,
      },
    };
  }
  const decision = checkAmendment(contract, amendment, policy);
  if (!decision.allowed) return { ok: false, decision };
  const proposal = proposeTerms(contract, amendment, policy);
  if (!proposal.ok) return { ok: false, decision: proposal.decision };
  if (proposal.diff.length === 0) {
    return {
      ok: false,
      decision: {
        allowed: false,
        rule: 'amendment.no_change',
        message: 'the contract already says that; nothing changes',
      },
    };
  }
  const revision = contract.revision + 1;
  const applied: AppliedAmendment = { revision, amendment, actor, diff: proposal.diff };
  const terms = proposal.terms;
  return {
    ok: true,
    diff: proposal.diff,
    contract: {
      ...contract,
      revision,
      state: transition(contract.state, 'amend'),
      terms,
      contentHash: contentHash(contract.deployment, contract.risk, terms, contract.rollbackPlan),
      canaryEvidence: canaryEvidenceFor(contract.deployment, terms, policy),
      amendments: [...contract.amendments, applied],
    },
  };
}

/** sha256 of the canonical JSON of { deployment, risk, terms, rollbackPlan }. */
export function contentHash(
  deployment: DeploymentRequest,
  risk: RiskAssessment,
  terms: ContractTerms,
  rollbackPlan: RollbackPlan,
): string {
  return sha256Canonical({ deployment, risk, terms, rollbackPlan });
}

/** Recomputes the hash of a contract (e.g. to check a stored contract was not altered). */
export function computeContentHash(contract: Contract): string {
  return contentHash(contract.deployment, contract.risk, contract.terms, contract.rollbackPlan);
}

export function canaryEvidenceFor(
  request: DeploymentRequest,
  terms: ContractTerms,
  policy: Policy,
): CanaryEvidencePlan {
  return planContractEvidence(request.slo, terms, policy);
}
