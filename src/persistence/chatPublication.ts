/**
 * What chat work writes before it posts anything: a contract revision together with its audit entry and, for a new
 * contract, its thread link, in one transaction. A crash leaves all of them or none; the posted card's message id is
 * recorded afterwards (saveLink), and a redelivery finds the contract and finishes the post.
 */

import type { ChatActor } from '../chat/port.js';
import type { AuditEntry, ContractLink } from '../chat/store.js';
import type { Contract } from '../domain/model.js';
import { type AuditRecord, appendAudit } from './auditLog.js';
import { type SqlDriver, type SqlExecutor, StoreError } from './driver.js';

export interface RevisionPublication {
  contract: Contract;
  actor: ChatActor;
  audit: AuditEntry;
  /** The chat link of a new contract (its card message id is filled in once the card is posted). */
  link?: ContractLink;
}

export async function publishRevision(db: SqlDriver, input: RevisionPublication): Promise<void> {
  await db.transaction(async (tx) => {
    await insertRevision(tx, input.contract, input.actor);
    if (input.link) await upsertLink(tx, input.link);
    await appendAudit(tx, auditRecord(input.audit));
  });
}

/** The revision row and its contract row: created for revision 1, moved by compare-and-set on the latest otherwise. */
export async function insertRevision(tx: SqlExecutor, contract: Contract, actor: ChatActor): Promise<void> {
  const first = contract.revision === 1;
  const contractRow = first
    ? `insert into contracts (id, service_name, deployment_id, latest_revision, state, requester_id, created_at, updated_at)
       values ($1, $8, $9, $2, $3, $6, $4, $4) on conflict (id) do nothing returning id`
    : 'update contracts set latest_revision = $2, state = $3, updated_at = $4 where id = $1 and latest_revision = $8 returning id';
  const stored = await tx.query(
    `with contract as (${contractRow})
     insert into contract_revisions (contract_id, revision, content_hash, state, document, created_by, created_at)
     select id, $2::integer, $5::text, $3::text, $7::json, $6::text, $4::timestamptz from contract returning 1`,
    [
      contract.id,
      contract.revision,
      contract.state,
      new Date(),
      contract.contentHash,
      actor.id,
      JSON.stringify(contract),
      ...(first ? [contract.deployment.serviceName, contract.deployment.deploymentId] : [contract.revision - 1]),
    ],
  );
  if (stored.length > 0) return;
  throw new StoreError(
    'store_conflict',
    first
      ? `contract ${contract.id} already exists`
      : `revision ${contract.revision} of ${contract.id} does not follow the latest revision`,
  );
}

export async function upsertLink(tx: SqlExecutor, link: ContractLink): Promise<void> {
  await tx.query(
    `insert into contract_links (contract_id, surface, thread_key, conversation_key, link, updated_at)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (contract_id) do update set surface = excluded.surface, thread_key = excluded.thread_key,
       conversation_key = excluded.conversation_key, link = excluded.link, updated_at = excluded.updated_at`,
    [link.contractId, link.thread.surface, link.thread.key, link.conversationKey, JSON.stringify(link), new Date()],
  );
}

export function auditRecord(entry: AuditEntry): AuditRecord {
  return {
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
  };
}
