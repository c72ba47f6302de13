/**
 * An in-memory double of the chat's store port for fast unit tests of the command handling. The end-to-end tests run
 * against the real store (src/store); this one follows the same rules: approvals per revision, a quorum moves the
 * contract to approved, a rejection to rejected, repeated idempotency keys record nothing.
 */
import type { ApprovalEntry } from '../../src/cards/contractView.js';
import type { ChatActor, SurfaceName } from '../../src/chat/port.js';
import type {
  AuditEntry,
  ChatStore,
  ContractLink,
  DecisionOutcome,
  RecordDecisionInput,
} from '../../src/chat/store.js';
import { transition } from '../../src/domain/contractState.js';
import type { Contract } from '../../src/domain/model.js';

export class MemoryChatStore implements ChatStore {
  readonly revisions = new Map<string, Contract[]>();
  readonly decisions = new Map<string, { input: RecordDecisionInput }>();
  readonly auditLog: AuditEntry[] = [];
  readonly links = new Map<string, ContractLink>();
  readonly threads = new Map<string, string>();
  readonly refs = new Map<string, unknown>();
  readonly requesters = new Map<string, ChatActor>();

  async saveRevision(contract: Contract, actor: ChatActor): Promise<void> {
    const list = this.revisions.get(contract.id) ?? [];
    if (list.some((c) => c.revision === contract.revision)) {
      throw new Error(`revision ${contract.revision} of ${contract.id} exists`);
    }
    list.push(structuredClone(contract));
    this.revisions.set(contract.id, list);
    if (contract.revision === 1) this.requesters.set(contract.id, actor);
  }

  async getContract(contractId: string): Promise<Contract | undefined> {
    const list = this.revisions.get(contractId);
    return list ? structuredClone(list[list.length - 1]) : undefined;
  }

  async recentContracts(filter: { service?: string; limit: number }): Promise<Contract[]> {
    return [...this.revisions.values()]
      .map((list) => list[list.length - 1] as Contract)
      .filter((c) => !filter.service || c.deployment.serviceName === filter.service)
      .reverse()
      .slice(0, filter.limit);
  }

  async recordDecision(input: RecordDecisionInput): Promise<DecisionOutcome> {
    const list = this.revisions.get(input.contractId);
    const current = list?.[list.length - 1];
    if (!list || !current) throw new Error('unknown contract');
    const outcome = (kind: DecisionOutcome['outcome'], contract: Contract): DecisionOutcome => ({
      outcome: kind,
      contract: structuredClone(contract),
      approvals: this.approvalsOf(input.contractId, contract.revision),
    });
    if (this.decisions.has(input.idempotencyKey)) return outcome('duplicate', current);
    if (input.revision !== current.revision) return outcome('stale_revision', current);
    if (current.state !== 'negotiating' && current.state !== 'draft') return outcome('not_open', current);
    const requester = this.requesters.get(input.contractId);
    if (input.decision === 'approve' && current.terms.excludeAuthor && requester?.id === input.actor.id) {
      return outcome('self_approval', current);
    }
    this.decisions.set(input.idempotencyKey, { input });
    if (input.decision === 'reject') {
      current.state = transition(current.state, 'reject');
    } else if (this.approvalsOf(input.contractId, current.revision).length >= current.terms.approvalsRequired) {
      current.state = transition(current.state, 'approve');
    }
    const result = outcome('recorded', current);
    this.auditLog.push({
      type: input.decision === 'approve' ? 'decision.approved' : 'decision.rejected',
      contractId: input.contractId,
      revision: input.revision,
      actor: {
        id: input.actor.id,
        surface: input.actor.surface,
        ...(input.actor.displayName ? { displayName: input.actor.displayName } : {}),
      },
      ...(input.reason ? { reason: input.reason } : {}),
      data: {
        approvals: result.approvals.length,
        required: current.terms.approvalsRequired,
        state: current.state,
        ...(input.via ? { via: input.via } : {}),
      },
      at: input.at,
    });
    const rejection = await this.rejection(input.contractId, current.revision);
    return rejection ? { ...result, rejection } : result;
  }

  private approvalsOf(contractId: string, revision: number): ApprovalEntry[] {
    const seen = new Set<string>();
    const out: ApprovalEntry[] = [];
    for (const { input } of this.decisions.values()) {
      if (input.contractId !== contractId || input.revision !== revision || input.decision !== 'approve') continue;
      if (seen.has(input.actor.id)) continue;
      seen.add(input.actor.id);
      out.push({ actorName: input.actor.displayName ?? input.actor.id, at: input.at.toISOString() });
    }
    return out;
  }

  async approvals(contractId: string, revision: number): Promise<ApprovalEntry[]> {
    return this.approvalsOf(contractId, revision);
  }

  async rejection(contractId: string, revision: number): Promise<DecisionOutcome['rejection']> {
    for (const { input } of this.decisions.values()) {
      if (input.contractId === contractId && input.revision === revision && input.decision === 'reject') {
        return {
          actorName: input.actor.displayName ?? input.actor.id,
          at: input.at.toISOString(),
          reason: input.reason ?? '',
        };
      }
    }
    return undefined;
  }

  async saveLink(link: ContractLink): Promise<void> {
    this.links.set(link.contractId, structuredClone(link));
    this.threads.set(`${link.thread.surface}:${link.thread.key}`, link.contractId);
    this.threads.set(`${link.thread.surface}:${link.conversationKey}`, link.contractId);
  }

  async getLink(contractId: string): Promise<ContractLink | undefined> {
    const link = this.links.get(contractId);
    return link ? structuredClone(link) : undefined;
  }

  async contractForThread(surface: SurfaceName, key: string): Promise<string | undefined> {
    return this.threads.get(`${surface}:${key}`);
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.auditLog.push(entry);
  }

  async recentAudit(contractId: string, limit: number): Promise<AuditEntry[]> {
    return this.auditLog
      .filter((e) => e.contractId === contractId)
      .reverse()
      .slice(0, limit);
  }

  async saveConversationRef(_surface: 'teams', key: string, ref: unknown): Promise<void> {
    this.refs.set(key, structuredClone(ref));
  }

  async getConversationRef(_surface: 'teams', key: string): Promise<unknown | undefined> {
    return this.refs.get(key);
  }
}
