/**
 * The guardian as src/app/guardian.ts composes it on the built-in simulator (a SimulatorFleet behind the worker and
 * the simulated actuator), at an analysis interval other than 60 s: the scenario decides, not the cold start.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RollbackExecutor } from '../../src/actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../../src/actuators/simulatedActuator.js';
import { assessDeployment } from '../../src/domain/contract.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY, loadPolicyFromObject } from '../../src/domain/policy.js';
import { parseDeploymentJson } from '../../src/domain/request.js';
import { InMemoryRolloutRepository, type RolloutRecord } from '../../src/guardian/repository.js';
import { GuardianService } from '../../src/guardian/service.js';
import { RolloutWorker } from '../../src/guardian/worker.js';
import type { ScenarioName } from '../../src/metrics/simulator.js';
import { SimulatorFleet } from '../../src/metrics/simulatorFleet.js';

const T0 = new Date('2026-12-01T10:00:00Z');

function contractAt(intervalSeconds: number): Contract {
  const request = parseDeploymentJson(readFileSync('test/fixtures/deployment-example.json', 'utf8'));
  const policy = loadPolicyFromObject({ ...structuredClone(DEFAULT_POLICY), analysisIntervalSeconds: intervalSeconds });
  return { ...assessDeployment({ ...request, previousVersion: 'v2.9.0' }, policy, { now: T0 }), state: 'approved' };
}

async function run(scenario: ScenarioName, intervalSeconds: number, intervals: number) {
  let now = T0;
  const clock = () => now;
  const fleet = new SimulatorFleet({ scenario, seed: 1, qps: 200, noise: 'realistic' });
  const repository = new InMemoryRolloutRepository({ clock });
  const alerts: string[] = [];
  const worker = new RolloutWorker({
    repository,
    metrics: fleet,
    actuator: new SimulatedActuator((target, percent) => fleet.setCanaryPercent(target, percent)),
    rollback: new RollbackExecutor({ dryRun: true }),
    notifier: {
      async status(record) {
        return record.report;
      },
      async alert(_record, alert) {
        alerts.push(alert.message);
      },
    },
    workerId: 'w',
    clock,
    fetchBackoffMs: 0,
  });
  const contract = contractAt(intervalSeconds);
  await new GuardianService({ repository, clock }).startRollout(contract, { id: 'sre', surface: 'teams' });
  await worker.tick();
  const verdicts: string[] = [];
  let record = (await repository.findByContract(contract.id)) as RolloutRecord;
  for (let i = 0; i < intervals && ['progressing', 'baking'].includes(record.state.phase); i++) {
    now = new Date(now.getTime() + intervalSeconds * 1000);
    await worker.tick();
    record = (await repository.findByContract(contract.id)) as RolloutRecord;
    verdicts.push(record.latestVerdict ?? '-');
  }
  return { record, verdicts, alerts };
}

describe('the simulated guardian at a 1 s analysis interval', () => {
  it('error-spike rolls back on the canary’s errors, not on its cold start', async () => {
    const { record, alerts } = await run('error-spike', 1, 240);
    expect(record.state.phase).toBe('rolled_back');
    const reason = record.state.phase === 'rolled_back' ? record.state.reason : '';
    expect(reason).toMatch(/error/);
    expect(reason).not.toMatch(/latency/);
    expect(alerts.join('\n')).toContain('rolling back');
  });

  it('healthy does not roll back, and passes once the first minute (the cold start) is behind it', async () => {
    const { record, verdicts } = await run('healthy', 1, 240);
    expect(['progressing', 'baking']).toContain(record.state.phase);
    expect(verdicts.slice(0, 60)).not.toContain('PASS');
    expect(verdicts.slice(60)).toContain('PASS');
    expect(verdicts).not.toContain('FAIL');
  });
});
