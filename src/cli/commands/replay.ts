/**
 * `chaos replay <deployment.json> --metrics <series.csv> [--risk-level L] [--policy FILE] [--interval SECONDS]
 *  [--continuous] [--json]`
 *
 * A backtest and shadow mode: what the guardian would have done on these metrics. Drafts the contract as `assess`
 * does (with the policy's analysis interval set to the series'), then runs the rows through the production guardian
 * (src/replay/runner.ts), interval by interval. `--json`: one line per interval, then a summary line. Bad input
 * exits 2 naming the line and column.
 */
import type { Command } from 'commander';
import { RequestValidationError } from '../../domain/errors.js';
import { guardianJudgeConfiguration, guardianRolloutPlan } from '../../domain/judge/configuration.js';
import { RISK_LEVELS, type RiskLevel } from '../../domain/model.js';
import { DEFAULT_POLICY, PolicyValidationError } from '../../domain/policy.js';
import { parseDeploymentJson } from '../../domain/request.js';
import { draftReplayContract } from '../../replay/contract.js';
import { intervalJson, summaryJson, summaryText, tableHeader, tableRow } from '../../replay/format.js';
import { ReplayTally, replaySeries } from '../../replay/runner.js';
import { type MetricSeries, parseSeries, SeriesFormatError } from '../../replay/series.js';
import { type CliDeps, CliInputError } from '../deps.js';
import { loadPolicy, readInput } from './assess.js';

interface ReplayCliOptions {
  metrics: string;
  riskLevel?: string;
  policy?: string;
  interval?: string;
  continuous?: boolean;
  json?: boolean;
}

export function registerReplayCommand(program: Command, deps: CliDeps): void {
  program
    .command('replay')
    .description('what the guardian would have done on recorded metrics (backtest, shadow mode)')
    .argument('<deployment>', 'deployment request JSON (as for assess)')
    .requiredOption('--metrics <file>', 'metric series CSV: timestamp, requests, errors, p50_ms, p95_ms, p99_ms, ...')
    .option(
      '--risk-level <level>',
      `draft the contract at this risk level instead of the assessed one (${RISK_LEVELS.join(', ')})`,
    )
    .option('--policy <file>', 'policy file (YAML or JSON) instead of the default policy')
    .option('--interval <seconds>', 'analysis interval (default: the spacing of the timestamps)')
    .option('--continuous', 'when a rollout ends, start the next one at the next row')
    .option('--json', 'one JSON line per interval, then a summary line')
    .action(async (file: string, options: ReplayCliOptions) => {
      await replay(file, options, deps);
    });
}

