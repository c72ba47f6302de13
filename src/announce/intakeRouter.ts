/**
 * CI intake (issue 8): `POST /api/deployments` takes a deployment request in the JSON wire format, signed like a
 * GitHub webhook (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the intake secret>`), and announces
 * it: the card appears in the service's channel. `GET /api/contracts/:id` lets the pipeline poll the decision with a
 * bearer token; `?include=contract` adds the whole contract.
 *
 * Order of checks: body size (413, from Content-Length before anything is read) → media type (415) → signature
 * (401) → rate limit (429) → JSON and request validation (400) → de-duplication (200 with the existing contract) →
 * announcement (202). Nothing is recorded for a request that fails any check before the announcement.
 *
 * The signature is checked before any limit, so callers without the secret cannot use up a pipeline's budget: a
 * signed request counts against its service's budget (the service named in the signed body), a request that fails
 * the signature against a separate budget for unauthenticated traffic, per client address (set TRUST_PROXY behind an
 * ingress so that is the caller's address, not the ingress's).
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { RequestValidationError } from '../domain/errors.js';
import type { DeploymentRequest } from '../domain/model.js';
import { type DeploymentRequestDefaults, parseDeploymentRequest } from '../domain/request.js';
import { bearerToken, tokenMatches } from '../webhooks/sharedToken.js';
import {
  bodyErrorHandler,
  hubSignatureValid,
  jsonRateLimiter,
  type RateLimitSettings,
  sendAnnounceFailure,
} from './http.js';
import { findJsonSyntaxProblem } from './jsonSyntax.js';
import { createMemoryLedger } from './memoryStores.js';
import { AnnouncementOnce } from './once.js';
import type { AnnouncementLedger, AnnounceResult, ContractStatus, DeploymentAnnouncer } from './port.js';

export const DEFAULT_INTAKE_BODY_LIMIT = 256 * 1024;
export const DEFAULT_INTAKE_RATE_LIMIT: RateLimitSettings = { windowMs: 60_000, limit: 30 };
export const DEFAULT_STATUS_RATE_LIMIT: RateLimitSettings = { windowMs: 60_000, limit: 240 };
export const DEFAULT_UNAUTHENTICATED_RATE_LIMIT: RateLimitSettings = { windowMs: 60_000, limit: 60 };

export interface IntakeRouterOptions {
  /** CHAOS_INTAKE_SECRET: signs POST bodies, and is accepted as a bearer token for GET /api/contracts/:id. */
  secret: string;
  /** Further bearer tokens that may read contract status (never post). */
  readTokens?: readonly string[];
  announcer: DeploymentAnnouncer;
  /** Where delivery / deployment ids are remembered; in-memory by default (single replica). */
  ledger?: AnnouncementLedger;
  /** Largest accepted body in bytes (default 256 KiB). */
  bodyLimitBytes?: number;
  /** Limit on signed POSTs per service (default 30 a minute); false disables it. */
  rateLimit?: RateLimitSettings | false;
  /** Limit on status polls per read token (default 240 a minute); false disables it. */
  statusRateLimit?: RateLimitSettings | false;
  /** Limit on requests failing the signature or token check, per client address (default 60 a minute). */
  unauthenticatedRateLimit?: RateLimitSettings | false;
  /** Wire-format values applied when a request lacks them (e.g. organisation-wide SLO targets). */
  defaults?: DeploymentRequestDefaults;
  newDeliveryId?: () => string;
}

