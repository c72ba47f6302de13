/**
 * Judge benchmark (npm run bench:judge): replays seeded rollouts per scenario family (anchors note §d) through the
 * Chaos Negotiator judge + rollout state machine and through emulations of Flagger, Argo Rollouts and Kayenta, all on
 * the same contract, ramp and simulator seeds, and prints one table.
 *
 *   BENCH_ROLLOUTS=1000 (per family)   BENCH_WORKERS=2
 *   BENCH_LIST_SEEDS=1 also prints, per family, the seeds on which Chaos Negotiator went wrong (rolled back a healthy or
 *   shared-outage rollout, promoted a regression) with the decision interval, for replaying them one by one.
 *
 * Each controller drives its own copy of the simulator with the same seed: every interval's randomness comes from
 * (seed, interval), so the tools see the same noise, bursts and gaps; only the traffic split they choose differs.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { guardianJudgeConfiguration } from '../src/domain/judge/configuration.js';
import { clopperPearsonUpper } from '../src/domain/judge/distributions.js';
import type { Guardrail } from '../src/domain/model.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { createSimulator, type ScenarioName, type SimulatorOptions } from '../src/metrics/simulator.js';
import { ArgoController } from './emulations/argo.js';
import { FlaggerController } from './emulations/flagger.js';
import { KayentaController } from './emulations/kayenta.js';
import { ChaosNegotiatorController } from './emulations/ours.js';
import type { BenchContract, Controller, RolloutRun } from './emulations/types.js';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 1000);
const QPS = 200;
const LATENCY = { medianMs: 100, sigma: 0.42, tailWeight: 0.005, tailFactor: 4 };

type FamilyId = 'S1' | 'S2' | 'S3' | 'S3b' | 'S4' | 'S5' | 'S6' | 'S7';

interface Family {
  id: FamilyId;
  title: string;
  /** Scenario options for rollout `seed` (variants rotate with the seed). */
  options(seed: number): Omit<SimulatorOptions, 'seed'>;
}

const base = { noise: 'realistic' as const, qps: QPS, latency: LATENCY };

const FAMILIES: Family[] = [
  {
    id: 'S1',
    title: 'healthy A/A (drift, heavy tail, shared 5xx bursts, cold start, gaps)',
    options: () => ({ ...base, scenario: 'healthy' }),
  },
  {
    id: 'S2',
    title: 'hard regression (errors 3 %, p95 ×2, crash loop 40 %)',
    options: (seed) => ({
      ...base,
      scenario: (['error-spike', 'latency-spike', 'crash-loop'] as ScenarioName[])[seed % 3] as ScenarioName,
    }),
  },
  {
    id: 'S3',
    title: 'soft regression (errors ×2, latency ×1.2)',
    options: (seed) => ({
      ...base,
      scenario: (['soft-error', 'soft-latency'] as ScenarioName[])[seed % 2] as ScenarioName,
    }),
  },
  {
    id: 'S3b',
    title: 'variance-only (sigma ×1.15, same median: p95/p99 stay under the absolute guardrails, the kayenta#780 case)',
    options: () => ({ ...base, scenario: 'variance-only', magnitude: 1.15 }),
  },
  {
    id: 'S4',
    title: 'latent regression (slow leak from interval 10)',
    options: () => ({ ...base, scenario: 'slow-leak' }),
  },
  {
    id: 'S5',
    title: 'low traffic (0.1–2 requests/s, healthy)',
    options: (seed) => ({
      ...base,
      scenario: 'low-traffic',
      qps: 0.1 + 1.9 * (((seed * 2654435761) >>> 0) / 4294967296),
    }),
  },
  {
    id: 'S6',
    title: 'confounder (shared outage, intervals 6–9)',
    options: () => ({ ...base, scenario: 'shared-outage' }),
  },
  {
    id: 'S7',
    title: 'telemetry faults (no canary data / 30 % gaps, healthy)',
    options: (seed) => ({
      ...base,
      scenario: (['no-data', 'telemetry-gaps'] as ScenarioName[])[seed % 2] as ScenarioName,
    }),
  },
];

