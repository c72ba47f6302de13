/**
 * Flagger webhooks, one path per hook type (`POST /webhooks/flagger/<type>`), answered as Flagger expects: a status
 * above 202 fails the hook (Flagger's `callWebhook` in pkg/controller/webhook.go treats `StatusCode > 202` as an
 * error). The bot is Flagger's judge and gate:
 *
 * - `confirm-rollout`, `pre-rollout`: 200 when the contract is approved (the rollout record starts), else 403.
 * - `rollout` (every analysis interval, before Flagger's metric checks): the interval is judged live; FAIL (or a
 *   rollback asked for in chat) answers 403, a failed check for Flagger; PASS and HOLD answer 200, so missing data
 *   never counts against the canary.
 * - `confirm-traffic-increase`: 200 only on a PASS, so a HOLD keeps the weight where it is.
 * - `confirm-promotion`: judged live; 200 only on a PASS.
 * - `rollback`: 200 (Flagger rolls back) when the judge failed the canary or someone asked in chat, else 403.
 * - `post-rollout`: records the outcome (`phase` Succeeded → promoted, Failed → rolled back); always 200.
 * - `event`: streams the event into the contract's thread (and records a Succeeded / Failed outcome).
 *
 * Payload (Flagger's CanaryWebhookPayload, pkg/apis/flagger/v1beta1): `name`, `namespace`, `phase`, `checksum`,
 * `buildId`, `type`, `failedChecks`, `canaryWeight`, `iterations`, `remainingTime`, `metadata` (string map). For
 * every hook Flagger merges the hook's own `metadata` into the payload's metadata, keys it sets itself winning
 * (CallWebhook / CallEventWebhook). Flagger cannot send headers, so the shared token travels in the hook's metadata
 * (`metadata.token`) or in its URL (`?token=`); a bearer header is accepted for callers that can send one.
 */
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { APPROVED_STATES, type EngineObjectRef, type EnginePort, type EngineRolloutView } from './enginePort.js';
import { bearerToken, queryToken, tokenMatches } from './sharedToken.js';

export const FLAGGER_HOOKS = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'post-rollout',
  'rollback',
  'event',
] as const;
export type FlaggerHook = (typeof FLAGGER_HOOKS)[number];

const count = z.number().int().nonnegative().optional();

export const FlaggerPayloadSchema = z
  .object({
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(253),
    phase: z.string().max(64).optional(),
    checksum: z.string().max(128).optional(),
    buildId: z.string().max(256).optional(),
    type: z.string().max(64).optional(),
    failedChecks: count,
    canaryWeight: z.number().min(0).max(100).optional(),
    iterations: count,
    remainingTime: z.number().optional(),
    metadata: z.record(z.string().max(8000)).optional(),
  })
  .passthrough();
export type FlaggerPayload = z.infer<typeof FlaggerPayloadSchema>;

export interface GateAnswer {
  status: 200 | 403;
  reason: string;
}

const describe = (view: EngineRolloutView) => `contract ${view.contractId} r${view.revision}`;

/** The answer of one hook for the rollout's view (after the judgement, for the judged hooks); pure. */
export function decideHook(hook: FlaggerHook, view: EngineRolloutView | null, target: string): GateAnswer {
  if (hook === 'post-rollout' || hook === 'event') return { status: 200, reason: 'outcome recorded' };
  if (!view) {
    return hook === 'rollback'
      ? { status: 403, reason: `no contract governs ${target}: nothing to roll back` }
      : { status: 403, reason: `no contract governs ${target}: announce the deployment or run "chaos assess" first` };
  }
  if (hook === 'rollback') {
    if (view.rollbackRequested && view.latestVerdict !== 'FAIL')
      return { status: 200, reason: 'roll back requested in chat' };
    if (view.latestVerdict === 'FAIL')
      return { status: 200, reason: `judge failed: ${view.verdictEvidence.slice(0, 3).join('; ')}` };
    return { status: 403, reason: 'no rollback requested' };
  }
  if (!APPROVED_STATES.has(view.contractState)) {
    return { status: 403, reason: `${describe(view)} is ${view.contractState}, not approved` };
  }
  switch (hook) {
    case 'confirm-rollout':
    case 'pre-rollout':
      return { status: 200, reason: `${describe(view)} is ${view.contractState}` };
    case 'rollout':
      if (view.latestVerdict === 'FAIL')
        return { status: 403, reason: `judge FAIL: ${view.verdictEvidence.slice(0, 3).join('; ')}` };
      if (view.rollbackRequested) return { status: 403, reason: 'roll back requested in chat' };
      return {
        status: 200,
        reason: `judge ${view.latestVerdict ?? 'HOLD'}: ${view.verdictEvidence[0] ?? 'no data yet'}`,
      };
    case 'confirm-traffic-increase':
    case 'confirm-promotion':
      if (view.rollbackRequested) return { status: 403, reason: 'roll back requested in chat' };
      if (view.latestVerdict === 'PASS' && view.stepHeld) return { status: 403, reason: view.stepHeld };
      return view.latestVerdict === 'PASS'
        ? { status: 200, reason: `judge passed ${describe(view)}` }
        : {
            status: 403,
            reason: `judge verdict is ${view.latestVerdict ?? 'not available yet'}${view.verdictEvidence[0] ? `: ${view.verdictEvidence[0]}` : ''}`,
          };
  }
}

