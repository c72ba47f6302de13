import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Job = {
  steps: Step[];
  strategy?: { matrix?: { node?: number[] } };
  services?: Record<string, { image: string }>;
  env?: Record<string, string>;
  environment?: string;
};
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job> };
const workflow = (name: string) =>
  parseYaml(readFileSync(join(root, '.github', 'workflows', name), 'utf8')) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run).filter((r): r is string => r !== undefined);

describe('GitHub workflows', () => {
  it('ci: every push and pull request, Node 20 and 22, PostgreSQL 15, lint + typecheck + tests', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    const test = ci.jobs.test as Job;
    expect(test.strategy?.matrix?.node).toEqual([20, 22]);
    expect(test.services?.postgres?.image).toBe('postgres:15');
    expect(test.env?.DATABASE_URL).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:5432\/test$/);
    expect(runs(test)).toEqual(['npm ci', 'npm run lint', 'npm run typecheck', 'npm test']);
    const scripts = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const name of ['lint', 'typecheck', 'test']) expect(scripts[name], `npm script ${name}`).toBeDefined();
  });

  it('deploy: main and manual runs, OIDC login, the Bicep applied around an ACR build, protected environment', () => {
    const deploy = workflow('deploy.yml');
    expect(deploy.on.push).toEqual({ branches: ['main'] });
    expect(deploy.on).toHaveProperty('workflow_dispatch');
    expect(deploy.permissions?.['id-token']).toBe('write');
    const job = deploy.jobs.deploy as Job;
    expect(job.environment).toBeDefined();
    const login = job.steps.find((s) => s.uses?.startsWith('azure/login@'));
    expect(Object.keys(login?.with ?? {}).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    expect(JSON.stringify(login?.with)).not.toMatch(/creds|client-secret/);
    const script = runs(job).join('\n');
    expect(script).toMatch(/az acr build/);
    const order = (pattern: RegExp) => job.steps.findIndex((s) => pattern.test(s.run ?? s.uses ?? ''));
    const applies = job.steps
      .map((s, i) => (/az deployment group create[\s\S]*--template-file infra\/main\.bicep/.test(s.run ?? '') ? i : -1))
      .filter((i) => i >= 0);
    expect(applies).toHaveLength(2);
    expect(order(/npm test/)).toBeLessThan(order(/azure\/login/));
    expect(order(/azure\/login/)).toBeLessThan(applies[0] as number);
    expect(applies[0]).toBeLessThan(order(/az acr build/));
    expect(order(/az acr build/)).toBeLessThan(applies[1] as number);
    // The profile's plain parameters file (the one az accepts as is) and the secrets file, never on a command line.
    for (const i of applies) {
      expect(job.steps[i]?.run).toMatch(/--parameters "@infra\/main\.parameters\.\$\{?[\w.{}\s|']*\}?\.json"/);
      expect(job.steps[i]?.run).toMatch(/--parameters "@\$\{SECRETS_FILE\}"/);
    }
    expect(script).not.toMatch(/secrets\.AZURE_DEPLOYMENT_SECRETS/);
    const secretsStep = job.steps.find((s) => /SECRETS_FILE=/.test(s.run ?? '')) as Step & {
      env?: Record<string, string>;
    };
    expect(secretsStep?.env?.DEPLOYMENT_SECRETS).toBe(`\${{ secrets.AZURE_DEPLOYMENT_SECRETS }}`);
    expect(secretsStep?.run).toMatch(/umask 077/);
    // The roles it needs are stated, and AcrPush alone is not claimed to be enough.
    const header = readFileSync(join(root, '.github', 'workflows', 'deploy.yml'), 'utf8').split('\non:')[0] ?? '';
    expect(header).toMatch(/Contributor on the resource group/);
    expect(header).toMatch(/Role Based Access Control Administrator/);
    expect(header).toMatch(/scheduleRun/);
    expect(header).not.toMatch(/AcrPush and Container Apps Contributor/);
  });
});
