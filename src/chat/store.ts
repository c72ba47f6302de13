/**
 * What the command handling needs from persistence, as a port. The composition root adapts src/store to it; the
 * chat code never sees SQL or a database client.
 */

import type { AuthorizationPolicy, DecisionKind, RefusalCode } from '../domain/decision.js';
import type { Contract } from '../domain/model.js';
import type { ApprovalEntry } from '../views/contractView.js';
import type { ChatActor, SurfaceName, ThreadRef } from './port.js';

export type { DecisionKind };

export interface RecordDecisionInput {
  contractId: string;
  revision: number;
  decision: DecisionKind;
  actor: ChatActor;
  reason?: string;
  /** `${contractId}:${revision}:${actorId}:${verb}`: a repeated click records nothing new. */
  idempotencyKey: string;
  at: Date;
  /** Who may decide: src/domain/decision.ts `decide` checks it under the store's lock, with everything else. */
  policy: AuthorizationPolicy;
}

export type DecisionOutcomeKind = 'recorded' | 'duplicate' | 'stale_revision' | 'not_open' | 'refused';

export interface DecisionOutcome {
  outcome: DecisionOutcomeKind;
  /** The contract's latest revision after the call (state approved / rejected once decided). */
  contract: Contract;
  /** Approvals on that revision, oldest first. */
  approvals: ApprovalEntry[];
  /** The rejection, when the revision was rejected. */
  rejection?: { actorName: string; at: string; reason: string };
  /** Why a `refused` click was refused. */
  refusal?: { code: RefusalCode; reason: string };
  /** Whoever asked for the contract in chat (its link's requester), when known. */
  requester?: ChatActor;
}

export interface AuditEntry {
  type: string;
  contractId?: string;
  revision?: number;
  actor?: { id: string; displayName?: string; surface: SurfaceName | 'system' };
  reason?: string;
  data?: Record<string, unknown>;
  at: Date;
}

/** Where a contract lives in chat: its thread, the posted card, and who asked for it. */
export interface ContractLink {
  contractId: string;
  thread: ThreadRef;
  /** The card of the latest revision. */
  cardMessageId: string;
  revision: number;
  requester: ChatActor;
  conversationKey: string;
  /** The surface event (a chat message's id) that asked for the contract: a redelivery of it finds its work here. */
  eventId?: string;
}

/**
 * A recorded decision is audited by the store in the same transaction (`decision.approved` / `decision.rejected`
 * with approvals, required, state and via), so a crash can never keep a decision without its audit entry.
 */
export interface ChatStore {
  /** Stores a contract's first revision or a later one; refuses (throws) a revision that already exists. */
  saveRevision(contract: Contract, actor: ChatActor): Promise<void>;
  /**
   * Stores a revision with its audit entry and, for a new contract, its thread link (card message id still empty),
   * all or nothing: chat work writes this before it posts; refuses (throws store_conflict) what does not follow the
   * latest revision.
   */
  publishRevision(input: {
    contract: Contract;
    actor: ChatActor;
    audit: AuditEntry;
    link?: ContractLink;
  }): Promise<void>;
  /** The latest revision. */
  getContract(contractId: string): Promise<Contract | undefined>;
  /** Newest first. */
  recentContracts(filter: { service?: string; limit: number }): Promise<Contract[]>;
  recordDecision(input: RecordDecisionInput): Promise<DecisionOutcome>;
  approvals(contractId: string, revision: number): Promise<ApprovalEntry[]>;
  rejection(contractId: string, revision: number): Promise<DecisionOutcome['rejection']>;
  saveLink(link: ContractLink): Promise<void>;
  getLink(contractId: string): Promise<ContractLink | undefined>;
  /** The contract most recently posted in a thread (or a chat, when the key is a conversation key). */
  contractForThread(surface: SurfaceName, key: string): Promise<string | undefined>;
  audit(entry: AuditEntry): Promise<void>;
  /** Recent audit lines of a contract, newest first, for the status card. */
  recentAudit?(contractId: string, limit: number): Promise<AuditEntry[]>;
}