const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const CONTRACT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function createIntakeRouter(options: IntakeRouterOptions): Router {
  if (options.secret.length === 0) throw new TypeError('createIntakeRouter: the intake secret must not be empty');
  const router = Router();
  const limit = options.bodyLimitBytes ?? DEFAULT_INTAKE_BODY_LIMIT;
  const once = new AnnouncementOnce(options.ledger ?? createMemoryLedger(), options.announcer);
  const newDeliveryId = options.newDeliveryId ?? randomUUID;
  const readTokens = [options.secret, ...(options.readTokens ?? [])];

  const postLimiter = verifiedLimiter(options.rateLimit, DEFAULT_INTAKE_RATE_LIMIT, 'deployments');
  const statusLimiter = verifiedLimiter(options.statusRateLimit, DEFAULT_STATUS_RATE_LIMIT, 'status requests');
  const unauthenticated =
    options.unauthenticatedRateLimit === false
      ? passThrough
      : jsonRateLimiter(
          options.unauthenticatedRateLimit ?? DEFAULT_UNAUTHENTICATED_RATE_LIMIT,
          'unauthenticated requests',
        );
  const raw = express.raw({ type: ['application/json', 'application/*+json'], limit });

  const signed = async (req: Request, res: Response, next: NextFunction) => {
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body)) {
      res.status(415).json({ error: 'unsupported_media_type', message: 'send the request as application/json' });
      return;
    }
    if (!(await hubSignatureValid(options.secret, body, req.get('x-hub-signature-256')))) {
      unauthenticated(req, res, () => {
        res.status(401).json({
          error: 'unauthorized',
          message: 'missing or wrong X-Hub-Signature-256 (sha256=<HMAC-SHA256 of the body with the intake secret>)',
        });
      });
      return;
    }
    res.locals.rateKey = `service:${serviceNameOf(body)}`;
    next();
  };

  router.post('/api/deployments', raw, signed, postLimiter, async (req: Request, res: Response) => {
    const body = req.body as Buffer;
    const givenDelivery = req.get('x-delivery-id');
    if (givenDelivery !== undefined && !DELIVERY_ID.test(givenDelivery)) {
      res.status(400).json({
        error: 'invalid_delivery_id',
        message: 'X-Delivery-Id must be 1-128 letters, digits, ".", "_", ":" or "-"',
      });
      return;
    }
    const deliveryId = givenDelivery ?? newDeliveryId();

    let request: DeploymentRequest;
    try {
      request = parseBody(body.toString('utf8'), deliveryId, options.defaults);
    } catch (error) {
      if (!(error instanceof RequestValidationError)) throw error;
      const syntax = error.issues.find((issue) => issue.rule === 'json_syntax');
      res.status(400).json({
        error: syntax ? 'invalid_json' : 'invalid_request',
        message: error.message,
        issues: error.issues.slice(0, 20),
      });
      return;
    }

    const keys = [
      ...(givenDelivery ? [`ci-delivery:${givenDelivery}`] : []),
      `deployment:${request.serviceName}:${request.deploymentId}`,
    ];
    try {
      const outcome = await once.run(keys, () =>
        options.announcer.announce({ request, origin: { kind: 'ci-intake', deliveryId } }),
      );
      const summary = summarise(outcome.contract);
      res
        .status(outcome.duplicate ? 200 : 202)
        .location(summary.statusUrl)
        .json({ ...summary, duplicate: outcome.duplicate });
    } catch (error) {
      sendAnnounceFailure(res, error);
    }
  });

  const readTokenChecked = (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    const which = readTokens.findIndex((expected) => tokenMatches(token, expected));
    if (which < 0) {
      unauthenticated(req, res, () => {
        res
          .status(401)
          .set('www-authenticate', 'Bearer')
          .json({ error: 'unauthorized', message: 'send Authorization: Bearer <intake secret or read token>' });
      });
      return;
    }
    res.locals.rateKey = `token:${which}`;
    next();
  };

  router.get('/api/contracts/:id', readTokenChecked, statusLimiter, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!CONTRACT_ID.test(id)) {
      res.status(400).json({ error: 'invalid_contract_id', message: 'not a contract id' });
      return;
    }
    let status: ContractStatus | undefined;
    try {
      status = await options.announcer.status(id);
    } catch {
      res.status(503).json({ error: 'status_unavailable', message: 'the contract store did not answer; retry later' });
      return;
    }
    if (!status) {
      res.status(404).json({ error: 'not_found', message: `no contract ${id}` });
      return;
    }
    // `?include=contract` adds the whole contract (what `chaos export argo --contract-id` exports).
    const withContract = req.query.include === 'contract';
    res.json({ ...contractView(status), ...(withContract && status.contract ? { contract: status.contract } : {}) });
  });

  router.use(bodyErrorHandler(limit));
  return router;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/** A limit applied after authentication: per verified sender (`res.locals.rateKey`) unless a key is given. */
function verifiedLimiter(
  settings: RateLimitSettings | false | undefined,
  fallback: RateLimitSettings,
  what: string,
): RequestHandler {
  if (settings === false) return passThrough;
  const chosen = settings ?? fallback;
  return jsonRateLimiter(
    { ...chosen, keyGenerator: chosen.keyGenerator ?? ((_req, res) => String(res?.locals.rateKey ?? 'unknown')) },
    what,
  );
}

/** The service a signed body names (its rate-limit key); the body is validated properly later. */
function serviceNameOf(body: Buffer): string {
  try {
    const value = JSON.parse(body.toString('utf8')) as { service_name?: unknown; serviceName?: unknown };
    const name = value.service_name ?? value.serviceName;
    return typeof name === 'string' ? name.slice(0, 200) : 'unnamed';
  } catch {
    return 'unparsable';
  }
}

/** JSON text → request; syntax errors name line and column (see jsonSyntax.ts), the rest is request.ts's. */
function parseBody(text: string, deliveryId: string, defaults: DeploymentRequestDefaults | undefined) {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    const where = findJsonSyntaxProblem(json);
    const message =
      json.trim() === ''
        ? 'is not valid JSON: the body is empty'
        : where
          ? `is not valid JSON: ${where.reason} at line ${where.line}, column ${where.column} (position ${where.position})`
          : 'is not valid JSON';
    throw new RequestValidationError([{ path: '$', rule: 'json_syntax', message }]);
  }
  return parseDeploymentRequest(value, {
    ...(defaults ? { defaults } : {}),
    source: { kind: 'webhook', ref: `ci:${deliveryId}` },
  });
}

export function statusUrlOf(contractId: string): string {
  return `/api/contracts/${encodeURIComponent(contractId)}`;
}

function summarise(contract: AnnounceResult | ContractStatus) {
  return {
    contractId: contract.contractId,
    revision: contract.revision,
    state: contract.state,
    statusUrl: statusUrlOf(contract.contractId),
    ...(contract.url ? { url: contract.url } : {}),
  };
}

/** The body of GET /api/contracts/:id. */
export function contractView(status: ContractStatus) {
  return {
    id: status.contractId,
    revision: status.revision,
    state: status.state,
    contentHash: status.contentHash ?? null,
    risk: status.risk ? { score: status.risk.score, level: status.risk.level } : null,
    decidedBy: status.decidedBy ?? [],
    reason: status.reason ?? null,
    ...(status.url ? { url: status.url } : {}),
  };
}
