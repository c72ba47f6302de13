/**
 * Guardian benchmark (`npm run bench:guardian`, issue 6): BENCH_ROLLOUTS (5,000) concurrent rollouts on the seeded
 * simulator, driven by the real RolloutWorker over the real store on PGlite (a file data directory), in one process
 * (one core). Time is simulated (60 s per round); what is measured is the real wall time each round takes to get
 * through every due rollout: claim under a lease + fetch the interval from the simulator + judge + step the state
 * machine + save + release.
 *
 *   throughput   evaluations per second of wall time, per round
 *   lag          when, after its interval closed, the slowest rollout was judged (all intervals close together at
 *                the round boundary, so this is about the round's wall time); goal: within the 60 s interval
 *   peak RSS     the process's maximum resident set (PGlite's WASM heap included); goal < 500 MB
 *
 * Rounds: a warm-up round applies the start commands (nothing to judge yet), then BENCH_INTERVALS (3) judged
 * "early" rounds. Then every rollout is moved BENCH_LATE_HISTORY (40) intervals further along the default ramp
 * (4 steps × 10 intervals + a 60-interval bake; see fastForward) — the record is stored and rewritten as one JSON
 * document that grows with its history — and BENCH_LATE_INTERVALS (2) "late" rounds follow (after a VACUUM, so
 * they are not charged for the bulk rewrite).
 *
 * The run happens in a child process on a data directory that another child initialised first, as a server
 * restarts on its existing data directory; a fresh directory's first boot (initdb) is reported separately, because
 * PGlite keeps initdb's memory for as long as that first instance lives.
 *
 * Env: BENCH_ROLLOUTS (5000), BENCH_INTERVALS (3), BENCH_BATCH (200, the worker's default), BENCH_LATE_HISTORY (40,
 * 0 to skip the late rounds), BENCH_LATE_INTERVALS (2).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RollbackExecutor } from '../src/actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../src/actuators/simulatedActuator.js';
import { assessDeployment } from '../src/domain/contract.js';
import type { MetricProvider } from '../src/domain/metrics.js';
import type { Contract } from '../src/domain/model.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { parseDeploymentJson } from '../src/domain/request.js';
import {
  type ClaimedRollout,
  InMemoryRolloutRepository,
  type RolloutRecord,
  type RolloutRepository,
} from '../src/guardian/repository.js';
import { GuardianService } from '../src/guardian/service.js';
import { type RolloutNotifier, RolloutWorker } from '../src/guardian/worker.js';
import { createSimulator, type Simulator } from '../src/metrics/simulator.js';
import { openPersistentStore, type PersistentStore } from '../src/persistence/index.js';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 5000);
const INTERVALS = Number(process.env.BENCH_INTERVALS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);
const LATE_HISTORY = Number(process.env.BENCH_LATE_HISTORY ?? 40);
const LATE_INTERVALS = LATE_HISTORY > 0 ? Number(process.env.BENCH_LATE_INTERVALS ?? 2) : 0;
const INTERVAL_S = 60;
const GOAL_RSS_MB = 500;
const T0 = new Date('2026-11-24T10:00:00Z');

const seed = readFileSync(new URL('../test/fixtures/deployment-example.json', import.meta.url), 'utf8');
const template = assessDeployment({ ...parseDeploymentJson(seed), previousVersion: 'v2.9.0' }, DEFAULT_POLICY, {
  now: T0,
});

/** Peak RSS while the worker runs rounds (sampled every 50 ms), apart from the bench's own set-up work. */
let measuring = false;
let peakRoundRss = 0;
const sampler = setInterval(() => {
  if (measuring) peakRoundRss = Math.max(peakRoundRss, process.memoryUsage().rss);
}, 50);
sampler.unref();

