/**
 * Contracts, their revisions, decisions, chat links and the audit log on SQL. A decision locks the contract row, so
 * concurrent approvals of one revision each count exactly once and a quorum moves the contract to approved once.
 */
import type { EventClaim, InboundEventStore } from '../chat/inboundEvents.js';
import type { ChatActor, SurfaceName } from '../chat/port.js';
import type { AuditEntry, ChatStore, ContractLink, DecisionOutcome, RecordDecisionInput } from '../chat/store.js';
import { decide } from '../domain/decision.js';
import type { Contract, ContractState } from '../domain/model.js';
import type { ApprovalEntry } from '../views/contractView.js';
import { appendAudit } from './auditLog.js';
import { auditRecord, insertRevision, publishRevision, type RevisionPublication } from './chatPublication.js';
import { type SqlDriver, type SqlExecutor, StoreError } from './driver.js';
import { claimInboundEvent, finishInboundEvent, releaseInboundEvent, renewInboundEvent } from './inboundEvents.js';
import { DEFAULT_EVENT_TTL_MS } from './pruning.js';

interface DecisionRow {
  actor_id: string;
  actor_name: string | null;
  reason: string | null;
  decided_at: Date | string;
}

/**
 * A revision's document is written once and never rewritten (an 8 KiB compressed value: rewriting it on every state
 * change cost more than the rest of a decision); its state lives in the `state` column, laid over the document here.
 */
interface RevisionRow {
  document: Contract;
  state: ContractState;
}

const revisionContract = (row: RevisionRow): Contract => ({ ...row.document, state: row.state });

interface RevisionDecisionRow extends DecisionRow {
  decision: 'approve' | 'reject';
}

const iso = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

const approvalEntry = (row: DecisionRow): ApprovalEntry => ({
  actorName: row.actor_name ?? row.actor_id,
  at: iso(row.decided_at),
});

const rejectionEntry = (row: DecisionRow): NonNullable<DecisionOutcome['rejection']> => ({
  ...approvalEntry(row),
  reason: row.reason ?? '',
});

function decisionOutcome(
  kind: DecisionOutcome['outcome'],
  contract: Contract,
  decisions: readonly RevisionDecisionRow[],
): DecisionOutcome {
  const approvals = decisions.filter((d) => d.decision === 'approve').map(approvalEntry);
  const rejected = decisions.find((d) => d.decision === 'reject');
  const result: DecisionOutcome = { outcome: kind, contract, approvals };
  return rejected ? { ...result, rejection: rejectionEntry(rejected) } : result;
}

export class SqlContractStore implements ChatStore, InboundEventStore {
  /** `auditStaged` is told after every committed audit entry (the chainer seals it soon after). */
  constructor(
    private readonly db: SqlDriver,
    private readonly auditStaged: () => void = () => undefined,
    /** How long an inbound event id counts as seen (rows older than this are pruned, see pruning.ts). */
    private readonly eventTtlMs = DEFAULT_EVENT_TTL_MS,
  ) {}

  /**
   * One statement: the revision row and its contract row (created for the first revision, moved by a compare-and-set
   * on `latest_revision` for a later one, so two concurrent amendments of one revision cannot both land) commit
   * together without a transaction's extra round trips.
   */
  async saveRevision(contract: Contract, actor: ChatActor): Promise<void> {
    await insertRevision(this.db, contract, actor);
  }

  /** A revision with its audit entry (and a new contract's chat link) in one transaction, before anything is posted. */
  async publishRevision(input: RevisionPublication): Promise<void> {
    await publishRevision(this.db, input);
    this.auditStaged();
  }

  async getContract(contractId: string): Promise<Contract | undefined> {
    const [row] = await this.db.query<RevisionRow>(
      `select r.document, r.state from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where c.id = $1`,
      [contractId],
    );
    return row ? revisionContract(row) : undefined;
  }

