/**
 * What every chat use case shares: the ports (store, surfaces, negotiation, rollouts), configuration, and the few
 * helpers that read a contract's chat state (its card input, the contract of a thread). No use case imports another.
 */

import { type AuthorizationPolicy, isOpenForDecision } from '../domain/decision.js';
import type { Contract, DeploymentRequest } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import type { NegotiationOutcome } from '../negotiation/types.js';
import type { ChaosMetrics } from '../observability/metrics.js';
import type { ApprovalEntry, ContractCardInput, DecisionInfo } from '../views/contractView.js';
import type { BackgroundTasks, KeyedQueue } from './background.js';
import type { ChatActor, ChatMessage, ChatSurface, IncomingMessage, SurfaceName, ThreadRef } from './port.js';
import type { AuditEntry, ChatStore, DecisionOutcome } from './store.js';

/** The negotiation service as the chat sees it (src/negotiation NegotiationService fits). */
export interface NegotiationPort {
  /** 'model' when a model answers (its reply is worth streaming); absent or 'offline' otherwise. */
  readonly mode?: 'model' | 'offline';
  negotiate(request: {
    contract: Contract;
    message: string;
    actor: { id: string; name?: string };
    /** The model's reply as it is written (already filtered), for surfaces that show it live. */
    onStreamChunk?: (text: string) => void;
  }): Promise<NegotiationOutcome>;
}

/** Turns a pull request link into a deployment request (configured when a Git host token is). */
export type PullRequestReader = (url: string) => Promise<DeploymentRequest>;

/** The rollout guardian's chat entry point (start / pause / promote / rollback); absent until it is configured. */
export interface RolloutControl {
  command(input: {
    kind: 'start' | 'rollback' | 'pause' | 'promote';
    contract: Contract;
    actor: ChatActor;
    /** The contract's own thread (where its card is), wherever the command was typed. */
    thread: ThreadRef;
  }): Promise<ChatMessage>;
}

export interface ChatLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ChatContext {
  store: ChatStore;
  negotiation: NegotiationPort;
  surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  policy: Policy;
  authorization: AuthorizationPolicy;
  clock: () => Date;
  newIdSuffix: () => string;
  pullRequests: PullRequestReader | undefined;
  rollouts: RolloutControl | undefined;
  metrics: ChaosMetrics | undefined;
  log: ChatLogger | undefined;
  background: BackgroundTasks;
  /** Work on one contract, one at a time (two turns never race to write the same revision). */
  perContract: KeyedQueue;
}

export function displayName(actor: ChatActor): string {
  return actor.displayName ?? actor.id;
}

export function auditActor(actor: ChatActor): NonNullable<AuditEntry['actor']> {
  return { id: actor.id, surface: actor.surface, ...(actor.displayName ? { displayName: actor.displayName } : {}) };
}

/** The contract of this thread; in a personal or group chat, the latest contract of the chat. */
export async function contractHere(ctx: ChatContext, message: IncomingMessage): Promise<string | undefined> {
  const inThread = await ctx.store.contractForThread(message.surface, message.thread.key);
  if (inThread !== undefined || message.conversationKind === 'channel') return inThread;
  return ctx.store.contractForThread(message.surface, message.conversationKey);
}

/** The card input for a contract's current revision, with its approvals and decision. */
export async function cardInput(ctx: ChatContext, contract: Contract): Promise<ContractCardInput> {
  const [approvals, rejection, link] = await Promise.all([
    ctx.store.approvals(contract.id, contract.revision),
    contract.state === 'rejected' ? ctx.store.rejection(contract.id, contract.revision) : Promise.resolve(undefined),
    ctx.store.getLink(contract.id),
  ]);
  const decision = decisionInfo({ contract, approvals, ...(rejection ? { rejection } : {}) });
  return {
    contract,
    approvals,
    ...(decision ? { decision } : {}),
    ...(link ? { requestedBy: displayName(link.requester), people: peopleOf(link.requester) } : {}),
  };
}

/** Display names by user id for a card's amendment lines: whoever is known by name here. */
export function peopleOf(...actors: (ChatActor | undefined)[]): Record<string, string> {
  const people: Record<string, string> = {};
  for (const actor of actors) if (actor?.displayName) people[actor.id] = actor.displayName;
  return people;
}

export function decisionInfo(result: {
  contract: Contract;
  approvals: ApprovalEntry[];
  rejection?: DecisionOutcome['rejection'];
}): DecisionInfo | undefined {
  const { contract } = result;
  if (isOpenForDecision(contract.state)) return undefined;
  if (contract.state === 'rejected') {
    const r = result.rejection;
    return {
      outcome: 'rejected',
      by: r ? [r.actorName] : [],
      at: r?.at ?? contract.createdAt,
      ...(r?.reason ? { reason: r.reason } : {}),
    };
  }
  const last = result.approvals.at(-1);
  return { outcome: 'approved', by: result.approvals.map((a) => a.actorName), at: last?.at ?? contract.createdAt };
}

export function surfaceFor(ctx: ChatContext, thread: ThreadRef): ChatSurface {
  const surface = ctx.surfaces[thread.surface];
  if (!surface) throw new Error(`no chat surface for ${thread.surface}`);
  return surface;
}
