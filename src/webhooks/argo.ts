/**
 * Argo Rollouts endpoints.
 *
 * `GET /api/argo/verdict/:contractId?namespace=<ns>&rollout=<name>` is the `web` metric of the AnalysisTemplate
 * from `chaos export argo`. Argo's web provider (metricproviders/webmetric/webmetric.go) sends a GET with the
 * template's `headers` (the bearer token, from a Secret through an argument), fails the measurement on any non-2xx
 * status, reads `jsonPath` (`{$.verdict}`) from the JSON body and evaluates the metric's conditions on that value
 * (utils/evaluate/evaluate.go: with both a success and a failure condition, a value meeting neither is
 * Inconclusive). Each call judges the analysis intervals completed since the last one, live from the metric
 * provider, for the Rollout named in the URL; the answer is `{ verdict: PASS | HOLD | FAIL, ... }`.
 *
 * `POST /api/argo/notifications` receives Argo notifications (the webhook service of argo-notifications, with the
 * template in docs/announced-deployments.md producing `{ rollout, namespace, event, message }`): each is posted in
 * the contract's thread, and `rollout-completed` / `rollout-aborted` record the rollout's outcome.
 */
import { Router } from 'express';
import { z } from 'zod';
import { APPROVED_STATES, type EngineObjectRef, type EnginePort } from './enginePort.js';
import { describeIssues } from './flagger.js';
import { bearerToken, tokenMatches } from './sharedToken.js';

export const ArgoNotificationSchema = z.object({
  rollout: z.string().min(1).max(253),
  namespace: z.string().min(1).max(253),
  event: z.string().min(1).max(100),
  message: z.string().max(4000).default(''),
});

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const FAILURE_EVENTS = /aborted|failed|error|degraded/i;
const COMPLETED = /rollout-completed/i;
const ABORTED = /rollout-aborted/i;

/** Contract states in which the Rollout must stop: the analysis fails. Others (still negotiating) pause it. */
const REFUSED_STATES = new Set(['rejected', 'aborted', 'rolled_back']);

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
    const contractId = req.params.contractId;
    const named = await port.findByContractId(contractId);
    if (!named) {
      res.status(404).json({ error: 'not_found', message: `no contract ${contractId}` });
      return;
    }
    const namespace = typeof req.query.namespace === 'string' ? req.query.namespace : undefined;
    const rollout = typeof req.query.rollout === 'string' ? req.query.rollout : undefined;
    for (const [field, value] of [
      ['namespace', namespace],
      ['rollout', rollout],
    ] as const) {
      if (value !== undefined && !K8S_NAME.test(value)) {
        res.status(400).json({ error: 'invalid_query', message: `${field} is not a Kubernetes name` });
        return;
      }
    }
    if (!APPROVED_STATES.has(named.contractState)) {
      const verdict = REFUSED_STATES.has(named.contractState) ? 'FAIL' : 'HOLD';
      res.json({
        contractId: named.contractId,
        revision: named.revision,
        state: named.contractState,
        verdict,
        evidence: [`contract ${named.contractId} r${named.revision} is ${named.contractState}, not approved`],
      });
      return;
    }
    const ref: EngineObjectRef = {
      engine: 'argo-rollouts',
      namespace: namespace ?? '',
      name: rollout ?? '',
    };
    const view = (await port.judge(ref, { contractId })) ?? named;
    // A rollback pressed in chat is reported as FAIL so the AnalysisRun fails and Argo aborts the Rollout.
    const verdict = view.latestVerdict === 'FAIL' || view.rollbackRequested ? 'FAIL' : (view.latestVerdict ?? 'HOLD');
    res.json({
      contractId: view.contractId,
      revision: view.revision,
      state: view.contractState,
      verdict,
      evidence:
        view.rollbackRequested && view.latestVerdict !== 'FAIL'
          ? ['roll back requested in chat']
          : view.verdictEvidence,
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
    const ref: EngineObjectRef = { engine: 'argo-rollouts', namespace, name: rollout };
    if (COMPLETED.test(event)) await port.finish(ref, 'promoted', message || 'Argo Rollouts completed the rollout');
    else if (ABORTED.test(event)) await port.finish(ref, 'rolled_back', message || 'Argo Rollouts aborted the rollout');
    res.status(202).json({ delivered });
  });
  return router;
}
