/**
 * Negotiation in a contract's thread. The negotiator may be a model, so it never runs inside a chat turn: the reply
 * comes into the thread when ready. A turn's accepted amendments are one revision step, stored with their audit entry
 * in one transaction before anything is posted: what the thread says happened has happened.
 */
import { canTransition } from '../domain/contractState.js';
import type { Contract } from '../domain/model.js';
import { isStoreConflict } from '../errors.js';
import { parseMessage } from '../negotiation/intents.js';
import { auditActor, type ChatContext, displayName, peopleOf, surfaceFor } from './context.js';
import { type ActionData, missing, staleClick } from './decide.js';
import type { CardActionInput, CardActionResult, ChatActor, ChatMessage, ConversationKind, ThreadRef } from './port.js';
import { canStream, type ReplyStream } from './replyStream.js';

/** The Negotiate button: the intro (or the typed message's turn) goes into the contract's thread. */
export async function startNegotiation(
  ctx: ChatContext,
  action: CardActionInput,
  data: ActionData,
): Promise<CardActionResult> {
  const contract = await ctx.store.getContract(data.contractId);
  if (!contract) return missing(data.contractId);
  if (data.revision !== contract.revision) return staleClick(ctx, action, contract, data.revision, 'negotiate');
  if (!canTransition(contract.state, 'amend')) {
    return {
      kind: 'notice',
      text: `Contract ${contract.id} is ${contract.state.replace('_', ' ')}; its terms can no longer change.`,
    };
  }
  const link = await ctx.store.getLink(contract.id);
  const thread = link?.thread ?? action.message.thread;
  const message = data.message?.trim();
  if (message) {
    ctx.background.run(`negotiate ${contract.id}`, () =>
      negotiateInThread(ctx, contract.id, message, action.actor, thread),
    );
  } else {
    ctx.background.run(`negotiation intro ${contract.id}`, async () => {
      await surfaceFor(ctx, thread).postInThread(thread, {
        text: negotiationIntro(contract, action.actor, howToReply(thread, action.conversationKind)),
      });
    });
  }
  return { kind: 'notice', text: `Negotiating… ${howToReply(thread, action.conversationKind)}.` };
}

/** One negotiation turn, after every earlier turn on the same contract. */
export async function negotiateInThread(
  ctx: ChatContext,
  contractId: string,
  text: string,
  actor: ChatActor,
  thread: ThreadRef,
): Promise<void> {
  await ctx.perContract.run(contractId, async () => {
    const surface = surfaceFor(ctx, thread);
    const contract = await ctx.store.getContract(contractId);
    if (!contract) {
      await surface.postInThread(thread, { text: `I can no longer find contract ${contractId}.` });
      return;
    }
    if (!canTransition(contract.state, 'amend')) {
      await surface.postInThread(thread, {
        text: `Contract ${contract.id} is ${contract.state.replace('_', ' ')}; its terms can no longer change. Start a new one with “assess”.`,
      });
      return;
    }
    // A model's answer takes seconds: Teams streams it in personal chat, Slack edits a placeholder, others show typing.
    const live: ReplyStream | undefined =
      ctx.negotiation.mode === 'model' && canStream(surface)
        ? surface.openReply(thread, (error) => ctx.log?.warn({ err: error, contractId }, 'live reply failed'))
        : undefined;
    const say = (message: ChatMessage) => (live ? live.finish(message) : surface.postInThread(thread, message));
    let outcome: Awaited<ReturnType<typeof ctx.negotiation.negotiate>>;
    try {
      outcome = await ctx.negotiation.negotiate({
        contract,
        message: text,
        actor: { id: actor.id, ...(actor.displayName ? { name: actor.displayName } : {}) },
        ...(live ? { onStreamChunk: (chunk: string) => live.push(chunk) } : {}),
      });
    } catch (error) {
      await live?.finish({ text: 'Something went wrong on my side while answering; nothing was changed.' });
      throw error;
    }
    ctx.metrics?.negotiationTurns.inc({ mode: outcome.fallbackNote ? 'fallback' : outcome.mode });
    const accepted = outcome.accepted;
    if (accepted) {
      try {
        await ctx.store.publishRevision({
          contract: accepted.contract,
          actor,
          audit: {
            type: 'contract.amended',
            contractId: accepted.contract.id,
            revision: accepted.contract.revision,
            actor: auditActor(actor),
            data: {
              from: contract.revision,
              diff: accepted.diff,
              contentHash: accepted.contract.contentHash,
              approvalsVoided: true,
            },
            at: ctx.clock(),
          },
        });
      } catch (error) {
        if (!isStoreConflict(error)) throw error;
        await say({
          text: `Contract ${contract.id} changed while I was answering (revision ${contract.revision} is no longer the latest), so nothing was applied. Please say it again.`,
        });
        return;
      }
    }
    await say({ text: outcome.reply });
    if (accepted) await postRevisionCard(ctx, contract, accepted.contract, actor);
  });
}

