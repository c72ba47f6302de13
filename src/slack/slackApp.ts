/**
 * The Slack app: a Bolt App whose listeners adapt Slack payloads to the surface-independent ChatService, mounted on
 * the project's express server at /slack/events (HTTP mode, every request's signature verified) or connected over
 * Socket Mode for local use.
 *
 *  - `app_mention` (`@chaos assess …`) and direct messages → ChatService.handleMessage, replies in the thread;
 *  - the `/chaos …` slash command → the same commands, the first reply starting a thread in the channel;
 *  - card buttons (`contract.approve|reject|negotiate|details`, `rollout.*`) → ChatService.handleAction, the card
 *    edited in place with chat.update; Reject and Negotiate open a modal first, its submission is the decision;
 *  - retried events (same workspace and `event_id`, `X-Slack-Retry-Num`) are handled once: claimed before the
 *    work, done once it is stored (src/chat/inboundEvents.ts), so a retry after a crash finishes the work.
 *
 * Everything is acknowledged first (processBeforeResponse: false, so the 200 leaves at ack()); the store, the model
 * and the Web API are only touched afterwards. Bodies Bolt could not route get a 400 naming the problem.
 */

import {
  App,
  type Logger as BoltLogger,
  ExpressReceiver,
  LogLevel,
  type Receiver,
  type RespondFn,
  SocketModeReceiver,
} from '@slack/bolt';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { InboundEvents, MemoryInboundEventStore } from '../chat/inboundEvents.js';
import {
  CARD_VERBS,
  type CardActionInput,
  type CardActionResult,
  type CardVerb,
  type ChatActor,
  type IncomingMessage,
  type MessageHandled,
  type Replier,
} from '../chat/port.js';
import { renderSlackMessage } from './blocks.js';
import { platformErrorCode, SlackSurfaceError } from './errors.js';
import {
  inputValue,
  MAX_REASON_CHARS,
  MAX_REQUEST_CHARS,
  MESSAGE_BLOCK,
  type ModalMetadata,
  NEGOTIATE_CALLBACK,
  negotiateModal,
  REASON_BLOCK,
  REJECT_CALLBACK,
  readModalMetadata,
  rejectModal,
} from './modals.js';
import { slackTextToPlain, stripBotMention } from './mrkdwn.js';
import {
  appMentionSchema,
  blockActionsSchema,
  describeSlackPayloadProblem,
  directMessageSchema,
  parseButtonValue,
  slashCommandSchema,
  viewSubmissionSchema,
} from './payloads.js';
import { DEFAULT_SLACK_BODY_LIMIT, type SlackRequestGuardOptions, slackRequestGuard } from './requestGuard.js';
import type { SlackSurface } from './slackSurface.js';
import { conversationKindOfChannel, slackThread } from './threads.js';

/** What the Slack app needs from the chat layer (ChatService fits). */
export interface SlackChatPort {
  handleMessage(message: IncomingMessage, replier: Replier): Promise<MessageHandled>;
  handleAction(action: CardActionInput): Promise<CardActionResult>;
}

export interface SlackAppLogger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SlackAppOptions {
  chat: SlackChatPort;
  /** Built with createSlackSurface and also given to the ChatService as its `slack` surface. */
  surface: SlackSurface;
  botToken: string;
  /** HTTP mode: verifies every request (v0 HMAC-SHA256, timestamps older than 5 minutes refused). */
  signingSecret?: string;
  /** Socket Mode (local use): an app-level token (xapp-…); no public URL is needed. */
  appToken?: string;
  /** Default: Socket Mode when an app token is given (as SlackConfig.socketMode), HTTP otherwise. */
  socketMode?: boolean;
  /** Redelivered events, claimed in the store (shared by replicas and restarts); in this process's memory when absent. */
  inboundEvents?: InboundEvents;
  logger?: SlackAppLogger;
  /** The bot's ids when known up front; otherwise `auth.test` finds them (once, with a short timeout). */
  botIdentity?: { botId?: string; botUserId: string };
  /** Bolt answers an unacknowledged request after this long; default 3,001 ms (Slack's budget is 3 s). */
  unhandledRequestTimeoutMillis?: number;
  /** HTTP mode: body limit and rate limits in front of Bolt (see requestGuard.ts for the defaults). */
  guard?: Omit<SlackRequestGuardOptions, 'signingSecret'>;
}

