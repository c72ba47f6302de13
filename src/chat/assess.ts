/**
 * assess and announce: draft a contract for a deployment request, store it with its thread link and audit entry in
 * one transaction, then post its card and record the card's message id. A redelivered message finds the contract its
 * first delivery stored (the id derives from the surface event) and only finishes what is missing: the post.
 */
import { createHash } from 'node:crypto';
import { parseKeyValueRequest } from '../domain/chatRequest.js';
import { draftContract } from '../domain/contract.js';
import { transition } from '../domain/contractState.js';
import type { Contract, DeploymentRequest } from '../domain/model.js';
import { parseDeploymentJson } from '../domain/request.js';
import { assessRisk } from '../domain/risk/engine.js';
import { isStoreConflict } from '../errors.js';
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
  /** The surface event that asked for it, for redeliveries: `${surface}:${conversation}:${activity id}`. */
  eventKey?: string;
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
  await publishContract(ctx, request, {
    actor: message.actor,
    conversationKey: message.conversationKey,
    replier,
    thread: message.thread,
    ...(message.eventId ? { eventKey: `${message.surface}:${message.conversationKey}:${message.eventId}` } : {}),
  });
}

export async function publishContract(
  ctx: ChatContext,
  request: DeploymentRequest,
  target: PublishTarget,
): Promise<Contract> {
  const now = ctx.clock();
  const risk = assessRisk(request);
  // The same event always drafts the same contract id, so a redelivery meets the contract its first delivery stored.
  const suffix = target.eventKey ? eventSuffix(target.eventKey) : ctx.newIdSuffix();
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
  };
  try {
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
  } catch (error) {
    if (!target.eventKey || !isStoreConflict(error)) throw error;
    // A redelivery: the first delivery stored the contract; post its card unless that was done too.
    const stored = await ctx.store.getContract(contract.id);
    const storedLink = await ctx.store.getLink(contract.id);
    if (!stored || !storedLink) throw error;
    if (storedLink.cardMessageId !== '') return stored;
    return postCard(ctx, stored, storedLink, target.replier);
  }
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

function eventSuffix(eventKey: string): string {
  return createHash('sha256').update(eventKey).digest('hex').slice(0, 6);
}

function isJsonAttachment(a: { name?: string; contentType: string }): boolean {
  return /json/i.test(a.contentType) || /\.json$/i.test(a.name ?? '');
}
