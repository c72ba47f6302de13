/**
 * Surface-independent command handling: messages (`assess`, `status`, `history`, `policy`, `help`, rollout commands,
 * negotiation in a contract's thread) and card clicks (approve, reject, negotiate, details). Teams and Slack adapt
 * their SDK events to IncomingMessage / CardActionInput and render the ChatCards this returns.
 *
 * Budget: a click is answered from the store alone (no model call, no remote call but the store); negotiation runs
 * in the background and posts into the thread through the ChatSurface port.
 */
import { z } from 'zod';
import type { ApprovalEntry, ContractCardInput, DecisionInfo } from '../cards/contractView.js';
import { parseKeyValueRequest } from '../domain/chatRequest.js';
import { draftContract } from '../domain/contract.js';
import { canTransition, transition } from '../domain/contractState.js';
import { type AuthorizationPolicy, approverMembership, isOpenForDecision } from '../domain/decision.js';
import { RequestValidationError } from '../domain/errors.js';
import type { Contract, DeploymentRequest } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import { parseDeploymentJson } from '../domain/request.js';
import { assessRisk } from '../domain/risk/engine.js';
import type { NegotiationOutcome } from '../negotiation/types.js';
import type { ChaosMetrics } from '../observability/metrics.js';
import { StoreError } from '../persistence/driver.js';
import { BackgroundTasks, KeyedQueue } from './background.js';
import { type AssessSource, type ChatCommand, classifyAssessArgs, isPlausibleId, parseCommand } from './commands.js';
import { helpContent } from './help.js';
import type {
  CardActionInput,
  CardActionResult,
  ChatActor,
  ChatCard,
  ChatMessage,
  ChatSurface,
  IncomingMessage,
  MessageRef,
  Replier,
  SurfaceName,
  ThreadRef,
} from './port.js';
import type { ChatStore, DecisionOutcome } from './store.js';

/** The negotiation service as the chat sees it (src/negotiation NegotiationService fits). */
export interface NegotiationPort {
  negotiate(request: {
    contract: Contract;
    message: string;
    actor: { id: string; name?: string };
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
    thread: ThreadRef;
  }): Promise<ChatMessage>;
}

export interface ChatLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ChatServiceOptions {
  store: ChatStore;
  negotiation: NegotiationPort;
  /** Surfaces for proactive posts (negotiation replies, new revision cards). */
  surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  policy: Policy;
  authorization: AuthorizationPolicy;
  clock?: () => Date;
  /** Suffix making contract ids unique when a deployment id is assessed again. */
  newIdSuffix: () => string;
  pullRequests?: PullRequestReader;
  rollouts?: RolloutControl;
  metrics?: ChaosMetrics;
  logger?: ChatLogger;
  background?: BackgroundTasks;
}

const actionDataSchema = z.object({
  contractId: z.string().min(1).max(300),
  revision: z.coerce.number().int().positive(),
  reason: z.string().max(5000).optional(),
  message: z.string().max(4000).optional(),
});

const MAX_REASON = 500;

export class ChatService {
  readonly background: BackgroundTasks;
  private readonly store: ChatStore;
  private readonly negotiation: NegotiationPort;
  private readonly surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  private readonly policy: Policy;
  private readonly authorization: AuthorizationPolicy;
  private readonly clock: () => Date;
  private readonly newIdSuffix: () => string;
  private readonly pullRequests: PullRequestReader | undefined;
  private readonly rollouts: RolloutControl | undefined;
  private readonly metrics: ChaosMetrics | undefined;
  private readonly log: ChatLogger | undefined;
  private readonly perContract = new KeyedQueue();

