/**
 * A local OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks, scripted per request:
 * JSON completions (with tool calls), SSE streams, error statuses with headers (retry-after), delays and hangs.
 * It answers both the OpenAI path (`/v1/chat/completions`) and the Azure path
 * (`/openai/deployments/<deployment>/chat/completions?api-version=…`) and records every request.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: ChatRequestBody;
}

/** The parts of a chat-completions request the tests look at. */
export interface ChatRequestBody {
  model?: string;
  messages: { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string; name?: string }[];
  tools?: { type: string; function: { name: string; parameters: unknown; strict?: boolean } }[];
  stream?: boolean;
  [key: string]: unknown;
}

export interface ScriptedToolCall {
  name: string;
  /** An object (serialised to JSON) or a raw string (to send malformed JSON). */
  arguments: unknown;
  id?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type FakeReply =
  | { kind: 'completion'; content?: string | null; toolCalls?: ScriptedToolCall[]; usage?: Usage; delayMs?: number }
  | {
      kind: 'stream';
      /** Text pieces sent as content deltas. */
      pieces?: string[];
      toolCalls?: ScriptedToolCall[];
      usage?: Usage;
      delayMs?: number;
      pieceDelayMs?: number;
    }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** Raw body with status 200, e.g. something that is not JSON. */
  | { kind: 'raw'; body: string; contentType?: string; delayMs?: number }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | { kind: 'hang' };

export type Script = FakeReply | ((request: RecordedRequest, index: number) => FakeReply);

export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `http://127.0.0.1:<port>/v1` for the `OpenAI` client. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Queue replies for the next requests, in order. */
  enqueue(...replies: Script[]): void;
  /** Reply used when the queue is empty (default: HTTP 500 "no scripted reply"). */
  setDefault(reply: Script): void;
  /** Number of queued replies not consumed yet. */
  pending(): number;
  /** Forget queued replies and recorded requests (between tests). */
  reset(): void;
  close(): Promise<void>;
}

export function toolCall(name: string, args: unknown, id?: string): ScriptedToolCall {
  return id === undefined ? { name, arguments: args } : { name, arguments: args, id };
}

function argumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args);
}

function completionBody(reply: Extract<FakeReply, { kind: 'completion' }>, model: string): unknown {
  const toolCalls = reply.toolCalls?.map((c, i) => ({
    id: c.id ?? `call_${i}_${randomUUID().slice(0, 8)}`,
    type: 'function',
    function: { name: c.name, arguments: argumentsText(c.arguments) },
  }));
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: 1_764_000_000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content ?? null,
          ...(toolCalls && toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls && toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: reply.usage
      ? { ...reply.usage, total_tokens: reply.usage.prompt_tokens + reply.usage.completion_tokens }
      : { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
  };
}

function streamEvents(reply: Extract<FakeReply, { kind: 'stream' }>, model: string): unknown[] {
  const id = `chatcmpl-${randomUUID()}`;
  const chunk = (delta: unknown, finish: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created: 1_764_000_000,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const events: unknown[] = [chunk({ role: 'assistant', content: '' })];
  for (const piece of reply.pieces ?? []) events.push(chunk({ content: piece }));
  (reply.toolCalls ?? []).forEach((c, index) => {
    const text = argumentsText(c.arguments);
    const half = Math.floor(text.length / 2);
    // Tool-call deltas arrive in pieces: the first carries id and name, the rest only argument fragments.
    events.push(
      chunk({
        tool_calls: [
          {
            index,
            id: c.id ?? `call_${index}_${randomUUID().slice(0, 8)}`,
            type: 'function',
            function: { name: c.name, arguments: text.slice(0, half) },
          },
        ],
      }),
    );
    events.push(chunk({ tool_calls: [{ index, function: { arguments: text.slice(half) } }] }));
  });
  events.push(chunk({}, reply.toolCalls && reply.toolCalls.length > 0 ? 'tool_calls' : 'stop'));
  if (reply.usage) {
    events.push({
      id,
      object: 'chat.completion.chunk',
      created: 1_764_000_000,
      model,
      choices: [],
      usage: { ...reply.usage, total_tokens: reply.usage.prompt_tokens + reply.usage.completion_tokens },
    });
  }
  return events;
}

const sleep = (ms: number, res: ServerResponse) =>
  new Promise<void>((resolve) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    res.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: Script[] = [];
  let fallback: Script = {
    kind: 'status',
    status: 500,
    body: { error: { message: 'fake OpenAI: no scripted reply for this request', type: 'server_error' } },
  };

  const answer = async (reply: FakeReply, res: ServerResponse, model: string): Promise<void> => {
    if (reply.kind === 'hang') return;
    await sleep(reply.delayMs ?? 0, res);
    if (res.destroyed) return;
    switch (reply.kind) {
      case 'completion':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(completionBody(reply, model)));
        return;
      case 'status':
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body ?? { error: { message: `scripted status ${reply.status}` } }));
        return;
      case 'raw':
        res.writeHead(200, { 'content-type': reply.contentType ?? 'application/json' });
        res.end(reply.body);
        return;
      case 'stream': {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        for (const event of streamEvents(reply, model)) {
          if (res.destroyed) return;
          res.write(`data: ${JSON.stringify(event)}\n\n`);
          await sleep(reply.pieceDelayMs ?? 0, res);
        }
        res.end('data: [DONE]\n\n');
        return;
      }
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: ChatRequestBody;
      try {
        body = raw ? (JSON.parse(raw) as ChatRequestBody) : { messages: [] };
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'fake OpenAI: request body is not JSON' } }));
        return;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      };
      if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `fake OpenAI: no route ${req.method} ${url.pathname}` } }));
        return;
      }
      const index = requests.length;
      requests.push(recorded);
      const script = queue.shift() ?? fallback;
      const reply = typeof script === 'function' ? script(recorded, index) : script;
      const model = body.model ?? /\/deployments\/([^/]+)\//.exec(url.pathname)?.[1] ?? 'fake-model';
      answer(reply, res, model).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    setDefault: (reply) => {
      fallback = reply;
    },
    pending: () => queue.length,
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
