/**
 * The replay runner: what the guardian would have done on a recorded series. It runs the production guardian — the
 * GuardianService that starts a rollout from an approved contract and the RolloutWorker that fetches each interval,
 * judges it and steps the rollout state machine (limits, warm-up, kill switch, progress deadline) — against a clock
 * that moves one analysis interval at a time and a metric provider that answers from the series' rows. Strictly
 * online: when the worker judges interval k it has been given the rows up to k only (the provider answers for the
 * window the worker asks, and the clock never runs ahead of it).
 *
 * Traffic moves are recorded, not applied: the rows are what the service served, whatever weight the guardian chose.
 * A rollback is a dry run. A rollout that needs a person (the progress deadline paused it) ends the replayed
 * rollout with the action `ask`; nobody answers in a replay.
 */
import { RollbackExecutor } from '../actuators/rollbackExecutor.js';
import { SimulatedActuator } from '../actuators/simulatedActuator.js';
import type { JudgeResult, Verdict } from '../domain/judge/types.js';
import type { MetricProvider } from '../domain/metrics.js';
import type { Contract } from '../domain/model.js';
import type { Policy } from '../domain/policy.js';
import type { RolloutPhase, RolloutState } from '../domain/rollout/types.js';
import { InMemoryRolloutRepository, type RolloutRecord } from '../guardian/repository.js';
import { GuardianService } from '../guardian/service.js';
import { type RolloutNotifier, RolloutWorker } from '../guardian/worker.js';
import { intervalFromRows, type MetricSeries } from './series.js';

export type ReplayAction = 'none' | 'advance' | 'hold' | 'rollback' | 'promote' | 'ask';

export interface ReplayInterval {
  /** Interval number from the first row (0-based; equals the row number when the interval is the row spacing). */
  index: number;
  /** Start of the interval, ISO 8601. */
  timestamp: string;
  verdict: Verdict;
  /** Rollout phase after the interval was judged. */
  phase: RolloutPhase;
  /** Canary traffic share after the interval (percent). */
  weight: number;
  action: ReplayAction;
  reasons: string[];
  /** 1-based number of the rollout this interval belongs to. */
  rollout: number;
}

export interface ReplaySummary {
  intervals: number;
  rollouts: number;
  rollbacks: number;
  promotions: number;
  pass: number;
  hold: number;
  fail: number;
  /** Rollouts that stopped to ask a person (progress deadline). */
  asks: number;
}

export interface ReplayOptions {
  contract: Contract;
  series: MetricSeries;
  intervalSeconds: number;
  /** Start the next rollout at the next row when one ends. */
  continuous: boolean;
  /** The policy the contract was drafted under: the worker derives the judge configuration from it, as in production. */
  policy: Policy;
}

const ENDED = new Set<RolloutPhase>(['promoted', 'rolled_back', 'aborted', 'failed', 'paused']);

