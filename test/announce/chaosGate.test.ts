/**
 * Runs the composite action's script (.github/actions/chaos-gate/gate.sh) with bash, curl and openssl against the
 * real intake router on 127.0.0.1, with an in-memory announcer that decides after a few polls. Every external
 * command the script runs goes through a shim that records its command line, so a test can prove neither the
 * intake secret nor the read token is ever on one.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createIntakeRouter } from '../../src/announce/intakeRouter.js';
import { MemoryAnnouncer } from './memoryAnnouncer.js';
import { type Served, serve } from './serve.js';

const SECRET = 'gate-secret-0123456789abcdef0123456789abcdef';
const STATUS_TOKEN = 'gate-status-token-0123456789abcdef';
const SHIMMED = ['curl', 'openssl', 'od', 'cat', 'cut', 'tr', 'wc', 'mv', 'rm', 'jq', 'node', 'python3', 'awk'];
const ACTION_DIR = fileURLToPath(new URL('../../.github/actions/chaos-gate/', import.meta.url));
const SCRIPT = join(ACTION_DIR, 'gate.sh');
const EXAMPLE = fileURLToPath(new URL('../fixtures/deployment-example.json', import.meta.url));

let tmp: string;
let shims: string;
let argvLog: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'chaos-gate-'));
  shims = join(tmp, 'shims');
  argvLog = join(tmp, 'argv.log');
  await mkdir(shims);
  for (const tool of SHIMMED) {
    const real = await execa('bash', ['-c', `command -v ${tool} || true`]);
    if (!real.stdout) continue;
    const shim = join(shims, tool);
    await writeFile(shim, `#!/bin/bash\nprintf '%s\\n' "${tool} $*" >>"${argvLog}"\nexec ${real.stdout} "$@"\n`);
    await chmod(shim, 0o755);
  }
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function startBot() {
  const announcer = new MemoryAnnouncer();
  served = await serve(createIntakeRouter({ secret: SECRET, readTokens: [STATUS_TOKEN], announcer, rateLimit: false }));
  return { announcer, url: served.url };
}

let runs = 0;
async function runGate(env: Record<string, string>) {
  const output = join(tmp, `output-${++runs}`);
  await writeFile(output, '');
  const result = await execa('bash', [SCRIPT], {
    env: {
      PATH: `${shims}:${process.env.PATH ?? ''}`,
      HOME: tmp,
      CHAOS_SECRET: SECRET,
      CHAOS_STATUS_TOKEN: STATUS_TOKEN,
      CHAOS_TARGET_NAMESPACE: 'payments',
      CHAOS_POLL_SECONDS: '0.05',
      CHAOS_TIMEOUT_MINUTES: '1',
      GITHUB_OUTPUT: output,
      ...env,
    },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  const outputs = Object.fromEntries(
    (await readFile(output, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, outputs };
}

describe('chaos-gate action script', () => {
  it('announces the request file, polls until approved and exits 0 with the contract link', async () => {
    const { announcer, url } = await startBot();
    announcer.decision = { afterPolls: 3, state: 'approved', decidedBy: ['Ana (SRE)'] };
    const result = await runGate({
      CHAOS_URL: `${url}/`,
      CHAOS_REQUEST_FILE: EXAMPLE,
      GITHUB_RUN_ID: '9001',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_JOB: 'deploy',
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(announcer.announcements).toHaveLength(1);
    expect(announcer.announcements[0]?.origin.deliveryId).toBe('gh-9001-2-deploy');
    const contractId = [...announcer.contracts.keys()][0] as string;
    expect(announcer.contracts.get(contractId)?.polls).toBe(3);
    const link = `${url}/api/contracts/${contractId}`;
    expect(result.stdout).toContain(`approved by Ana (SRE): ${link}`);
    expect(result.outputs).toEqual({ 'contract-id': contractId, 'contract-url': link, state: 'approved' });
  });

  it('exits 1 with the reason when the contract is rejected (reading JSON with node)', async () => {
    const { announcer, url } = await startBot();
    announcer.decision = {
      afterPolls: 2,
      state: 'rejected',
      decidedBy: ['Ana (SRE)'],
      reason: 'schema migration without a rollback plan',
    };
    const result = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_JSON_TOOL: 'node' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      /::error title=Chaos Negotiator::contract \S+ was rejected by Ana \(SRE\): schema migration without a rollback plan/,
    );
    expect(result.outputs.state).toBe('rejected');
  });

  it('builds the request from inline fields (reading JSON with python3)', async () => {
    const { announcer, url } = await startBot();
    announcer.decision = { afterPolls: 1, state: 'approved', decidedBy: ['Ben'] };
    const result = await runGate({
      CHAOS_URL: url,
      CHAOS_SERVICE: 'checkout',
      CHAOS_VERSION: 'v2.4.0',
      CHAOS_ENVIRONMENT: 'staging',
      CHAOS_PREVIOUS_VERSION: 'v2.3.9',
      CHAOS_JSON_TOOL: 'python3',
      GITHUB_RUN_ID: '77',
    });
    expect(result.exitCode).toBe(0);
    expect(announcer.announcements[0]?.request).toMatchObject({
      serviceName: 'checkout',
      version: 'v2.4.0',
      environment: 'staging',
      previousVersion: 'v2.3.9',
      deploymentId: 'checkout-staging-v2.4.0-run77',
    });
  });

  it('refuses unsafe inline values before sending anything', async () => {
    const { announcer, url } = await startBot();
    const result = await runGate({ CHAOS_URL: url, CHAOS_SERVICE: 'check"out', CHAOS_VERSION: '1' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/service must be letters, digits/);
    expect(announcer.announcements).toHaveLength(0);
  });

  it('times out with exit 1 when nobody decides', async () => {
    const { url } = await startBot();
    const result = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_TIMEOUT_MINUTES: '0.02' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/no decision on contract \S+ within 0.02 minutes \(last state: negotiating\)/);
    expect(result.outputs.state).toBe('timeout');
  });

  it('fails with the bot’s message on a wrong secret or an invalid request', async () => {
    const { announcer, url } = await startBot();
    const wrong = await runGate({
      CHAOS_URL: url,
      CHAOS_REQUEST_FILE: EXAMPLE,
      CHAOS_SECRET: 'not-the-secret-0123456789abcdef',
    });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stdout).toMatch(/HTTP 401\): missing or wrong X-Hub-Signature-256/);
    const bad = join(tmp, 'bad.json');
    await writeFile(bad, '{"deployment_id": "x", "service_name": "a b"}');
    const invalid = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: bad });
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stdout).toMatch(/HTTP 400\): service_name: must be letters/);
    expect(announcer.announcements).toHaveLength(0);
  });

  it('re-running the same job polls the existing contract instead of announcing twice', async () => {
    const { announcer, url } = await startBot();
    announcer.decision = { afterPolls: 1, state: 'approved', decidedBy: ['Ana'] };
    const env = { CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_DELIVERY_ID: 'rerun-1' };
    expect((await runGate(env)).exitCode).toBe(0);
    const again = await runGate(env);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('already announced');
    expect(announcer.announcements).toHaveLength(1);
  });

  it('never puts the secret or the read token on a command line, and polls with the read token', async () => {
    const { announcer, url } = await startBot();
    announcer.decision = { afterPolls: 2, state: 'approved', decidedBy: ['Ana'] };
    await writeFile(argvLog, '');
    const result = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE });
    expect(result.exitCode).toBe(0);
    const commands = await readFile(argvLog, 'utf8');
    expect(commands).toMatch(/^openssl dgst -sha256/m);
    expect(commands).toMatch(/^curl /m);
    expect(commands).not.toContain(SECRET);
    expect(commands).not.toContain(STATUS_TOKEN);
    // The intake secret no longer reads contracts for the gate: a wrong read token is refused at the first poll.
    const refused = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_STATUS_TOKEN: 'x'.repeat(30) });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toMatch(/refused the status request \(HTTP 401\): check status-token/);
    const same = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_STATUS_TOKEN: SECRET });
    expect(same.stdout).toMatch(/status-token must not be the intake secret/);
  });

  it('signs bodies with long and non-ASCII secrets exactly as the bot checks them', async () => {
    for (const secret of ['ü€-gate-secret-0123456789abcdef-6666', 'k'.repeat(100)]) {
      const announcer = new MemoryAnnouncer();
      announcer.decision = { afterPolls: 1, state: 'approved', decidedBy: ['Ana'] };
      const bot = await serve(createIntakeRouter({ secret, readTokens: [STATUS_TOKEN], announcer, rateLimit: false }));
      try {
        const result = await runGate({ CHAOS_URL: bot.url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_SECRET: secret });
        expect(result.exitCode, result.stdout).toBe(0);
      } finally {
        await bot.close();
      }
    }
  });

  it('sends the target the engines will name: kind, namespace and name', async () => {
    const { announcer, url } = await startBot();
    announcer.decision = { afterPolls: 1, state: 'approved', decidedBy: ['Ana'] };
    const inline = await runGate({
      CHAOS_URL: url,
      CHAOS_SERVICE: 'podinfo',
      CHAOS_VERSION: '6.5.0',
      CHAOS_TARGET_NAMESPACE: 'test',
      CHAOS_JSON_TOOL: 'jq',
    });
    expect(inline.exitCode, inline.stdout).toBe(0);
    expect(announcer.announcements[0]?.request.target).toMatchObject({
      kind: 'kubernetes',
      namespace: 'test',
      resourceName: 'podinfo',
    });
    for (const tool of ['jq', 'node', 'python3']) {
      const fromFile = await runGate({
        CHAOS_URL: url,
        CHAOS_REQUEST_FILE: EXAMPLE,
        CHAOS_TARGET_KIND: 'argo-rollouts',
        CHAOS_TARGET_NAMESPACE: 'shop',
        CHAOS_TARGET_NAME: 'payments',
        CHAOS_DELIVERY_ID: `target-${tool}`,
        CHAOS_JSON_TOOL: tool,
      });
      expect(fromFile.exitCode, `${tool}: ${fromFile.stdout}`).toBe(0);
      expect(announcer.announcements.at(-1)?.request.target, tool).toMatchObject({
        kind: 'argo-rollouts',
        namespace: 'shop',
        resourceName: 'payments',
      });
    }
    const missing = await runGate({
      CHAOS_URL: url,
      CHAOS_SERVICE: 'podinfo',
      CHAOS_VERSION: '1',
      CHAOS_TARGET_NAMESPACE: '',
    });
    expect(missing.stdout).toMatch(/target-namespace is required/);
    const bad = await runGate({ CHAOS_URL: url, CHAOS_REQUEST_FILE: EXAMPLE, CHAOS_TARGET_NAME: 'Bad_Name' });
    expect(bad.stdout).toMatch(/target-name must be a Kubernetes name/);
  });

  it('declares the inputs the script reads', async () => {
    const action = parseYaml(await readFile(join(ACTION_DIR, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
      runs: { using: string; steps: { env: Record<string, string>; run: string }[] };
    };
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining([
        'url',
        'secret',
        'status-token',
        'target-kind',
        'target-namespace',
        'target-name',
        'request-file',
        'service',
        'version',
        'environment',
        'timeout-minutes',
        'poll-seconds',
      ]),
    );
    const script = await readFile(SCRIPT, 'utf8');
    for (const variable of Object.keys(action.runs.steps[0]?.env ?? {})) expect(script).toContain(variable);
    expect(action.runs.steps[0]?.run).toContain('gate.sh');
  });
});
