import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, splitCommandLine } from '../../src/actuators/commandRunner.js';
import { ContainerAppsActuator } from '../../src/actuators/containerAppsActuator.js';
import { RollbackExecutor } from '../../src/actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../../src/actuators/simulatedActuator.js';
import { ARGO_ROLLOUTS_TEMPLATES, CommandTemplateActuator } from '../../src/actuators/templateActuator.js';
import type { RollbackPlan } from '../../src/domain/model.js';
import { type FakeAzureMonitor, fakeCredential, startFakeAzureMonitor } from '../harness/fakeAzureMonitor.js';

const target = {
  serviceName: 'checkout',
  namespace: 'shop',
  resourceName: 'checkout',
  canaryVersion: 'v2',
  baselineVersion: 'v1',
};

describe('command runner', () => {
  it('splits words and refuses shell operators', () => {
    expect(splitCommandLine(`kubectl -n shop rollout undo 'deployment/checkout'`)).toEqual([
      'kubectl',
      '-n',
      'shop',
      'rollout',
      'undo',
      'deployment/checkout',
    ]);
    for (const bad of ['echo a; rm -rf /', 'echo a | sh', 'echo a && b', 'echo a > /tmp/x', '']) {
      expect(() => splitCommandLine(bad)).toThrow(/refusing/);
    }
  });

  it('captures output, exit codes and timeouts without a shell', async () => {
    const ok = await runCommand('echo hello $HOME', { timeoutMs: 5_000 });
    expect(ok.ok).toBe(true);
    expect(ok.output.trim()).toBe('hello');
    const failed = await runCommand('false', { timeoutMs: 5_000 });
    expect(failed).toMatchObject({ ok: false, exitCode: 1, timedOut: false });
    const slow = await runCommand('sleep 5', { timeoutMs: 200 });
    expect(slow).toMatchObject({ ok: false, timedOut: true });
  });
});

describe('command-template actuator', () => {
  it('renders the Argo Rollouts templates with the target', () => {
    const actuator = new CommandTemplateActuator(ARGO_ROLLOUTS_TEMPLATES, { dryRun: true });
    expect(actuator.renderCommand(ARGO_ROLLOUTS_TEMPLATES.abort, target, '0')).toEqual([
      'kubectl',
      'argo',
      'rollouts',
      'abort',
      'checkout',
      '-n',
      'shop',
    ]);
  });

  it('runs the real command and reports its output', async () => {
    const actuator = new CommandTemplateActuator({
      setWeight: 'echo set {{name}} in {{namespace}} to {{weight}}',
      promote: 'echo promote {{name}}',
      abort: 'false',
    });
    const set = await actuator.setCanaryWeight(target, 25);
    expect(set).toMatchObject({ ok: true, dryRun: false, action: 'echo set checkout in shop to 25' });
    expect(set.output?.trim()).toBe('set checkout in shop to 25');
    const aborted = await actuator.abort(target);
    expect(aborted).toMatchObject({ ok: false, error: 'exit code 1' });
  });

  it('refuses values that could smuggle arguments or syntax', async () => {
    const actuator = new CommandTemplateActuator(ARGO_ROLLOUTS_TEMPLATES, { dryRun: true });
    await expect(actuator.abort({ ...target, resourceName: 'x --all-namespaces' })).rejects.toThrow(/not allowed/);
    await expect(actuator.abort({ ...target, namespace: '-n' })).rejects.toThrow(/not allowed/);
  });
});

describe('simulated actuator', () => {
  it('records weights and notifies the listener', async () => {
    const seen: number[] = [];
    const actuator = new SimulatedActuator((_, percent) => seen.push(percent));
    await actuator.setCanaryWeight(target, 10);
    await actuator.promote(target);
    expect(seen).toEqual([10, 100]);
    expect(actuator.weightOf(target)).toBe(100);
  });
});

describe('rollback executor', () => {
  const plan = (commands: { command: string; dependsOn?: number[] }[]): RollbackPlan => ({
    targetKind: 'custom',
    possible: true,
    steps: commands.map((c, i) => ({
      order: i + 1,
      description: `step ${i + 1}`,
      command: c.command,
      expectedDurationSeconds: 1,
      validation: 'exit code 0',
      dependsOn: c.dependsOn ?? [],
    })),
    totalSeconds: commands.length,
    windowSeconds: 300,
    dataLossRisk: 'none',
    reasons: [],
  });

  it('runs steps in dependency order and skips those whose dependency failed', async () => {
    const seen: string[] = [];
    const executor = new RollbackExecutor({ dryRun: false, onStep: (r) => void seen.push(`${r.order}:${r.outcome}`) });
    const report = await executor.execute(
      plan([
        { command: 'echo undo', dependsOn: [2] },
        { command: 'true' },
        { command: 'false' },
        { command: 'echo never', dependsOn: [3] },
      ]),
    );
    expect(seen).toEqual(['2:succeeded', '1:succeeded', '3:failed', '4:skipped_dependency_failed']);
    expect(report.outcome).toBe('failed');
    expect(report.steps[1]?.output?.trim()).toBe('undo');
  });

  it('reports without running in dry-run mode, and refuses an impossible plan', async () => {
    const executor = new RollbackExecutor({ dryRun: true });
    const report = await executor.execute(plan([{ command: 'false' }]));
    expect(report.outcome).toBe('dry_run');
    expect(report.steps[0]?.outcome).toBe('skipped_dry_run');
    expect((await executor.execute({ ...plan([]), possible: false })).outcome).toBe('not_possible');
  });

  it('stops a step that runs past its timeout', async () => {
    const executor = new RollbackExecutor({ dryRun: false, timeoutFactor: 0.1, minimumTimeoutMs: 100 });
    const report = await executor.execute(plan([{ command: 'sleep 5' }]));
    expect(report.steps[0]?.outcome).toBe('timed_out');
  });
});

describe('Azure Container Apps actuator (ARM client over HTTPS to a local fake)', () => {
  let fake: FakeAzureMonitor;
  beforeAll(async () => {
    fake = await startFakeAzureMonitor();
  });
  afterAll(async () => fake.close());

  it('reads the app and PATCHes revision weights, keeping the rest of ingress', async () => {
    const app = {
      id: '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.App/containerApps/checkout',
      name: 'checkout',
      location: 'westeurope',
      properties: {
        configuration: {
          activeRevisionsMode: 'Multiple',
          ingress: { external: true, targetPort: 3978, traffic: [{ revisionName: 'checkout--v1', weight: 100 }] },
        },
      },
    };
    fake.respondWith((req) => ({
      status: 200,
      body: req.method === 'GET' ? app : { ...app, properties: (req.body as typeof app).properties },
    }));
    const client = new ContainerAppsAPIClient(fakeCredential, 'sub-1', {
      endpoint: fake.url,
      tlsOptions: { ca: fake.caCert },
      retryOptions: { maxRetries: 0 },
    });
    const actuator = new ContainerAppsActuator({ client, resourceGroup: 'rg' });
    const result = await actuator.setCanaryWeight(target, 25);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const patch = fake.requests.find((r) => r.method === 'PATCH');
    expect(patch?.url).toContain(
      '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.App/containerApps/checkout',
    );
    expect(patch?.headers.authorization).toBe('Bearer fake-token');
    const ingress = (patch!.body as typeof app).properties.configuration.ingress;
    expect(ingress.targetPort).toBe(3978);
    expect(ingress.traffic).toEqual([
      { revisionName: 'checkout--v2', weight: 25 },
      { revisionName: 'checkout--v1', weight: 75 },
    ]);
  });
});
