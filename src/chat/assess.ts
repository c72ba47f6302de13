/**
 * assess and announce: draft a contract for a deployment request, store it with its thread link and audit entry in
 * one transaction, then post its card and record the card's message id. A redelivered message whose first delivery
 * stored the contract but never posted it (a crash, a failed send) finds that contract in its thread and only posts.
 */
import { parseKeyValueRequest } from '../domain/chatRequest.js';
import { draftContract } from '../domain/contract.js';
import { transition } from '../domain/contractState.js';
import type { Contract, DeploymentRequest } from '../domain/model.js';
import { parseDeploymentJson } from '../domain/request.js';
import { assessRisk } from '../domain/risk/engine.js';
import { type AssessSource, classifyAssessArgs } from './commands.js';
import { auditActor, type ChatContext, displayName } from './context.js';
import { ChatInputError, requestErrorCard } from './errorCards.js';
import type { ChatActor, IncomingMessage, Replier } from './port.js';
import type { ContractLink } from './store.js';

export interface PublishTarget {
  actor: ChatActor;
  conversationKey: string;
  replier: Replier;
  /** Where the card will be posted (the thread link until the post says where it landed). */
  thread: ContractLink['thread'];
  /** The chat message that asked (kept on the link, so its redelivery finds the contract). */
  eventId?: string | undefined;
}

export async function assess(ctx: ChatContext, message: IncomingMessage, args: string, replier: Replier) {
  let source = classifyAssessArgs(args);
  if (source.kind === 'none') {
    const attached = message.attachments.find((a) => a.text !== undefined && isJsonAttachment(a));
    if (attached?.text !== undefined) {
      source = {
        kind: 'json',
        text: attached.text,
        from: 'attachment',
        ...(attached.name ? { name: attached.name } : {}),
      };
    }
  }
  const now = ctx.clock();
  let request: DeploymentRequest;
  try {
    request = await readRequest(ctx, source, now);
  } catch (error) {
    await replier.reply({ card: requestErrorCard(error, source) });
    return;
  }
  if (message.eventId !== undefined && (await finishedRedelivery(ctx, message, replier))) return;
  await publishContract(ctx, request, {
    actor: message.actor,
    conversationKey: message.conversationKey,
    replier,
    thread: message.thread,
    eventId: message.eventId,
  });
}

/**
 * A redelivery whose first delivery got as far as storing the contract: the thread's contract by the same requester
 * whose card was never posted is posted now; one this very message already posted needs nothing more (the crash came
 * after the post, before the message was marked done). True when the redelivery is handled so.
 */
async function finishedRedelivery(ctx: ChatContext, message: IncomingMessage, replier: Replier) {
  const id = await ctx.store.contractForThread(message.surface, message.thread.key);
  if (id === undefined) return false;
  const link = await ctx.store.getLink(id);
  if (!link || link.requester.id !== message.actor.id) return false;
  if (link.cardMessageId !== '') return link.eventId !== undefined && link.eventId === message.eventId;
  const contract = await ctx.store.getContract(id);
  if (!contract) return false;
  await postCard(ctx, contract, link, replier);
  return true;
}

export async function publishContract(
  ctx: ChatContext,
  request: DeploymentRequest,
  target: PublishTarget,
): Promise<Contract> {
  const now = ctx.clock();
  const risk = assessRisk(request);
  const suffix = ctx.newIdSuffix();
  const drafted = draftContract(request, risk, ctx.policy, {
    now,
    idFactory: (deploymentId) => `ctr-${deploymentId.slice(0, 100)}-${suffix}`,
  });
  // Posting the card is the proposal: from here on the contract accepts decisions and amendments.
  const contract: Contract = { ...drafted, state: transition(drafted.state, 'propose') };
  const link: ContractLink = {
    contractId: contract.id,
    thread: target.thread,
    cardMessageId: '',
    revision: contract.revision,
    requester: target.actor,
    conversationKey: target.conversationKey,
    ...(target.eventId !== undefined ? { eventId: target.eventId } : {}),
  };
  await ctx.store.publishRevision({
    contract,
    actor: target.actor,
    link,
    audit: {
      type: 'contract.created',
      contractId: contract.id,
      revision: contract.revision,
      actor: auditActor(target.actor),
      data: {
        level: contract.risk.level,
        score: contract.risk.score,
        contentHash: contract.contentHash,
        source: request.source.kind,
        surface: target.actor.surface,
      },
      at: now,
    },
  });
  ctx.metrics?.contractsCreated.inc({ level: contract.risk.level });
  return postCard(ctx, contract, link, target.replier);
}

/** Posts the contract's card and records where it landed (the link's thread and message id). */
async function postCard(ctx: ChatContext, contract: Contract, link: ContractLink, replier: Replier): Promise<Contract> {
  const posted = await replier.reply({
    card: { kind: 'contract', input: { contract, requestedBy: displayName(link.requester) } },
    text: `Deployment contract ${contract.id} (${contract.risk.level} risk)`,
  });
  await ctx.store.saveLink({ ...link, thread: posted.thread, cardMessageId: posted.messageId });
  return contract;
}

async function readRequest(ctx: ChatContext, source: AssessSource, now: Date): Promise<DeploymentRequest> {
  switch (source.kind) {
    case 'json':
      return parseDeploymentJson(source.text);
    case 'key-value':
      return parseKeyValueRequest(source.text, now);
    case 'pull-request':
      if (!ctx.pullRequests) throw new ChatInputError('chat_pull_requests_disabled');
      return ctx.pullRequests(source.url);
    case 'none':
      throw new ChatInputError('chat_no_input');
  }
}

function isJsonAttachment(a: { name?: string; contentType: string }): boolean {
  return /json/i.test(a.contentType) || /\.json$/i.test(a.name ?? '');
}