/** Yields one entry per judged interval, in order, as the guardian decides it. */
export async function* replaySeries(options: ReplayOptions): AsyncGenerator<ReplayInterval> {
  const { series, contract } = options;
  const intervalMs = options.intervalSeconds * 1000;
  if (!(intervalMs > 0)) throw new Error('the analysis interval must be positive');
  if (contract.terms.ramp.analysisIntervalSeconds !== options.intervalSeconds) {
    throw new Error(
      `the contract judges every ${contract.terms.ramp.analysisIntervalSeconds} s but the replay runs every ${options.intervalSeconds} s`,
    );
  }
  const rows = series.rows;
  const first = rows[0];
  if (!first) return;
  const lastRow = rows[rows.length - 1] as (typeof rows)[number];
  // The last row covers one spacing of time: intervals that would run past it are not judged (no partial interval).
  const seriesEnd = lastRow.at + (series.spacingSeconds !== null ? series.spacingSeconds * 1000 : intervalMs);

  let now = new Date(first.at);
  // Online: the provider never answers for time the clock has not reached.
  const provider: MetricProvider = {
    name: 'replay',
    async fetchInterval(query) {
      const start = query.start.getTime();
      const end = query.end.getTime();
      if (end > now.getTime()) throw new Error('replay provider asked for an interval that has not ended');
      return intervalFromRows(rows, start, end);
    },
  };
  let verdict: JudgeResult | undefined;
  let asked = false;
  const notifier: RolloutNotifier = {
    async status(record) {
      return record.report;
    },
    async alert(_record, alert) {
      if (alert.kind === 'progress_deadline') asked = true;
    },
  };
  const repository = new InMemoryRolloutRepository();
  const clock = () => now;
  const worker = new RolloutWorker({
    repository,
    metrics: provider,
    actuator: new SimulatedActuator(),
    rollback: new RollbackExecutor({ dryRun: true }),
    notifier,
    workerId: 'replay',
    clock,
    fetchAttempts: 1,
    fetchBackoffMs: 0,
    policy: options.policy,
    recordedMetrics: true,
    onVerdict: (_record, result) => {
      verdict = result;
    },
  });
  const guardian = new GuardianService({ repository, clock });

  let rollout = 0;
  let startAt: number | undefined = first.at;
  while (startAt !== undefined && startAt + intervalMs <= seriesEnd) {
    rollout++;
    now = new Date(startAt);
    const approved: Contract = { ...contract, id: `${contract.id}-replay-${rollout}`, state: 'approved' };
    await guardian.startRollout(approved, { id: 'replay', surface: 'teams', displayName: 'chaos replay' });
    await worker.tick();
    let record = (await repository.findByContract(approved.id)) as RolloutRecord;
    let ended = false;
    while (!ended) {
      const intervalStart = Date.parse(record.lastIntervalEnd);
      const intervalEnd = intervalStart + intervalMs;
      if (intervalEnd > seriesEnd) break;
      now = new Date(intervalEnd);
      verdict = undefined;
      asked = false;
      const before = record.state;
      await worker.tick();
      record = (await repository.findByContract(approved.id)) as RolloutRecord;
      if (!verdict) break; // not due (cannot happen while progressing or baking); never loop forever
      const judged = verdict as JudgeResult;
      const after = record.state;
      ended = ENDED.has(after.phase);
      yield {
        index: Math.floor((intervalStart - first.at) / intervalMs),
        timestamp: new Date(intervalStart).toISOString(),
        verdict: judged.verdict,
        phase: after.phase,
        weight: weightOf(after),
        action: actionOf(before, after, judged.verdict, asked),
        reasons: judged.reasons,
        rollout,
      };
    }
    if (!options.continuous || !ended) break;
    // The next rollout starts at the next row after the interval that ended this one.
    const endedAt = Date.parse(record.lastIntervalEnd);
    startAt = rows.find((r) => r.at >= endedAt)?.at;
  }
}

export function weightOf(state: RolloutState): number {
  switch (state.phase) {
    case 'progressing':
    case 'baking':
      return state.trafficPercent;
    case 'paused':
      return state.resume.trafficPercent;
    case 'promoted':
      return 100;
    default:
      return 0;
  }
}

function actionOf(before: RolloutState, after: RolloutState, verdict: Verdict, asked: boolean): ReplayAction {
  if (after.phase === 'rolling_back' || after.phase === 'rolled_back' || after.phase === 'failed') return 'rollback';
  if (after.phase === 'aborted') return 'rollback';
  if (after.phase === 'promoted') return 'promote';
  if (after.phase === 'paused' || asked) return 'ask';
  if (
    (after.phase === 'progressing' && before.phase === 'progressing' && after.stepIndex > before.stepIndex) ||
    (after.phase === 'baking' && before.phase !== 'baking')
  ) {
    return 'advance';
  }
  return verdict === 'PASS' ? 'none' : 'hold';
}

/** Counts of a replay (the closing line of `chaos replay`). */
export class ReplayTally {
  readonly summary: ReplaySummary = {
    intervals: 0,
    rollouts: 0,
    rollbacks: 0,
    promotions: 0,
    pass: 0,
    hold: 0,
    fail: 0,
    asks: 0,
  };

  add(interval: ReplayInterval): void {
    const s = this.summary;
    s.intervals++;
    s.rollouts = Math.max(s.rollouts, interval.rollout);
    if (interval.action === 'rollback') s.rollbacks++;
    if (interval.action === 'promote') s.promotions++;
    if (interval.action === 'ask') s.asks++;
    if (interval.verdict === 'PASS') s.pass++;
    else if (interval.verdict === 'HOLD') s.hold++;
    else s.fail++;
  }
}
