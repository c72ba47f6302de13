/**
 * A local Slack Web API on 127.0.0.1 (anchors-chatops.md §4): point a WebClient at it with
 * `slackApiUrl: '<url>/api/'` (and `retryConfig: { retries: 0 }`). It answers
 *   auth.test, chat.postMessage (increasing ts), chat.update, chat.postEphemeral, views.open, users.info (roster),
 * records every call with its arrival time (for rate-limit tests) and decoded arguments (form fields, with the JSON
 * ones — blocks, view — parsed), and can be scripted to fail: a 429 with `retry-after`, a platform error
 * (`not_in_channel`), or latency. It also serves `POST /respond/<id>` as a response_url target, and Socket Mode:
 * `apps.connections.open` hands out `ws://127.0.0.1:<port>/socket`, where a minimal WebSocket endpoint (RFC 6455 text,
 * ping and close frames) says hello, sends the envelopes a test gives it and records the client's acks.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** ms since the fake started (monotonic). */
  at: number;
  authorization?: string;
  /** The answer it got (absent for scripted HTTP failures). */
  response?: Record<string, unknown>;
  status: number;
}

export interface RecordedResponse {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface RosterUser {
  id: string;
  name?: string;
  realName?: string;
  displayName?: string;
  email?: string;
}

export type ScriptedFailure =
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'platform_error'; error: string }
  | { kind: 'http_error'; status: number };

type Waiter = { predicate: (call: RecordedCall) => boolean; resolve: (call: RecordedCall) => void };