export function createFlaggerRouter(port: EnginePort, options: { token: string; now?: () => Date }): Router {
  const router = Router();
  const now = options.now ?? (() => new Date());

  const presentedToken = (req: Request): string | undefined => {
    const metadata = (req.body as { metadata?: unknown } | undefined)?.metadata;
    const fromMetadata =
      metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>).token : undefined;
    return (
      (typeof fromMetadata === 'string' ? fromMetadata : undefined) ??
      queryToken(req.query) ??
      bearerToken(req.get('authorization'))
    );
  };

  const handle = (hook: FlaggerHook) => async (req: Request, res: Response) => {
    if (!tokenMatches(presentedToken(req), options.token)) {
      res.status(401).json({ error: 'unauthorized', message: 'missing or wrong webhook token' });
      return;
    }
    const parsed = FlaggerPayloadSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_payload', message: describeIssues(parsed.error) });
      return;
    }
    const payload = parsed.data;
    const ref: EngineObjectRef = { engine: 'flagger', namespace: payload.namespace, name: payload.name };
    const target = `${payload.namespace}/${payload.name}`;
    let view: EngineRolloutView | null;
    switch (hook) {
      case 'confirm-rollout':
      case 'pre-rollout':
        view = await port.findByTarget(ref);
        if (view && APPROVED_STATES.has(view.contractState)) view = await port.start(ref);
        break;
      case 'rollout':
      case 'confirm-promotion':
        view = await port.judge(ref, {
          ...(weightOf(payload) !== undefined ? { trafficPercent: weightOf(payload) } : {}),
        });
        break;
      case 'post-rollout':
        view = await finishFrom(port, ref, payload);
        break;
      case 'event': {
        const delivered = await port.postEvent({
          engine: 'flagger',
          namespace: payload.namespace,
          name: payload.name,
          ...(payload.phase ? { phase: payload.phase } : {}),
          message: payload.metadata?.eventMessage ?? `${payload.phase ?? 'event'}`,
          severity: payload.metadata?.eventType === 'Warning' || payload.phase === 'Failed' ? 'warning' : 'info',
          at: eventTime(payload.metadata?.timestamp) ?? now(),
        });
        await finishFrom(port, ref, payload);
        res.status(202).json({ hook, delivered });
        return;
      }
      default:
        view = await port.findByTarget(ref);
    }
    const answer = decideHook(hook, view, target);
    res.status(answer.status).json({
      hook,
      allowed: answer.status === 200,
      reason: answer.reason,
      ...(view ? { contractId: view.contractId, verdict: view.latestVerdict } : {}),
    });
  };

  for (const hook of FLAGGER_HOOKS) router.post(`/${hook}`, handle(hook));
  return router;
}

/** Flagger's `canaryWeight` field (v1.x), or the same figure in the metadata it adds. */
function weightOf(payload: FlaggerPayload): number | undefined {
  if (payload.canaryWeight !== undefined) return payload.canaryWeight;
  const fromMetadata = Number(payload.metadata?.canaryWeight);
  return payload.metadata?.canaryWeight !== undefined && Number.isFinite(fromMetadata) ? fromMetadata : undefined;
}

async function finishFrom(port: EnginePort, ref: EngineObjectRef, payload: FlaggerPayload) {
  if (payload.phase === 'Succeeded') return port.finish(ref, 'promoted', 'Flagger promoted the canary');
  if (payload.phase === 'Failed') {
    const reason = payload.metadata?.eventMessage ?? 'Flagger marked the canary failed';
    return port.finish(ref, 'rolled_back', reason);
  }
  return port.findByTarget(ref);
}

function eventTime(timestamp: string | undefined): Date | undefined {
  if (!timestamp || !/^\d+$/.test(timestamp)) return undefined;
  return new Date(Number(timestamp));
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '$'}: ${issue.message}`)
    .join('; ');
}