  constructor(options: ChatServiceOptions) {
    this.store = options.store;
    this.negotiation = options.negotiation;
    this.surfaces = options.surfaces;
    this.policy = options.policy;
    this.authorization = options.authorization;
    this.clock = options.clock ?? (() => new Date());
    this.newIdSuffix = options.newIdSuffix;
    this.pullRequests = options.pullRequests;
    this.rollouts = options.rollouts;
    this.metrics = options.metrics;
    this.log = options.logger;
    this.background =
      options.background ??
      new BackgroundTasks((error, label) =>
        this.log?.error({ err: error, task: label }, 'background chat task failed'),
      );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Messages

  async handleMessage(message: IncomingMessage, replier: Replier): Promise<void> {
    const command = parseCommand(message.text);
    switch (command.kind) {
      case 'assess':
        await this.assess(message, command.args, replier);
        return;
      case 'status':
        await replier.reply(await this.status(message, command.contractId));
        return;
      case 'history':
        await replier.reply(await this.history(command.service));
        return;
      case 'policy':
        await replier.reply({ card: { kind: 'policy', input: this.policyInput() } });
        return;
      case 'help':
        await replier.reply({ card: { kind: 'help', input: this.help() } });
        return;
      case 'start':
      case 'rollback':
      case 'pause':
      case 'promote':
        await replier.reply(await this.rolloutCommand(message, command));
        return;
      case 'empty':
        await replier.reply({ card: { kind: 'help', input: this.help() } });
        return;
      case 'text':
        await this.freeText(message, command, replier);
        return;
    }
  }

  private async assess(message: IncomingMessage, args: string, replier: Replier): Promise<void> {
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
    const now = this.clock();
    let request: DeploymentRequest;
    try {
      request = await this.readRequest(source, now);
    } catch (error) {
      await replier.reply({ card: this.requestErrorCard(error, source) });
      return;
    }

    await this.publishContract(request, message.actor, message.conversationKey, replier, now);
  }

  /**
   * Posts the contract of a deployment that was announced without a chat message (CI intake, GitHub protection
   * rules): same drafting, storing and auditing as `assess`, posted through `replier` into the service's channel.
   */
  async announce(
    request: DeploymentRequest,
    target: { actor: ChatActor; conversationKey: string; replier: Replier },
  ): Promise<Contract> {
    return this.publishContract(request, target.actor, target.conversationKey, target.replier, this.clock());
  }

  private async publishContract(
    request: DeploymentRequest,
    actor: ChatActor,
    conversationKey: string,
    replier: Replier,
    now: Date,
  ): Promise<Contract> {
    const risk = assessRisk(request);
    const suffix = this.newIdSuffix();
    const drafted = draftContract(request, risk, this.policy, {
      now,
      idFactory: (deploymentId) => `ctr-${deploymentId.slice(0, 100)}-${suffix}`,
    });
    // Posting the card is the proposal: from here on the contract accepts decisions and amendments.
    const contract: Contract = { ...drafted, state: transition(drafted.state, 'propose') };
    await this.store.saveRevision(contract, actor);
    this.metrics?.contractsCreated.inc({ level: contract.risk.level });

    const posted = await replier.reply({
      card: { kind: 'contract', input: { contract, requestedBy: displayName(actor) } },
      text: `Deployment contract ${contract.id} (${contract.risk.level} risk)`,
    });
    // Independent writes, sent together.
    await Promise.all([
      this.store.saveLink({
        contractId: contract.id,
        thread: posted.thread,
        cardMessageId: posted.messageId,
        revision: contract.revision,
        requester: actor,
        conversationKey,
      }),
      this.store.audit({
        type: 'contract.created',
        contractId: contract.id,
        revision: contract.revision,
        actor: auditActor(actor),
        data: {
          level: contract.risk.level,
          score: contract.risk.score,
          contentHash: contract.contentHash,
          source: request.source.kind,
          surface: actor.surface,
        },
        at: now,
      }),
    ]);
    return contract;
  }

  private async readRequest(source: AssessSource, now: Date): Promise<DeploymentRequest> {
    switch (source.kind) {
      case 'json':
        return parseDeploymentJson(source.text);
      case 'key-value':
        return parseKeyValueRequest(source.text, now);
      case 'pull-request':
        if (!this.pullRequests) throw new ChatInputError('pull_requests_disabled');
        return this.pullRequests(source.url);
      case 'none':
        throw new ChatInputError('no_input');
    }
  }

  private requestErrorCard(error: unknown, source: AssessSource): ChatCard {
    if (error instanceof RequestValidationError) {
      const where =
        source.kind === 'json' ? (source.from === 'attachment' ? 'The attached JSON' : 'The JSON') : 'The request';
      return {
        kind: 'error',
        input: {
          title: 'I could not read that deployment request',
          summary: `${where} has ${error.issues.length === 1 ? 'a problem' : `${error.issues.length} problems`}:`,
          problems: error.issues.map((i) => ({ path: i.path, message: i.message })),
          hint: 'Type “help” for the keys and formats I understand.',
        },
      };
    }
    if (error instanceof ChatInputError && error.code === 'no_input') {
      return {
        kind: 'error',
        input: {
          title: 'assess needs something to assess',
          summary: 'Give key=value pairs, paste or attach a deployment JSON, or link a pull request.',
          problems: [{ path: 'assess', message: 'no input after the command and no JSON attachment' }],
          hint: 'Example: assess service=checkout version=2.4.0 files=src/api/cart.ts:80',
        },
      };
    }
    if (error instanceof ChatInputError && error.code === 'pull_requests_disabled') {
      return {
        kind: 'error',
        input: {
          title: 'Pull request links are not enabled',
          summary:
            'Reading a pull request needs a Git host token (GITHUB_TOKEN or a GitHub App) in the bot’s configuration.',
          problems: [{ path: 'assess', message: 'a pull request link was given but no Git host token is configured' }],
          hint: 'Paste the deployment JSON or use key=value pairs instead.',
        },
      };
    }
    const coded = codedError(error);
    if (coded) {
      return {
        kind: 'error',
        input: {
          title: 'I could not read that change',
          summary: coded.message,
          problems: [{ path: source.kind === 'pull-request' ? source.url : 'assess', message: coded.code }],
        },
      };
    }
    throw error;
  }

  private async status(message: IncomingMessage, contractId?: string): Promise<ChatMessage> {
    let id = contractId;
    if (id !== undefined && !isPlausibleId(id)) return { card: invalidArgument('status', 'contract-id', id) };
    id ??= await this.contractHere(message);
    if (id === undefined) {
      return {
        card: {
          kind: 'error',
          input: {
            title: 'Which contract?',
            summary: 'There is no contract in this thread yet. Name one with “status <contract-id>”, or see “history”.',
            problems: [{ path: 'status', message: 'no contract id given and none in this conversation' }],
          },
        },
      };
    }
    const contract = await this.store.getContract(id);
    if (!contract) return { card: unknownContract(id) };
    const input = await this.cardInput(contract);
    const events = this.store.recentAudit ? await this.store.recentAudit(contract.id, 8) : [];
    return {
      card: {
        kind: 'status',
        input: {
          ...input,
          events: events.map(
            (e) =>
              `${e.at.toISOString().slice(0, 16).replace('T', ' ')} ${e.type}${e.actor?.displayName ? ` by ${e.actor.displayName}` : ''}${e.revision ? ` (r${e.revision})` : ''}${e.reason ? `: ${e.reason}` : ''}`,
          ),
        },
      },
    };
  }

  private async history(service?: string): Promise<ChatMessage> {
    if (service !== undefined && !isPlausibleId(service))
      return { card: invalidArgument('history', 'service', service) };
    const limit = 15;
    const contracts = await this.store.recentContracts({ ...(service ? { service } : {}), limit: limit + 1 });
    return {
      card: {
        kind: 'history',
        input: {
          ...(service ? { service } : {}),
          entries: contracts.slice(0, limit).map((c) => ({
            contractId: c.id,
            version: c.deployment.version,
            level: c.risk.level,
            score: c.risk.score,
            state: c.state,
            revision: c.revision,
            createdAt: c.createdAt,
          })),
          more: contracts.length > limit ? 1 : 0,
        },
      },
    };
  }

  policyInput() {
    const { approvers } = this.authorization;
    return {
      policy: this.policy,
      approvers: {
        teams: approvers.teams.length,
        slack: approvers.slack.length,
        groups: Object.keys(approvers.groups),
      },
    };
  }

  help(intro?: string) {
    return helpContent({
      pullRequests: this.pullRequests !== undefined,
      rollouts: this.rollouts !== undefined,
      ...(intro ? { intro } : {}),
    });
  }

  private async rolloutCommand(
    message: IncomingMessage,
    command: Extract<ChatCommand, { kind: 'start' | 'rollback' | 'pause' | 'promote' }>,
  ): Promise<ChatMessage> {
    if (!this.rollouts) {
      return {
        card: {
          kind: 'error',
          input: {
            title: `${command.kind} is not available`,
            summary:
              'The rollout guardian is not running in this deployment, so rollouts cannot be driven from chat yet.',
            problems: [{ path: command.kind, message: 'no rollout guardian configured' }],
          },
        },
      };
    }
    if (command.contractId !== undefined && !isPlausibleId(command.contractId)) {
      return { card: invalidArgument(command.kind, 'contract-id', command.contractId) };
    }
    const id = command.contractId ?? (await this.contractHere(message));
    if (id === undefined) return { card: unknownContract('(none in this thread)') };
    const contract = await this.store.getContract(id);
    if (!contract) return { card: unknownContract(id) };
    const membership = approverMembership(message.actor, this.authorization);
    if (!membership.allowed) {
      await this.store.audit({
        type: 'rollout.refused',
        contractId: id,
        actor: auditActor(message.actor),
        reason: membership.reason,
        data: { command: command.kind },
        at: this.clock(),
      });
      return { text: `⛔ ${command.kind} refused: ${membership.reason}.` };
    }
    return this.rollouts.command({ kind: command.kind, contract, actor: message.actor, thread: message.thread });
  }

  private async freeText(
    message: IncomingMessage,
    command: Extract<ChatCommand, { kind: 'text' }>,
    replier: Replier,
  ): Promise<void> {
    const contractId = await this.contractHere(message);
    if (contractId === undefined) {
      await replier.reply({
        card: { kind: 'help', input: this.help(`I don’t know the command “${command.firstWord}”.`) },
      });
      return;
    }
    // The negotiator may be a model: never inside the turn. The reply comes into the thread when it is ready.
    this.background.run(`negotiate ${contractId}`, () =>
      this.negotiateInThread(contractId, command.text, message.actor, message.thread),
    );
  }

  /** The contract of this thread; in a personal or group chat, the latest contract of the chat. */
  private async contractHere(message: IncomingMessage): Promise<string | undefined> {
    const inThread = await this.store.contractForThread(message.surface, message.thread.key);
    if (inThread !== undefined || message.conversationKind === 'channel') return inThread;
    return this.store.contractForThread(message.surface, message.conversationKey);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Negotiation (background)

  async negotiateInThread(contractId: string, text: string, actor: ChatActor, thread: ThreadRef): Promise<void> {
    await this.perContract.run(contractId, async () => {
      const surface = this.surfaces[thread.surface];
      if (!surface) throw new Error(`no chat surface for ${thread.surface}`);
      const contract = await this.store.getContract(contractId);
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
      const outcome = await this.negotiation.negotiate({
        contract,
        message: text,
        actor: { id: actor.id, ...(actor.displayName ? { name: actor.displayName } : {}) },
      });
      this.metrics?.negotiationTurns.inc({ mode: outcome.fallbackNote ? 'fallback' : outcome.mode });
      await surface.postInThread(thread, { text: outcome.reply });
      if (outcome.accepted)
        await this.publishRevision(contract, outcome.accepted.contract, outcome.accepted.diff, actor);
    });
  }

  /** Stores an accepted amendment, posts the new revision's card and retires the old card. */
  private async publishRevision(previous: Contract, next: Contract, diff: string[], actor: ChatActor): Promise<void> {
    await this.store.saveRevision(next, actor);
    const at = this.clock();
    await this.store.audit({
      type: 'contract.amended',
      contractId: next.id,
      revision: next.revision,
      actor: auditActor(actor),
      data: { from: previous.revision, diff, contentHash: next.contentHash, approvalsVoided: true },
      at,
    });
    const link = await this.store.getLink(next.id);
    if (!link) return;
    const surface = this.surfaces[link.thread.surface];
    if (!surface) return;
    const posted = await surface.postCard(
      link.thread,
      { kind: 'contract', input: { contract: next, requestedBy: displayName(link.requester) } },
      `Revision ${next.revision} of ${next.id}`,
    );
    await this.store.saveLink({ ...link, cardMessageId: posted.messageId, revision: next.revision });
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
      this.log?.warn({ err: error, contractId: next.id }, 'could not retire the previous revision card');
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Card actions

  async handleAction(action: CardActionInput): Promise<CardActionResult> {
    const parsed = actionDataSchema.safeParse(action.data);
    if (!parsed.success) {
      return { kind: 'notice', text: 'This button carries no valid contract reference; use the newest card.' };
    }
    const data = parsed.data;
    switch (action.verb) {
      case 'contract.approve':
        return this.decide(action, data, 'approve');
      case 'contract.reject':
        return this.decide(action, data, 'reject');
      case 'contract.negotiate':
        return this.startNegotiation(action, data);
      case 'contract.details':
        return this.details(data);
      case 'rollout.rollback':
      case 'rollout.pause':
      case 'rollout.promote':
        return this.rolloutButton(
          action,
          data,
          action.verb.slice('rollout.'.length) as 'rollback' | 'pause' | 'promote',
        );
    }
  }

  /** Roll back now / Pause / Promote on the rollout status card: approvers only, handed to the guardian. */
  private async rolloutButton(
    action: CardActionInput,
    data: z.infer<typeof actionDataSchema>,
    kind: 'rollback' | 'pause' | 'promote',
  ): Promise<CardActionResult> {
    if (!this.rollouts) return { kind: 'notice', text: 'The rollout guardian is not running here.' };
    const contract = await this.store.getContract(data.contractId);
    if (!contract) return { kind: 'notice', text: `Contract ${data.contractId} does not exist (any more).` };
    const membership = approverMembership(action.actor, this.authorization);
    if (!membership.allowed) {
      await this.store.audit({
        type: 'rollout.refused',
        contractId: contract.id,
        revision: contract.revision,
        actor: auditActor(action.actor),
        reason: membership.reason,
        data: { command: kind },
        at: this.clock(),
      });
      return { kind: 'notice', text: `⛔ Not done: ${membership.reason}.` };
    }
    const reply = await this.rollouts.command({ kind, contract, actor: action.actor, thread: action.message.thread });
    return { kind: 'notice', text: reply.text ?? `${kind} requested.` };
  }

  private async decide(
    action: CardActionInput,
    data: z.infer<typeof actionDataSchema>,
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
        const current = await this.store.getContract(data.contractId);
        if (!current) return { kind: 'notice', text: problem };
        return {
          kind: 'private-card',
          card: { kind: 'contract', input: { ...(await this.cardInput(current)), notice: problem } },
        };
      }
    }

    // One store call: the store runs src/domain/decision.ts `decide` (stale, open, authorised, separation of duties,
    // duplicate, quorum) under its lock and writes the verdict.
    let result: DecisionOutcome;
    try {
      result = await this.store.recordDecision({
        contractId: data.contractId,
        revision: data.revision,
        decision,
        actor: action.actor,
        ...(reason !== undefined ? { reason } : {}),
        idempotencyKey: `${data.contractId}:${data.revision}:${action.actor.id}:${action.verb}`,
        at: this.clock(),
        policy: this.authorization,
      });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'store_not_found') {
        return { kind: 'notice', text: `Contract ${data.contractId} does not exist (any more).` };
      }
      throw error;
    }
    switch (result.outcome) {
      case 'recorded':
        this.metrics?.decisions.inc({ outcome: decision === 'approve' ? 'approved' : 'rejected' });
        return { kind: 'update', card: this.cardAfterDecision(result) };
      case 'duplicate':
        return { kind: 'update', card: this.cardAfterDecision(result) };
      case 'stale_revision':
        return this.staleClick(action, result.contract, data.revision, decision);
      case 'refused':
        return this.refuse(
          action,
          data,
          decision,
          result.refusal?.code ?? 'not_an_approver',
          result.refusal?.reason ?? 'refused',
        );
      case 'not_open':
        return {
          kind: 'private-card',
          card: this.cardAfterDecision(result, `This revision is already ${result.contract.state.replace('_', ' ')}.`),
        };
    }
  }

