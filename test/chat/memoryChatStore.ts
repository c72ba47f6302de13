/**
 * An in-memory double of the chat's store port for fast unit tests of the command handling. The end-to-end tests run
 * against the real store (src/persistence); this one follows the same rules: revisions strictly one after the other,
 * and every click decided by src/domain/decision.ts `decide`, the rule the SQL store calls too.
 */

import type { ChatActor, SurfaceName } from '../../src/chat/port.js';
import type {
  AuditEntry,
  ChatStore,
  ContractLink,
  DecisionOutcome,
  RecordDecisionInput,
} from '../../src/chat/store.js';
import { decide } from '../../src/domain/decision.js';
import type { Contract } from '../../src/domain/model.js';
import { StoreError } from '../../src/persistence/driver.js';
import type { ApprovalEntry } from '../../src/views/contractView.js';

export class MemoryChatStore implements ChatStore {
  readonly revisions = new Map<string, Contract[]>();
  readonly decisions = new Map<string, { input: RecordDecisionInput }>();
  readonly auditLog: AuditEntry[] = [];
  readonly links = new Map<string, ContractLink>();
  readonly threads = new Map<string, string>();
  readonly refs = new Map<string, unknown>();
  readonly requesters = new Map<string, ChatActor>();

  async saveRevision(contract: Contract, actor: ChatActor): Promise<void> {
    // The same rule as the SQL store: a first revision once, then exactly the latest + 1.
    const list = this.revisions.get(contract.id) ?? [];
    const latest = list.at(-1)?.revision ?? 0;
    if (contract.revision !== latest + 1 || (contract.revision === 1 && list.length > 0)) {
      throw new StoreError(
        'store_conflict',
        contract.revision === 1
          ? `contract ${contract.id} already exists`
          : `revision ${contract.revision} of ${contract.id} does not follow the latest revision`,
      );
    }
    list.push(structuredClone(contract));
    this.revisions.set(contract.id, list);
    if (contract.revision === 1) this.requesters.set(contract.id, actor);
  }

  async publishRevision(input: {
    contract: Contract;
    actor: ChatActor;
    audit: AuditEntry;
    link?: ContractLink;
  }): Promise<void> {
    // All or nothing, as in the SQL store: saveRevision throws before anything else is written.
    await this.saveRevision(input.contract, input.actor);
    if (input.link) await this.saveLink(input.link);
    this.auditLog.push(input.audit);
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
    if (!list || !current) throw new StoreError('store_not_found', `no contract ${input.contractId}`);
    const requester = this.links.get(input.contractId)?.requester ?? this.requesters.get(input.contractId);
    const outcome = (kind: DecisionOutcome['outcome']): DecisionOutcome => {
      const rejection = this.rejectionOf(input.contractId, current.revision);
      return {
        outcome: kind,
        contract: structuredClone(current),
        approvals: this.approvalsOf(input.contractId, current.revision),
        ...(rejection ? { rejection } : {}),
        ...(requester ? { requester: structuredClone(requester) } : {}),
      };
    };
    const recorded = [...this.decisions.values()]
      .filter(({ input: d }) => d.contractId === input.contractId && d.revision === current.revision)
      .map(({ input: d }) => ({ decision: d.decision, actorId: d.actor.id }));
    const verdict = decide(current, recorded, {
      revision: input.revision,
      decision: input.decision,
      actor: input.actor,
      requester,
      policy: input.policy,
    });
    if (verdict.outcome === 'refused') {
      return { ...outcome('refused'), refusal: { code: verdict.code, reason: verdict.reason } };
    }
    if (verdict.outcome !== 'recorded') return outcome(verdict.outcome);
    this.decisions.set(input.idempotencyKey, { input });
    current.state = verdict.state;
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
      data: { approvals: verdict.approvals, required: verdict.required, state: verdict.state, via: verdict.via },
      at: input.at,
    });
    return outcome('recorded');
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
    return this.rejectionOf(contractId, revision);
  }

  private rejectionOf(contractId: string, revision: number): DecisionOutcome['rejection'] {
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