  async getRevision(contractId: string, revision: number): Promise<Contract | undefined> {
    const [row] = await this.db.query<RevisionRow>(
      'select document, state from contract_revisions where contract_id = $1 and revision = $2',
      [contractId, revision],
    );
    return row ? revisionContract(row) : undefined;
  }

  async recentContracts(filter: { service?: string; limit: number }): Promise<Contract[]> {
    const rows = await this.db.query<RevisionRow>(
      `select r.document, r.state from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where ($1::text is null or c.service_name = $1) order by c.updated_at desc, c.id limit $2`,
      [filter.service ?? null, filter.limit],
    );
    return rows.map(revisionContract);
  }

  /** The newest open contract whose deployment targets `namespace/resourceName` (what a Flagger or Argo object names). */
  async findOpenContractByTarget(namespace: string, resourceName: string): Promise<Contract | undefined> {
    const [row] = await this.db.query<RevisionRow>(
      `select r.document, r.state from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where c.state in ('draft', 'negotiating', 'approved', 'rolling_out')
         and r.document -> 'deployment' -> 'target' ->> 'namespace' = $1
         and r.document -> 'deployment' -> 'target' ->> 'resourceName' = $2
       order by c.updated_at desc limit 1`,
      [namespace, resourceName],
    );
    return row ? revisionContract(row) : undefined;
  }