  private cardAfterDecision(result: DecisionOutcome, notice?: string): ChatCard {
    const decision = decisionInfo(result);
    const requester = result.requester;
    const input: ContractCardInput = {
      contract: result.contract,
      approvals: result.approvals,
      ...(decision ? { decision } : {}),
      ...(requester ? { requestedBy: displayName(requester) } : {}),
      ...(notice ? { notice } : {}),
    };
    return decision ? { kind: 'decision', input } : { kind: 'contract', input };
  }

  private async staleClick(
    action: CardActionInput,
    current: Contract,
    clicked: number,
    decision: 'approve' | 'reject' | 'negotiate',
  ): Promise<CardActionResult> {
    this.metrics?.decisions.inc({ outcome: 'stale' });
    await this.store.audit({
      type: 'decision.stale',
      contractId: current.id,
      revision: clicked,
      actor: auditActor(action.actor),
      data: { verb: action.verb, current: current.revision, decision },
      at: this.clock(),
    });
    const input = await this.cardInput(current);
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

  private async refuse(
    action: CardActionInput,
    target: { contractId: string; revision: number },
    decision: 'approve' | 'reject',
    code: string,
    reason: string,
  ): Promise<CardActionResult> {
    this.metrics?.decisions.inc({ outcome: 'refused' });
    await this.store.audit({
      type: 'decision.refused',
      contractId: target.contractId,
      revision: target.revision,
      actor: auditActor(action.actor),
      reason,
      data: { decision, code },
      at: this.clock(),
    });
    return { kind: 'notice', text: `⛔ Not recorded: ${reason}.` };
  }

  private async startNegotiation(
    action: CardActionInput,
    data: z.infer<typeof actionDataSchema>,
  ): Promise<CardActionResult> {
    const contract = await this.store.getContract(data.contractId);
    if (!contract) return { kind: 'notice', text: `Contract ${data.contractId} does not exist (any more).` };
    if (data.revision !== contract.revision) return this.staleClick(action, contract, data.revision, 'negotiate');
    if (!canTransition(contract.state, 'amend')) {
      return {
        kind: 'notice',
        text: `Contract ${contract.id} is ${contract.state.replace('_', ' ')}; its terms can no longer change.`,
      };
    }
    const link = await this.store.getLink(contract.id);
    const thread = link?.thread ?? action.message.thread;
    const message = data.message?.trim();
    if (message) {
      this.background.run(`negotiate ${contract.id}`, () =>
        this.negotiateInThread(contract.id, message, action.actor, thread),
      );
    } else {
      this.background.run(`negotiation intro ${contract.id}`, async () => {
        const surface = this.surfaces[thread.surface];
        await surface?.postInThread(thread, { text: negotiationIntro(contract, action.actor) });
      });
    }
    return { kind: 'notice', text: 'Negotiating… reply in the contract’s thread.' };
  }

  private async details(data: z.infer<typeof actionDataSchema>): Promise<CardActionResult> {
    const contract = await this.store.getContract(data.contractId);
    if (!contract) return { kind: 'notice', text: `Contract ${data.contractId} does not exist (any more).` };
    const input = await this.cardInput(contract);
    const notice =
      data.revision === contract.revision
        ? undefined
        : `Showing revision ${contract.revision}, the current one (you clicked ${data.revision}).`;
    return {
      kind: 'private-card',
      card: { kind: 'contract', input: { ...input, detailed: true, ...(notice ? { notice } : {}) } },
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // For other parts of the product (rollout guardian): where a contract lives in chat, and posting there.

  /** The thread of a contract's card, when it was posted in chat. */
  async contractThread(contractId: string): Promise<{ thread: ThreadRef; cardMessageId: string } | undefined> {
    const link = await this.store.getLink(contractId);
    return link ? { thread: link.thread, cardMessageId: link.cardMessageId } : undefined;
  }

  /** Posts into the contract's thread through its surface; undefined when the contract was never posted in chat. */
  async postToContract(contractId: string, message: ChatMessage): Promise<MessageRef | undefined> {
    const link = await this.store.getLink(contractId);
    if (!link) return undefined;
    const surface = this.surfaces[link.thread.surface];
    if (!surface) throw new Error(`no chat surface for ${link.thread.surface}`);
    return surface.postInThread(link.thread, message);
  }

  /** The card input for a contract's current revision, with its approvals and decision. */
  async cardInput(contract: Contract): Promise<ContractCardInput> {
    const [approvals, rejection, link] = await Promise.all([
      this.store.approvals(contract.id, contract.revision),
      contract.state === 'rejected' ? this.store.rejection(contract.id, contract.revision) : Promise.resolve(undefined),
      this.store.getLink(contract.id),
    ]);
    const decision = decisionInfo({ contract, approvals, ...(rejection ? { rejection } : {}) });
    return {
      contract,
      approvals,
      ...(decision ? { decision } : {}),
      ...(link ? { requestedBy: displayName(link.requester) } : {}),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------

export class ChatInputError extends Error {
  constructor(readonly code: 'no_input' | 'pull_requests_disabled') {
    super(code);
    this.name = 'ChatInputError';
  }
}

function decisionInfo(result: {
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

function displayName(actor: ChatActor): string {
  return actor.displayName ?? actor.id;
}

function auditActor(actor: ChatActor) {
  return { id: actor.id, surface: actor.surface, ...(actor.displayName ? { displayName: actor.displayName } : {}) };
}

function isJsonAttachment(a: { name?: string; contentType: string }): boolean {
  return /json/i.test(a.contentType) || /\.json$/i.test(a.name ?? '');
}

function codedError(error: unknown): { code: string; message: string } | undefined {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return { code: (error as unknown as { code: string }).code, message: error.message.replace(/[\r\n]+/g, ' ') };
  }
  return undefined;
}

function unknownContract(id: string): ChatCard {
  return {
    kind: 'error',
    input: {
      title: 'No such contract',
      summary: `I have no contract with the id ${id}.`,
      problems: [{ path: 'contract-id', message: `${id} is unknown` }],
      hint: 'See “history” for recent contracts.',
    },
  };
}

function invalidArgument(command: string, name: string, value: string): ChatCard {
  return {
    kind: 'error',
    input: {
      title: `${command}: that is not a valid ${name}`,
      summary: `${name} takes letters, digits and . _ : - (at most 200 characters).`,
      problems: [{ path: name, message: `"${value.slice(0, 60)}" is not a valid ${name}` }],
    },
  };
}

function negotiationIntro(contract: Contract, actor: ChatActor): string {
  const first = contract.terms.ramp.steps[0];
  const error = contract.terms.guardrails.find((g) => g.metric === 'error_rate');
  const floor = contract.risk.level;
  return [
    `${displayName(actor)} opened the negotiation of ${contract.id} (revision ${contract.revision}, ${floor} risk).`,
    `Reply in this thread with what you would like to change, for example:`,
    `• "start the canary at ${first ? Math.min(first.trafficPercent * 2, 50) : 10}%"`,
    `• "raise the error-rate guardrail to ${error ? Math.round(error.threshold * 150) / 100 : 0.5}%"`,
    `• "extend the bake time to 2 hours" · "add a feature flag" · "explain database_migration"`,
    `The policy floor decides what is allowed; accepted changes post a new revision and void earlier approvals.`,
  ].join('\n');
}
