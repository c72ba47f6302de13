import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceDirectory, parseServiceDirectory, routeForService } from '../../src/config/index.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const YAML = `
services:
  checkout:
    teams:
      conversationId: "19:abc@thread.tacv2"
      serviceUrl: https://smba.trafficmanager.net/emea/
      tenantId: aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
    slack: { channelId: C0123456 }
    engine: flagger
    namespace: shop
  search:
    slack: { channelId: G0ABCDEF }
`;

describe('service routing file', () => {
  it('parses YAML with defaults', () => {
    const directory = parseServiceDirectory(YAML);
    expect(routeForService(directory, 'checkout')).toEqual({
      teams: {
        conversationId: '19:abc@thread.tacv2',
        serviceUrl: 'https://smba.trafficmanager.net/emea/',
        tenantId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      },
      slack: { channelId: 'C0123456' },
      engine: 'flagger',
      namespace: 'shop',
    });
    expect(routeForService(directory, 'search')?.engine).toBe('builtin');
    expect(routeForService(directory, 'payments')).toBeUndefined();
    expect(routeForService(directory, 'toString')).toBeUndefined();
  });

  it('parses JSON too and loads from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-services-'));
    const file = join(dir, 'services.json');
    writeFileSync(file, JSON.stringify({ services: { api: { teams: { conversationId: '19:x@thread.skype' } } } }));
    try {
      expect(loadServiceDirectory(file).services.api?.engine).toBe('builtin');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['services:\n  checkout: {}\n', /checkout: needs a teams or a slack destination/],
    [
      'services:\n  checkout:\n    slack: { channelId: general }\n',
      /checkout.slack.channelId: must be a Slack channel id/,
    ],
    [
      'services:\n  checkout:\n    slack: { channelId: C123 }\n    engine: spinnaker\n',
      /checkout.engine: must be one of builtin, flagger, argo/,
    ],
    ['services:\n  checkout:\n    teams: { conversationId: "" }\n', /checkout.teams.conversationId: must not be empty/],
    ['services:\n  checkout:\n    teams: { conversationId: "19:x", tenantId: contoso }\n', /tenantId: must be a GUID/],
    ['services:\n  checkout:\n    slack: { channelId: C123 }\n    owner: bob\n', /checkout: unknown key\(s\) owner/],
    ['services:\n  "bad name!":\n    slack: { channelId: C123 }\n', /is not a valid service name/],
    ['servics: {}\n', /\(root\): unknown key\(s\) servics/],
    ['services: [1, 2]\n', /services: must be an object/],
    ['services: {\n', /not valid YAML\/JSON/],
  ])('rejects %j', (text, message) => {
    const error = errorOf(() => parseServiceDirectory(text));
    expect(error.code).toBe('config_services_file_invalid');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('CHAOS_SERVICES_FILE: ');
  });

  it('reports an unreadable file without a stack trace', () => {
    const error = errorOf(() => loadServiceDirectory('/nonexistent/services.yaml'));
    expect(error.message).toBe('Invalid service routing file:\n  - CHAOS_SERVICES_FILE: cannot read file (ENOENT)');
  });
});
