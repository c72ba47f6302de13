/**
 * Executes a contract's rollback plan step by step in dependency order, or reports what it would do (dry run).
 * A step whose dependency failed is not run. Every step's outcome, output and duration is reported. With a journal
 * (the guardian's), each step is announced before it runs and recorded after, and a step the journal already knows
 * is reported as recorded instead of run again.
 */
import type { RollbackPlan, RollbackStep } from '../domain/model.js';
import { runCommand } from './commandRunner.js';
import { ActuatorError, type RollbackJournal, type RollbackReport, type RollbackStepReport } from './ports.js';

export interface RollbackExecutorOptions {
  dryRun: boolean;
  /** A step may take this many times its expected duration before it is stopped. */
  timeoutFactor?: number;
  minimumTimeoutMs?: number;
  onStep?: (report: RollbackStepReport) => void | Promise<void>;
}

const UNSUCCESSFUL = new Set<RollbackStepReport['outcome']>([
  'failed',
  'timed_out',
  'interrupted',
  'skipped_dependency_failed',
]);

export class RollbackExecutor {
  constructor(private readonly options: RollbackExecutorOptions) {}

  async execute(plan: RollbackPlan, journal?: RollbackJournal): Promise<RollbackReport> {
    const started = performance.now();
    if (!plan.possible) return { outcome: 'not_possible', steps: [], durationMs: 0 };
    const reports: RollbackStepReport[] = [];
    const failed = new Set<number>();
    for (const step of orderByDependencies(plan.steps)) {
      const report = await this.journaledStep(step, failed, journal);
      if (UNSUCCESSFUL.has(report.outcome)) failed.add(step.order);
      reports.push(report);
      await this.options.onStep?.(report);
    }
    const outcome = this.options.dryRun ? 'dry_run' : failed.size > 0 ? 'failed' : 'completed';
    return { outcome, steps: reports, durationMs: performance.now() - started };
  }

  private async journaledStep(
    step: RollbackStep,
    failed: Set<number>,
    journal: RollbackJournal | undefined,
  ): Promise<RollbackStepReport> {
    const blockedBy = step.dependsOn.find((dep) => failed.has(dep));
    if (blockedBy !== undefined) {
      return {
        order: step.order,
        description: step.description,
        command: step.command,
        outcome: 'skipped_dependency_failed',
        durationMs: 0,
        error: `step ${blockedBy} did not succeed`,
      };
    }
    const decision = journal ? await journal.before(step) : { run: true as const };
    if (!decision.run) return decision.report;
    const report = await this.runStep(step);
    await journal?.after(report);
    return report;
  }

  private async runStep(step: RollbackStep): Promise<RollbackStepReport> {
    const base = { order: step.order, description: step.description, command: step.command };
    if (this.options.dryRun) return { ...base, outcome: 'skipped_dry_run', durationMs: 0 };
    const timeoutMs = Math.max(
      this.options.minimumTimeoutMs ?? 10_000,
      step.expectedDurationSeconds * 1000 * (this.options.timeoutFactor ?? 2),
    );
    try {
      const result = await runCommand(step.command, { timeoutMs });
      return {
        ...base,
        outcome: result.ok ? 'succeeded' : result.timedOut ? 'timed_out' : 'failed',
        durationMs: result.durationMs,
        output: result.output,
        ...(result.ok
          ? {}
          : { error: result.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${result.exitCode}` }),
      };
    } catch (error) {
      const message = error instanceof ActuatorError || error instanceof Error ? error.message : String(error);
      return { ...base, outcome: 'failed', durationMs: 0, error: message };
    }
  }
}

/** Steps in an order where every dependency comes first; unknown or cyclic dependencies fall back to plan order. */
function orderByDependencies(steps: RollbackStep[]): RollbackStep[] {
  const byOrder = new Map(steps.map((s) => [s.order, s]));
  const done = new Set<number>();
  const result: RollbackStep[] = [];
  const visit = (step: RollbackStep, path: Set<number>) => {
    if (done.has(step.order) || path.has(step.order)) return;
    path.add(step.order);
    for (const dep of step.dependsOn) {
      const depStep = byOrder.get(dep);
      if (depStep) visit(depStep, path);
    }
    done.add(step.order);
    result.push(step);
  };
  for (const step of [...steps].sort((a, b) => a.order - b.order)) visit(step, new Set());
  return result;
}