  /**
   * Three statements: lock the contract row; read its latest revision with that revision's decisions and the chat
   * requester; write the decision together with its staged audit entry and, when it completes a quorum or rejects, the
   * new state. What is written is src/domain/decision.ts `decide`'s verdict, the rule every store follows. The read
   * comes after the lock on purpose: in PostgreSQL's read committed a statement's snapshot is taken before it waits
   * for a row lock, so reading the decisions in the locking statement could miss an approval that committed while it
   * waited.
   */
  async recordDecision(input: RecordDecisionInput): Promise<DecisionOutcome> {
    const result = await this.db.transaction(async (tx) => {
      const [locked] = await tx.query<{ latest_revision: number; state: ContractState; requester_id: string | null }>(
        'select latest_revision, state, requester_id from contracts where id = $1 for update',
        [input.contractId],
      );
      if (!locked) throw new StoreError('store_not_found', `no contract ${input.contractId}`);
      const [latest] = await tx.query<{
        document: Contract;
        requester: ChatActor | null;
        decisions: RevisionDecisionRow[];
      }>(
        `select r.document,
           (select l.link -> 'requester' from contract_links l where l.contract_id = $1) as requester,
           coalesce((select json_agg(json_build_object('decision', d.decision, 'actor_id', d.actor_id,
               'actor_name', d.actor_name, 'reason', d.reason, 'decided_at', d.decided_at) order by d.id)
             from decisions d where d.contract_id = $1 and d.revision = $2), '[]'::json) as decisions
         from contract_revisions r where r.contract_id = $1 and r.revision = $2`,
        [input.contractId, locked.latest_revision],
      );
      if (!latest)
        throw new StoreError('store_not_found', `no revision ${locked.latest_revision} of ${input.contractId}`);
      const current: Contract = { ...latest.document, state: locked.state };
      const decisions = latest.decisions;
      const requester: ChatActor | undefined =
        latest.requester ??
        (locked.requester_id ? { id: locked.requester_id, surface: input.actor.surface } : undefined);
      const outcome = (kind: DecisionOutcome['outcome'], contract: Contract): DecisionOutcome => {
        const base = decisionOutcome(kind, contract, decisions);
        return requester ? { ...base, requester } : base;
      };

      const verdict = decide(
        current,
        decisions.map((d) => ({ decision: d.decision, actorId: d.actor_id })),
        { revision: input.revision, decision: input.decision, actor: input.actor, requester, policy: input.policy },
      );
      if (verdict.outcome === 'refused') {
        return { ...outcome('refused', current), refusal: { code: verdict.code, reason: verdict.reason } };
      }
      if (verdict.outcome !== 'recorded') return outcome(verdict.outcome, current);
      const next = verdict.state;
      const auditPayload = {
        revision: input.revision,
        ...(input.actor.displayName ? { actorName: input.actor.displayName } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
        data: { approvals: verdict.approvals, required: verdict.required, state: next, via: verdict.via },
      };
      // One statement: the decision, its staged audit entry and, when it completes a quorum or rejects, the state.
      const [written] = await tx.query<{ inserted: number }>(
        `with decided as (
           insert into decisions (contract_id, revision, decision, actor_id, actor_name, surface, reason, idempotency_key, decided_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (contract_id, revision, actor_id, decision) do nothing
           returning id
         ), staged as (
           insert into audit_pending (at, actor, action, subject, payload)
           select $10::text, $11::text, $12::text, $1::text, $13::jsonb from decided
         ), moved as (
           update contracts set state = $14, updated_at = $9
           where id = $1 and state <> $14 and exists (select 1 from decided)
           returning id
         ), revised as (
           update contract_revisions set state = $14
           where contract_id = $1 and revision = $2 and exists (select 1 from moved)
         )
         select count(*)::int as inserted from decided`,
        [
          input.contractId,
          input.revision,
          input.decision,
          input.actor.id,
          input.actor.displayName ?? null,
          input.actor.surface,
          input.reason ?? null,
          input.idempotencyKey,
          input.at,
          input.at.toISOString(),
          `${input.actor.surface}:${input.actor.id}`,
          input.decision === 'approve' ? 'decision.approved' : 'decision.rejected',
          JSON.stringify(auditPayload),
          next,
        ],
      );
      if (!written || Number(written.inserted) === 0) return outcome('duplicate', current);
      // The row lock keeps every other decision on this contract out, so the list plus this one is the whole list.
      decisions.push({
        decision: input.decision,
        actor_id: input.actor.id,
        actor_name: input.actor.displayName ?? null,
        reason: input.reason ?? null,
        decided_at: input.at,
      });
      return outcome('recorded', { ...current, state: next });
    });
    if (result.outcome === 'recorded') this.auditStaged();
    return result;
  }

  /** Moves a contract's state when it is still `expected` (rollout start and end); false when it moved already. */
  async updateState(contractId: string, expected: ContractState, next: ContractState): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ latest_revision: number; state: ContractState }>(
        'select latest_revision, state from contracts where id = $1 for update',
        [contractId],
      );
      if (!row || row.state !== expected) return false;
      await this.setState(tx, contractId, row.latest_revision, next);
      return true;
    });
  }

  private async setState(tx: SqlExecutor, contractId: string, revision: number, state: ContractState): Promise<void> {
    await tx.query(
      `with moved as (update contracts set state = $3, updated_at = $4 where id = $1 returning id)
       update contract_revisions set state = $3
       where contract_id = $1 and revision = $2 and exists (select 1 from moved)`,
      [contractId, revision, state, new Date()],
    );
  }

  async approvals(contractId: string, revision: number): Promise<ApprovalEntry[]> {
    const rows = await this.db.query<DecisionRow>(
      `select actor_id, actor_name, reason, decided_at from decisions
       where contract_id = $1 and revision = $2 and decision = 'approve' order by id`,
      [contractId, revision],
    );
    return rows.map(approvalEntry);
  }

  async rejection(contractId: string, revision: number): Promise<DecisionOutcome['rejection']> {
    const [row] = await this.db.query<DecisionRow>(
      `select actor_id, actor_name, reason, decided_at from decisions
       where contract_id = $1 and revision = $2 and decision = 'reject' order by id limit 1`,
      [contractId, revision],
    );
    return row ? rejectionEntry(row) : undefined;
  }

  async saveLink(link: ContractLink): Promise<void> {
    await this.db.query(
      `insert into contract_links (contract_id, surface, thread_key, conversation_key, link, updated_at)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (contract_id) do update set surface = excluded.surface, thread_key = excluded.thread_key,
         conversation_key = excluded.conversation_key, link = excluded.link, updated_at = excluded.updated_at`,
      [link.contractId, link.thread.surface, link.thread.key, link.conversationKey, JSON.stringify(link), new Date()],
    );
  }

  async getLink(contractId: string): Promise<ContractLink | undefined> {
    const [row] = await this.db.query<{ link: ContractLink }>(
      'select link from contract_links where contract_id = $1',
      [contractId],
    );
    return row?.link;
  }

  async contractForThread(surface: SurfaceName, key: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ contract_id: string }>(
      `select contract_id from contract_links where surface = $1 and (thread_key = $2 or conversation_key = $2)
       order by updated_at desc limit 1`,
      [surface, key],
    );
    return row?.contract_id;
  }

  async audit(entry: AuditEntry): Promise<void> {
    await appendAudit(this.db, auditRecord(entry));
    this.auditStaged();
  }

  async recentAudit(contractId: string, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.query<{ at: string; actor: string; action: string; payload: Record<string, unknown> }>(
      `select at, actor, action, payload from (
         (select at, actor, action, payload, 1 as sealed, seq as ord from audit_log
          where subject = $1 order by seq desc limit $2)
         union all
         (select at, actor, action, payload, 0 as sealed, id as ord from audit_pending
          where subject = $1 order by id desc limit $2)
       ) entries order by sealed, ord desc limit $2`,
      [contractId, limit],
    );
    return rows.map((row) => {
      const [surface, ...id] = row.actor.split(':');
      const payload = row.payload as {
        revision?: number;
        actorName?: string;
        reason?: string;
        data?: Record<string, unknown>;
      };
      return {
        type: row.action,
        contractId,
        ...(payload.revision !== undefined ? { revision: payload.revision } : {}),
        ...(row.actor !== 'system'
          ? {
              actor: {
                id: id.join(':'),
                surface: surface as SurfaceName,
                ...(payload.actorName ? { displayName: payload.actorName } : {}),
              },
            }
          : {}),
        ...(payload.reason ? { reason: payload.reason } : {}),
        ...(payload.data ? { data: payload.data } : {}),
        at: new Date(row.at),
      };
    });
  }

  async saveConversationRef(surface: 'teams' | 'slack', key: string, ref: unknown): Promise<void> {
    await this.db.query(
      `insert into conversation_refs (surface, key, ref, updated_at) values ($1, $2, $3, $4)
       on conflict (surface, key) do update set ref = excluded.ref, updated_at = excluded.updated_at`,
      [surface, key, JSON.stringify(ref), new Date()],
    );
  }

  async getConversationRef(surface: 'teams' | 'slack', key: string): Promise<unknown | undefined> {
    const [row] = await this.db.query<{ ref: unknown }>(
      'select ref from conversation_refs where surface = $1 and key = $2',
      [surface, key],
    );
    return row?.ref;
  }

  /** Claims an inbound chat event before its work (./inboundEvents.ts); see src/chat/inboundEvents.ts. */
  claimEvent(source: string, key: string, holder: string, leaseMs: number): Promise<EventClaim> {
    return claimInboundEvent(this.db, { source, key, holder, leaseMs, doneTtlMs: this.eventTtlMs });
  }

  renewEvent(source: string, key: string, holder: string, leaseMs: number): Promise<boolean> {
    return renewInboundEvent(this.db, { source, key, holder, leaseMs });
  }

  finishEvent(source: string, key: string, holder: string): Promise<boolean> {
    return finishInboundEvent(this.db, source, key, holder);
  }

  releaseEvent(source: string, key: string, holder: string): Promise<boolean> {
    return releaseInboundEvent(this.db, source, key, holder);
  }
}