async function replay(file: string, options: ReplayCliOptions, deps: CliDeps): Promise<void> {
  const riskLevel = parseRiskLevel(options.riskLevel);
  const policy = options.policy ? await loadPolicy(options.policy, deps) : DEFAULT_POLICY;
  const request = await readDeployment(file, deps);
  const series = await readSeries(options.metrics, deps);
  const intervalSeconds = resolveInterval(options.interval, series, options.metrics);
  const first = series.rows[0];
  const last = series.rows[series.rows.length - 1];
  const spanSeconds =
    first && last ? (last.at - first.at) / 1000 + (series.spacingSeconds ?? intervalSeconds) : intervalSeconds;
  if (spanSeconds < intervalSeconds) {
    throw new CliInputError(
      `${options.metrics}: the rows cover ${spanSeconds} s, less than one analysis interval of ${intervalSeconds} s`,
    );
  }
  let drafted: ReturnType<typeof draftReplayContract>;
  try {
    drafted = draftReplayContract({
      request,
      policy,
      intervalSeconds,
      ...(riskLevel ? { riskLevel } : {}),
      now: deps.now(),
    });
  } catch (error) {
    if (error instanceof PolicyValidationError) {
      throw new CliInputError(`--interval ${intervalSeconds}: the policy does not accept it: ${error.message}`);
    }
    throw error;
  }
  const { contract } = drafted;
  const replayPolicy = drafted.policy;
  const out = deps.io.stdout;
  if (!options.json) {
    const ramp = contract.terms.ramp;
    out(
      `Contract ${contract.id}: ${contract.risk.level.toUpperCase()} risk${riskLevel ? ' (--risk-level)' : ''}, ramp ${[...ramp.steps.map((s) => `${s.trafficPercent} %`), '100 %'].join(' → ')}, bake ${ramp.bakeTimeSeconds} s, judged every ${intervalSeconds} s\n`,
    );
    // What the worker will judge with: the guardian's one judge configuration (windows widened to whole intervals).
    const judge = guardianJudgeConfiguration(
      { ...contract.terms, targetErrorRatePercent: contract.deployment.slo.targetErrorRatePercent },
      { policy: replayPolicy },
    );
    for (const g of judge.guardrails) {
      out(`  guardrail ${g.metric} < ${g.threshold} ${g.unit} over ${g.windowSeconds} s\n`);
    }
    out(
      `  warm-up ${judge.options.warmupIntervals} interval(s); roll back after ${judge.limits.consecutiveFailureLimit} consecutive or ${judge.limits.cumulativeFailureLimit} failed intervals\n`,
    );
    // The plan the worker asks a person at (the rows are the canary's traffic at every step).
    const plan = guardianRolloutPlan(
      { ...contract.terms, targetErrorRatePercent: contract.deployment.slo.targetErrorRatePercent },
      {
        policy: replayPolicy,
        serviceQps: contract.deployment.slo.currentQps,
        today: contract.deployment.slo,
        canaryServesAllTraffic: true,
      },
    );
    out(
      `  planned ${plan.intervals} intervals (${[...plan.steps, plan.bake].map((p) => p.intervals).join(' + ')}): a rollout still undecided past it asks a person\n`,
    );
    out(`${series.rows.length} rows from ${options.metrics}${options.continuous ? ', continuous' : ''}\n\n`);
    out(tableHeader());
  }
  const tally = new ReplayTally();
  for await (const interval of replaySeries({
    contract,
    series,
    intervalSeconds,
    continuous: options.continuous === true,
    policy: replayPolicy,
  })) {
    tally.add(interval);
    out(options.json ? intervalJson(interval) : tableRow(interval));
    await deps.io.drain?.();
  }
  out(options.json ? summaryJson(tally.summary) : summaryText(tally.summary, intervalSeconds));
}

function parseRiskLevel(text: string | undefined): RiskLevel | undefined {
  if (text === undefined) return undefined;
  if (!(RISK_LEVELS as readonly string[]).includes(text)) {
    throw new CliInputError(`--risk-level must be one of ${RISK_LEVELS.join(', ')} (got "${text}")`);
  }
  return text as RiskLevel;
}

async function readDeployment(file: string, deps: CliDeps) {
  const text = await readInput(file, deps);
  try {
    return parseDeploymentJson(text);
  } catch (error) {
    if (error instanceof RequestValidationError) throw new CliInputError(`${file}: ${error.message}`);
    throw error;
  }
}

async function readSeries(file: string, deps: CliDeps): Promise<MetricSeries> {
  const text = await readInput(file, deps);
  try {
    return parseSeries(text);
  } catch (error) {
    if (error instanceof SeriesFormatError) throw new CliInputError(`${file}: ${error.message}`);
    throw error;
  }
}

function resolveInterval(text: string | undefined, series: MetricSeries, file: string): number {
  if (text !== undefined) {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) {
      throw new CliInputError(`--interval must be a positive whole number of seconds (got "${text}")`);
    }
    return value;
  }
  const spacing = series.spacingSeconds;
  if (spacing === null) {
    throw new CliInputError(`${file}: one row gives no timestamp spacing; pass --interval SECONDS`);
  }
  if (!Number.isInteger(spacing)) {
    throw new CliInputError(
      `${file}: the timestamps are ${spacing} s apart, not a whole number of seconds; pass --interval SECONDS`,
    );
  }
  return spacing;
}
