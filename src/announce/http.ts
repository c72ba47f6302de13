/**
 * Small HTTP helpers shared by the intake and GitHub routers: signature checks over the raw body, body-parser and
 * rate-limit answers as JSON, and the mapping of announcer errors to statuses.
 */
import { verify } from '@octokit/webhooks-methods';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AnnounceError } from './errors.js';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;

/** GitHub-style `X-Hub-Signature-256: sha256=<hex>` over the exact body bytes, compared in constant time. */
export async function hubSignatureValid(secret: string, body: Buffer, header: string | undefined): Promise<boolean> {
  if (!header || !SIGNATURE.test(header.trim()) || body.length === 0) return false;
  try {
    return await verify(secret, body.toString('utf8'), header.trim().toLowerCase());
  } catch {
    return false;
  }
}

export interface RateLimitSettings {
  /** Window length in milliseconds. */
  windowMs: number;
  /** Requests per client per window. */
  limit: number;
  /**
   * The client key; default the client IP (`req.ip`). Behind a reverse proxy set express's `trust proxy` (so req.ip
   * is the caller, not the proxy) or key by something else, or every caller shares one budget.
   */
  keyGenerator?: (req: Request, res?: Response) => string;
}

export function jsonRateLimiter(settings: RateLimitSettings, what: string): RequestHandler {
  return rateLimit({
    windowMs: settings.windowMs,
    limit: settings.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    ...(settings.keyGenerator ? { keyGenerator: settings.keyGenerator } : {}),
    handler: (_req, res, _next, options) => {
      res.status(options.statusCode).json({
        error: 'rate_limited',
        message: `too many ${what} from this client: at most ${settings.limit} per ${Math.round(settings.windowMs / 1000)} s`,
      });
    },
  });
}

/** body-parser failures of this router as JSON; anything else as a 500 without internals. */
export function bodyErrorHandler(limitBytes: number): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: `the body is larger than ${limitBytes} bytes` });
      return;
    }
    if (type === 'request.aborted') {
      res.status(400).json({ error: 'request_aborted', message: 'the request body was not received completely' });
      return;
    }
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      res.status(415).json({ error: 'unsupported_encoding', message: 'send the body as uncompressed UTF-8 JSON' });
      return;
    }
    res.status(500).json({ error: 'internal_error', message: 'the request could not be processed' });
  };
}

/** Maps an announcer failure to a status and a message safe to show the caller. */
export function sendAnnounceFailure(res: Response, error: unknown): void {
  if (error instanceof AnnounceError && error.code === 'announce_unknown_service') {
    // The HTTP API's documented error value (docs/announced-deployments.md), not the catalog code.
    res.status(422).json({ error: 'unknown_service', message: error.message });
    return;
  }
  res.status(503).json({ error: 'announce_failed', message: 'the deployment could not be announced; retry later' });
}
