/**
 * What stands in front of Bolt on `/slack/events` (HTTP mode): a body limit enforced before the body is read
 * (Content-Length; a chunked body is cut off at the limit), the Slack signature checked next, and only then rate
 * limits — per verified workspace, and a separate budget per client address for requests that fail the signature,
 * so nobody without the signing secret can use up a workspace's budget. Bolt checks the signature again on the same
 * bytes (handed over as `req.rawBody`).
 */
import { isValidSlackRequest } from '@slack/bolt';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';

export interface SlackRateLimit {
  windowMs: number;
  limit: number;
}

export interface SlackRequestGuardOptions {
  signingSecret: string;
  /** Largest accepted body (default 1 MiB; Slack's payloads are far smaller). */
  bodyLimitBytes?: number;
  /** Per verified workspace (team id) (default 1,200 a minute). */
  rateLimit?: SlackRateLimit;
  /** Per client address, for requests that fail the signature (default 60 a minute). */
  unauthenticatedRateLimit?: SlackRateLimit;
}

export const DEFAULT_SLACK_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_SLACK_RATE_LIMIT: SlackRateLimit = { windowMs: 60_000, limit: 1_200 };
export const DEFAULT_SLACK_UNAUTHENTICATED_RATE_LIMIT: SlackRateLimit = { windowMs: 60_000, limit: 60 };

export function slackRequestGuard(options: SlackRequestGuardOptions): (RequestHandler | ErrorRequestHandler)[] {
  const limit = options.bodyLimitBytes ?? DEFAULT_SLACK_BODY_LIMIT;
  const perWorkspace = limiter(options.rateLimit ?? DEFAULT_SLACK_RATE_LIMIT, 'Slack requests from this workspace', {
    keyGenerator: (_req, res) => `team:${String(res.locals.slackTeam)}`,
  });
  const unauthenticated = limiter(
    options.unauthenticatedRateLimit ?? DEFAULT_SLACK_UNAUTHENTICATED_RATE_LIMIT,
    'unsigned requests from this address',
    {},
  );

  const sizeFirst: RequestHandler = (req, res, next) => {
    const length = Number(req.get('content-length'));
    if (Number.isFinite(length) && length > limit) {
      res.status(413).json({ error: 'payload_too_large', message: `the body is larger than ${limit} bytes` });
      return;
    }
    next();
  };
  const raw = express.raw({ type: () => true, limit });
  const signed: RequestHandler = (req, res, next) => {
    const body = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
    const signature = req.get('x-slack-signature');
    const timestamp = Number(req.get('x-slack-request-timestamp'));
    const valid =
      signature !== undefined &&
      Number.isFinite(timestamp) &&
      isValidSlackRequest({
        signingSecret: options.signingSecret,
        body: body.toString('utf8'),
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      });
    if (!valid) {
      unauthenticated(req, res, () => {
        res.status(401).json({
          error: 'unauthorized',
          message: 'missing, wrong or stale X-Slack-Signature / X-Slack-Request-Timestamp',
        });
      });
      return;
    }
    res.locals.slackTeam = teamOf(body, req.get('content-type'));
    (req as Request & { rawBody?: Buffer }).rawBody = body;
    next();
  };
  const bodyErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: `the body is larger than ${limit} bytes` });
      return;
    }
    if (type === 'request.aborted') {
      res.status(400).json({ error: 'request_aborted', message: 'the request body was not received completely' });
      return;
    }
    next(error);
  };
  return [sizeFirst, raw, signed, perWorkspace, bodyErrors];
}

function limiter(
  settings: SlackRateLimit,
  what: string,
  extra: { keyGenerator?: (req: Request, res: Response) => string },
): RequestHandler {
  return rateLimit({
    windowMs: settings.windowMs,
    limit: settings.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    ...extra,
    handler: (_req, res, _next, config) => {
      res.status(config.statusCode).json({
        error: 'rate_limited',
        message: `too many ${what}: at most ${settings.limit} per ${Math.round(settings.windowMs / 1000)} s`,
      });
    },
  });
}

/** The workspace a verified body comes from: events carry team_id, interactions a JSON `payload` with team.id. */
export function teamOf(body: Buffer, contentType: string | undefined): string {
  const text = body.toString('utf8');
  try {
    if (contentType?.includes('application/json')) {
      const value = JSON.parse(text) as { team_id?: unknown; team?: { id?: unknown }; enterprise_id?: unknown };
      return String(value.team_id ?? value.team?.id ?? value.enterprise_id ?? 'unknown');
    }
    const form = new URLSearchParams(text);
    const payload = form.get('payload');
    if (payload) {
      const value = JSON.parse(payload) as { team?: { id?: unknown }; user?: { team_id?: unknown } };
      return String(value.team?.id ?? value.user?.team_id ?? 'unknown');
    }
    return form.get('team_id') ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