function processPeakRssMb(): number {
  return (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
}

function contract(i: number): Contract {
  return {
    ...template,
    id: `bench-${i}`,
    state: 'approved',
    deployment: { ...template.deployment, serviceName: `svc-${i}` },
  };
}

/** One seeded simulator per service, moved by the simulated actuator, as a mesh moves each service's split. */
class Fleet implements MetricProvider {
  readonly name = 'simulator-fleet';
  private readonly simulators = new Map<string, Simulator>();
  fetchMs = 0;

  of(service: string): Simulator {
    let simulator = this.simulators.get(service);
    if (!simulator) {
      simulator = createSimulator({
        scenario: 'healthy',
        seed: this.simulators.size + 1,
        qps: 400,
        baseErrorRate: 0.0002,
        origin: T0,
        intervalSeconds: INTERVAL_S,
      });
      this.simulators.set(service, simulator);
    }
    return simulator;
  }

  async fetchInterval(query: Parameters<MetricProvider['fetchInterval']>[0]) {
    const started = performance.now();
    const metrics = await this.of(query.serviceName).fetchInterval(query);
    this.fetchMs += performance.now() - started;
    return metrics;
  }
}

/** The store's repository, with the time spent in its calls added up (PGlite runs them one at a time). */
class TimedRepository implements RolloutRepository {
  claimMs = 0;
  saveMs = 0;
  constructor(private readonly inner: RolloutRepository) {}
  create(record: RolloutRecord) {
    return this.inner.create(record);
  }
  get(id: string) {
    return this.inner.get(id);
  }
  findByContract(contractId: string) {
    return this.inner.findByContract(contractId);
  }
  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]> {
    const started = performance.now();
    const claims = await this.inner.claimDue(workerId, now, leaseMs, limit);
    this.claimMs += performance.now() - started;
    return claims;
  }
  async save(record: RolloutRecord, leaseToken: string, consumed: number): Promise<boolean> {
    const started = performance.now();
    const saved = await this.inner.save(record, leaseToken, consumed);
    this.saveMs += performance.now() - started;
    return saved;
  }
  async release(id: string, leaseToken: string): Promise<void> {
    const started = performance.now();
    await this.inner.release(id, leaseToken);
    this.saveMs += performance.now() - started;
  }
  enqueueCommand(id: string, command: Parameters<RolloutRepository['enqueueCommand']>[1], now: Date) {
    return this.inner.enqueueCommand(id, command, now);
  }
  claim(id: string, workerId: string, now: Date, leaseMs: number) {
    return this.inner.claim(id, workerId, now, leaseMs);
  }
  createIfNoneActive(record: RolloutRecord) {
    return this.inner.createIfNoneActive(record);
  }
  /** The fence before every traffic change is store time on the worker's path, like a save. */
  async renewLease(id: string, leaseToken: string, leaseMs: number): Promise<boolean> {
    const started = performance.now();
    const held = await this.inner.renewLease(id, leaseToken, leaseMs);
    this.saveMs += performance.now() - started;
    return held;
  }
  rollbackSteps(id: string) {
    return this.inner.rollbackSteps(id);
  }
  markStepStarted(...args: Parameters<RolloutRepository['markStepStarted']>) {
    return this.inner.markStepStarted(...args);
  }
  markStepDone(...args: Parameters<RolloutRepository['markStepDone']>) {
    return this.inner.markStepDone(...args);
  }
  async auditEffect(audit: Parameters<RolloutRepository['auditEffect']>[0]): Promise<void> {
    const started = performance.now();
    await this.inner.auditEffect(audit);
    this.saveMs += performance.now() - started;
  }
}

interface Round {
  phase: 'warm-up' | 'early' | 'late';
  index: number;
  evaluations: number;
  wallMs: number;
  p50At: number;
  slowestAt: number;
  rssMb: number;
  recordKiB: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

async function startAll(store: PersistentStore, clock: () => Date): Promise<void> {
  const guardian = new GuardianService({ repository: store.rollouts, clock });
  const actor = { id: 'sre-1', displayName: 'Sam', surface: 'teams' as const };
  for (let i = 0; i < ROLLOUTS; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, ROLLOUTS - i) }, (_, k) => guardian.startRollout(contract(i + k), actor)),
    );
  }
}

/**
 * Moves every rollout `rounds` intervals further along its ramp. One pilot rollout is really driven that far (its
 * own worker, in memory, on the same contract and simulator settings); every stored rollout then takes over its
 * position — state, judge state, history — so records have the size and shape they have late in a rollout.
 */
