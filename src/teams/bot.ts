/**
 * The Teams bot: a teams-ai (v1) Application over botbuilder's CloudAdapter that adapts Teams activities to the
 * surface-independent ChatService. Messages go to `handleMessage`; Adaptive Card `Action.Execute` invokes go to
 * `handleAction` and are answered in the invoke response; a decision also edits the card in place for everyone
 * (REPLACE_FOR_ALL), while refusals and personal views (stale clicks, details) only reach the clicker.
 */
// teams-ai's own modules, not its index: the index also loads its AI stack (openai, the gpt tokenizer tables and
// msal, about 20 MB resident) that this bot does not use; negotiation has its own model client, loaded on demand.
import { AdaptiveCardActionExecuteResponseType } from '@microsoft/teams-ai/lib/AdaptiveCards.js';
import { Application } from '@microsoft/teams-ai/lib/Application.js';
import type { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js';
import type { TurnState } from '@microsoft/teams-ai/lib/TurnState.js';
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { renderChatCard } from '../cards/index.js';
import { KeyedQueue } from '../chat/background.js';
import type { InboundEvents } from '../chat/inboundEvents.js';
import {
  CARD_VERBS,
  type CardVerb,
  type ChatActor,
  type IncomingMessage,
  type MessageHandled,
  type Replier,
} from '../chat/port.js';
import type { ChatService } from '../chat/service.js';
import {
  actorOf,
  channelThreadKey,
  conversationKeyOf,
  conversationKindOf,
  inlineAttachments,
  mentionsBot,
  mentionsSomeoneElse,
  threadKeyOf,
} from './activity.js';
import { FILE_DOWNLOAD_INFO, fileProblemCard, readTeamsFiles, textWithFiles } from './files.js';
import { type TeamsSurface, TeamsSurfaceError, toActivity } from './surface.js';
import { TurnScheduler } from './turnScheduler.js';

export interface TeamsBotLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface TeamsBotOptions {
  adapter: TeamsAdapter;
  chat: ChatService;
  surface: TeamsSurface;
  botAppId: string;
  logger: TeamsBotLogger;
  /**
   * Redelivered messages (src/chat/inboundEvents.ts): claimed before the turn, done once its work is stored; shared
   * by the replicas through the store. Absent: every delivery is handled.
   */
  inboundEvents?: InboundEvents;
  /**
   * Whether a channel reply chain is a contract's thread. With the ChannelMessage.Read.Group permission (RSC) Teams
   * delivers every channel message; those without an @mention are handled only in contract threads. Absent: ignored.
   */
  isContractThread?: (threadKey: string) => Promise<boolean>;
  /** Orders click and message turns; default: clicks first, at most 8 message turns at once. */
  scheduler?: TurnScheduler;
}

const INVOKE_ADAPTIVE = 'application/vnd.microsoft.card.adaptive';

export function createTeamsApplication(options: TeamsBotOptions): Application<TurnState> {
  const { chat, surface, logger } = options;
  const cardEdits = new KeyedQueue();
  // No `storage`: no handler here uses teams-ai turn state (what the bot must remember, contracts, decisions and
  // conversation references, is in the store), so a turn reads and writes no state documents.
  const app = new Application<TurnState>({
    adapter: options.adapter,
    ...(options.botAppId ? { botAppId: options.botAppId } : {}),
    removeRecipientMention: true,
    // The typing timer is one per Application and shared by concurrent turns; replies here are fast anyway.
    startTypingTimer: false,
    longRunningMessages: false,
    adaptiveCards: { actionExecuteResponseType: AdaptiveCardActionExecuteResponseType.REPLACE_FOR_ALL },
  });

  // Clicks go ahead of message turns (./turnScheduler.ts).
  const turns = options.scheduler ?? new TurnScheduler();
  const contractThreads = new Set<string>();
  /** Channel messages without an @mention: only replies in a contract's thread (the rest is people talking). */
  const isForTheBot = async (activity: TurnContext['activity']): Promise<boolean> => {
    if (conversationKindOf(activity) !== 'channel' || mentionsBot(activity)) return true;
    if (mentionsSomeoneElse(activity)) return false;
    const key = threadKeyOf(activity);
    if (key === undefined || !options.isContractThread) return false;
    if (contractThreads.has(key)) return true;
    if (!(await options.isContractThread(key))) return false;
    if (contractThreads.size >= 10_000) contractThreads.clear();
    contractThreads.add(key);
    return true;
  };

  const onMessage = async (context: TurnContext): Promise<void> => {
    const activity = context.activity;
    // Ignored chatter leaves no trace: nothing is stored or answered.
    if (!(await isForTheBot(activity))) return;
    const kind = conversationKindOf(activity);
    const conversationKey = conversationKeyOf(activity);
    const threadKey = threadKeyOf(activity) ?? channelThreadKey(conversationKey, activity.id ?? '');
    // Teams message ids are unique only within a conversation. The event is claimed before the turn and marked done
    // once the turn's work is stored (src/chat/inboundEvents.ts): a redelivery after a crash or a failed send does the
    // unfinished work; one of finished work, or of work another replica is doing, is ignored. The claim and the
    // conversation reference are written at once (a redelivered message stores the same reference again).
    const remembered = surface.rememberThread(threadKey, activity);
    const turn = async () => {
      await remembered;
      return handleTurn(context, { kind, conversationKey, threadKey });
    };
    if (!options.inboundEvents || !activity.id) return void (await turn());
    remembered.catch(() => undefined); // awaited below, after the claim
    const outcome = await options.inboundEvents.once('teams', `${conversationKey}:${activity.id}`, turn);
    await remembered;
    if (outcome === 'duplicate' || outcome === 'in-progress') {
      logger.info({ activityId: activity.id, outcome }, 'redelivered Teams message ignored');
    }
  };

  const handleTurn = async (
    context: TurnContext,
    turn: {
      kind: ReturnType<typeof conversationKindOf>;
      conversationKey: string;
      threadKey: string;
    },
  ): Promise<MessageHandled | undefined> => {
    const activity = context.activity;
    const { kind, conversationKey, threadKey } = turn;
    const thread = { surface: 'teams' as const, key: threadKey };
    const replier: Replier = {
      async reply(reply) {
        const response = await context.sendActivity(toActivity(reply));
        if (!response?.id) throw new TeamsSurfaceError('teams_send_failed', 'the connector returned no message id');
        return { thread, messageId: response.id };
      },
    };
    const files = await readTeamsFiles(activity);
    const text = textWithFiles(activity.text ?? '', files);
    if (text === undefined) {
      await replier.reply({ card: fileProblemCard(files.problems) });
      return;
    }
    const message: IncomingMessage = {
      surface: 'teams',
      text,
      actor: actorOf(activity),
      conversationKind: kind,
      thread,
      conversationKey,
      attachments: [
        ...inlineAttachments(activity).filter((a) => a.contentType !== FILE_DOWNLOAD_INFO),
        ...files.attachments,
      ],
      ...(activity.id ? { eventId: activity.id } : {}),
      ...(kind === 'channel' && !mentionsBot(activity) ? { addressed: false } : {}),
    };
    return chat.handleMessage(message, replier);
  };
  app.activity(ActivityTypes.Message, (context) => turns.message(() => onMessage(context)));

  app.conversationUpdate('membersAdded', async (context) => {
    const botId = context.activity.recipient?.id;
    const added = context.activity.membersAdded ?? [];
    if (conversationKindOf(context.activity) === 'personal' && added.some((m) => m.id === botId)) {
      await context.sendActivity(toActivity({ card: { kind: 'help', input: chat.help() } }));
    }
  });

  const onCardAction = async (context: TurnContext, data: Record<string, unknown>) => {
    const activity = context.activity;
    const verb = (activity.value as { action?: { verb?: string } } | undefined)?.action?.verb as CardVerb;
    const conversationKey = conversationKeyOf(activity);
    const threadKey = threadKeyOf(activity) ?? conversationKey;
    await surface.rememberThread(threadKey, activity);
    const thread = { surface: 'teams' as const, key: threadKey };
    let actor: ChatActor = actorOf(activity);
    if (verb === 'contract.approve' && activity.from?.id)
      actor = await withDirectoryAliases(surface, thread, actor, activity.from.id);
    const result = await chat.handleAction({
      surface: 'teams',
      verb,
      data,
      actor,
      message: { thread, messageId: activity.replyToId ?? '' },
      conversationKind: conversationKindOf(activity),
      conversationKey,
    });
    switch (result.kind) {
      case 'update': {
        // REPLACE_FOR_ALL, done here rather than by teams-ai: the clicker gets the new card in the invoke response at
        // once, and the edit for everyone (a round trip to the connector) follows in the background, where a failure
        // is logged instead of turning a recorded decision into an error answer.
        const card = renderChatCard(result.card);
        const target = { thread, messageId: activity.replyToId ?? '' };
        // Edits of one message are applied in the order the decisions were answered, never an older card last.
        chat.background.run(`update card ${target.messageId}`, () =>
          cardEdits.run(target.messageId, () => surface.replaceCard(target, card)),
        );
        await sendInvokeResponse(context, { statusCode: 200, type: INVOKE_ADAPTIVE, value: card });
        return card as { type: 'AdaptiveCard' };
      }
      case 'private-card':
        await sendInvokeResponse(context, {
          statusCode: 200,
          type: INVOKE_ADAPTIVE,
          value: renderChatCard(result.card),
        });
        return result.card.kind;
      case 'notice':
        // A string answer is a message only the clicker sees; the card stays as it is.
        return result.text;
    }
  };
  app.adaptiveCards.actionExecute<Record<string, unknown>>([...CARD_VERBS], (context, _state, data) =>
    turns.click(() => onCardAction(context, data)),
  );

  app.error(async (context, error) => {
    logger.error({ err: error, activityType: context.activity.type }, 'Teams turn failed');
    if (context.activity.type === ActivityTypes.Invoke) {
      await sendInvokeResponse(context, {
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: 'Something went wrong on my side. Clicking again is safe: a decision is never recorded twice.',
      });
      return;
    }
    if (context.activity.type === ActivityTypes.Message) {
      await context.sendActivity('Something went wrong on my side; nothing was changed. Please try again.');
    }
  });

  return app;
}

async function sendInvokeResponse(
  context: TurnContext,
  body: { statusCode: number; type: string; value: unknown },
): Promise<void> {
  await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body } });
}

/**
 * Adds the clicker's e-mail / UPN (for separation of duties against the deployment's author) and what the directory
 * said: a failed lookup leaves the identity unconfirmed, and the decision rule refuses what needs it.
 */
async function withDirectoryAliases(
  surface: TeamsSurface,
  thread: { surface: 'teams'; key: string },
  actor: ChatActor,
  channelUserId: string,
): Promise<ChatActor> {
  const resolved = await surface.resolveUser(thread, channelUserId);
  const directory = resolved.directory ?? 'failed';
  if (directory !== 'resolved') return { ...actor, directory };
  const aliases = [...new Set([...(actor.aliases ?? []), ...(resolved.aliases ?? []), resolved.id])].filter(
    (a) => a !== actor.id,
  );
  return { ...actor, ...(aliases.length > 0 ? { aliases } : {}), directory };
}
