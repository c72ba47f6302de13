/**
 * A local Bot Framework connector on 127.0.0.1 (anchors-chatops.md §5.1): the bot, running without a MicrosoftAppId,
 * sends its replies to the activity's serviceUrl, i.e. here. It records
 *   POST /v3/conversations/:conversationId/activities[/:replyToId]   (replies and proactive posts)
 *   PUT  /v3/conversations/:conversationId/activities/:activityId    (card updates)
 * answering `{ id }` with increasing ids, and serves GET …/members/:userId from a roster (404 when unknown).
 * Helpers send activities to the bot over real HTTP and wait for what it posts back.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedActivity {
  method: 'POST' | 'PUT';
  conversationId: string;
  /** replyToId for POSTs, the edited activity's id for PUTs. */
  activityId?: string;
  /** The id the connector answered with (POST) or the edited id (PUT). */
  id: string;
  authorization?: string;
  body: BotActivity;
  at: number;
}

/** The fields of an outgoing activity the tests look at. */
export interface BotActivity {
  type?: string;
  text?: string;
  summary?: string;
  replyToId?: string;
  conversation?: { id?: string };
  attachments?: { contentType?: string; content?: unknown }[];
  [key: string]: unknown;
}

export interface RosterMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
}

type Waiter = { predicate: (a: RecordedActivity) => boolean; resolve: (a: RecordedActivity) => void };

export interface FakeConnector {
  /** `http://127.0.0.1:<port>/`, to put in activities' serviceUrl. */
  serviceUrl: string;
  activities: RecordedActivity[];
  roster: Map<string, RosterMember>;
  /** Resolves with the first recorded activity (already recorded or future) matching the predicate. */
  waitFor(predicate: (a: RecordedActivity) => boolean, timeoutMs?: number): Promise<RecordedActivity>;
  /** Delays every answer by `ms` (slow connector). */
  setLatency(ms: number): void;
  /** The next `count` card updates (PUT) fail with HTTP 502. */
  failUpdates(count: number): void;
  /** The next `count` roster lookups (GET …/members/:id) fail with HTTP 502. */
  failMemberLookups(count: number): void;
  /** The next `count` posts (POST …/activities) are answered 200 without an id: nothing landed that could be edited. */
  answerPostsWithoutId(count: number): void;
  clear(): void;
  close(): Promise<void>;
}

