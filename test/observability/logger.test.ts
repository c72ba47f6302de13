import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, requestLogger } from '../../src/observability/index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { destination, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const SECRETS = {
  bearer: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXZhbHVl',
  slack: 'xoxb-123456789012-abcdefABCDEF',
  github: 'ghp_abcdefghijklmnopqrstuvwxyz0123',
  openai: 'sk-proj-abcdefghijklmnop',
  password: 'p@ssw0rd-very-private',
  hmac: 'sha256=5d41402abc4b2a76b9719d911017c592',
  ikey: '0f2c6b1e-1111-2222-3333-444455556666',
  pgPassword: 'pg-secret-pass',
  apiKey: 'azure-openai-key-material',
  cookie: 'session=abc123def456',
};

describe('createLogger', () => {
  it('writes JSON lines with level labels and an ISO time', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination, name: 'chaos' });
    log.info({ contractId: 'c-1' }, 'contract created');
    const [record] = out.records();
    expect(record).toMatchObject({ level: 'info', name: 'chaos', contractId: 'c-1', msg: 'contract created' });
    expect(typeof record?.time).toBe('string');
  });

  it('respects the level', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination, level: 'warn' });
    log.info('hidden');
    log.warn('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('never writes secrets, wherever they appear', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination, level: 'trace' });
    log.info(
      {
        req: {
          headers: {
            authorization: `Bearer ${SECRETS.bearer}`,
            cookie: SECRETS.cookie,
            'x-hub-signature-256': SECRETS.hmac,
            'x-slack-signature': `v0=${SECRETS.hmac}`,
            'x-chaos-signature': SECRETS.hmac,
            'content-type': 'application/json',
          },
        },
        options: { apiKey: SECRETS.apiKey, password: SECRETS.password, nested: [{ slackBotToken: SECRETS.slack }] },
        databaseUrl: `postgres://chaos:${SECRETS.pgPassword}@db:5432/chaos`,
        connectionString: `InstrumentationKey=${SECRETS.ikey};IngestionEndpoint=https://x/`,
        usage: { promptTokens: 120, completionTokens: 30 },
      },
      'inbound request',
    );
    log.warn(`calling Slack with ${SECRETS.slack} and GitHub ${SECRETS.github}`);
    log.debug('openai key %s', SECRETS.openai);
    log.error(new Error(`request failed: Authorization: Bearer ${SECRETS.bearer}`));
    log.error({ err: new Error(`token ${SECRETS.github} rejected`) });
    const child = log.child({ token: SECRETS.slack, requestId: 'r-1' });
    child.info({ secret: SECRETS.password }, 'child line');

    const text = out.lines.join('\n');
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(text, name).not.toContain(value);
    }
    expect(out.lines).toHaveLength(6);
    const [first, , , errorLine, errLine, childLine] = out.records();
    expect(first).toMatchObject({
      req: { headers: { authorization: '[REDACTED]', 'content-type': 'application/json' } },
      usage: { promptTokens: 120, completionTokens: 30 },
      databaseUrl: 'postgres://chaos:[REDACTED]@db:5432/chaos',
    });
    expect(errorLine).toMatchObject({ level: 'error', err: { type: 'Error' } });
    expect(String(errorLine?.msg)).toContain('request failed: Authorization: Bearer [REDACTED]');
    expect(String((errorLine?.err as { stack?: string } | undefined)?.stack)).toContain('logger.test.ts');
    expect(String(errLine?.msg)).toBe('token [REDACTED] rejected');
    expect(childLine).toMatchObject({ token: '[REDACTED]', requestId: 'r-1', secret: '[REDACTED]', msg: 'child line' });
  });

  it('survives circular objects', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination });
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    log.info({ a }, 'circular');
    expect(out.records()[0]).toMatchObject({ a: { name: 'a', self: '[Circular]' } });
  });
});

describe('requestLogger', () => {
  it('reuses a safe x-request-id and drops the query string', () => {
    const out = capture();
    const { requestId, log } = requestLogger(createLogger({ destination: out.destination }), {
      headers: { 'x-request-id': 'abc-123' },
      method: 'POST',
      url: '/api/deployments?token=secret-in-query',
    });
    log.info('accepted');
    expect(requestId).toBe('abc-123');
    expect(out.records()[0]).toMatchObject({ requestId: 'abc-123', method: 'POST', path: '/api/deployments' });
    expect(out.lines.join()).not.toContain('secret-in-query');
  });

  it('makes a new id when the header is missing or unsafe', () => {
    const base = createLogger({ destination: capture().destination });
    let n = 0;
    const next = () => `generated-${++n}`;
    expect(requestLogger(base, { headers: {} }, next).requestId).toBe('generated-1');
    expect(requestLogger(base, { headers: { 'x-request-id': 'a b\n{"x":1}' } }, next).requestId).toBe('generated-2');
    expect(requestLogger(base, { headers: { 'x-request-id': ['first', 'second'] } }, next).requestId).toBe('first');
    expect(requestLogger(base, { headers: {} }).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
