/**
 * start / pause / promote / rollback, typed or clicked on the rollout status card: approvers only, handed to the
 * guardian with the contract's own thread, so the status card and every alert land there wherever it was typed.
 */
import { approverMembership } from '../domain/decision.js';
import type { Contract } from '../domain/model.js';
import { type ChatCommand, isPlausibleId } from './commands.js';
import { auditActor, type ChatContext, contractHere } from './context.js';
import type { ActionData } from './decide.js';
import { missing } from './decide.js';
import { invalidArgument, unavailable, unknownContract } from './errorCards.js';
import type { CardActionInput, CardActionResult, ChatActor, ChatMessage, IncomingMessage, ThreadRef } from './port.js';

type RolloutKind = 'start' | 'rollback' | 'pause' | 'promote';

export async function rolloutCommand(
  ctx: ChatContext,
  message: IncomingMessage,
  command: Extract<ChatCommand, { kind: RolloutKind }>,
): Promise<ChatMessage> {
  if (!ctx.rollouts) {
    return {
      card: unavailable(
        command.kind,
        'The rollout guardian is not running in this deployment, so rollouts cannot be driven from chat yet.',
        'no rollout guardian configured',
      ),
    };
  }
  if (command.contractId !== undefined && !isPlausibleId(command.contractId)) {
    return { card: invalidArgument(command.kind, 'contract-id', command.contractId) };
  }
  const id = command.contractId ?? (await contractHere(ctx, message));
  if (id === undefined) return { card: unknownContract('(none in this thread)') };
  const contract = await ctx.store.getContract(id);
  if (!contract) return { card: unknownContract(id) };
  const refusal = await refusedRollout(ctx, message.actor, contract, command.kind);
  if (refusal) return { text: `⛔ ${command.kind} refused: ${refusal}.` };
  const thread = await contractThread(ctx, contract, message.thread);
  return ctx.rollouts.command({ kind: command.kind, contract, actor: message.actor, thread });
}

/** Roll back now / Pause / Promote on the rollout status card. */
export async function rolloutButton(
  ctx: ChatContext,
  action: CardActionInput,
  data: ActionData,
  kind: Exclude<RolloutKind, 'start'>,
): Promise<CardActionResult> {
  if (!ctx.rollouts) return { kind: 'notice', text: 'The rollout guardian is not running here.' };
  const contract = await ctx.store.getContract(data.contractId);
  if (!contract) return missing(data.contractId);
  const refusal = await refusedRollout(ctx, action.actor, contract, kind);
  if (refusal) return { kind: 'notice', text: `⛔ Not done: ${refusal}.` };
  const thread = await contractThread(ctx, contract, action.message.thread);
  const reply = await ctx.rollouts.command({ kind, contract, actor: action.actor, thread });
  return { kind: 'notice', text: reply.text ?? `${kind} requested.` };
}

/** The contract's own thread; where the command came from only for a contract never posted in chat. */
async function contractThread(ctx: ChatContext, contract: Contract, fallback: ThreadRef): Promise<ThreadRef> {
  const link = await ctx.store.getLink(contract.id);
  return link?.thread ?? fallback;
}

async function refusedRollout(
  ctx: ChatContext,
  actor: ChatActor,
  contract: Contract,
  kind: RolloutKind,
): Promise<string | undefined> {
  const membership = approverMembership(actor, ctx.authorization);
  if (membership.allowed) return undefined;
  await ctx.store.audit({
    type: 'rollout.refused',
    contractId: contract.id,
    revision: contract.revision,
    actor: auditActor(actor),
    reason: membership.reason,
    data: { command: kind },
    at: ctx.clock(),
  });
  return membership.reason;
}
