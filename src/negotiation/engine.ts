/**
 * The negotiation's view of the contract engine: apply one amendment or get the floor's refusal. Negotiators never
 * decide; they hand every proposal to this port, in the order proposed, and a refused one does not block the next.
 */
import { applyAmendment } from '../domain/contract.js';
import type { Amendment, AmendmentDecision, Contract } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import type { Proposal } from './types.js';

export type AmendmentResult =
  | { ok: true; contract: Contract; diff: string[] }
  | { ok: false; decision: Extract<AmendmentDecision, { allowed: false }> };

export interface AmendmentEngine {
  apply(contract: Contract, amendment: Amendment, actor: string): AmendmentResult;
}

/** The real engine: `applyAmendment` of src/domain/contract.ts under the given policy. */
export function createPolicyEngine(policy: Policy): AmendmentEngine {
  return {
    apply(contract, amendment, actor) {
      const result = applyAmendment(contract, amendment, actor, policy);
      if (result.ok) return { ok: true, contract: result.contract, diff: result.diff };
      const d = result.decision;
      return {
        ok: false,
        decision: d.allowed ? { allowed: false, rule: 'engine.unknown', message: 'refused by the engine' } : d,
      };
    },
  };
}

/**
 * Decides proposals one after another on a working copy; what the engine allowed becomes the new revision. However
 * many amendments a turn accepts, the turn is one revision step (the start's revision + 1): the store takes exactly
 * the next revision, and approvals are voided once.
 */
export class ProposalLedger {
  readonly proposals: Proposal[] = [];
  private readonly diff: string[] = [];
  private current: Contract;
  private changed = false;
  private readonly startRevision: number;

  constructor(
    private readonly engine: AmendmentEngine,
    start: Contract,
    private readonly actor: string,
  ) {
    this.current = start;
    this.startRevision = start.revision;
  }

  get contract(): Contract {
    return this.current;
  }

  decide(amendment: Amendment): Proposal & { diff: string[] } {
    const result = this.engine.apply(this.current, amendment, this.actor);
    if (result.ok) {
      const step = this.startRevision + 1;
      this.current = {
        ...result.contract,
        revision: step,
        amendments: result.contract.amendments.map((a) =>
          a.revision > this.startRevision ? { ...a, revision: step } : a,
        ),
      };
      this.changed = true;
      this.diff.push(...result.diff);
      const proposal = { amendment, decision: { allowed: true } as const };
      this.proposals.push(proposal);
      return { ...proposal, diff: result.diff };
    }
    const proposal = { amendment, decision: result.decision };
    this.proposals.push(proposal);
    return { ...proposal, diff: [] };
  }

  accepted(): { contract: Contract; diff: string[] } | undefined {
    return this.changed ? { contract: this.current, diff: [...this.diff] } : undefined;
  }
}