export interface SlackApp {
  app: App;
  receiver: Receiver;
  mode: 'http' | 'socket';
  /** HTTP mode: mount with `server.use('/slack/events', router)`, with no body parser in front of it. */
  router: Router | undefined;
  /** Socket Mode connects here; HTTP mode has nothing to start (the express server listens). */
  start(): Promise<void>;
  /** Waits for handlers still running after their ack and for queued Slack posts. */
  idle(): Promise<void>;
  /** Disconnects Socket Mode and waits for pending work. */
  close(): Promise<void>;
}

export const SLACK_EVENTS_PATH = '/slack/events';

const SOMETHING_WRONG = 'Something went wrong on my side; nothing was changed. Please try again.';

const contractRefSchema = z.object({
  contractId: z.string().min(1).max(300),
  revision: z.coerce.number().int().positive(),
});

export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { chat, surface } = options;
  const log = options.logger ?? silentLogger;
  if (!options.botToken) throw new SlackSurfaceError('slack_invalid_configuration', 'SLACK_BOT_TOKEN is required');
  const socketMode = options.socketMode ?? options.appToken !== undefined;
  if (socketMode && !options.appToken) {
    throw new SlackSurfaceError('slack_invalid_configuration', 'SLACK_APP_TOKEN (xapp-…) is required for Socket Mode');
  }
  if (!socketMode && !options.signingSecret) {
    throw new SlackSurfaceError(
      'slack_invalid_configuration',
      'SLACK_SIGNING_SECRET is required to verify Slack requests (or SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const inboundEvents = options.inboundEvents ?? new InboundEvents(new MemoryInboundEventStore());
  const identity = new BotIdentity(surface, options.botIdentity, log);
  const boltLog = boltLogger(log);

  let receiver: Receiver;
  let router: Router | undefined;
  if (socketMode) {
    receiver = new SocketModeReceiver({
      appToken: options.appToken ?? '',
      logger: boltLog,
      // apps.connections.open goes through the same API URL and retry policy as the bot's client (copied: the
      // Socket Mode client writes into the options it is given).
      installerOptions: { clientOptions: { ...surface.clientOptions, rejectRateLimitedCalls: false } },
    });
  } else {
    router = express.Router();
    // Before Bolt's own route: size, then signature, then the rate limits (requestGuard.ts).
    const guard = { ...options.guard, signingSecret: options.signingSecret ?? '' };
    router.use(...slackRequestGuard(guard));
    receiver = new SlackEventsReceiver({
      signingSecret: options.signingSecret ?? '',
      bodyLimit: guard.bodyLimitBytes ?? DEFAULT_SLACK_BODY_LIMIT,
      endpoints: '/',
      router,
      processBeforeResponse: false,
      logger: boltLog,
      ...(options.unhandledRequestTimeoutMillis
        ? { unhandledRequestTimeoutMillis: options.unhandledRequestTimeoutMillis }
        : {}),
    });
  }

  const app = new App({
    receiver,
    authorize: async () => ({ botToken: options.botToken, ...(await identity.get()) }),
    clientOptions: surface.clientOptions,
    logger: boltLog,
    convoStore: false,
    ignoreSelf: true,
  });

  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.then(
      () => running.delete(work),
      () => running.delete(work),
    );
    return work;
  };

  const actorOf = async (userId: string, fallbackName?: string): Promise<ChatActor> => {
    const resolved = await surface.resolveUser(undefined, userId);
    const displayName = resolved?.displayName ?? fallbackName;
    return {
      id: userId,
      surface: 'slack',
      ...(displayName ? { displayName } : {}),
      ...(resolved?.aliases?.length ? { aliases: resolved.aliases } : {}),
      ...(resolved?.directory ? { directory: resolved.directory } : {}),
    };
  };

  // ------------------------------------------------------------------------------------------------------------
  // Messages: @mentions in channels, direct messages, the slash command

  const handleText = async (input: {
    /** An Events API delivery: Slack retries it when its 200 was late or lost (the same event, with a retry number). */
    event?: { key: string; eventId: string; retryNum?: number | undefined; retryReason?: string | undefined };
    channel: string;
    user: string;
    text: string;
    thread: ReturnType<typeof slackThread>;
    botUserId: string | undefined;
    onError(error: unknown): Promise<void>;
    replier: Replier;
  }): Promise<void> => {
    const text = slackTextToPlain(stripBotMention(input.text, input.botUserId));
    const work = async () => {
      const message: IncomingMessage = {
        surface: 'slack',
        text,
        actor: await actorOf(input.user),
        conversationKind: conversationKindOfChannel(input.channel),
        thread: input.thread,
        conversationKey: input.channel,
        attachments: [],
        ...(input.event ? { eventId: input.event.eventId } : {}),
      };
      return chat.handleMessage(message, input.replier);
    };
    try {
      const event = input.event;
      if (!event) return void (await work());
      const outcome = await inboundEvents.once('slack', event.key, work);
      if (outcome === 'duplicate' || outcome === 'in-progress') {
        const { eventId, retryNum, retryReason } = event;
        log.info({ eventId, retryNum, retryReason, outcome }, 'Slack event redelivery ignored');
      }
    } catch (error) {
      log.error({ err: error, channel: input.channel }, 'Slack message handling failed');
      await input.onError(error).catch((err: unknown) => log.warn({ err }, 'could not tell the user about a failure'));
    }
  };

  app.event('app_mention', async ({ event, body, context }) => {
    const parsed = appMentionSchema.safeParse(event);
    if (!parsed.success || !parsed.data.user || parsed.data.bot_id) return;
    const mention = parsed.data;
    const thread = slackThread(mention.channel, mention.thread_ts ?? mention.ts);
    await track(
      handleText({
        event: eventDelivery(body, context),
        channel: mention.channel,
        user: mention.user ?? '',
        text: mention.text,
        thread,
        botUserId: context.botUserId,
        replier: { reply: (reply) => surface.postInThread(thread, reply) },
        onError: async () => void (await surface.postInThread(thread, { text: SOMETHING_WRONG })),
      }),
    );
  });

  app.event('message', async ({ event, body, context }) => {
    const parsed = directMessageSchema.safeParse(event);
    if (!parsed.success) return;
    const dm = parsed.data;
    if (context.botUserId && dm.user === context.botUserId) return;
    // A direct message at the top level is answered at the top level; the contract card then starts its thread.
    const thread = slackThread(dm.channel, dm.thread_ts);
    await track(
      handleText({
        event: eventDelivery(body, context),
        channel: dm.channel,
        user: dm.user,
        text: dm.text,
        thread,
        botUserId: context.botUserId,
        replier: { reply: (reply) => surface.postInThread(thread, reply) },
        onError: async () => void (await surface.postInThread(thread, { text: SOMETHING_WRONG })),
      }),
    );
  });

  app.command(/^\/.+/, async ({ ack, command, respond, context }) => {
    await ack();
    const parsed = slashCommandSchema.safeParse(command);
    if (!parsed.success) {
      log.warn({ problem: parsed.error.issues[0]?.message }, 'malformed slash command ignored');
      return;
    }
    const cmd = parsed.data;
    const channelLevel = slackThread(cmd.channel_id);
    await track(
      handleText({
        channel: cmd.channel_id,
        user: cmd.user_id,
        text: cmd.text,
        thread: channelLevel,
        botUserId: context.botUserId,
        replier: { reply: (reply) => surface.postInThread(channelLevel, reply) },
        onError: async (error) => {
          const code = platformErrorCode(error);
          const text =
            code === 'not_in_channel' || code === 'channel_not_found'
              ? 'I can’t post in this conversation. Invite me first (`/invite @chaos`), or message me directly.'
              : SOMETHING_WRONG;
          await respond({ response_type: 'ephemeral', text });
        },
      }),
    );
  });

  // ------------------------------------------------------------------------------------------------------------
  // Buttons

  app.action(/.*/, async ({ ack, body, respond }) => {
    await ack();
    await track(
      (async () => {
        const parsed = blockActionsSchema.safeParse(body);
        if (!parsed.success) {
          log.warn({ problem: parsed.error.issues[0]?.message }, 'unreadable Slack action ignored');
          return;
        }
        const click = parsed.data;
        const action = click.actions[0];
        if (!action || !isCardVerb(action.action_id)) return;
        const verb = action.action_id;
        const channel = click.channel?.id ?? click.container?.channel_id;
        const messageTs = click.message?.ts ?? click.container?.message_ts;
        if (!channel || !messageTs) {
          log.warn({ verb }, 'Slack action without a message ignored');
          return;
        }
        const threadTs = click.message?.thread_ts ?? click.container?.thread_ts ?? messageTs;
        const where: ClickedCard = {
          channel,
          messageTs,
          threadTs,
          user: click.user.id,
          ephemeral: click.container?.is_ephemeral === true,
          respond,
        };
        const data = parseButtonValue(action.value);
        try {
          if (verb === 'contract.reject' || verb === 'contract.negotiate') {
            const ref = contractRefSchema.safeParse(data);
            if (ref.success) {
              // The trigger id expires 3 s after the click: open the modal before anything slow.
              const meta: ModalMetadata = { ...ref.data, channel, messageTs, threadTs };
              await surface.openModal(
                click.trigger_id,
                verb === 'contract.reject' ? rejectModal(meta) : negotiateModal(meta),
              );
              return;
            }
          }
          const actor = await actorOf(click.user.id, click.user.name ?? click.user.username);
          const result = await chat.handleAction(actionInput(verb, data, actor, where));
          await deliver(result, where);
        } catch (error) {
          log.error({ err: error, verb, channel }, 'Slack action failed');
          await surface
            .postEphemeral(
              channel,
              click.user.id,
              { text: 'Something went wrong; nothing was recorded. Please try again.' },
              ephemeralThread(where),
            )
            .catch((err: unknown) => log.warn({ err }, 'could not tell the clicker about a failure'));
        }
      })(),
    );
  });

  // ------------------------------------------------------------------------------------------------------------
  // Modal submissions: the reject reason and the negotiation request

  app.view(/.*/, async ({ ack, body }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    const callback = parsed.success ? parsed.data.view.callback_id : '';
    if (!parsed.success || (callback !== REJECT_CALLBACK && callback !== NEGOTIATE_CALLBACK)) {
      await ack();
      return;
    }
    const submission = parsed.data;
    const block = callback === REJECT_CALLBACK ? REASON_BLOCK : MESSAGE_BLOCK;
    const max = callback === REJECT_CALLBACK ? MAX_REASON_CHARS : MAX_REQUEST_CHARS;
    const meta = readModalMetadata(submission.view.private_metadata);
    const value = inputValue(submission.view.state.values, block);
    const problem = !meta
      ? 'This form no longer matches a contract card; click the button on the newest card again.'
      : value === ''
        ? callback === REJECT_CALLBACK
          ? 'A reason is required to reject.'
          : 'Say what you would like to change.'
        : value.length > max
          ? `At most ${max} characters, please.`
          : undefined;
    if (problem || !meta) {
      await ack({ response_action: 'errors', errors: { [block]: problem ?? 'invalid form' } });
      return;
    }
    await ack();
    await track(
      (async () => {
        const where: ClickedCard = {
          channel: meta.channel,
          messageTs: meta.messageTs,
          threadTs: meta.threadTs,
          user: submission.user.id,
          ephemeral: false,
        };
        const verb: CardVerb = callback;
        try {
          const actor = await actorOf(submission.user.id, submission.user.name ?? submission.user.username);
          const data = {
            contractId: meta.contractId,
            revision: meta.revision,
            ...(callback === REJECT_CALLBACK ? { reason: value } : { message: value }),
          };
          const result = await chat.handleAction(actionInput(verb, data, actor, where));
          await deliver(result, where);
        } catch (error) {
          log.error({ err: error, verb, channel: meta.channel }, 'Slack modal submission failed');
          await surface
            .postEphemeral(
              meta.channel,
              submission.user.id,
              { text: 'Something went wrong; nothing was recorded. Please try again.' },
              ephemeralThread(where),
            )
            .catch((err: unknown) => log.warn({ err }, 'could not tell the user about a failure'));
        }
      })(),
    );
  });

  app.error(async (error) => {
    log.error({ err: error, code: (error as { code?: unknown }).code }, 'Slack listener failed');
  });

  // ------------------------------------------------------------------------------------------------------------

  const deliver = async (result: CardActionResult, where: ClickedCard): Promise<void> => {
    switch (result.kind) {
      case 'update':
        if (where.ephemeral && where.respond) {
          const content = renderSlackMessage(result.card, { interactive: false });
          await where.respond({ replace_original: true, text: content.text, blocks: content.blocks });
          return;
        }
        await surface.updateCard(
          { thread: slackThread(where.channel, where.threadTs), messageId: where.messageTs },
          result.card,
        );
        return;
      case 'private-card':
        await surface.postEphemeral(where.channel, where.user, { card: result.card }, ephemeralThread(where));
        return;
      case 'notice':
        await surface.postEphemeral(where.channel, where.user, { text: result.text }, ephemeralThread(where));
        return;
    }
  };

  // Look the bot up now, so the first event does not wait for auth.test.
  void identity.get();

  return {
    app,
    receiver,
    mode: socketMode ? 'socket' : 'http',
    router,
    async start() {
      if (socketMode) await app.start();
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
      await surface.idle();
    },
    async close() {
      if (socketMode) await app.stop();
      while (running.size > 0) await Promise.allSettled([...running]);
      await surface.idle();
    },
  };
}

