/**
 * Issue 18, item 2, in one process on the in-memory repository (the SQL stores run the same worker in
 * test/faults/rollouts.test.ts): rollback steps are real commands; a long step keeps the lease renewed so another
 * worker cannot take the rollout meanwhile; a worker taking over a dead one's rollback skips the steps recorded as
 * done, reports the one cut off as interrupted and runs only the rest; every executed step is audited.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RollbackExecutor } from '../../src/actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../../src/actuators/simulatedActuator.js';
import type { RollbackStep } from '../../src/domain/model.js';
import { InMemoryRolloutRepository, type RolloutRecord } from '../../src/guardian/repository.js';
import { RolloutWorker } from '../../src/guardian/worker.js';
import { createSimulator } from '../../src/metrics/simulator.js';
import { tempDir } from '../durability/support.js';

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

/** A step that appends its order to the journal file, after `ms` milliseconds. */
function step(order: number, journal: string, ms: number, dependsOn: number[] = []): RollbackStep {
  const script = `setTimeout(()=>require('fs').appendFileSync(process.argv[1],process.argv[2]+'\\n'),${ms})`;
  return {
    order,
    description: `step ${order}`,
    command: `${process.execPath} -e "${script}" ${journal} ${order}`,
    expectedDurationSeconds: 5,
    validation: 'journal line',
    dependsOn,
  };
}

function rollingBack(steps: RollbackStep[]): RolloutRecord {
  const at = new Date().toISOString();
  return {
    id: 'ro-fenced',
    contractId: 'ctr-fenced',
    revision: 1,
    target: {
      serviceName: 'payment-service',
      namespace: 'default',
      resourceName: 'payment-service',
      canaryVersion: 'v3',
    },
    terms: {
      guardrails: [],
      ramp: {
        steps: [{ trafficPercent: 10, minDurationSeconds: 60, minRequests: 100 }],
        analysisIntervalSeconds: 60,
        bakeTimeSeconds: 60,
        consecutiveFailureLimit: 3,
        cumulativeFailureLimit: 5,
      },
      targetErrorRatePercent: 0.1,
      rollbackPlan: {
        targetKind: 'kubernetes',
        possible: true,
        steps,
        totalSeconds: 10,
        windowSeconds: 300,
        dataLossRisk: 'none',
        reasons: [],
      },
    },
    state: { phase: 'rolling_back', startedAt: at, reason: 'test', by: 'sam', endsAs: 'rolled_back' },
    history: [],
    lastIntervalEnd: at,
    stepStartIndex: 0,
    nextDueAt: at,
    pendingCommands: [],
    latestVerdict: null,
    latestReasons: [],
    latestChecks: [],
    log: [],
    createdAt: at,
    updatedAt: at,
  };
}

function worker(repository: InMemoryRolloutRepository, workerId: string, leaseMs: number) {
  const simulator = createSimulator({ scenario: 'healthy', seed: 1, qps: 100 });
  return new RolloutWorker({
    repository,
    metrics: simulator,
    actuator: new SimulatedActuator(() => {}),
    rollback: new RollbackExecutor({ dryRun: false }),
    notifier: { status: async (r) => r.report, alert: async () => {} },
    workerId,
    leaseMs,
  });
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('fenced rollback on the in-memory repository', () => {
  it('renews the lease through a step longer than the lease, so another worker never takes over', async () => {
    const dir = tempDir('fenced');
    dirs.push(dir);
    const journal = join(dir.path, 'steps');
    const repository = new InMemoryRolloutRepository();
    await repository.create(rollingBack([step(1, journal, 900)]));
    const leaseMs = 250;
    const owner = worker(repository, 'owner', leaseMs);
    const rival = worker(repository, 'rival', leaseMs);
    const running = owner.tick();
    let rivalClaims = 0;
    const deadline = Date.now() + 900;
    while (Date.now() < deadline) {
      rivalClaims += await rival.tick();
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(await running).toBe(1);
    expect(rivalClaims).toBe(0);
    expect(lines(journal)).toEqual(['1']);
    expect((await repository.get('ro-fenced'))?.state.phase).toBe('rolled_back');
    expect(repository.audited.filter((a) => a.kind === 'rollback_step').map((a) => a.workerId)).toEqual(['owner']);
  });

  it('continues a dead worker’s rollback after the last recorded step and never runs a step twice', async () => {
    const dir = tempDir('resume');
    dirs.push(dir);
    const journal = join(dir.path, 'steps');
    const repository = new InMemoryRolloutRepository();
    const steps = [step(1, journal, 0), step(2, journal, 0, [1]), step(3, journal, 0, [1]), step(4, journal, 0, [3])];
    await repository.create(rollingBack(steps));
    // The dead worker: step 1 done, step 2 started, then gone with its lease.
    const [claim] = await repository.claimDue('dead', new Date(), 100, 1);
    const token = claim?.leaseToken ?? '';
    await repository.markStepStarted('ro-fenced', token, 100, { order: 1, description: 'step 1' });
    const done = {
      order: 1,
      description: 'step 1',
      command: steps[0]?.command ?? '',
      outcome: 'succeeded' as const,
      durationMs: 5,
    };
    const audit = {
      kind: 'rollback_step' as const,
      contractId: 'ctr-fenced',
      revision: 1,
      workerId: 'dead',
      at: new Date(),
      data: { step: 1 },
    };
    await repository.markStepDone('ro-fenced', token, done, audit);
    await repository.markStepStarted('ro-fenced', token, 100, { order: 2, description: 'step 2' });
    expect(await worker(repository, 'successor', 100).tick()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(await worker(repository, 'successor', 1_000).tick()).toBe(1);
    // Steps 1 (done) and 2 (cut off) are not run again; 3 and 4 (which depends on 3 only) run once.
    expect(lines(journal)).toEqual(['3', '4']);
    const recorded = await repository.rollbackSteps('ro-fenced');
    expect(recorded.map((s) => [s.order, s.report?.outcome])).toEqual([
      [1, 'succeeded'],
      [2, 'interrupted'],
      [3, 'succeeded'],
      [4, 'succeeded'],
    ]);
    expect((await repository.get('ro-fenced'))?.state.phase).toBe('failed');
    const audited = repository.audited.filter((a) => a.kind === 'rollback_step');
    expect(audited.map((a) => [a.data.step, a.workerId])).toEqual([
      [1, 'dead'],
      [2, 'successor'],
      [3, 'successor'],
      [4, 'successor'],
    ]);
  });
});
