/**
 * Flagger webhooks (payload shapes from Flagger's docs, usage/webhooks.md): gates answer 200 to let Flagger
 * advance and 403 to hold it; `rollback` answers 200 to make Flagger roll back; `event` streams into the thread.
 * Flagger cannot sign requests, so every call must carry the shared token, in `metadata.token` of the webhook
 * spec or as a bearer token.
 */
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { APPROVED_STATES, type EnginePort, type EngineRolloutView } from './enginePort.js';
import { bearerToken, tokenMatches } from './sharedToken.js';

export const FlaggerPayloadSchema = z.object({
  name: z.string().min(1).max(253),
  namespace: z.string().min(1).max(253),
  phase: z.string().max(64).optional(),
  checksum: z.string().max(128).optional(),
  type: z.string().max(64).optional(),
  metadata: z.record(z.string()).optional(),
});
export type FlaggerPayload = z.infer<typeof FlaggerPayloadSchema>;

export const FlaggerEventSchema = FlaggerPayloadSchema.extend({
  metadata: z.object({
    eventMessage: z.string().max(4000),
    eventType: z.string().max(64),
    timestamp: z.string().regex(/^\d+$/, 'a unix timestamp in milliseconds'),
  }),
});

type Gate = 'confirm-rollout' | 'confirm-promotion' | 'rollback';

export interface GateAnswer {
  status: 200 | 403;
  reason: string;
}

/** The decision of one gate for the rollout's current view; pure so each rule is tested on its own. */
export function decideGate(gate: Gate, view: EngineRolloutView | null, target: string): GateAnswer {
  if (!view) {
    return gate === 'rollback'
      ? { status: 403, reason: `no contract governs ${target}: nothing to roll back` }
      : { status: 403, reason: `no contract governs ${target}: announce the deployment or run "chaos assess" first` };
  }
  switch (gate) {
    case 'confirm-rollout':
      return APPROVED_STATES.has(view.contractState)
        ? { status: 200, reason: `contract ${view.contractId} r${view.revision} is ${view.contractState}` }
        : {
            status: 403,
            reason: `contract ${view.contractId} r${view.revision} is ${view.contractState}, not approved`,
          };
    case 'confirm-promotion':
      if (!APPROVED_STATES.has(view.contractState)) {
        return { status: 403, reason: `contract ${view.contractId} is ${view.contractState}` };
      }
      return view.latestVerdict === 'PASS'
        ? { status: 200, reason: `judge passed contract ${view.contractId}` }
        : { status: 403, reason: `judge verdict is ${view.latestVerdict ?? 'not available yet'}` };
    case 'rollback':
      if (view.rollbackRequested) return { status: 200, reason: 'roll back requested in chat' };
      if (view.latestVerdict === 'FAIL')
        return { status: 200, reason: `judge failed: ${view.verdictEvidence.join('; ')}` };
      return { status: 403, reason: 'no rollback requested' };
  }
}

export function createFlaggerRouter(port: EnginePort, options: { token: string; now?: () => Date }): Router {
  const router = Router();
  const now = options.now ?? (() => new Date());

  const authorized = (req: Request, payload: FlaggerPayload | undefined): boolean =>
    tokenMatches(payload?.metadata?.token ?? bearerToken(req.get('authorization')), options.token);

  const gate = (kind: Gate) => async (req: Request, res: Response) => {
    const parsed = FlaggerPayloadSchema.safeParse(req.body);
    if (!authorized(req, parsed.success ? parsed.data : undefined)) {
      res.status(401).json({ error: 'unauthorized', message: 'missing or wrong webhook token' });
      return;
    }
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_payload', message: describeIssues(parsed.error) });
      return;
    }
    const { namespace, name } = parsed.data;
    const view = await port.findByTarget('flagger', namespace, name);
    const answer = decideGate(kind, view, `${namespace}/${name}`);
    res.status(answer.status).json({ gate: kind, allowed: answer.status === 200, reason: answer.reason });
  };

  router.post('/confirm-rollout', gate('confirm-rollout'));
  router.post('/confirm-promotion', gate('confirm-promotion'));
  router.post('/rollback', gate('rollback'));
  router.post('/event', async (req, res) => {
    const parsed = FlaggerEventSchema.safeParse(req.body);
    if (!authorized(req, parsed.success ? parsed.data : undefined)) {
      res.status(401).json({ error: 'unauthorized', message: 'missing or wrong webhook token' });
      return;
    }
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_payload', message: describeIssues(parsed.error) });
      return;
    }
    const { namespace, name, phase, metadata } = parsed.data;
    const delivered = await port.postEvent({
      engine: 'flagger',
      namespace,
      name,
      ...(phase ? { phase } : {}),
      message: metadata.eventMessage,
      severity: metadata.eventType === 'Warning' || phase === 'Failed' ? 'warning' : 'info',
      at: new Date(Number(metadata.timestamp) || now().getTime()),
    });
    res.status(202).json({ delivered });
  });
  return router;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '$'}: ${issue.message}`)
    .join('; ');
}