interface ClickedCard {
  channel: string;
  messageTs: string;
  threadTs: string;
  user: string;
  ephemeral: boolean;
  respond?: RespondFn;
}

function actionInput(verb: CardVerb, data: unknown, actor: ChatActor, where: ClickedCard): CardActionInput {
  return {
    surface: 'slack',
    verb,
    data,
    actor,
    message: { thread: slackThread(where.channel, where.threadTs), messageId: where.messageTs },
    conversationKind: conversationKindOfChannel(where.channel),
    conversationKey: where.channel,
  };
}

/** A private answer goes where the user clicked: into the thread for a card inside one, the channel for a root card. */
function ephemeralThread(where: ClickedCard): string | undefined {
  return where.threadTs !== where.messageTs ? where.threadTs : undefined;
}

/**
 * An Events API delivery's de-duplication key: event ids are unique per workspace, so the key is the workspace (the
 * envelope's `team_id`, or the enterprise's for an org-wide install) with the event id.
 */
function eventDelivery(
  body: unknown,
  context: { teamId?: string; enterpriseId?: string; retryNum?: number; retryReason?: string },
) {
  const envelope = body as { event_id?: unknown; team_id?: unknown; enterprise_id?: unknown };
  if (typeof envelope.event_id !== 'string') return undefined;
  const workspace = [envelope.team_id, context.teamId, envelope.enterprise_id, context.enterpriseId].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  return {
    key: `${workspace ?? 'unknown'}:${envelope.event_id}`,
    eventId: envelope.event_id,
    retryNum: context.retryNum,
    retryReason: context.retryReason,
  };
}

