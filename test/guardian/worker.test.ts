import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RollbackExecutor } from '../../src/actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../../src/actuators/simulatedActuator.js';
import type { ChatCard, ChatMessage, ChatSurface, MessageRef, ThreadRef } from '../../src/chat/port.js';
import { assessDeployment } from '../../src/domain/contract.js';
import type { MetricProvider } from '../../src/domain/metrics.js';
import { MetricProviderError } from '../../src/domain/metrics.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseDeploymentJson } from '../../src/domain/request.js';
import { ChatRolloutNotifier } from '../../src/guardian/notifier.js';
import { InMemoryRolloutRepository, type RolloutRecord } from '../../src/guardian/repository.js';
import { GuardianService } from '../../src/guardian/service.js';
import { RolloutWorker } from '../../src/guardian/worker.js';
import { createSimulator, type ScenarioName } from '../../src/metrics/simulator.js';

const seed = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');
const T0 = new Date('2026-11-24T10:00:00Z');
const actor = { id: 'sre-1', displayName: 'Sam SRE', surface: 'teams' as const };
const thread: ThreadRef = { surface: 'teams', key: 'thread-1' };

function approvedContract(): Contract {
  const request = parseDeploymentJson(seed);
  const contract = assessDeployment({ ...request, previousVersion: 'v2.9.0' }, DEFAULT_POLICY, { now: T0 });
  return { ...contract, state: 'approved' };
}

class RecordingSurface implements ChatSurface {
  readonly surface = 'teams' as const;
  readonly posted: { thread: ThreadRef; text?: string; card?: ChatCard }[] = [];
  readonly updates: ChatCard[] = [];
  private id = 0;
  async postCard(t: ThreadRef, card: ChatCard): Promise<MessageRef> {
    this.posted.push({ thread: t, card });
    return { thread: t, messageId: `m${++this.id}` };
  }
  async postInThread(t: ThreadRef, message: ChatMessage): Promise<MessageRef> {
    this.posted.push({
      thread: t,
      ...(message.text ? { text: message.text } : {}),
      ...(message.card ? { card: message.card } : {}),
    });
    return { thread: t, messageId: `m${++this.id}` };
  }
  async updateCard(_m: MessageRef, card: ChatCard): Promise<void> {
    this.updates.push(card);
  }
  async resolveUser(): Promise<undefined> {
    return undefined;
  }
}

function harness(options: { scenario?: ScenarioName; provider?: MetricProvider; workerId?: string } = {}) {
  let now = T0;
  const clock = () => now;
  const simulator = createSimulator({
    scenario: options.scenario ?? 'healthy',
    seed: 7,
    qps: 400,
    baseErrorRate: 0.0002,
    origin: T0,
    intervalSeconds: 60,
  });
  const actuator = new SimulatedActuator((_, percent) => simulator.setCanaryPercent(percent));
  // The store's clock is the simulated one too, so leases expire as the test advances time.
  const repository = new InMemoryRolloutRepository({ clock });
  const surface = new RecordingSurface();
  const finished: RolloutRecord[] = [];
  const makeWorker = (workerId: string) =>
    new RolloutWorker({
      repository,
      metrics: options.provider ?? simulator,
      actuator,
      rollback: new RollbackExecutor({ dryRun: true }),
      notifier: new ChatRolloutNotifier({ teams: surface }, clock),
      workerId,
      clock,
      fetchBackoffMs: 0,
      onFinished: (r) => finished.push(r),
    });
  const guardian = new GuardianService({ repository, clock });
  return {
    repository,
    surface,
    guardian,
    finished,
    worker: makeWorker(options.workerId ?? 'w1'),
    makeWorker,
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
    now: () => now,
  };
}

async function runUntilDone(
  h: ReturnType<typeof harness>,
  contractId: string,
  maxIntervals = 400,
): Promise<RolloutRecord> {
  await h.worker.tick();
  for (let i = 0; i < maxIntervals; i++) {
    const record = await h.repository.findByContract(contractId);
    if (record && ['promoted', 'rolled_back', 'aborted', 'failed'].includes(record.state.phase)) return record;
    h.advance(60);
    await h.worker.tick();
  }
  throw new Error('rollout did not finish');
}

