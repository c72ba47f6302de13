/** Ports for moving traffic and undoing a deployment. Implementations: simulated, command templates, Azure Container Apps. */

import type { RollbackStep } from '../domain/model.js';
import type { AreaCode, CodedError } from '../errors.js';

export interface RolloutTarget {
  serviceName: string;
  namespace: string;
  resourceName: string;
  canaryVersion: string;
  baselineVersion?: string;
}

export interface ActuationResult {
  ok: boolean;
  /** What was done or would have been done, e.g. the command line or the API call. */
  action: string;
  dryRun: boolean;
  output?: string;
  error?: string;
  durationMs: number;
}

export interface TrafficActuator {
  readonly name: string;
  setCanaryWeight(target: RolloutTarget, percent: number): Promise<ActuationResult>;
  promote(target: RolloutTarget): Promise<ActuationResult>;
  abort(target: RolloutTarget): Promise<ActuationResult>;
}

/** `interrupted`: the worker running the step died before recording its outcome; it is never run a second time. */
export type StepOutcome =
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'interrupted'
  | 'skipped_dry_run'
  | 'skipped_dependency_failed';

export interface RollbackStepReport {
  order: number;
  description: string;
  command: string;
  outcome: StepOutcome;
  durationMs: number;
  output?: string;
  error?: string;
}

/**
 * Consulted around every rollback step: `before` says whether to run it or what was recorded about it already
 * (it may throw to stop the rollback), `after` records the outcome of a step that ran.
 */
export interface RollbackJournal {
  before(step: RollbackStep): Promise<{ run: true } | { run: false; report: RollbackStepReport }>;
  after(report: RollbackStepReport): Promise<void>;
}

export interface RollbackReport {
  outcome: 'completed' | 'failed' | 'dry_run' | 'not_possible';
  steps: RollbackStepReport[];
  durationMs: number;
}

export class ActuatorError extends Error implements CodedError {
  constructor(
    readonly code: AreaCode<'actuator'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ActuatorError';
  }
}
