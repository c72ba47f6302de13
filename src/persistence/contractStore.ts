/**
 * Contracts, their revisions, decisions, chat links and the audit log on SQL. A decision locks the contract row, so
 * concurrent approvals of one revision each count exactly once and a quorum moves the contract to approved once.
 */
import type { ApprovalEntry } from '../cards/contractView.js';
import type { ChatActor, SurfaceName } from '../chat/port.js';
import type { AuditEntry, ChatStore, ContractLink, DecisionOutcome, RecordDecisionInput } from '../chat/store.js';
import { transition } from '../domain/contractState.js';
import type { Contract, ContractState } from '../domain/model.js';
import { appendAudit } from './auditLog.js';
import { type SqlDriver, type SqlExecutor, StoreError } from './driver.js';

interface DecisionRow {
  actor_id: string;
  actor_name: string | null;
  reason: string | null;
  decided_at: Date | string;
}

const iso = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

export class SqlContractStore implements ChatStore {
  constructor(private readonly db: SqlDriver) {}

  async saveRevision(contract: Contract, actor: ChatActor): Promise<void> {
    const now = new Date();
    await this.db.transaction(async (tx) => {
      if (contract.revision === 1) {
        const inserted = await tx.execute(
          `insert into contracts (id, service_name, deployment_id, latest_revision, state, requester_id, created_at, updated_at)
           values ($1, $2, $3, 1, $4, $5, $6, $6) on conflict (id) do nothing`,
          [
            contract.id,
            contract.deployment.serviceName,
            contract.deployment.deploymentId,
            contract.state,
            actor.id,
            now,
          ],
        );
        if (inserted === 0) throw new StoreError('store_conflict', `contract ${contract.id} already exists`);
      } else {
        // Compare-and-set: a revision builds on the one before it, so two concurrent amendments cannot both land.
        const moved = await tx.execute(
          `update contracts set latest_revision = $2, state = $3, updated_at = $4 where id = $1 and latest_revision = $5`,
          [contract.id, contract.revision, contract.state, now, contract.revision - 1],
        );
        if (moved === 0) {
          throw new StoreError(
            'store_conflict',
            `revision ${contract.revision} of ${contract.id} does not follow the latest revision`,
          );
        }
      }
      await tx.query(
        `insert into contract_revisions (contract_id, revision, content_hash, state, document, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [contract.id, contract.revision, contract.contentHash, contract.state, JSON.stringify(contract), actor.id, now],
      );
    });
  }

  async getContract(contractId: string): Promise<Contract | undefined> {
    const [row] = await this.db.query<{ document: Contract }>(
      `select r.document from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where c.id = $1`,
      [contractId],
    );
    return row?.document;
  }

  async getRevision(contractId: string, revision: number): Promise<Contract | undefined> {
    const [row] = await this.db.query<{ document: Contract }>(
      'select document from contract_revisions where contract_id = $1 and revision = $2',
      [contractId, revision],
    );
    return row?.document;
  }

  async recentContracts(filter: { service?: string; limit: number }): Promise<Contract[]> {
    const rows = await this.db.query<{ document: Contract }>(
      `select r.document from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where ($1::text is null or c.service_name = $1) order by c.updated_at desc, c.id limit $2`,
      [filter.service ?? null, filter.limit],
    );
    return rows.map((r) => r.document);
  }

  /** The newest open contract whose deployment targets `namespace/resourceName` (what a Flagger or Argo object names). */
  async findOpenContractByTarget(namespace: string, resourceName: string): Promise<Contract | undefined> {
    const [row] = await this.db.query<{ document: Contract }>(
      `select r.document from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where c.state in ('draft', 'negotiating', 'approved', 'rolling_out')
         and r.document -> 'deployment' -> 'target' ->> 'namespace' = $1
         and r.document -> 'deployment' -> 'target' ->> 'resourceName' = $2
       order by c.updated_at desc limit 1`,
      [namespace, resourceName],
    );
    return row?.document;
  }

  async recordDecision(input: RecordDecisionInput): Promise<DecisionOutcome> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ latest_revision: number; state: ContractState; requester_id: string | null }>(
        'select latest_revision, state, requester_id from contracts where id = $1 for update',
        [input.contractId],
      );
      if (!row) throw new StoreError('store_not_found', `no contract ${input.contractId}`);
      const current = await this.latest(tx, input.contractId);
      const outcome = async (kind: DecisionOutcome['outcome'], contract: Contract): Promise<DecisionOutcome> => {
        const result: DecisionOutcome = {
          outcome: kind,
          contract,
          approvals: await this.approvalsIn(tx, input.contractId, contract.revision),
        };
        const rejection = await this.rejectionIn(tx, input.contractId, contract.revision);
        return rejection ? { ...result, rejection } : result;
      };
      const [seen] = await tx.query('select 1 from decisions where idempotency_key = $1', [input.idempotencyKey]);
      if (seen) return outcome('duplicate', current);
      if (input.revision !== row.latest_revision) return outcome('stale_revision', current);
      if (row.state !== 'negotiating' && row.state !== 'draft') return outcome('not_open', current);
      if (input.decision === 'approve' && current.terms.excludeAuthor && row.requester_id === input.actor.id) {
        return outcome('self_approval', current);
      }
      const inserted = await tx.execute(
        `insert into decisions (contract_id, revision, decision, actor_id, actor_name, surface, reason, idempotency_key, decided_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (contract_id, revision, actor_id, decision) do nothing`,
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
        ],
      );
      if (inserted === 0) return outcome('duplicate', current);
      let next: ContractState = row.state;
      if (input.decision === 'reject') next = transition(row.state, 'reject');
      else {
        const approvals = await this.approvalsIn(tx, input.contractId, input.revision);
        if (approvals.length >= current.terms.approvalsRequired) next = transition(row.state, 'approve');
      }
      if (next !== row.state) await this.setState(tx, input.contractId, input.revision, next);
      const recorded = await outcome('recorded', { ...current, state: next });
      await appendAudit(tx, {
        at: input.at,
        actor: `${input.actor.surface}:${input.actor.id}`,
        action: input.decision === 'approve' ? 'decision.approved' : 'decision.rejected',
        subject: input.contractId,
        payload: {
          revision: input.revision,
          ...(input.actor.displayName ? { actorName: input.actor.displayName } : {}),
          ...(input.reason ? { reason: input.reason } : {}),
          data: {
            approvals: recorded.approvals.length,
            required: current.terms.approvalsRequired,
            state: next,
            ...(input.via ? { via: input.via } : {}),
          },
        },
      });
      return recorded;
    });
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
    await tx.query('update contracts set state = $2, updated_at = $3 where id = $1', [contractId, state, new Date()]);
    await tx.query(
      `update contract_revisions set state = $3, document = jsonb_set(document, '{state}', to_jsonb($3::text))
       where contract_id = $1 and revision = $2`,
      [contractId, revision, state],
    );
  }

  private async latest(tx: SqlExecutor, contractId: string): Promise<Contract> {
    const [row] = await tx.query<{ document: Contract }>(
      `select r.document from contracts c join contract_revisions r on r.contract_id = c.id and r.revision = c.latest_revision
       where c.id = $1`,
      [contractId],
    );
    if (!row) throw new StoreError('store_not_found', `no contract ${contractId}`);
    return row.document;
  }

  private async approvalsIn(tx: SqlExecutor, contractId: string, revision: number): Promise<ApprovalEntry[]> {
    const rows = await tx.query<DecisionRow>(
      `select actor_id, actor_name, reason, decided_at from decisions
       where contract_id = $1 and revision = $2 and decision = 'approve' order by id`,
      [contractId, revision],
    );
    return rows.map((r) => ({ actorName: r.actor_name ?? r.actor_id, at: iso(r.decided_at) }));
  }

  private async rejectionIn(
    tx: SqlExecutor,
    contractId: string,
    revision: number,
  ): Promise<DecisionOutcome['rejection']> {
    const [r] = await tx.query<DecisionRow>(
      `select actor_id, actor_name, reason, decided_at from decisions
       where contract_id = $1 and revision = $2 and decision = 'reject' order by id limit 1`,
      [contractId, revision],
    );
    return r ? { actorName: r.actor_name ?? r.actor_id, at: iso(r.decided_at), reason: r.reason ?? '' } : undefined;
  }

  approvals(contractId: string, revision: number): Promise<ApprovalEntry[]> {
    return this.approvalsIn(this.db, contractId, revision);
  }

  rejection(contractId: string, revision: number): Promise<DecisionOutcome['rejection']> {
    return this.rejectionIn(this.db, contractId, revision);
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
    await this.db.transaction((tx) =>
      appendAudit(tx, {
        at: entry.at,
        actor: entry.actor ? `${entry.actor.surface}:${entry.actor.id}` : 'system',
        action: entry.type,
        ...(entry.contractId ? { subject: entry.contractId } : {}),
        payload: {
          ...(entry.revision !== undefined ? { revision: entry.revision } : {}),
          ...(entry.actor?.displayName ? { actorName: entry.actor.displayName } : {}),
          ...(entry.reason ? { reason: entry.reason } : {}),
          ...(entry.data ? { data: entry.data } : {}),
        },
      }),
    );
  }

  async recentAudit(contractId: string, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.query<{ at: string; actor: string; action: string; payload: Record<string, unknown> }>(
      'select at, actor, action, payload from audit_log where subject = $1 order by seq desc limit $2',
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

  /** True the first time an inbound event id is seen (Slack retries, webhook redeliveries). */
  async rememberEvent(source: string, id: string): Promise<boolean> {
    const inserted = await this.db.execute(
      'insert into inbound_events (source, event_id, seen_at) values ($1, $2, $3) on conflict do nothing',
      [source, id, new Date()],
    );
    return inserted === 1;
  }
}
