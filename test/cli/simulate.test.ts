import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerSimulateCommand } from '../../src/cli/commands/simulate.js';
import { defaultCliDeps } from '../../src/cli/program.js';

const seedPath = fileURLToPath(new URL('../fixtures/deployment-example.json', import.meta.url));

async function runSimulate(args: string[]): Promise<{ out: string; error?: unknown }> {
  let out = '';
  const deps = { ...defaultCliDeps(), now: () => new Date('2026-11-24T10:00:00Z') };
  deps.io = {
    ...deps.io,
    stdout: (t: string) => {
      out += t;
    },
    stderr: () => undefined,
  };
  const program = new Command().exitOverride();
  registerSimulateCommand(program, deps);
  try {
    await program.parseAsync(['simulate', ...args], { from: 'user' });
    return { out };
  } catch (error) {
    return { out, error };
  }
}

describe('chaos simulate', () => {
  it('runs assess → approve → rollout → promoted on a healthy service', async () => {
    const { out, error } = await runSimulate([seedPath, '--scenario', 'healthy', '--speed', '0']);
    expect(error).toBeUndefined();
    expect(out).toMatch(/Contract ctr-deploy-example-prod-001 r1: CRITICAL risk/);
    expect(out).toMatch(/VERDICT: PROMOTED/);
    expect(out).toMatch(/\[#+\.*\]\s+5 % stage 1\//);
  });

  it('rolls back an error spike and lists the rollback steps taken', async () => {
    const { out } = await runSimulate([seedPath, '--scenario', 'error-spike', '--speed', '0', '--seed', '3']);
    expect(out).toMatch(/VERDICT: ROLLED BACK/);
    expect(out).toMatch(/rollback dry run/);
    expect(out).toMatch(/step 1 /);
  });

  it('holds rather than rolls back when there is no data', async () => {
    const { out } = await runSimulate([seedPath, '--scenario', 'no-data', '--speed', '0', '--max-intervals', '30']);
    expect(out).not.toMatch(/VERDICT: ROLLED BACK/);
    expect(out).toMatch(/VERDICT: (PROGRESSING|PAUSED)/);
  });

  it('names a bad scenario', async () => {
    const { error } = await runSimulate([seedPath, '--scenario', 'meteor']);
    expect(String(error)).toMatch(/--scenario must be one of healthy/);
  });
});