async function fastForward(store: PersistentStore, fleet: Fleet, from: Date, rounds: number): Promise<Date> {
  let now = T0;
  const clock = () => now;
  const repository = new InMemoryRolloutRepository();
  const pilotFleet = new Fleet();
  const worker = new RolloutWorker({
    repository,
    metrics: pilotFleet,
    actuator: new SimulatedActuator((target, percent) => pilotFleet.of(target.serviceName).setCanaryPercent(percent)),
    rollback: new RollbackExecutor({ dryRun: true }),
    notifier: { status: async (record) => record.report, alert: async () => undefined },
    workerId: 'pilot',
    clock,
    fetchBackoffMs: 0,
  });
  const pilot = await new GuardianService({ repository, clock }).startRollout(contract(0), {
    id: 'sre-1',
    surface: 'teams',
  });
  while (now < from) {
    await worker.tick();
    now = new Date(now.getTime() + INTERVAL_S * 1000);
  }
  for (let i = 0; i < rounds; i++) {
    await worker.tick();
    now = new Date(now.getTime() + INTERVAL_S * 1000);
  }
  const position = await repository.get(pilot.id);
  if (!position || (position.state.phase !== 'progressing' && position.state.phase !== 'baking')) {
    throw new Error(`the pilot rollout is ${position?.state.phase}, not in analysis`);
  }
  const { state, judgeState, history, lastIntervalEnd, stepStartIndex, nextDueAt, log, updatedAt } = position;
  for (let after = ''; ; ) {
    const rows = await store.driver.query<{ id: string; record: RolloutRecord }>(
      'select id, record from rollouts where id > $1 order by id limit 100',
      [after],
    );
    if (rows.length === 0) break;
    after = rows.at(-1)?.id ?? after;
    await store.driver.transaction(async (tx) => {
      for (const { id, record } of rows) {
        const moved = {
          ...record,
          state,
          judgeState,
          history,
          lastIntervalEnd,
          stepStartIndex,
          nextDueAt,
          log,
          updatedAt,
        };
        await tx.query('update rollouts set record = $2, phase = $3, next_due_at = $4 where id = $1', [
          id,
          JSON.stringify(moved),
          state.phase,
          nextDueAt,
        ]);
        fleet.of(record.target.serviceName).setCanaryPercent(state.trafficPercent);
      }
    });
  }
  await store.driver.exec('vacuum analyze rollouts');
  await store.driver.exec('checkpoint');
  return now;
}

interface Profile {
  phase: string;
  recordKiB: number;
  claimMs: number;
  fetchMs: number;
  judgeMs: number;
  saveMs: number;
}

const PROFILED = 100;

/** PROFILED evaluations with a worker that takes one rollout per tick: per-evaluation cost of each part, exclusive. */
async function profile(phase: string, store: PersistentStore, fleet: Fleet, clock: () => Date): Promise<Profile> {
  const repository = new TimedRepository(store.rollouts);
  fleet.fetchMs = 0;
  const worker = new RolloutWorker({
    repository,
    metrics: fleet,
    actuator: new SimulatedActuator((target, percent) => fleet.of(target.serviceName).setCanaryPercent(percent)),
    rollback: new RollbackExecutor({ dryRun: true }),
    notifier: { status: async (record) => record.report, alert: async () => undefined },
    workerId: 'profile',
    clock,
    batchSize: 1,
    fetchBackoffMs: 0,
  });
  const started = performance.now();
  for (let i = 0; i < PROFILED; i++) await worker.tick();
  const wallMs = performance.now() - started;
  return {
    phase,
    recordKiB: await recordKiB(store),
    claimMs: repository.claimMs / PROFILED,
    fetchMs: fleet.fetchMs / PROFILED,
    saveMs: repository.saveMs / PROFILED,
    judgeMs: (wallMs - repository.claimMs - repository.saveMs - fleet.fetchMs) / PROFILED,
  };
}

async function recordKiB(store: PersistentStore): Promise<number> {
  const [row] = await store.driver.query<{ max: string }>(
    'select max(length(record::text))::text as max from rollouts',
  );
  return Number(row?.max ?? 0) / 1024;
}

