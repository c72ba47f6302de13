import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contract } from '../../src/domain/model.js';
import { FIXED_NOW } from '../support/fixtures.js';

import { ROOT, run, SEED } from './cliHarness.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'chaos-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function seedWith(mutate: (seed: Record<string, unknown>) => void): Promise<string> {
  const seed = JSON.parse(await readFile(join(ROOT, SEED), 'utf8')) as Record<string, unknown>;
  mutate(seed);
  const path = join(tmp, `req-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify(seed));
  return path;
}

describe('chaos assess (in process)', () => {
  it('prints the text contract for the seed example', async () => {
    const r = await run(['assess', SEED]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const heading of [
      'RISK ASSESSMENT:',
      'GUARDRAILS (SLO PROTECTION):',
      'VALIDATORS (PROOF REQUIRED):',
      'ROLLBACK CAPABILITY:',
      'SUGGESTED IMPROVEMENTS:',
    ]) {
      expect(r.stdout).toContain(heading);
    }
    expect(r.stdout).toContain('Created:    2026-11-24T12:00:00.000Z');
    expect(r.stdout).toContain('kubectl -n default rollout undo deployment/payment-service');
  });

  it('--json prints the whole contract; --markdown the Markdown form', async () => {
    const json = await run(['assess', SEED, '--json']);
    expect(json.code).toBe(0);
    const contract = JSON.parse(json.stdout) as Contract;
    expect(contract).toMatchObject({
      id: 'ctr-deploy-example-prod-001',
      revision: 1,
      state: 'draft',
      createdAt: FIXED_NOW.toISOString(),
    });
    expect(contract.deployment.serviceName).toBe('payment-service');
    expect(contract.terms.guardrails).toHaveLength(3);
    const md = await run(['assess', SEED, '--markdown']);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^## Deployment contract `ctr-deploy-example-prod-001` \(revision 1, draft\)/);
    expect(md.stdout).toContain('| error_rate | < 0.2 % |');
  });

  it('reads - from standard input', async () => {
    const r = await run(['assess', '-', '--json'], { stdin: await readFile(join(ROOT, SEED), 'utf8') });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Contract).id).toBe('ctr-deploy-example-prod-001');
  });

  it('applies a policy file', async () => {
    const policy = join(tmp, 'policy.yaml');
    await writeFile(policy, 'levels:\n  critical:\n    errorRateMaxPercent: 0.15\n');
    const r = await run(['assess', SEED, '--json', '--policy', policy]);
    expect(r.code).toBe(0);
    const contract = JSON.parse(r.stdout) as Contract;
    expect(contract.terms.guardrails.find((g) => g.metric === 'error_rate')?.threshold).toBe(0.15);
    expect(contract.policyVersion).toMatch(/^custom-/);
  });

  it('exits 2 with one line naming the field for an invalid request', async () => {
    const path = await seedWith((s) => {
      delete s.service_name;
    });
    const r = await run(['assess', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${path}: service_name: is required\n`);
    const bad = await seedWith((s) => {
      (s.changes as Record<string, unknown>[])[1] = { file_path: 'x', change_type: 'modify', lines_changed: -3 };
    });
    const r2 = await run(['assess', bad]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^error: .*changes\[1\]\.lines_changed: must be a non-negative integer \(got -3\)\n$/);
  });

  it('exits 2 for unreadable files, bad JSON, bad policies and bad arguments', async () => {
    const missing = await run(['assess', 'nope.json']);
    expect(missing).toMatchObject({ code: 2, stderr: 'error: cannot read nope.json: no such file\n' });
    const broken = join(tmp, 'broken.json');
    await writeFile(broken, '{"deployment_id": ');
    expect((await run(['assess', broken])).stderr).toMatch(/^error: .*broken\.json: \$: is not valid JSON.*line 1/);
    const policy = join(tmp, 'bad-policy.yaml');
    await writeFile(policy, 'levels:\n  medium:\n    errorRateMaxPercent: 0.25\n');
    const p = await run(['assess', SEED, '--policy', policy]);
    expect(p.code).toBe(2);
    expect(p.stderr).toBe(
      `error: ${policy}: invalid policy: levels.high.errorRateMaxPercent: must be ≤ levels.medium.errorRateMaxPercent (guardrails never loosen as risk rises)\n`,
    );
    for (const args of [
      ['assess'],
      ['assess', SEED, '--git', 'a..b'],
      ['assess', SEED, '--json', '--markdown'],
      ['assess', SEED, '--bogus'],
      ['frobnicate'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
      expect(r.stdout).toBe('');
    }
  });

  it('exits 1 on an internal error, one line without a stack trace', async () => {
    const r = await run(['assess', '--git', 'a..b'], {
      readGitRange: async () => {
        throw new Error('disk on fire\n    at somewhere');
      },
    });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'internal error: disk on fire at somewhere\n' });
  });

  it('--help exits 0', async () => {
    const r = await run(['assess', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--git <range>');
  });

  it('--batch assesses each line, reports invalid lines and exits 2 if any', async () => {
    const seed = JSON.parse(await readFile(join(ROOT, SEED), 'utf8')) as Record<string, unknown>;
    const other = { ...seed, deployment_id: 'deploy-2', rollback_capability: false };
    const file = join(tmp, 'batch.ndjson');
    await writeFile(file, `${JSON.stringify(seed)}\n{"deployment_id": "x"}\n\n${JSON.stringify(other)}\n`);
    const r = await run(['assess', '--batch', file, '--json']);
    expect(r.code).toBe(2);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { contractId: string }).contractId);
    expect(ids).toEqual(['ctr-deploy-example-prod-001', 'ctr-deploy-2']);
    expect(r.stderr).toMatch(
      new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 2: service_name: is required`),
    );
    expect(r.stderr.trim().split('\n').at(-1)).toBe('2 assessed, 1 invalid');
    const ok = join(tmp, 'ok.ndjson');
    await writeFile(ok, `${JSON.stringify(seed)}\n`);
    expect((await run(['assess', '--batch', ok])).code).toBe(0);
  });
});

describe('chaos assess --git (real git repository)', () => {
  it('assesses the range of a temporary repository', async () => {
    const repo = await mkdtemp(join(tmp, 'repo-'));
    const git = (...args: string[]) =>
      execa(
        'git',
        ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
        { cwd: repo },
      );
    await git('init', '-q', '-b', 'main');
    await writeFile(join(repo, 'app.py'), 'print("v1")\n');
    await git('add', '.');
    await git('commit', '-q', '-m', 'initial');
    await execa('mkdir', ['-p', join(repo, 'db/migrations')]);
    await writeFile(join(repo, 'db/migrations/0002_drop_legacy.sql'), 'ALTER TABLE orders DROP COLUMN legacy_id;\n');
    await writeFile(join(repo, 'app.py'), 'print("v2")\nprint("more")\n');
    await git('add', '.');
    await git('commit', '-q', '-m', 'drop legacy column');
    const r = await run(['assess', '--git', 'HEAD~1..HEAD', '--repo', repo, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const contract = JSON.parse(r.stdout) as Contract;
    expect(contract.deployment.source.kind).toBe('git');
    expect(contract.deployment.changes.map((c) => c.filePath).sort()).toEqual([
      'app.py',
      'db/migrations/0002_drop_legacy.sql',
    ]);
    expect(contract.risk.findings.some((f) => f.factor === 'database_migration')).toBe(true);
    expect(contract.rollbackPlan.dataLossRisk).toBe('high');
    const bad = await run(['assess', '--git', 'HEAD~5..HEAD', '--repo', repo]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown revision/);
  });
});

describe('bin/chaos.js as a child process', () => {
  it('exits 0 on the seed and 2 with one line on invalid input', async () => {
    const ok = await execa('node', ['bin/chaos.js', 'assess', SEED], { cwd: ROOT, reject: false });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('DEPLOYMENT CONTRACT');
    const path = await seedWith((s) => {
      s.current_qps = 'lots';
    });
    const bad = await execa('node', ['bin/chaos.js', 'assess', path], { cwd: ROOT, reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: .*current_qps: must be a non-negative number/),
    ]);
  });
});
