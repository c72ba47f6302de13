/**
 * Surface-independent chat handling behind one ChatPort: routes messages and card clicks to the use cases (assess,
 * decide, negotiate, queries, rollout commands). Teams and Slack adapt their SDK events to IncomingMessage /
 * CardActionInput and render the ChatCards this returns.
 */

import type { AuthorizationPolicy } from '../domain/decision.js';
import type { Contract, DeploymentRequest } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import type { ChaosMetrics } from '../observability/metrics.js';
import type { HelpCardInput, PolicyCardInput } from '../views/cardViews.js';
import { assess, publishContract } from './assess.js';
import { BackgroundTasks, KeyedQueue } from './background.js';
import { parseCommand } from './commands.js';
import {
  type ChatContext,
  type ChatLogger,
  contractHere,
  type NegotiationPort,
  type PullRequestReader,
  type RolloutControl,
} from './context.js';
import { actionDataSchema, decideClick, details } from './decide.js';
import { asksTheContract, negotiateInThread, startNegotiation } from './negotiate.js';
import type {
  CardActionInput,
  CardActionResult,
  ChatActor,
  ChatPort,
  ChatSurface,
  IncomingMessage,
  MessageHandled,
  Replier,
  SurfaceName,
  ThreadRef,
} from './port.js';
import { help, history, policyInput, status } from './queries.js';
import { rolloutButton, rolloutCommand } from './rolloutCommands.js';
import type { ChatStore } from './store.js';

export type { ChatLogger, NegotiationPort, PullRequestReader, RolloutControl } from './context.js';
export { ChatInputError } from './errorCards.js';

export interface ChatServiceOptions {
  store: ChatStore;
  negotiation: NegotiationPort;
  /** Surfaces for proactive posts (negotiation replies, new revision cards). */
  surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  policy: Policy;
  authorization: AuthorizationPolicy;
  clock?: () => Date;
  /** Suffix making contract ids unique when a deployment id is assessed again (without a surface event id). */
  newIdSuffix: () => string;
  pullRequests?: PullRequestReader;
  rollouts?: RolloutControl;
  metrics?: ChaosMetrics;
  logger?: ChatLogger;
  background?: BackgroundTasks;
}

export class ChatService implements ChatPort {
  readonly background: BackgroundTasks;
  private readonly ctx: ChatContext;

  constructor(options: ChatServiceOptions) {
    const log = options.logger;
    this.background =
      options.background ??
      new BackgroundTasks((error, label) => log?.error({ err: error, task: label }, 'background chat task failed'));
    this.ctx = {
      store: options.store,
      negotiation: options.negotiation,
      surfaces: options.surfaces,
      policy: options.policy,
      authorization: options.authorization,
      clock: options.clock ?? (() => new Date()),
      newIdSuffix: options.newIdSuffix,
      pullRequests: options.pullRequests,
      rollouts: options.rollouts,
      metrics: options.metrics,
      log,
      background: this.background,
      perContract: new KeyedQueue(),
    };
  }

  async handleMessage(message: IncomingMessage, replier: Replier): Promise<MessageHandled> {
    const continuing = await this.route(message, replier);
    return continuing ? { continuing } : {};
  }

  /** Runs the message's command; returns the work that goes on after the turn, if any. */
  private async route(message: IncomingMessage, replier: Replier): Promise<Promise<void> | undefined> {
    const ctx = this.ctx;
    // The thread's contract is looked up only when it can change the reading (text, or a sentence that starts with a
    // command word): inside a contract thread, such text is negotiation.
    let command = parseCommand(message.text);
    const inThread = parseCommand(message.text, { inContractThread: true });
    let inContract: string | undefined;
    if (command.kind === 'text' || inThread.kind !== command.kind) {
      inContract = await contractHere(ctx, message);
      if (inContract !== undefined) command = inThread;
    }
    switch (command.kind) {
      case 'assess':
        await assess(ctx, message, command.args, replier);
        return;
      case 'status':
        await replier.reply(await status(ctx, message, command.contractId));
        return;
      case 'history':
        await replier.reply(await history(ctx, command.service));
        return;
      case 'policy':
        await replier.reply({ card: { kind: 'policy', input: this.policyInput() } });
        return;
      case 'help':
      case 'empty':
        await replier.reply({ card: { kind: 'help', input: this.help() } });
        return;
      case 'start':
      case 'rollback':
      case 'pause':
      case 'promote':
        await replier.reply(await rolloutCommand(ctx, message, command));
        return;
      case 'text':
        if (inContract === undefined) {
          const intro = `I don’t know the command “${command.firstWord}”.`;
          await replier.reply({ card: { kind: 'help', input: this.help(intro) } });
          return;
        }
        if (message.addressed === false) {
          const contract = await ctx.store.getContract(inContract);
          if (!contract || !asksTheContract(contract, command.text)) return;
        }
        return this.background.run(`negotiate ${inContract}`, () =>
          negotiateInThread(ctx, inContract, command.text, message.actor, message.thread),
        );
    }
  }

  async handleAction(action: CardActionInput): Promise<CardActionResult> {
    const parsed = actionDataSchema.safeParse(action.data);
    if (!parsed.success) {
      return { kind: 'notice', text: 'This button carries no valid contract reference; use the newest card.' };
    }
    const data = parsed.data;
    switch (action.verb) {
      case 'contract.approve':
        return decideClick(this.ctx, action, data, 'approve');
      case 'contract.reject':
        return decideClick(this.ctx, action, data, 'reject');
      case 'contract.negotiate':
        return startNegotiation(this.ctx, action, data);
      case 'contract.details':
        return details(this.ctx, data);
      case 'rollout.rollback':
        return rolloutButton(this.ctx, action, data, 'rollback');
      case 'rollout.pause':
        return rolloutButton(this.ctx, action, data, 'pause');
      case 'rollout.promote':
        return rolloutButton(this.ctx, action, data, 'promote');
    }
  }

  /**
   * Posts the contract of a deployment announced without a chat message (CI intake, GitHub protection rules): the
   * same drafting, storing and auditing as `assess`, posted through `replier` into the service's channel.
   */
  announce(
    request: DeploymentRequest,
    target: { actor: ChatActor; conversationKey: string; replier: Replier; thread?: ThreadRef },
  ): Promise<Contract> {
    const thread = target.thread ?? { surface: target.actor.surface, key: target.conversationKey };
    return publishContract(this.ctx, request, { ...target, thread });
  }

  /** A negotiation turn in a contract's thread (the Negotiate button's message, tests). */
  negotiateInThread(contractId: string, text: string, actor: ChatActor, thread: ThreadRef): Promise<void> {
    return negotiateInThread(this.ctx, contractId, text, actor, thread);
  }

  policyInput(): PolicyCardInput {
    return policyInput(this.ctx);
  }

  help(intro?: string): HelpCardInput {
    return help(this.ctx, intro);
  }
}