async function run(store: PersistentStore): Promise<{ rounds: Round[]; profiles: Profile[] }> {
  let now = T0;
  const clock = () => now;
  const fleet = new Fleet();
  const repository = store.rollouts;
  const notifier: RolloutNotifier = { status: async (record) => record.report, alert: async () => undefined };
  let roundStarted = 0;
  let offsets: number[] = [];
  let failures = 0;
  const worker = new RolloutWorker({
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: (obj) => {
        if (failures++ === 0) console.error('  first processing failure:', (obj as { err?: unknown }).err);
      },
    },
    repository,
    metrics: fleet,
    actuator: new SimulatedActuator((target, percent) => fleet.of(target.serviceName).setCanaryPercent(percent)),
    rollback: new RollbackExecutor({ dryRun: true }),
    notifier,
    workerId: 'bench',
    clock,
    leaseMs: 120_000,
    batchSize: BATCH,
    fetchBackoffMs: 0,
    onVerdict: () => {
      offsets.push(performance.now() - roundStarted);
    },
  });
  await startAll(store, clock);
  const schedule: Round['phase'][] = [
    'warm-up',
    ...Array<Round['phase']>(INTERVALS).fill('early'),
    ...Array<Round['phase']>(LATE_INTERVALS).fill('late'),
  ];
  const rounds: Round[] = [];
  const profiles: Profile[] = [];
  for (const [index, phase] of schedule.entries()) {
    if (phase === 'late' && schedule[index - 1] !== 'late') now = await fastForward(store, fleet, now, LATE_HISTORY);
    offsets = [];
    roundStarted = performance.now();
    measuring = true;
    let processed = 0;
    for (let claimed = await worker.tick(); claimed > 0; claimed = await worker.tick()) processed += claimed;
    const wallMs = performance.now() - roundStarted;
    peakRoundRss = Math.max(peakRoundRss, process.memoryUsage().rss);
    measuring = false;
    offsets.sort((a, b) => a - b);
    const round: Round = {
      phase,
      index,
      evaluations: offsets.length,
      wallMs,
      p50At: quantile(offsets, 0.5),
      slowestAt: offsets.at(-1) ?? 0,
      rssMb: process.memoryUsage().rss / 2 ** 20,
      recordKiB: await recordKiB(store),
    };
    rounds.push(round);
    console.log(
      `  ${phase.padEnd(7)} round ${index}: processed ${processed}, judged ${round.evaluations} in ${(wallMs / 1000).toFixed(1)} s, record ${round.recordKiB.toFixed(1)} KiB, rss ${round.rssMb.toFixed(0)} MB`,
    );
    // A rollout that finished (promoted or rolled back) in an earlier round is no longer due; far fewer is a fault.
    if (phase !== 'warm-up' && round.evaluations < ROLLOUTS * 0.95) {
      throw new Error(`round ${index} judged ${round.evaluations} of ${ROLLOUTS}`);
    }
    now = new Date(now.getTime() + INTERVAL_S * 1000);
    if (phase !== 'warm-up' && schedule[index + 1] !== phase) {
      profiles.push(await profile(phase, store, fleet, clock));
    }
  }
  const phases = await store.driver.query<{ phase: string; n: string }>(
    'select phase, count(*)::text as n from rollouts group by phase order by 2 desc',
  );
  console.log(`  rollouts by phase at the end: ${phases.map((p) => `${p.phase} ${p.n}`).join(', ')}`);
  // PGlite runs PostgreSQL in single-user mode: no autovacuum, so every rewritten record leaves a dead copy behind.
  const [disk] = await store.driver.query<{ table: string; live: string }>(
    `select (pg_total_relation_size('rollouts') / 1048576)::text as table,
            (sum(pg_column_size(record)) / 1048576)::int::text as live from rollouts`,
  );
  console.log(
    `  rollouts table: ${disk?.table} MB on disk for ${disk?.live} MB of live records (no autovacuum in PGlite)`,
  );
  return { rounds, profiles };
}