function buildContract(): BenchContract {
  const sim = createSimulator({ scenario: 'healthy', seed: 1, latency: LATENCY });
  const healthy = sim.describe();
  const q = healthy.healthyQuantilesMs;
  const level = DEFAULT_POLICY.levels.high;
  const ev = DEFAULT_POLICY.minimumEvidence;
  const window = DEFAULT_POLICY.guardrailWindowSeconds;
  const g = (metric: Guardrail['metric'], threshold: number, unit: Guardrail['unit']): Guardrail => ({
    metric,
    comparator: '<',
    threshold,
    unit,
    windowSeconds: window,
    minimumEvidence: { ...ev[metric] },
    basis: 'bench: high-risk policy defaults',
  });
  const interval = DEFAULT_POLICY.analysisIntervalSeconds;
  const stepIntervals = Math.round(level.stepMinDurationSeconds / interval);
  const steps = level.rampSteps.map((percent) => ({
    percent,
    intervals: stepIntervals,
    minRequests: level.stepMinRequests,
  }));
  const bakeIntervals = Math.round(level.bakeTimeSeconds / interval);
  const planned = steps.reduce((a, s) => a + s.intervals, 0) + bakeIntervals;
  const guardrails = [
    g('error_rate', level.errorRateMaxPercent, '%'),
    g('latency_p95', Math.round(q.p95 * level.latencyP95Factor), 'ms'),
    g('latency_p99', Math.round(q.p99 * level.latencyP99Factor), 'ms'),
  ];
  // The cold start every controller may skip is the production judge's (src/domain/judge/configuration.ts).
  const { options } = guardianJudgeConfiguration({
    guardrails,
    ramp: {
      analysisIntervalSeconds: interval,
      consecutiveFailureLimit: level.consecutiveFailureLimit,
      cumulativeFailureLimit: level.cumulativeFailureLimit,
    },
    targetErrorRatePercent: 0.1,
  });
  return {
    guardrails,
    steps,
    bakeIntervals,
    intervalSeconds: interval,
    consecutiveFailureLimit: level.consecutiveFailureLimit,
    cumulativeFailureLimit: level.cumulativeFailureLimit,
    targetErrorRatePercent: 0.1,
    warmupIntervals: options.warmupIntervals,
    horizonIntervals: 2 * planned,
    // The service's figures as a request states them: the healthy simulator's error rate and latency.
    today: {
      currentErrorRatePercent: healthy.baseErrorRate * 100,
      currentP95LatencyMs: q.p95,
      currentP99LatencyMs: q.p99,
    },
  };
}

function controllers(): Controller[] {
  return [
    new ChaosNegotiatorController(),
    new FlaggerController(1),
    new FlaggerController(5),
    new ArgoController(0),
    new ArgoController(3),
    new KayentaController(),
  ];
}

/** First interval at which the canary has the error guardrail's minimum evidence (warm-up excluded). */
function evidencePoint(run: RolloutRun, contract: BenchContract): number | null {
  const ev = contract.guardrails.find((x) => x.metric === 'error_rate')?.minimumEvidence;
  if (!ev) return null;
  let requests = 0;
  let intervals = 0;
  for (let i = contract.warmupIntervals; i < run.canaryRequests.length; i++) {
    const n = run.canaryRequests[i] as number;
    if (n > 0) {
      requests += n;
      intervals++;
    }
    if (requests >= ev.minRequests && intervals >= ev.minIntervals) return i;
  }
  return null;
}

interface Tally {
  n: number;
  promoted: number;
  rolledBack: number;
  stalled: number;
  /** Detection latency in intervals from the minimum-evidence point (rolled-back runs). */
  latencies: number[];
  promoteIntervals: number[];
  /** `seed@interval` of the rollouts with the wrong outcome for the family (see BENCH_LIST_SEEDS). */
  wrong: string[];
}

/** Families where any rollback is wrong (healthy, missing data, shared outage); in the others a promotion is. */
const NO_ROLLBACK: readonly FamilyId[] = ['S1', 'S5', 'S6', 'S7'];

