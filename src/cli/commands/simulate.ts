/**
 * `chaos simulate <file> --scenario NAME [--speed N]`: the whole flow in a terminal — assess, approve, roll out on
 * the seeded simulator through the real guardian worker and judge — with a live progress display, ending with the
 * verdict and the rollback steps taken.
 */
import type { Command } from 'commander';
import logUpdate from 'log-update';
import { RollbackExecutor } from '../../actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../../actuators/simulatedActuator.js';
import { assessDeployment } from '../../domain/contract.js';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../../domain/policy.js';
import { parseDeploymentJson } from '../../domain/request.js';
import { rolloutStatusInput } from '../../guardian/notifier.js';
import { InMemoryRolloutRepository, type RolloutRecord } from '../../guardian/repository.js';
import { GuardianService } from '../../guardian/service.js';
import { type RolloutNotifier, RolloutWorker } from '../../guardian/worker.js';
import { createSimulator, SCENARIO_NAMES, type ScenarioName } from '../../metrics/simulator.js';
import { type CliDeps, CliInputError } from '../deps.js';

interface SimulateOptions {
  scenario: string;
  speed: string;
  seed: string;
  policy?: string;
  maxIntervals: string;
}

const TERMINAL = new Set(['promoted', 'rolled_back', 'aborted', 'failed']);

export function registerSimulateCommand(program: Command, deps: CliDeps): void {
  program
    .command('simulate')
    .description('assess, approve and roll out a deployment on the simulator, judged interval by interval')
    .argument('<file>', 'deployment request JSON')
    .option('--scenario <name>', `one of ${SCENARIO_NAMES.join(', ')}`, 'healthy')
    .option('--speed <n>', 'simulated seconds per real second (0 = as fast as possible)', '600')
    .option('--seed <n>', 'simulator seed (same seed, same run)', '1')
    .option('--policy <file>', 'policy file (YAML or JSON)')
    .option('--max-intervals <n>', 'stop after this many analysis intervals', '500')
    .action(async (file: string, options: SimulateOptions) => {
      await simulate(file, options, deps);
    });
}

function positiveNumber(name: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new CliInputError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got "${text}")`);
  }
  return value;
}

async function simulate(file: string, options: SimulateOptions, deps: CliDeps): Promise<void> {
  if (!(SCENARIO_NAMES as readonly string[]).includes(options.scenario)) {
    throw new CliInputError(`--scenario must be one of ${SCENARIO_NAMES.join(', ')} (got "${options.scenario}")`);
  }
  const speed = positiveNumber('speed', options.speed, true);
  const seed = positiveNumber('seed', options.seed, true);
  const maxIntervals = positiveNumber('max-intervals', options.maxIntervals);
  const policy: Policy = options.policy
    ? parsePolicy(await deps.readTextFile(options.policy), options.policy.endsWith('.json') ? 'json' : 'yaml')
    : DEFAULT_POLICY;
  const request = parseDeploymentJson(await deps.readTextFile(file));
  const started = deps.now();
  let simulatedNow = started;
  const clock = () => simulatedNow;

  const contract = assessDeployment({ ...request, previousVersion: request.previousVersion ?? 'stable' }, policy, {
    now: started,
  });
  const out = deps.io.stdout;
  out(
    `Contract ${contract.id} r${contract.revision}: ${contract.risk.level.toUpperCase()} risk, score ${contract.risk.score}\n`,
  );
  for (const g of contract.terms.guardrails)
    out(`  guardrail ${g.metric} < ${g.threshold} ${g.unit} over ${g.windowSeconds} s\n`);
  const ramp = contract.terms.ramp;
  out(
    `  ramp ${[...ramp.steps.map((s) => `${s.trafficPercent} %`), '100 %'].join(' → ')}, bake ${ramp.bakeTimeSeconds} s, judged every ${ramp.analysisIntervalSeconds} s\n`,
  );
  out(`Approved by simulator (the scenario "${options.scenario}" plays the part of production).\n\n`);

  const interval = ramp.analysisIntervalSeconds;
  const qps = Math.min(Math.max(request.slo.currentQps, 50), 2_000);
  const simulator = createSimulator({
    scenario: options.scenario as ScenarioName,
    seed,
    qps,
    baseErrorRate: Math.max(request.slo.currentErrorRatePercent / 100, 0.0001),
    origin: started,
    intervalSeconds: interval,
  });
  const alerts: string[] = [];
  const notifier: RolloutNotifier = {
    async status(record) {
      return record.report;
    },
    async alert(_record, alert) {
      alerts.push(`${alert.severity.toUpperCase()} ${alert.message}`);
    },
  };
  const repository = new InMemoryRolloutRepository();
  const worker = new RolloutWorker({
    repository,
    metrics: simulator,
    actuator: new SimulatedActuator((_, percent) => simulator.setCanaryPercent(percent)),
    rollback: new RollbackExecutor({ dryRun: true }),
    notifier,
    workerId: 'simulate',
    clock,
    fetchBackoffMs: 0,
    policy,
  });
  const guardian = new GuardianService({ repository, clock });
  await guardian.startRollout({ ...contract, state: 'approved' }, { id: 'simulator', surface: 'teams' });

  // A live display in a terminal; one line per interval when piped or captured.
  const live = process.stdout.isTTY ? logUpdate : undefined;
  let record: RolloutRecord | undefined;
  await worker.tick();
  for (let i = 0; i < maxIntervals; i++) {
    record = await repository.findByContract(contract.id);
    if (!record || TERMINAL.has(record.state.phase)) break;
    const view = progressLines(record, simulatedNow, started);
    if (live) live(view.join('\n'));
    else out(`${view[0]}\n`);
    simulatedNow = new Date(simulatedNow.getTime() + interval * 1000);
    if (speed > 0) await new Promise((resolve) => setTimeout(resolve, (interval * 1000) / speed));
    await worker.tick();
  }
  record = await repository.findByContract(contract.id);
  live?.done();
  if (!record) throw new Error('the rollout disappeared');
  out(
    `\n${'='.repeat(60)}\nVERDICT: ${record.state.phase.toUpperCase().replace('_', ' ')} after ${formatDuration(simulatedNow.getTime() - started.getTime())} simulated\n${'='.repeat(60)}\n`,
  );
  if (record.latestReasons.length > 0) out(`Judge: ${record.latestReasons.join('; ')}\n`);
  if (alerts.length > 0)
    out(`\nAlerts and rollback steps:\n${alerts.map((a) => `  ${a.replace(/\n/g, '\n    ')}`).join('\n')}\n`);
}

function progressLines(record: RolloutRecord, now: Date, started: Date): string[] {
  const status = rolloutStatusInput(record, now);
  const width = 30;
  const filled = Math.round((status.trafficPercent / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const head = `${formatDuration(now.getTime() - started.getTime()).padStart(8)} ${bar} ${String(status.trafficPercent).padStart(3)} % stage ${status.stepIndex + 1}/${status.stepCount} ${status.phase.padEnd(12)} ${status.verdict ?? '-'}`;
  return [
    head,
    ...status.checks.slice(0, 4).map((c) => `         ${c.status.toUpperCase().padEnd(4)} ${c.metric}: ${c.detail}`),
  ];
}

function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}
