/**
 * Card clicks on a contract: Approve / Reject (one store call, which runs the domain decision rule under its lock),
 * stale clicks, refusals, and Details. A click is answered from the store alone: no model call, no remote call.
 */
import { z } from 'zod';
import type { Contract } from '../domain/model.js';
import { isStoreNotFound } from '../errors.js';
import type { ContractCardInput } from '../views/contractView.js';
import { auditActor, type ChatContext, cardInput, decisionInfo, displayName, peopleOf } from './context.js';
import type { CardActionInput, CardActionResult, ChatCard } from './port.js';
import type { DecisionOutcome } from './store.js';

export const actionDataSchema = z.object({
  contractId: z.string().min(1).max(300),
  revision: z.coerce.number().int().positive(),
  reason: z.string().max(5000).optional(),
  message: z.string().max(4000).optional(),
});
export type ActionData = z.infer<typeof actionDataSchema>;

const MAX_REASON = 500;

export async function decideClick(
  ctx: ChatContext,
  action: CardActionInput,
  data: ActionData,
  decision: 'approve' | 'reject',
): Promise<CardActionResult> {
  let reason: string | undefined;
  if (decision === 'reject') {
    reason = (data.reason ?? '').trim();
    if (reason === '' || reason.length > MAX_REASON) {
      const problem =
        reason === ''
          ? 'Reject needs a reason: the reason field was empty.'
          : `The reason is longer than ${MAX_REASON} characters.`;
      const current = await ctx.store.getContract(data.contractId);
      if (!current) return { kind: 'notice', text: problem };
      return {
        kind: 'private-card',
        card: { kind: 'contract', input: { ...(await cardInput(ctx, current)), notice: problem } },
      };
    }
  }

  // One store call: the store runs src/domain/decision.ts `decide` (stale, open, authorised, separation of duties,
  // duplicate, quorum) under its lock and writes the verdict.
  let result: DecisionOutcome;
  try {
    result = await ctx.store.recordDecision({
      contractId: data.contractId,
      revision: data.revision,
      decision,
      actor: action.actor,
      ...(reason !== undefined ? { reason } : {}),
      idempotencyKey: `${data.contractId}:${data.revision}:${action.actor.id}:${action.verb}`,
      at: ctx.clock(),
      policy: ctx.authorization,
    });
  } catch (error) {
    if (isStoreNotFound(error)) return missing(data.contractId);
    throw error;
  }
  switch (result.outcome) {
    case 'recorded':
      ctx.metrics?.decisions.inc({ outcome: decision === 'approve' ? 'approved' : 'rejected' });
      return { kind: 'update', card: cardAfterDecision(result) };
    case 'duplicate':
      return { kind: 'update', card: cardAfterDecision(result) };
    case 'stale_revision':
      return staleClick(ctx, action, result.contract, data.revision, decision);
    case 'refused':
      return refuse(ctx, action, data, decision, result.refusal ?? { code: 'not_an_approver', reason: 'refused' });
    case 'not_open':
      return {
        kind: 'private-card',
        card: cardAfterDecision(result, `This revision is already ${result.contract.state.replace('_', ' ')}.`),
      };
  }
}

export async function details(ctx: ChatContext, data: ActionData): Promise<CardActionResult> {
  const contract = await ctx.store.getContract(data.contractId);
  if (!contract) return missing(data.contractId);
  const input = await cardInput(ctx, contract);
  const notice =
    data.revision === contract.revision
      ? undefined
      : `Showing revision ${contract.revision}, the current one (you clicked ${data.revision}).`;
  return {
    kind: 'private-card',
    card: { kind: 'contract', input: { ...input, detailed: true, ...(notice ? { notice } : {}) } },
  };
}

/** A click on a card of an older revision: nothing recorded, audited, the current card shown to the clicker only. */
export async function staleClick(
  ctx: ChatContext,
  action: CardActionInput,
  current: Contract,
  clicked: number,
  decision: 'approve' | 'reject' | 'negotiate',
): Promise<CardActionResult> {
  ctx.metrics?.decisions.inc({ outcome: 'stale' });
  await ctx.store.audit({
    type: 'decision.stale',
    contractId: current.id,
    revision: clicked,
    actor: auditActor(action.actor),
    data: { verb: action.verb, current: current.revision, decision },
    at: ctx.clock(),
  });
  const input = await cardInput(ctx, current);
  return {
    kind: 'private-card',
    card: {
      kind: input.decision ? 'decision' : 'contract',
      input: {
        ...input,
        notice: `You clicked revision ${clicked}, but revision ${current.revision} is current: nothing was recorded. Here is the current card.`,
      },
    },
  };
}

export function missing(contractId: string): CardActionResult {
  return { kind: 'notice', text: `Contract ${contractId} does not exist (any more).` };
}

async function refuse(
  ctx: ChatContext,
  action: CardActionInput,
  target: { contractId: string; revision: number },
  decision: 'approve' | 'reject',
  refusal: { code: string; reason: string },
): Promise<CardActionResult> {
  ctx.metrics?.decisions.inc({ outcome: 'refused' });
  await ctx.store.audit({
    type: 'decision.refused',
    contractId: target.contractId,
    revision: target.revision,
    actor: auditActor(action.actor),
    reason: refusal.reason,
    data: { decision, code: refusal.code },
    at: ctx.clock(),
  });
  return { kind: 'notice', text: `⛔ Not recorded: ${refusal.reason}.` };
}

function cardAfterDecision(result: DecisionOutcome, notice?: string): ChatCard {
  const decision = decisionInfo(result);
  const requester = result.requester;
  const input: ContractCardInput = {
    contract: result.contract,
    approvals: result.approvals,
    ...(decision ? { decision } : {}),
    ...(requester ? { requestedBy: displayName(requester), people: peopleOf(requester) } : {}),
    ...(notice ? { notice } : {}),
  };
  return decision ? { kind: 'decision', input } : { kind: 'contract', input };
}
