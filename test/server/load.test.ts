/**
 * A bounded load test on 127.0.0.1 (autocannon, a few seconds each) of /api/messages and the CI intake through the
 * composed app. It prints throughput and latency percentiles and checks that nothing failed under load; speed
 * itself is judged by the benchmarks, not here.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { type FakeConnector, messageActivity, startFakeConnector } from '../harness/fakeConnector.js';
import { DEVELOPER, startTestBot, type TestBot } from '../teams/support.js';

const SECRET = 'intake-secret-0123456789abcdef-0123456789';
let connector: FakeConnector;
let store: PersistentStore;
let bot: TestBot;

beforeAll(async () => {
  connector = await startFakeConnector();
  store = await openPersistentStore({ dataDir: 'memory://' });
  const servicesFile = join(mkdtempSync(join(tmpdir(), 'chaos-load-')), 'services.yaml');
  writeFileSync(
    servicesFile,
    `services:\n  checkout:\n    teams:\n      conversationId: "19:checkout@thread.tacv2"\n      serviceUrl: "${connector.serviceUrl}"\n`,
  );
  bot = await startTestBot(store, {
    CHAOS_INTAKE_SECRET: SECRET,
    CHAOS_INTAKE_RATE_LIMIT: '1000000',
    CHAOS_SERVICES_FILE: servicesFile,
  });
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
});

function report(name: string, result: autocannon.Result): void {
  process.stdout.write(
    `load ${name}: ${result.requests.total} requests in ${result.duration.toFixed(1)} s, ` +
      `${result.requests.average.toFixed(0)} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}\n`,
  );
}

describe('bounded load on 127.0.0.1', () => {
  it('serves /api/messages (assess) without errors', async () => {
    let n = 0;
    const result = await autocannon({
      url: `${bot.url}/api/messages`,
      connections: 8,
      duration: 3,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            n += 1;
            const activity = messageActivity(
              connector.serviceUrl,
              { id: `19:load${n % 16}@thread.tacv2;messageid=root${n % 16}`, type: 'channel' },
              DEVELOPER,
              `assess service=checkout version=2.4.${n} files=src/api/cart.ts:${n % 200} rollback=true`,
            );
            return { ...request, headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) };
          },
        },
      ],
    });
    report('/api/messages', result);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.requests.total).toBeGreaterThan(10);
  }, 60_000);

  it('serves the signed CI intake without errors', async () => {
    let n = 0;
    const result = await autocannon({
      url: `${bot.url}/api/deployments`,
      connections: 8,
      duration: 3,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            n += 1;
            const body = JSON.stringify({
              deployment_id: `load-${n}`,
              service_name: 'checkout',
              environment: 'production',
              version: `2.4.${n}`,
              changes: [
                { file_path: 'src/api/cart.ts', change_type: 'modify', lines_changed: 40, description: 'cart totals' },
              ],
              rollback_capability: true,
            });
            const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
            return {
              ...request,
              headers: {
                'content-type': 'application/json',
                'x-hub-signature-256': signature,
                'x-delivery-id': `load-${n}`,
              },
              body,
            };
          },
        },
      ],
    });
    report('/api/deployments', result);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.requests.total).toBeGreaterThan(10);
  }, 60_000);
});