function isCardVerb(value: string): value is CardVerb {
  return (CARD_VERBS as readonly string[]).includes(value);
}

/**
 * Bolt's ExpressReceiver, answering 400 with the problem for bodies it would otherwise leave unanswered until its
 * 3-second timeout (a signed body that is no Slack payload). Signature and timestamp are checked before this runs.
 */
class SlackEventsReceiver extends ExpressReceiver {
  override async requestHandler(req: Request, res: Response): Promise<void> {
    const problem = describeSlackPayloadProblem(req.body);
    if (problem) {
      res.status(400).json({ error: 'invalid_slack_payload', message: problem });
      return;
    }
    await super.requestHandler(req, res);
  }
}

/** Finds the bot's user id (to strip its mention, to ignore its own messages) once, never delaying an ack long. */
class BotIdentity {
  private known: { botId?: string; botUserId: string } | undefined;
  private pending: Promise<void> | undefined;
  private failedAt = 0;

  constructor(
    private readonly surface: SlackSurface,
    preset: { botId?: string; botUserId: string } | undefined,
    private readonly log: SlackAppLogger,
  ) {
    this.known = preset;
  }

  async get(): Promise<{ botId?: string; botUserId?: string }> {
    if (this.known) return this.known;
    if (!this.pending && Date.now() - this.failedAt > 10_000) this.pending = this.lookUp();
    if (this.pending) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.pending, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
    }
    return this.known ?? {};
  }

  private async lookUp(): Promise<void> {
    try {
      const result = await this.surface.client.auth.test();
      if (typeof result.user_id === 'string') {
        this.known = {
          botUserId: result.user_id,
          ...(typeof result.bot_id === 'string' ? { botId: result.bot_id } : {}),
        };
        this.log.info({ botUserId: result.user_id, team: result.team_id }, 'Slack bot identity resolved');
      }
    } catch (error) {
      this.failedAt = Date.now();
      this.log.warn({ err: error }, 'Slack auth.test failed; will retry');
    } finally {
      this.pending = undefined;
    }
  }
}

const silentLogger: SlackAppLogger = { info() {}, warn() {}, error() {} };

/** Bolt's logger interface over the project's structured logger. */
function boltLogger(log: SlackAppLogger): BoltLogger {
  const text = (parts: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : String(p))).join(' ');
  return {
    debug: (...parts: unknown[]) => log.debug?.({ component: 'bolt' }, text(parts)),
    info: (...parts: unknown[]) => log.info({ component: 'bolt' }, text(parts)),
    warn: (...parts: unknown[]) => log.warn({ component: 'bolt' }, text(parts)),
    error: (...parts: unknown[]) => log.error({ component: 'bolt' }, text(parts)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