type Tallies = Record<string, Record<FamilyId, Tally>>;

function runFamilies(ids: FamilyId[], contract: BenchContract): Tallies {
  const out: Tallies = {};
  const ctrls = controllers();
  for (const c of ctrls) out[c.name] = {} as Record<FamilyId, Tally>;
  for (const family of FAMILIES.filter((f) => ids.includes(f.id))) {
    for (const c of ctrls) {
      (out[c.name] as Record<FamilyId, Tally>)[family.id] = {
        n: 0,
        promoted: 0,
        rolledBack: 0,
        stalled: 0,
        latencies: [],
        promoteIntervals: [],
        wrong: [],
      };
    }
    for (let seed = 1; seed <= ROLLOUTS; seed++) {
      const options = family.options(seed);
      for (const c of ctrls) {
        const t = (out[c.name] as Record<FamilyId, Tally>)[family.id] as Tally;
        // The contract states the service's traffic (the low-traffic family's own rate), as a request would.
        const run = c.run(createSimulator({ ...options, seed: seed * 7919 + family.id.length }), {
          ...contract,
          serviceQps: options.qps ?? QPS,
        });
        t.n++;
        if (run.outcome === (NO_ROLLBACK.includes(family.id) ? 'rolled_back' : 'promoted')) {
          t.wrong.push(`${seed}@${run.decisionInterval}`);
        }
        if (run.outcome === 'promoted') {
          t.promoted++;
          t.promoteIntervals.push((run.decisionInterval ?? 0) + 1);
        } else if (run.outcome === 'stalled') t.stalled++;
        else {
          t.rolledBack++;
          const e = evidencePoint(run, contract);
          const at = run.decisionInterval ?? 0;
          t.latencies.push(Math.max(1, at - (e ?? at) + 1));
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const pct = (k: number, n: number) => (n === 0 ? 'n/a' : `${((100 * k) / n).toFixed(1)} %`);

function render(tallies: Tallies, names: string[]): string {
  const f = (name: string, id: FamilyId) => (tallies[name] as Record<FamilyId, Tally>)[id] as Tally;
  const rows: [string, (name: string) => string][] = [
    [
      'S1 false rollbacks, healthy (95 % upper bound)',
      (n) => {
        const t = f(n, 'S1');
        return `${pct(t.rolledBack, t.n)} (≤${(100 * clopperPearsonUpper(t.rolledBack, t.n, 0.05)).toFixed(1)})`;
      },
    ],
    ['S1 healthy promoted within horizon', (n) => pct(f(n, 'S1').promoted, f(n, 'S1').n)],
    ['S1 healthy held for a person (stalled)', (n) => pct(f(n, 'S1').stalled, f(n, 'S1').n)],
    ['S1 median intervals to promote', (n) => `${quantile(f(n, 'S1').promoteIntervals, 0.5) ?? 'n/a'}`],
    ['S2 hard: detection latency median (EI)', (n) => `${quantile(f(n, 'S2').latencies, 0.5) ?? 'n/a'}`],
    ['S2 hard: detection latency p95 (EI)', (n) => `${quantile(f(n, 'S2').latencies, 0.95) ?? 'n/a'}`],
    ['S2 hard: missed (promoted)', (n) => pct(f(n, 'S2').promoted, f(n, 'S2').n)],
    ['S3 soft: missed (promoted)', (n) => pct(f(n, 'S3').promoted, f(n, 'S3').n)],
    ['S3 soft: held for a person (stalled)', (n) => pct(f(n, 'S3').stalled, f(n, 'S3').n)],
    ['S3b variance-only: missed (promoted)', (n) => pct(f(n, 'S3b').promoted, f(n, 'S3b').n)],
    ['S4 slow leak: missed (promoted)', (n) => pct(f(n, 'S4').promoted, f(n, 'S4').n)],
    [
      'S5+S7 rollbacks caused by missing data',
      (n) => pct(f(n, 'S5').rolledBack + f(n, 'S7').rolledBack, f(n, 'S5').n + f(n, 'S7').n),
    ],
    [
      'S5+S7 held for a person (stalled)',
      (n) => pct(f(n, 'S5').stalled + f(n, 'S7').stalled, f(n, 'S5').n + f(n, 'S7').n),
    ],
    ['S6 shared outage: rolled back', (n) => pct(f(n, 'S6').rolledBack, f(n, 'S6').n)],
  ];
  const header = ['', ...names];
  const table = rows.map(([label, cell]) => [label, ...names.map(cell)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.map(line)].join('\n');
}

function merge(into: Tallies, from: Tallies): void {
  for (const [name, fams] of Object.entries(from)) {
    into[name] = { ...(into[name] ?? ({} as Record<FamilyId, Tally>)), ...fams };
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const contract = buildContract();
  const workers = Math.max(1, Math.min(Number(process.env.BENCH_WORKERS ?? availableParallelism()), 4));
  const ids = FAMILIES.map((f) => f.id);
  const chunks: FamilyId[][] = Array.from({ length: workers }, () => []);
  // Families dealt round-robin so the workers finish at about the same time.
  ids.forEach((id, i) => {
    (chunks[i % workers] as FamilyId[]).push(id);
  });
  const tallies: Tallies = {};
  if (workers === 1) merge(tallies, runFamilies(ids, contract));
  else {
    // Child processes (not worker threads): the TypeScript loader is registered per process with --import tsx.
    const results = await Promise.all(
      chunks.map(
        (chunk) =>
          new Promise<Tallies>((resolve, reject) => {
            const child = fork(fileURLToPath(import.meta.url), [], {
              execArgv: ['--import', 'tsx'],
              env: { ...process.env, BENCH_CHILD_FAMILIES: chunk.join(',') },
            });
            child.once('message', (m) => resolve(m as Tallies));
            child.once('error', reject);
            child.once('exit', (code) => {
              if (code !== 0) reject(new Error(`bench worker exited with ${code}`));
            });
          }),
      ),
    );
    for (const r of results) merge(tallies, r);
  }
  const names = controllers().map((c) => c.name);
  const g = contract.guardrails.map((x) => `${x.metric} < ${x.threshold} ${x.unit}`).join(', ');
  console.log(
    `Judge benchmark: ${ROLLOUTS} seeded rollouts per family, ${FAMILIES.length} families, ${names.length} controllers`,
  );
  console.log(
    `Contract (high-risk policy defaults): ${g}; ramp ${contract.steps.map((s) => `${s.percent}%×${s.intervals}`).join(' → ')} → 100%×${contract.bakeIntervals}; EI ${contract.intervalSeconds}s; limits ${contract.consecutiveFailureLimit} consecutive / ${contract.cumulativeFailureLimit} cumulative; SLO target error ${contract.targetErrorRatePercent} %; ${QPS} req/s unless low traffic; warm-up ${contract.warmupIntervals} EI`,
  );
  for (const f of FAMILIES) console.log(`  ${f.id}: ${f.title}`);
  console.log('');
  console.log(render(tallies, names));
  console.log('');
  console.log(
    'Detection latency counts intervals from the first interval with the minimum evidence (3 post-warm-up intervals and 500 canary requests), that interval = 1; earlier rollbacks count as 1.',
  );
  if (process.env.BENCH_LIST_SEEDS) {
    const ours = tallies[names[0] as string] as Record<FamilyId, Tally>;
    for (const f of FAMILIES) {
      const wrong = ours[f.id]?.wrong ?? [];
      console.log(`${names[0]} ${f.id} wrong outcome (seed@decision interval): ${wrong.join(' ') || 'none'}`);
    }
  }
  console.log(`Elapsed ${((performance.now() - started) / 1000).toFixed(1)} s with ${workers} worker process(es).`);
}

const childFamilies = process.env.BENCH_CHILD_FAMILIES;
if (childFamilies && process.send) {
  process.send(runFamilies(childFamilies.split(',') as FamilyId[], buildContract()), () => process.exit(0));
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
