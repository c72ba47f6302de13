/**
 * End-to-end harness for the Slack surface: the real Bolt ExpressReceiver mounted on a plain express app on
 * 127.0.0.1:0, the real ChatService (offline negotiator, in-memory chat store), the real Web API client pointed at a
 * fake Slack API on 127.0.0.1. Requests are signed here with the test's own signing secret (v0 HMAC-SHA256 over
 * `v0:<timestamp>:<rawBody>`), independent of Bolt's code.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { InboundEvents, MemoryInboundEventStore } from '../../src/chat/inboundEvents.js';
import { ChatService } from '../../src/chat/service.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createNegotiationService, InMemoryTurnLog } from '../../src/negotiation/index.js';
import { createSlackApp, type SlackApp, type SlackAppLogger, type SlackAppOptions } from '../../src/slack/slackApp.js';
import { createSlackSurface, type SlackSurface } from '../../src/slack/slackSurface.js';
import { MemoryChatStore } from '../chat/memoryChatStore.js';
import { type FakeSlackApi, startFakeSlackApi } from '../harness/fakeSlackApi.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-000000000-000000000000';
export const CHANNEL = 'C0TESTCH1';
export const TEAM = 'T0TEST001';
export const APPROVER_A = { id: 'UAPPROVEA', name: 'ada', realName: 'Ada Approver', email: 'ada@example.com' };
export const APPROVER_B = { id: 'UAPPROVEB', name: 'bo', realName: 'Bo Approver', email: 'bo@example.com' };
export const DEVELOPER = { id: 'UDEVELOP1', name: 'dev', realName: 'Dev Eloper', email: 'dev@example.com' };
export const OUTSIDER = { id: 'UOUTSIDE1', name: 'out', realName: 'Out Sider', email: 'out@example.com' };

export interface LoggedLine {
  level: string;
  obj: object;
  msg?: string;
}

export interface SlackHarness {
  api: FakeSlackApi;
  store: MemoryChatStore;
  chat: ChatService;
  surface: SlackSurface;
  slack: SlackApp;
  /** The inbound-event ledger the Slack app claims events in (in memory, as in single-process development). */
  events: MemoryInboundEventStore;
  /** `http://127.0.0.1:<port>/slack/events` */
  eventsUrl: string;
  logs: LoggedLine[];
  /** Sends a signed Events API body. */
  sendEvent(body: object, options?: SendOptions): Promise<Response>;
  /** Sends a signed interactive payload (`payload=<json>` form). */
  sendInteraction(payload: object, options?: SendOptions): Promise<Response>;
  /** Sends a signed slash command form. */
  sendCommand(fields: Record<string, string>, options?: SendOptions): Promise<Response>;
  /** Sends raw bytes, signed unless told otherwise. */
  sendRaw(body: string, contentType: string, options?: SendOptions): Promise<Response>;
  /** Waits for handlers, background negotiation and queued posts. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface SendOptions {
  /** Seconds since the epoch; now by default. */
  timestamp?: number;
  /** Signs with this secret instead of the right one. */
  secret?: string;
  /** Replaces the signature header outright. */
  signature?: string;
  retryNum?: number;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface HarnessOptions {
  approvers?: string[];
  /** Milliseconds between posts in one channel (production: 1,000). */
  intervalMs?: number;
  /** Body and rate limits in front of Bolt (production defaults otherwise). */
  guard?: SlackAppOptions['guard'];
}

