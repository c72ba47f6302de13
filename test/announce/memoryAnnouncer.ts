/**
 * An in-memory DeploymentAnnouncer for tests: drafts a real contract with the domain (risk, terms, content hash)
 * instead of posting a card, and can decide it after a given number of status polls.
 */

import { AnnounceError } from '../../src/announce/errors.js';
import type { AnnounceInput, AnnounceResult, ContractStatus, DeploymentAnnouncer } from '../../src/announce/port.js';
import { assessDeployment } from '../../src/domain/contract.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';

export interface ScriptedDecision {
  /** Decide when the status has been read this many times. */
  afterPolls: number;
  state: 'approved' | 'rejected';
  decidedBy: string[];
  reason?: string;
}

export class MemoryAnnouncer implements DeploymentAnnouncer {
  readonly announcements: AnnounceInput[] = [];
  readonly contracts = new Map<string, { contract: Contract; decidedBy: string[]; reason?: string; polls: number }>();
  /** Services without a channel: announce throws announce_unknown_service. */
  readonly unknownServices = new Set<string>();
  decision: ScriptedDecision | undefined;
  /** Milliseconds each announce takes (to exercise concurrent duplicates). */
  delayMs = 0;

  async announce(input: AnnounceInput): Promise<AnnounceResult> {
    this.announcements.push(input);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.unknownServices.has(input.request.serviceName)) {
      throw new AnnounceError(
        'announce_unknown_service',
        `no channel is configured for service ${input.request.serviceName}`,
      );
    }
    const contract = assessDeployment(input.request, DEFAULT_POLICY, {
      now: new Date('2026-11-24T12:00:00Z'),
      idFactory: (id) => `ctr-${id}-${this.announcements.length}`,
    });
    contract.state = 'negotiating';
    this.contracts.set(contract.id, { contract, decidedBy: [], polls: 0 });
    return { contractId: contract.id, revision: contract.revision, state: contract.state };
  }

  async status(contractId: string): Promise<ContractStatus | undefined> {
    const entry = this.contracts.get(contractId);
    if (!entry) return undefined;
    entry.polls++;
    if (this.decision && entry.contract.state === 'negotiating' && entry.polls >= this.decision.afterPolls) {
      this.decide(contractId, this.decision.state, this.decision.decidedBy, this.decision.reason);
    }
    const { contract } = entry;
    return {
      contractId: contract.id,
      revision: contract.revision,
      state: contract.state,
      contentHash: contract.contentHash,
      risk: { score: contract.risk.score, level: contract.risk.level },
      decidedBy: [...entry.decidedBy],
      ...(entry.reason ? { reason: entry.reason } : {}),
    };
  }

  decide(contractId: string, state: 'approved' | 'rejected', decidedBy: string[], reason?: string): void {
    const entry = this.contracts.get(contractId);
    if (!entry) throw new Error(`no contract ${contractId}`);
    entry.contract.state = state;
    entry.decidedBy = decidedBy;
    if (reason) entry.reason = reason;
  }

  /** Risk of a stored contract, for assertions. */
  contract(contractId: string): Contract {
    const entry = this.contracts.get(contractId);
    if (!entry) throw new Error(`no contract ${contractId}`);
    return entry.contract;
  }
}
