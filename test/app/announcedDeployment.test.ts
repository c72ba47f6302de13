/**
 * Announced deployments through the whole composed app: a signed CI intake posts the contract card into the
 * service's Teams channel (fake Bot Connector), approvers click Approve in that thread, and the CI status endpoint
 * and Flagger's confirm-rollout gate follow the decision.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { actionActivity, cardOf, type FakeConnector, sendToBot, startFakeConnector } from '../harness/fakeConnector.js';
import { APPROVER_A, APPROVER_B, startTestBot, type TestBot } from '../teams/support.js';

const SECRET = 'intake-secret-0123456789abcdef-0123456789';
const ENGINE_TOKEN = 'engine-token-0123456789abcdef';
const CHANNEL = '19:payments@thread.tacv2';
const seed = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');

let connector: FakeConnector;
let store: PersistentStore;
let bot: TestBot;

beforeAll(async () => {
  connector = await startFakeConnector();
  store = await openPersistentStore({ dataDir: 'memory://' });
  const dir = mkdtempSync(join(tmpdir(), 'chaos-services-'));
  const servicesFile = join(dir, 'services.yaml');
  writeFileSync(
    servicesFile,
    `services:\n  payment-service:\n    teams:\n      conversationId: "${CHANNEL}"\n      serviceUrl: "${connector.serviceUrl}"\n    engine: flagger\n`,
  );
  bot = await startTestBot(store, {
    CHAOS_INTAKE_SECRET: SECRET,
    CHAOS_ENGINE_WEBHOOK_TOKEN: ENGINE_TOKEN,
    CHAOS_SERVICES_FILE: servicesFile,
  });
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
});

function signed(body: string, deliveryId: string): RequestInit {
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-delivery-id': deliveryId },
    body,
  };
}

const flaggerGate = (gate: string) =>
  fetch(`${bot.url}/webhooks/flagger/${gate}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'payment-service',
      namespace: 'default',
      phase: 'Progressing',
      metadata: { token: ENGINE_TOKEN },
    }),
  });

describe('announced deployment end to end', () => {
  it('posts the card into the configured channel, follows the approvals, and opens the gates', async () => {
    const response = await fetch(`${bot.url}/api/deployments`, signed(seed, 'build-4711'));
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { contractId: string; state: string };
    expect(accepted.state).toBe('negotiating');

    const posted = await connector.waitFor((a) => a.method === 'POST' && a.conversationId === CHANNEL);
    const card = cardOf(posted.body) as { actions?: { verb?: string; data?: Record<string, unknown> }[] };
    const approve = card.actions?.find((a) => a.verb === 'contract.approve');
    expect(approve?.data).toMatchObject({ contractId: accepted.contractId, revision: 1 });

    // A redelivery of the same build is the same contract, not a second card.
    const again = await fetch(`${bot.url}/api/deployments`, signed(seed, 'build-4711'));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { contractId: string }).contractId).toBe(accepted.contractId);

    expect((await flaggerGate('confirm-rollout')).status).toBe(403);

    const thread = { id: `${CHANNEL};messageid=${posted.id}`, type: 'channel' as const };
    for (const approver of [APPROVER_A, APPROVER_B]) {
      const click = await sendToBot(
        bot.url,
        actionActivity(connector.serviceUrl, thread, approver, posted.id, 'contract.approve', approve?.data ?? {}),
      );
      expect(click.status).toBe(200);
    }

    const status = await fetch(`${bot.url}/api/contracts/${accepted.contractId}`, {
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(status.status).toBe(200);
    const view = (await status.json()) as { state: string; decidedBy: string[] };
    expect(view.state).toBe('approved');
    expect(view.decidedBy).toEqual([APPROVER_A.name, APPROVER_B.name]);

    expect((await flaggerGate('confirm-rollout')).status).toBe(200);
    expect((await flaggerGate('confirm-promotion')).status).toBe(403);
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
  });

  it('refuses an unsigned intake and an engine call without the token', async () => {
    const unsigned = await fetch(`${bot.url}/api/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: seed,
    });
    expect(unsigned.status).toBe(401);
    const noToken = await fetch(`${bot.url}/webhooks/flagger/confirm-rollout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'payment-service', namespace: 'default' }),
    });
    expect(noToken.status).toBe(401);
  });
});