/** Posts the new revision's card into the contract's thread and retires the previous card. */
async function postRevisionCard(
  ctx: ChatContext,
  previous: Contract,
  next: Contract,
  amender: ChatActor,
): Promise<void> {
  const link = await ctx.store.getLink(next.id);
  if (!link) return;
  const surface = ctx.surfaces[link.thread.surface];
  if (!surface) return;
  const posted = await surface.postCard(
    link.thread,
    {
      kind: 'contract',
      input: {
        contract: next,
        requestedBy: displayName(link.requester),
        // The amendment lines name whoever amended (the contract records their id).
        people: peopleOf(link.requester, amender),
      },
    },
    `Revision ${next.revision} of ${next.id}`,
  );
  await ctx.store.saveLink({ ...link, cardMessageId: posted.messageId, revision: next.revision });
  try {
    await surface.updateCard(
      { thread: link.thread, messageId: link.cardMessageId },
      {
        kind: 'contract',
        input: { contract: previous, supersededBy: next.revision, requestedBy: displayName(link.requester) },
      },
    );
  } catch (error) {
    // The new card is out; an old card that keeps its buttons is still safe (its clicks are refused as stale).
    ctx.log?.warn({ err: error, contractId: next.id }, 'could not retire the previous revision card');
  }
}

/** How to answer in the contract's thread, exactly as each surface delivers messages to the bot. */
export function howToReply(thread: ThreadRef, kind: ConversationKind): string {
  if (kind === 'personal') return 'reply here with what you would like to change';
  if (thread.surface === 'slack') return 'reply in the contract’s thread starting with @chaos';
  return kind === 'channel'
    ? 'reply in the contract’s thread; no @mention is needed if a team owner let the app read channel messages when installing it, otherwise start with @chaos'
    : 'reply in this chat starting with @chaos';
}

function negotiationIntro(contract: Contract, actor: ChatActor, how: string): string {
  const first = contract.terms.ramp.steps[0];
  const error = contract.terms.guardrails.find((g) => g.metric === 'error_rate');
  return [
    `${displayName(actor)} opened the negotiation of ${contract.id} (revision ${contract.revision}, ${contract.risk.level} risk).`,
    `${how.charAt(0).toUpperCase()}${how.slice(1)}. For example:`,
    `• "start the canary at ${first ? Math.min(first.trafficPercent * 2, 50) : 10}%"`,
    `• "raise the error-rate guardrail to ${error ? Math.round(error.threshold * 150) / 100 : 0.5}%"`,
    `• "extend the bake time to 2 hours" · "add a feature flag" · "explain database_migration"`,
    `The policy floor decides what is allowed; accepted changes post a new revision and void earlier approvals.`,
  ].join('\n');
}

/**
 * Whether a message nobody addressed to the bot is about the contract: a change, a question about a term, a request
 * the negotiator must refuse, or words close to a term. Thanks and chatter between people are not.
 */
export function asksTheContract(contract: Contract, text: string): boolean {
  return parseMessage(text, contract).intents.some(
    (i) => i.type !== 'thanks' && (i.type !== 'unknown' || i.suggestion !== undefined),
  );
}