function report({ rounds, profiles, peakRssMb: peakMb, processPeakRssMb }: ChildResult, firstBootMb: number): void {
  const header = ['round', 'judged', 'wall s', 'eval/s', 'p50 at', 'slowest at', '≤ 60 s', 'record', 'rss'];
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const body = rounds
    .filter((r) => r.phase !== 'warm-up')
    .map((r) => [
      `${r.phase} ${r.index}`,
      String(r.evaluations),
      (r.wallMs / 1000).toFixed(1),
      ((r.evaluations / r.wallMs) * 1000).toFixed(0),
      s(r.p50At),
      s(r.slowestAt),
      r.slowestAt <= INTERVAL_S * 1000 ? 'yes' : 'NO',
      `${r.recordKiB.toFixed(0)} KiB`,
      `${r.rssMb.toFixed(0)} MB`,
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const b of body) console.log(line(b));
  const judged = rounds.filter((r) => r.phase !== 'warm-up');
  const worst = Math.max(...judged.map((r) => r.slowestAt));
  console.log(
    `\nslowest rollout judged ${(worst / 1000).toFixed(1)} s after its interval closed (interval ${INTERVAL_S} s): ${worst <= INTERVAL_S * 1000 ? 'goal met' : 'goal NOT met'}`,
  );
  console.log(
    `peak RSS ${peakMb.toFixed(0)} MB while the worker ran the rounds, on an existing data directory (goal < ${GOAL_RSS_MB} MB): ${peakMb < GOAL_RSS_MB ? 'goal met' : 'goal NOT met'}`,
  );
  console.log(`peak RSS of the whole process, the bench's set-up included: ${processPeakRssMb.toFixed(0)} MB`);
  console.log(`first boot of a fresh data directory (initdb, empty store): peak RSS ${firstBootMb.toFixed(0)} MB`);
  console.log(
    '\nwhere one evaluation spends its time (rollouts taken one at a time with the real worker, so nothing overlaps):',
  );
  for (const p of profiles) {
    const total = p.claimMs + p.fetchMs + p.judgeMs + p.saveMs;
    const part = (ms: number) => `${ms.toFixed(2)} ms (${((ms / total) * 100).toFixed(0)} %)`;
    console.log(
      `  ${p.phase.padEnd(5)} record ${p.recordKiB.toFixed(0)} KiB: claim ${part(p.claimMs)}, fetch ${part(p.fetchMs)}, judge + state machine ${part(p.judgeMs)}, save + release ${part(p.saveMs)}; total ${total.toFixed(2)} ms → ${(1000 / total).toFixed(0)} evaluations/s`,
    );
  }
}

interface ChildResult {
  rounds: Round[];
  profiles: Profile[];
  /** During the measured rounds. */
  peakRssMb: number;
  /** The whole process, bench set-up included. */
  processPeakRssMb: number;
}

/** Runs this file as a child with `role` (`init` or `run`), returning what it sends back. */
function child(role: string, dataDir: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_GUARDIAN_ROLE: role, BENCH_GUARDIAN_DIR: dataDir },
    });
    let result: ChildResult | undefined;
    proc.once('message', (m) => {
      result = m as ChildResult;
    });
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`${role} exited ${code}`))));
  });
}

async function childMain(role: string, dataDir: string): Promise<void> {
  const store = await openPersistentStore({ dataDir });
  let result: Omit<ChildResult, 'peakRssMb' | 'processPeakRssMb'> = { rounds: [], profiles: [] };
  try {
    if (role === 'run') result = await run(store);
  } finally {
    await store.close();
  }
  process.send?.({
    ...result,
    peakRssMb: peakRoundRss / 2 ** 20,
    processPeakRssMb: processPeakRssMb(),
  } satisfies ChildResult);
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `bench:guardian — ${ROLLOUTS} rollouts on PGlite, worker batch ${BATCH}, ${INTERVALS} early + ${LATE_INTERVALS} late rounds (late: +${LATE_HISTORY} intervals of history); node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'chaos-bench-guardian-'));
  try {
    const init = await child('init', join(dir, 'pglite'));
    const result = await child('run', join(dir, 'pglite'));
    report(result, init.processPeakRssMb);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`(bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

const role = process.env.BENCH_GUARDIAN_ROLE;
const roleDir = process.env.BENCH_GUARDIAN_DIR;
if (role && roleDir) await childMain(role, roleDir);
else await main();
