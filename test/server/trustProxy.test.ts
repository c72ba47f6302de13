/**
 * Issue 18, item 7: behind an ingress every caller arrives from the ingress's address. With TRUST_PROXY naming the
 * ingress, the budget for unauthenticated intake requests is per real client (X-Forwarded-For), so one client's junk
 * does not use up another's; without it, everybody shares one budget. Real HTTP on 127.0.0.1 through createHttpApp
 * and the CI intake router, the way the server mounts them.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createIntakeRouter } from '../../src/announce/intakeRouter.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { createHttpApp, listen } from '../../src/server/http.js';
import { MemoryAnnouncer } from '../announce/memoryAnnouncer.js';

const SECRET = 'intake-secret-0123456789abcdef0123456789abcdef';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function start(trustProxyEnv: string | undefined) {
  const config = loadConfig(trustProxyEnv === undefined ? {} : { TRUST_PROXY: trustProxyEnv });
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
  const router = createIntakeRouter({
    secret: SECRET,
    announcer: new MemoryAnnouncer(),
    unauthenticatedRateLimit: { windowMs: 60_000, limit: 2 },
  });
  const app = createHttpApp({
    logger,
    health: async () => ({ status: 'ok', checks: {} }),
    routers: [{ path: '/', router }],
    trustProxy: config.server.trustProxy,
  });
  const server = await listen(app, '127.0.0.1', 0);
  closers.push(() => server.close());
  return server.url;
}

async function junkFrom(url: string, client: string): Promise<number> {
  const res = await fetch(`${url}/api/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client, 'x-hub-signature-256': 'sha256=00' },
    body: '{}',
  });
  return res.status;
}

describe('TRUST_PROXY and the unauthenticated budget', () => {
  it('keys the budget by the forwarded client when the ingress is trusted', async () => {
    const url = await start('loopback');
    expect([
      await junkFrom(url, '203.0.113.7'),
      await junkFrom(url, '203.0.113.7'),
      await junkFrom(url, '203.0.113.7'),
    ]).toEqual([401, 401, 429]);
    expect(await junkFrom(url, '198.51.100.9')).toBe(401);
  });

  it('shares one budget between all callers when nothing is trusted (the default)', async () => {
    const url = await start(undefined);
    expect([await junkFrom(url, '203.0.113.7'), await junkFrom(url, '203.0.113.7')]).toEqual([401, 401]);
    expect(await junkFrom(url, '198.51.100.9')).toBe(429);
  });

  it('refuses a TRUST_PROXY that is no address, range, hop count or name', () => {
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99, ingress' })).toThrow(
      /TRUST_PROXY.*"10\.0\.0\.0\/99", "ingress"/,
    );
    expect(loadConfig({ TRUST_PROXY: '2' }).server.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8,loopback' }).server.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
  });
});