export interface FakeSocketMode {
  /** Resolves once a client connected and got its hello. */
  connected(timeoutMs?: number): Promise<void>;
  /** Sends a Socket Mode envelope (`{ envelope_id, type, payload, … }`) to every connected client. */
  send(envelope: object): void;
  /** What clients sent (acks: `{ envelope_id, payload }`). */
  received: Record<string, unknown>[];
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface FakeSlackApi {
  socket: FakeSocketMode;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `http://127.0.0.1:<port>/api/` for `slackApiUrl`. */
  apiUrl: string;
  calls: RecordedCall[];
  responses: RecordedResponse[];
  roster: Map<string, RosterUser>;
  bot: { userId: string; botId: string; teamId: string };
  /** Calls of one method, in order. */
  callsOf(method: string): RecordedCall[];
  /** The next `times` calls of `method` fail this way. */
  failNext(method: string, failure: ScriptedFailure, times?: number): void;
  /** Delays every answer of `method` by `ms`. */
  setLatency(method: string, ms: number): void;
  /** Resolves with the first call (already recorded or future) that matches. */
  waitFor(predicate: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  clear(): void;
  close(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata']);

export async function startFakeSlackApi(): Promise<FakeSlackApi> {
  const started = performance.now();
  const calls: RecordedCall[] = [];
  const responses: RecordedResponse[] = [];
  const roster = new Map<string, RosterUser>();
  const failures = new Map<string, ScriptedFailure[]>();
  const latency = new Map<string, number>();
  const waiters: Waiter[] = [];
  const bot = { userId: 'UBOT00001', botId: 'BBOT00001', teamId: 'T0TEST001' };
  let seq = 0;
  let views = 0;

  const record = (call: RecordedCall) => {
    calls.push(call);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(call)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  };

  const nextTs = () => {
    seq += 1;
    return `1767000000.${String(seq).padStart(6, '0')}`;
  };

  const answer = (method: string, args: Record<string, unknown>): Record<string, unknown> => {
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${port}/socket` };
      case 'auth.test':
        return {
          ok: true,
          url: 'https://test.slack.com/',
          team: 'Test',
          user: 'chaos',
          team_id: bot.teamId,
          user_id: bot.userId,
          bot_id: bot.botId,
        };
      case 'chat.postMessage': {
        if (typeof args.channel !== 'string' || args.channel === '') return { ok: false, error: 'channel_not_found' };
        if (typeof args.text !== 'string' && args.blocks === undefined) return { ok: false, error: 'no_text' };
        const ts = nextTs();
        return {
          ok: true,
          channel: args.channel,
          ts,
          message: { ts, text: args.text, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) },
        };
      }
      case 'chat.update':
        if (typeof args.ts !== 'string' || typeof args.channel !== 'string')
          return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        if (typeof args.user !== 'string') return { ok: false, error: 'user_not_in_channel' };
        return { ok: true, message_ts: nextTs() };
      case 'views.open':
        if (typeof args.trigger_id !== 'string' || args.trigger_id === '')
          return { ok: false, error: 'invalid_trigger_id' };
        views += 1;
        return { ok: true, view: { id: `V${String(views).padStart(8, '0')}`, ...(args.view as object) } };
      case 'users.info': {
        const user = roster.get(String(args.user));
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: user.id,
            name: user.name ?? user.id.toLowerCase(),
            real_name: user.realName,
            profile: { display_name: user.displayName ?? '', real_name: user.realName ?? '', email: user.email },
          },
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const at = performance.now() - started;
    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      responses.push({ path: url.pathname, body: parseJson(raw), at });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    const match = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !match?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const method = match[1];
    const args = decodeArgs(raw, String(req.headers['content-type'] ?? ''));
    const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
    const delay = latency.get(method) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const failure = failures.get(method)?.shift();
    if (failure?.kind === 'rate_limited') {
      record({ method, args, at, status: 429, ...(authorization ? { authorization } : {}) });
      res.writeHead(429, { 'retry-after': String(failure.retryAfterSeconds), 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"ratelimited"}');
      return;
    }
    if (failure?.kind === 'http_error') {
      record({ method, args, at, status: failure.status, ...(authorization ? { authorization } : {}) });
      res.writeHead(failure.status).end();
      return;
    }
    const response = failure?.kind === 'platform_error' ? { ok: false, error: failure.error } : answer(method, args);
    record({ method, args, at, status: 200, response, ...(authorization ? { authorization } : {}) });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
  });

  const sockets = new Set<Socket>();
  const received: Record<string, unknown>[] = [];
  const socketWaiters: {
    predicate: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  let connectedResolve: (() => void) | undefined;
  const connectedOnce = new Promise<void>((resolve) => {
    connectedResolve = resolve;
  });
  server.on('upgrade', (req, socket: Socket) => {
    const key = req.headers['sec-websocket-key'];
    if (!req.url?.startsWith('/socket') || typeof key !== 'string') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const frame = readFrame(buffer);
        if (!frame) break;
        buffer = buffer.subarray(frame.length);
        if (frame.opcode === 0x1) {
          const message = parseJson(frame.payload.toString('utf8'));
          received.push(message);
          for (const waiter of [...socketWaiters]) {
            if (waiter.predicate(message)) {
              socketWaiters.splice(socketWaiters.indexOf(waiter), 1);
              waiter.resolve(message);
            }
          }
        } else if (frame.opcode === 0x9) {
          socket.write(encodeFrame(0xa, frame.payload));
        } else if (frame.opcode === 0x8) {
          socket.end(encodeFrame(0x8, frame.payload.subarray(0, 2)));
        }
      }
    });
    socket.write(encodeFrame(0x1, Buffer.from(JSON.stringify({ type: 'hello', num_connections: 1 }))));
    connectedResolve?.();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const socketMode: FakeSocketMode = {
    received,
    connected: (timeoutMs = 5000) =>
      Promise.race([
        connectedOnce,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('no Socket Mode client connected')), timeoutMs).unref(),
        ),
      ]),
    send(envelope) {
      const frame = encodeFrame(0x1, Buffer.from(JSON.stringify(envelope)));
      for (const socket of sockets) socket.write(frame);
    },
    waitForAck(envelopeId, timeoutMs = 5000) {
      const predicate = (m: Record<string, unknown>) => m.envelope_id === envelopeId;
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for envelope ${envelopeId}`)), timeoutMs);
        socketWaiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };

  return {
    url,
    apiUrl: `${url}/api/`,
    socket: socketMode,
    calls,
    responses,
    roster,
    bot,
    callsOf: (method) => calls.filter((c) => c.method === method),
    failNext(method, failure, times = 1) {
      const list = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(failure);
      failures.set(method, list);
    },
    setLatency(method, ms) {
      latency.set(method, ms);
    },
    waitFor(predicate, timeoutMs = 5000) {
      const found = calls.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          resolve: (call) => {
            clearTimeout(timer);
            resolve(call);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(
              `no matching Slack API call within ${timeoutMs} ms; calls: ${calls.map((c) => c.method).join(', ')}`,
            ),
          );
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    clear() {
      calls.length = 0;
      responses.length = 0;
      failures.clear();
      latency.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): Record<string, unknown> {
  try {
    const value = JSON.parse(raw) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The WebClient posts form fields, JSON-encoding object values; JSON bodies are accepted too. */
function decodeArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return parseJson(raw);
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(key)) {
      try {
        args[key] = JSON.parse(value) as unknown;
        continue;
      } catch {
        // keep the raw string: the test will see it was not JSON
      }
    }
    args[key] = value;
  }
  return args;
}

/** One complete client frame at the start of `buffer` (clients always mask), or undefined when more bytes are needed. */
function readFrame(buffer: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (buffer.length < 2) return undefined;
  const first = buffer[0] ?? 0;
  const second = buffer[1] ?? 0;
  const masked = (second & 0x80) !== 0;
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buffer.length < offset + length) return undefined;
  const payload = Buffer.from(buffer.subarray(offset, offset + length));
  if (masked)
    for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (buffer[maskOffset + (i % 4)] ?? 0);
  return { opcode: first & 0x0f, payload, length: offset + length };
}

/** A final, unmasked server frame. */
function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const head =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : payload.length < 65536
        ? Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff])
        : (() => {
            const b = Buffer.alloc(10);
            b[0] = 0x80 | opcode;
            b[1] = 127;
            b.writeBigUInt64BE(BigInt(payload.length), 2);
            return b;
          })();
  return Buffer.concat([head, payload]);
}
