/**
 * The HTTP server (express 5): `/api/messages` for the Teams bot, `/healthz`, `/metrics`, and a mount point for the
 * other adapters' routes (Slack, CI intake, webhooks). Bodies are size-limited, malformed JSON and malformed
 * activities get a 400 that names the problem, and no error ever answers with a stack trace.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import { requestLogger } from '../observability/logger.js';
import { type ChaosMetrics, metricsExposition, timeHttpRequest } from '../observability/metrics.js';

/** Handles one Bot Framework request (the Teams adapter's `process`). */
export type BotRequestHandler = (req: Request, res: Response) => Promise<void>;

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface HttpAppOptions {
  logger: Logger;
  metrics?: ChaosMetrics;
  /** Absent: /api/messages answers 503 (Teams not enabled). */
  teams?: BotRequestHandler;
  health: () => Promise<HealthReport>;
  /** Largest accepted JSON body on /api/messages; default 256 KB (Teams messages are at most ~100 KB). */
  messageBodyLimit?: string;
  /** Other adapters' routes, mounted before the 404 handler (e.g. /slack/events, /api/deployments). */
  routers?: { path: string; router: Router }[];
  /** Build info for /healthz. */
  version?: string;
  /** express's `trust proxy` (TRUST_PROXY): which proxies' X-Forwarded-For names the client; default none. */
  trustProxy?: boolean | number | string[];
}

const MAX_ID = 1024;

/**
 * What a Bot Framework activity must have before botbuilder sees it. botbuilder's own parser throws (500) on some
 * malformed bodies; these checks turn them into a 400 naming the field.
 */
export const InboundActivitySchema = z
  .object({
    type: z.string().min(1, 'must not be empty').max(64),
    id: z.string().max(MAX_ID).optional(),
    serviceUrl: z
      .string()
      .max(2048)
      .refine((value) => /^https?:\/\/[^\s/]+/i.test(value), 'must be an http(s) URL'),
    channelId: z.string().min(1).max(64),
    conversation: z.object({ id: z.string().min(1).max(MAX_ID) }).passthrough(),
    from: z
      .object({ id: z.string().min(1).max(MAX_ID) })
      .passthrough()
      .optional(),
    recipient: z
      .object({ id: z.string().min(1).max(MAX_ID) })
      .passthrough()
      .optional(),
    text: z.string().max(100_000).optional(),
    replyToId: z.string().max(MAX_ID).optional(),
  })
  .passthrough();

export function describeActivityProblems(body: unknown): string[] {
  const result = InboundActivitySchema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`,
  );
}

export function createHttpApp(options: HttpAppOptions): Express {
  const { logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(helmet({ contentSecurityPolicy: false }));

  app.use((req, res, next) => {
    const { requestId, log } = requestLogger(logger, req);
    res.setHeader('x-request-id', requestId);
    res.locals.log = log;
    const end = metrics ? timeHttpRequest(metrics, req.method) : undefined;
    res.on('finish', () => {
      const route = routeTemplate(req);
      end?.(route, res.statusCode);
      if (res.statusCode >= 500) log.warn({ status: res.statusCode, route }, 'request failed');
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    const report = await options.health().catch(
      (error: unknown): HealthReport => ({
        status: 'down',
        checks: { health: { ok: false, detail: error instanceof Error ? error.message : String(error) } },
      }),
    );
    res
      .status(report.status === 'down' ? 503 : 200)
      .json({ ...report, ...(options.version ? { version: options.version } : {}) });
  });

  if (metrics) {
    app.get('/metrics', async (_req, res) => {
      const { contentType, body } = await metricsExposition(metrics);
      res.type(contentType).send(body);
    });
  }

  const json = express.json({
    limit: options.messageBodyLimit ?? '256kb',
    type: ['application/json', 'application/*+json'],
  });
  app.post('/api/messages', json, async (req, res) => {
    if (!options.teams) {
      res.status(503).json({ error: 'teams_disabled', message: 'the Teams bot is not enabled on this server' });
      return;
    }
    if (!req.is(['application/json', 'application/*+json'])) {
      res.status(415).json({ error: 'unsupported_media_type', message: 'send the activity as application/json' });
      return;
    }
    const problems = describeActivityProblems(req.body);
    if (problems.length > 0) {
      res.status(400).json({ error: 'invalid_activity', message: problems[0], problems: problems.slice(0, 10) });
      return;
    }
    await options.teams(req, res);
  });
  app.all('/api/messages', (_req, res) => {
    res.status(405).set('allow', 'POST').json({ error: 'method_not_allowed', message: 'POST activities here' });
  });

  for (const { path, router } of options.routers ?? []) app.use(path, router);

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });
  app.use(errorHandler);
  return app;
}

/** Maps body-parser and unexpected errors to JSON answers without internals. */
const errorHandler: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
  const type = (error as { type?: unknown }).type;
  const status = (error as { status?: unknown }).status;
  if (type === 'entity.parse.failed') {
    res.status(400).json({ error: 'malformed_json', message: 'the request body is not valid JSON' });
    return;
  }
  if (type === 'entity.too.large') {
    res.status(413).json({ error: 'body_too_large', message: 'the request body is larger than this endpoint accepts' });
    return;
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    res.status(415).json({ error: 'unsupported_encoding', message: 'send UTF-8 JSON' });
    return;
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    res.status(status).json({ error: 'bad_request', message: 'the request could not be read' });
    return;
  }
  const log = res.locals.log as Logger | undefined;
  log?.error({ err: error }, 'unhandled error in HTTP handler');
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(500).json({ error: 'internal_error', message: 'something went wrong; see the server log' });
};

function routeTemplate(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route === 'string') return `${req.baseUrl}${route}`;
  return req.baseUrl || 'unmatched';
}

export interface ListeningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Starts listening; resolves with the URL (the port is the real one when 0 was asked for). */
export function listen(app: Express, host: string, port: number): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shownHost}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