describe('rollout worker on the simulator', () => {
  it('promotes a healthy rollout through every stage and posts at most 5 new messages', async () => {
    const h = harness({ scenario: 'healthy' });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    const record = await runUntilDone(h, contract.id);
    expect(record.state.phase).toBe('promoted');
    expect(record.latestVerdict).toBe('PASS');
    expect(h.surface.posted.length).toBeLessThanOrEqual(5);
    expect(h.surface.updates.length).toBeGreaterThan(contract.terms.ramp.steps.length);
    const last = h.surface.updates.at(-1);
    expect(last?.kind === 'rollout-status' && last.input.phase).toBe('promoted');
    expect(h.finished.map((r) => r.state.phase)).toEqual(['promoted']);
  });

  it('keeps the service’s figures of the approved contract with the rollout, for the plan its deadline follows', async () => {
    const h = harness({ scenario: 'healthy' });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    const record = await h.repository.findByContract(contract.id);
    const slo = contract.deployment.slo;
    expect(record?.terms.serviceQps).toBe(slo.currentQps);
    expect(record?.terms.today).toEqual({
      currentErrorRatePercent: slo.currentErrorRatePercent,
      currentP95LatencyMs: slo.currentP95LatencyMs,
      currentP99LatencyMs: slo.currentP99LatencyMs,
    });
  });

  it('rolls back an error spike and reports every rollback step', async () => {
    const h = harness({ scenario: 'error-spike' });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    const record = await runUntilDone(h, contract.id);
    expect(record.state.phase).toBe('rolled_back');
    expect(record.latestVerdict).toBe('FAIL');
    const texts = h.surface.posted.map((p) => p.text ?? '');
    expect(texts.some((t) => /rolling back/i.test(t))).toBe(true);
    const report = texts.find((t) => t.includes('rollback dry run'));
    expect(report).toBeDefined();
    for (const step of contract.rollbackPlan.steps) expect(report).toContain(`step ${step.order}`);
  });

  it('holds (never rolls back) when the metric provider keeps failing', async () => {
    const failing: MetricProvider = {
      name: 'broken',
      fetchInterval: async () => {
        throw new MetricProviderError('metrics_provider_unavailable', 'connection refused');
      },
    };
    const h = harness({ provider: failing });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    await h.worker.tick();
    for (let i = 0; i < 30; i++) {
      h.advance(60);
      await h.worker.tick();
    }
    const record = await h.repository.findByContract(contract.id);
    expect(['progressing', 'paused']).toContain(record?.state.phase);
    expect(record?.latestVerdict).toBe('HOLD');
    expect(h.surface.posted.some((p) => p.text?.includes('never rolling back on missing data'))).toBe(true);
  });

  it('applies Roll back now and Pause from chat through the queue', async () => {
    const h = harness({ scenario: 'healthy' });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    await h.worker.tick();
    h.advance(60);
    await h.worker.tick();
    const paused = await h.guardian.command({ kind: 'pause', contract, actor, thread });
    expect(paused.text).toMatch(/paused by Sam SRE/);
    await h.worker.tick();
    expect((await h.repository.findByContract(contract.id))?.state.phase).toBe('paused');
    expect((await h.guardian.command({ kind: 'pause', contract, actor, thread })).text).toMatch(/resumed/);
    await h.worker.tick();
    expect((await h.repository.findByContract(contract.id))?.state.phase).toBe('progressing');
    await h.guardian.command({ kind: 'rollback', contract, actor, thread });
    expect((await h.guardian.engineView(contract)).rollbackRequested).toBe(true);
    await h.worker.tick();
    expect((await h.repository.findByContract(contract.id))?.state.phase).toBe('rolled_back');
    expect((await h.guardian.command({ kind: 'rollback', contract, actor, thread })).text).toMatch(
      /already rolled_back/,
    );
  });

  it('keeps judging a paused rollout: a canary that starts failing while a person decides is rolled back', async () => {
    let failing = false;
    const stats = (failures: number) => ({
      requests: 2000,
      failures,
      latency: { p50Ms: 40, p95Ms: 90, p99Ms: 140 },
    });
    const provider: MetricProvider = {
      name: 'switchable',
      fetchInterval: async (query) => ({
        start: query.start.toISOString(),
        end: query.end.toISOString(),
        canary: stats(failing ? 400 : 0),
        baseline: stats(0),
      }),
    };
    const h = harness({ provider });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    await h.worker.tick();
    h.advance(60);
    await h.worker.tick();
    await h.guardian.command({ kind: 'pause', contract, actor, thread });
    await h.worker.tick();
    let record = await h.repository.findByContract(contract.id);
    expect(record?.state.phase).toBe('paused');
    const judgedBefore = record?.history.length ?? 0;
    // Still judged every interval while paused, and nothing happens while the canary is healthy.
    for (let i = 0; i < 3; i++) {
      h.advance(60);
      await h.worker.tick();
    }
    record = await h.repository.findByContract(contract.id);
    expect(record?.state.phase).toBe('paused');
    expect(record?.history.length).toBe(judgedBefore + 3);
    failing = true;
    for (let i = 0; i < 6 && record?.state.phase === 'paused'; i++) {
      h.advance(60);
      await h.worker.tick();
      record = await h.repository.findByContract(contract.id);
    }
    expect(record?.state.phase).toBe('rolled_back');
    expect(record?.latestVerdict).toBe('FAIL');
  });

  it('refuses to start an unapproved contract or a second rollout', async () => {
    const h = harness();
    const contract = approvedContract();
    expect(
      (await h.guardian.command({ kind: 'start', contract: { ...contract, state: 'negotiating' }, actor, thread }))
        .text,
    ).toMatch(/not approved/);
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    expect((await h.guardian.command({ kind: 'start', contract, actor, thread })).text).toMatch(/already/);
  });

  it('lets another worker take over a rollout whose lease expired', async () => {
    const h = harness({ scenario: 'healthy' });
    const contract = approvedContract();
    await h.guardian.command({ kind: 'start', contract, actor, thread });
    await h.worker.tick();
    h.advance(60);
    // A worker claims the rollout and dies before saving.
    const crashed = await h.repository.claimDue('crashed', h.now(), 30_000, 10);
    expect(crashed).toHaveLength(1);
    const other = h.makeWorker('w2');
    expect(await other.tick()).toBe(0);
    h.advance(31);
    expect(await other.tick()).toBe(1);
    const record = await h.repository.findByContract(contract.id);
    expect(record?.history.length).toBe(1);
    // The crashed worker's stale lease can no longer save.
    expect(await h.repository.save(crashed[0]!.record, crashed[0]!.leaseToken, 0)).toBe(false);
  });
});