export async function startFakeConnector(): Promise<FakeConnector> {
  const activities: RecordedActivity[] = [];
  const roster = new Map<string, RosterMember>();
  const waiters = new Set<Waiter>();
  let nextId = 1000;
  let latency = 0;
  let failingUpdates = 0;
  let failingLookups = 0;
  let postsWithoutId = 0;

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      // v3 / conversations / :conversationId / activities | members / [:id]
      if (parts[0] !== 'v3' || parts[1] !== 'conversations' || parts.length < 4) {
        return send(res, 404, { error: { code: 'NotFound', message: url.pathname } });
      }
      const conversationId = parts[2] ?? '';
      const collection = parts[3];
      const itemId = parts[4];
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));

      if (collection === 'members' && req.method === 'GET' && itemId) {
        if (failingLookups > 0) {
          failingLookups -= 1;
          return send(res, 502, { error: { code: 'ServiceError', message: 'roster unavailable' } });
        }
        const member = roster.get(itemId);
        return member ? send(res, 200, member) : send(res, 404, { error: { code: 'MemberNotFound', message: itemId } });
      }
      if (collection !== 'activities' || (req.method !== 'POST' && req.method !== 'PUT')) {
        return send(res, 404, { error: { code: 'NotFound', message: `${req.method} ${url.pathname}` } });
      }
      const body = (await readJson(req)) as BotActivity;
      if (req.method === 'PUT' && failingUpdates > 0) {
        failingUpdates -= 1;
        return send(res, 502, { error: { code: 'ServiceError', message: 'upstream failure' } });
      }
      if (req.method === 'POST' && postsWithoutId > 0) {
        postsWithoutId -= 1;
        return send(res, 200, {});
      }
      const id = req.method === 'PUT' ? (itemId ?? '') : String(nextId++);
      const authorization = req.headers.authorization;
      const record: RecordedActivity = {
        method: req.method,
        conversationId,
        ...(itemId ? { activityId: itemId } : {}),
        id,
        ...(authorization ? { authorization } : {}),
        body,
        at: performance.now(),
      };
      activities.push(record);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(record)) {
          waiters.delete(waiter);
          waiter.resolve(record);
        }
      }
      return send(res, 200, { id });
    } catch (error) {
      return send(res, 400, { error: { code: 'BadRequest', message: String(error) } });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    serviceUrl: `http://127.0.0.1:${port}/`,
    activities,
    roster,
    waitFor(predicate, timeoutMs = 5000) {
      const existing = activities.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          resolve: (a) => {
            clearTimeout(timer);
            resolve(a);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fake connector: nothing matching arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    setLatency(ms) {
      latency = ms;
    },
    failUpdates(count) {
      failingUpdates = count;
    },
    failMemberLookups(count) {
      failingLookups = count;
    },
    answerPostsWithoutId(count) {
      postsWithoutId = count;
    },
    clear() {
      activities.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : JSON.parse(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Talking to the bot

export interface TeamsUser {
  id: string;
  name: string;
  aadObjectId?: string;
}

export interface ConversationSpec {
  /** Conversation id as Teams sends it (channel threads: `19:…@thread.tacv2;messageid=…`). */
  id: string;
  type: 'channel' | 'groupChat' | 'personal';
  tenantId?: string;
}

export const BOT_ACCOUNT = { id: '28:chaos-bot', name: 'chaos' };

let activitySeq = 0;

/** A message activity as Teams would send it, @mention included. */
export function messageActivity(
  serviceUrl: string,
  conversation: ConversationSpec,
  from: TeamsUser,
  text: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const mention = conversation.type === 'personal' ? '' : `<at>${BOT_ACCOUNT.name}</at> `;
  return {
    type: 'message',
    id: `msg-${Date.now()}-${++activitySeq}`,
    timestamp: new Date().toISOString(),
    serviceUrl,
    channelId: 'msteams',
    from,
    recipient: BOT_ACCOUNT,
    conversation: {
      id: conversation.id,
      conversationType: conversation.type,
      isGroup: conversation.type !== 'personal',
      tenantId: conversation.tenantId ?? 'tenant-1',
    },
    text: `${mention}${text}`,
    textFormat: 'plain',
    entities:
      conversation.type === 'personal'
        ? []
        : [{ type: 'mention', text: `<at>${BOT_ACCOUNT.name}</at>`, mentioned: BOT_ACCOUNT }],
    channelData: { tenant: { id: conversation.tenantId ?? 'tenant-1' } },
    ...extra,
  };
}

/** An Adaptive Card Action.Execute invoke for the card posted as `replyToId`. */
export function actionActivity(
  serviceUrl: string,
  conversation: ConversationSpec,
  from: TeamsUser,
  replyToId: string,
  verb: string,
  data: Record<string, unknown>,
): Record<string, unknown> {
  return {
    type: 'invoke',
    name: 'adaptiveCard/action',
    id: `inv-${Date.now()}-${++activitySeq}`,
    timestamp: new Date().toISOString(),
    serviceUrl,
    channelId: 'msteams',
    from,
    recipient: BOT_ACCOUNT,
    conversation: {
      id: conversation.id,
      conversationType: conversation.type,
      isGroup: conversation.type !== 'personal',
      tenantId: conversation.tenantId ?? 'tenant-1',
    },
    replyToId,
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
    channelData: { tenant: { id: conversation.tenantId ?? 'tenant-1' } },
  };
}

export interface BotResponse {
  status: number;
  body: unknown;
  text: string;
}

/** POSTs an activity (or any body) to the bot's /api/messages over real HTTP. */
export async function sendToBot(
  botUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<BotResponse> {
  const response = await fetch(`${botUrl}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed, text };
}

/** The first Adaptive Card of an outgoing activity. */
export function cardOf(activity: BotActivity | undefined): Record<string, unknown> | undefined {
  const attachment = activity?.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  return attachment?.content as Record<string, unknown> | undefined;
}
