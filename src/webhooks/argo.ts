/**
 * Argo Rollouts endpoints: the `web` metric provider reads the judge's verdict for a contract
 * (`GET /verdict/:contractId`, used by the AnalysisTemplate from `chaos export argo`), and Argo notifications
 * arrive by webhook (`POST /notifications`) and stream into the rollout's thread.
 *
 * Argo's webhook notification service sends whatever body its template defines; the README documents a template
 * producing `{ "rollout", "namespace", "event", "message" }`, which is what this endpoint accepts.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { EnginePort } from './enginePort.js';
import { describeIssues } from './flagger.js';
import { bearerToken, tokenMatches } from './sharedToken.js';

export const ArgoNotificationSchema = z.object({
  rollout: z.string().min(1).max(253),
  namespace: z.string().min(1).max(253),
  event: z.string().min(1).max(100),
  message: z.string().max(4000).default(''),
});

const FAILURE_EVENTS = /aborted|failed|error|degraded/i;

export function createArgoRouter(port: EnginePort, options: { token: string; now?: () => Date }): Router {
  const router = Router();
  const now = options.now ?? (() => new Date());

  router.use((req, res, next) => {
    if (!tokenMatches(bearerToken(req.get('authorization')), options.token)) {
      res.status(401).json({ error: 'unauthorized', message: 'missing or wrong bearer token' });
      return;
    }
    next();
  });

  router.get('/verdict/:contractId', async (req, res) => {
    const view = await port.findByContractId(req.params.contractId);
    if (!view) {
      res.status(404).json({ error: 'not_found', message: `no contract ${req.params.contractId}` });
      return;
    }
    // A rollback pressed in chat is reported as FAIL so the AnalysisRun aborts the Rollout.
    const verdict = view.rollbackRequested ? 'FAIL' : (view.latestVerdict ?? 'HOLD');
    res.json({
      contractId: view.contractId,
      revision: view.revision,
      state: view.contractState,
      verdict,
      evidence: view.verdictEvidence,
    });
  });

  router.post('/notifications', async (req, res) => {
    const parsed = ArgoNotificationSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_payload', message: describeIssues(parsed.error) });
      return;
    }
    const { rollout, namespace, event, message } = parsed.data;
    const delivered = await port.postEvent({
      engine: 'argo-rollouts',
      namespace,
      name: rollout,
      phase: event,
      message: message || event,
      severity: FAILURE_EVENTS.test(event) ? 'error' : 'info',
      at: now(),
    });
    res.status(202).json({ delivered });
  });
  return router;
}