export async function startSlackHarness(options: HarnessOptions = {}): Promise<SlackHarness> {
  const api = await startFakeSlackApi();
  for (const user of [APPROVER_A, APPROVER_B, DEVELOPER, OUTSIDER]) api.roster.set(user.id, user);
  const logs: LoggedLine[] = [];
  const logger: SlackAppLogger = {
    debug: (obj, msg) => logs.push({ level: 'debug', obj, ...(msg ? { msg } : {}) }),
    info: (obj, msg) => logs.push({ level: 'info', obj, ...(msg ? { msg } : {}) }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, ...(msg ? { msg } : {}) }),
    error: (obj, msg) => logs.push({ level: 'error', obj, ...(msg ? { msg } : {}) }),
  };
  const store = new MemoryChatStore();
  const surface = createSlackSurface({
    botToken: BOT_TOKEN,
    clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
    limiter: { intervalMs: options.intervalMs ?? 1000 },
    logger,
  });
  let counter = 0;
  const chat = new ChatService({
    store,
    negotiation: createNegotiationService({
      model: { provider: 'offline' },
      policy: DEFAULT_POLICY,
      turns: new InMemoryTurnLog(),
    }),
    surfaces: { slack: surface },
    policy: DEFAULT_POLICY,
    authorization: {
      approvers: { teams: [], slack: options.approvers ?? [APPROVER_A.id, APPROVER_B.id], groups: {} },
      openWhenUnconfigured: false,
    },
    newIdSuffix: () => `s${++counter}`,
    logger,
  });
  const events = new MemoryInboundEventStore();
  const slack = createSlackApp({
    chat,
    surface,
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    inboundEvents: new InboundEvents(events),
    logger,
    ...(options.guard ? { guard: options.guard } : {}),
  });
  if (!slack.router) throw new Error('HTTP mode expected');

  const server = express();
  server.use('/slack/events', slack.router);
  server.use((_req, res) => void res.status(404).json({ error: 'not_found' }));
  const http: Server = await new Promise((resolve) => {
    const s = server.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = http.address() as AddressInfo;
  const eventsUrl = `http://127.0.0.1:${port}/slack/events`;

  const sendRaw = (body: string, contentType: string, send: SendOptions = {}) => {
    const timestamp = send.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': send.signature ?? sign(send.secret ?? SIGNING_SECRET, timestamp, body),
    };
    if (send.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(send.retryNum);
      headers['x-slack-retry-reason'] = 'http_timeout';
    }
    return fetch(eventsUrl, { method: 'POST', headers, body });
  };

  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await slack.idle();
      await chat.background.idle();
      await surface.idle();
    }
  };

  return {
    api,
    store,
    chat,
    surface,
    slack,
    events,
    eventsUrl,
    logs,
    sendEvent: (body, send) => sendRaw(JSON.stringify(body), 'application/json', send),
    sendInteraction: (payload, send) =>
      sendRaw(
        new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
        'application/x-www-form-urlencoded',
        send,
      ),
    sendCommand: (fields, send) =>
      sendRaw(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', send),
    sendRaw,
    settle,
    async close() {
      await settle();
      await slack.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await api.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Slack payloads as Slack sends them

let eventSeq = 0;
let tsSeq = 0;

export function nextTs(): string {
  tsSeq += 1;
  return `1766000000.${String(tsSeq).padStart(6, '0')}`;
}

export function appMention(
  text: string,
  options: { user?: string; ts?: string; threadTs?: string; eventId?: string } = {},
) {
  eventSeq += 1;
  const ts = options.ts ?? nextTs();
  return {
    token: 'legacy-verification-token',
    team_id: TEAM,
    api_app_id: 'A0TESTAPP',
    type: 'event_callback',
    event_id: options.eventId ?? `Ev${String(eventSeq).padStart(8, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: TEAM, user_id: 'UBOT00001', is_bot: true, is_enterprise_install: false }],
    event: {
      type: 'app_mention',
      user: options.user ?? DEVELOPER.id,
      text: `<@UBOT00001> ${text}`,
      ts,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
      channel: CHANNEL,
      event_ts: ts,
    },
  };
}

export interface CardButton {
  action_id: string;
  value: string;
}

/** The buttons of a posted card (chat.postMessage / chat.update args). */
export function buttonsOf(args: Record<string, unknown>): CardButton[] {
  const blocks = (args.blocks ?? []) as {
    type: string;
    elements?: { type: string; action_id?: string; value?: string }[];
  }[];
  return blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.type === 'button')
    .map((e) => ({ action_id: e.action_id ?? '', value: e.value ?? '' }));
}

/** All the text of a message's blocks, for content assertions. */
export function textOf(args: Record<string, unknown>): string {
  return JSON.stringify(args.blocks ?? []) + String(args.text ?? '');
}

export function blockAction(
  button: CardButton,
  options: {
    user: { id: string; name: string };
    messageTs: string;
    threadTs?: string;
    triggerId?: string;
    responseUrl?: string;
  },
) {
  return {
    type: 'block_actions',
    user: { id: options.user.id, username: options.user.name, name: options.user.name, team_id: TEAM },
    api_app_id: 'A0TESTAPP',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: CHANNEL,
      is_ephemeral: false,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
    trigger_id: options.triggerId ?? `trigger-${Math.random().toString(36).slice(2)}`,
    team: { id: TEAM, domain: 'test' },
    channel: { id: CHANNEL, name: 'deploys' },
    message: { type: 'message', ts: options.messageTs, ...(options.threadTs ? { thread_ts: options.threadTs } : {}) },
    ...(options.responseUrl ? { response_url: options.responseUrl } : {}),
    actions: [
      {
        type: 'button',
        block_id: 'contract:1',
        action_id: button.action_id,
        value: button.value,
        text: { type: 'plain_text', text: button.action_id },
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
}

export function viewSubmission(
  view: { callback_id: string; private_metadata: string },
  user: { id: string; name: string },
  values: Record<string, string>,
) {
  return {
    type: 'view_submission',
    team: { id: TEAM, domain: 'test' },
    user: { id: user.id, username: user.name, name: user.name, team_id: TEAM },
    api_app_id: 'A0TESTAPP',
    token: 'legacy-verification-token',
    trigger_id: 'trigger-view',
    view: {
      id: 'V00000001',
      type: 'modal',
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      state: {
        values: Object.fromEntries(
          Object.entries(values).map(([block, value]) => [block, { [block]: { type: 'plain_text_input', value } }]),
        ),
      },
    },
  };
}
