/**
 * Rollout state machine vocabulary: states, events and the effects the guardian performs. All values are plain JSON
 * (times as ISO strings) so a state can be persisted after every step and replayed.
 */
import type { AreaCode } from '../../errors.js';
import { DomainError } from '../errors.js';
import type { Verdict } from '../judge/types.js';
import type { RampSchedule } from '../model.js';

export const ROLLOUT_PHASES = [
  'pending',
  'progressing',
  'paused',
  'baking',
  'promoted',
  'rolling_back',
  'rolled_back',
  'aborted',
  'failed',
] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export const TERMINAL_PHASES: readonly RolloutPhase[] = ['promoted', 'rolled_back', 'aborted', 'failed'];

/** Shared by the two phases that serve canary traffic under analysis. */
interface ActiveBase {
  trafficPercent: number;
  /** When the current step (or bake) started, shifted forward by any time spent paused. */
  stepStartedAt: string;
  /** From when the progress deadline counts (step start, or the last resume). */
  deadlineFrom: string;
  /** Canary requests observed during this step. */
  stepRequests: number;
  /** Verdicts observed during this step, and the latest one. */
  evaluations: number;
  lastVerdict: Verdict | null;
  /** Alert kinds of the latest evaluation, so the same alert is not posted every interval. */
  activeAlerts: string[];
  /**
   * When the rollout started, shifted forward by any time spent paused: the planned end of the rollout counts from
   * here. Absent in states saved before it existed (then only the step's own deadline applies).
   */
  rolloutStartedAt?: string;
  /** The judge's reasons for the latest verdict: the numbers a person is asked with when the rollout cannot conclude. */
  lastReasons?: string[];
}

export interface ProgressingState extends ActiveBase {
  phase: 'progressing';
  stepIndex: number;
}

export interface BakingState extends ActiveBase {
  phase: 'baking';
}

export type ActiveState = ProgressingState | BakingState;

export interface PausedState {
  phase: 'paused';
  pausedAt: string;
  by: string;
  reason: string;
  /** The analysis phase to return to on resume. */
  resume: ActiveState;
}

export type RolloutState =
  | { phase: 'pending' }
  | ProgressingState
  | BakingState
  | PausedState
  | { phase: 'promoted'; at: string; by: string }
  | { phase: 'rolling_back'; startedAt: string; reason: string; by: string; endsAs: 'rolled_back' | 'aborted' }
  | { phase: 'rolled_back'; at: string; reason: string; by: string }
  | { phase: 'aborted'; at: string; reason: string; by: string }
  | { phase: 'failed'; at: string; reason: string; error: string };

export interface EvaluationAlert {
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  message: string;
}

export type RolloutEvent =
  | { type: 'start'; actor?: string }
  | {
      type: 'evaluation';
      verdict: Verdict;
      /** Canary requests in the judged interval (counts toward the step's minimum). */
      canaryRequests: number;
      reasons: string[];
      alerts?: EvaluationAlert[];
    }
  | { type: 'step_timer_elapsed' }
  | { type: 'pause'; actor: string; reason?: string }
  | { type: 'resume'; actor: string }
  /** Manual promote: the next step (default) or, with `full`, straight to 100 % and promoted. */
  | { type: 'promote'; actor: string; full?: boolean }
  | { type: 'rollback_now'; actor: string; reason?: string }
  | { type: 'abort'; actor: string; reason?: string }
  | { type: 'rollback_finished' }
  | { type: 'rollback_failed'; error: string };

export type RolloutEffect =
  | { type: 'set_traffic_weight'; percent: number }
  | { type: 'run_rollback'; reason: string }
  | { type: 'schedule_check'; at: string }
  | { type: 'post_status'; phase: RolloutPhase; trafficPercent: number; message: string }
  | { type: 'post_alert'; severity: 'info' | 'warning' | 'critical'; kind: string; message: string };

export interface RolloutTerms {
  ramp: RampSchedule;
  /**
   * Slack past the planned time: a step that has not concluded (missing data, too little traffic, undecided evidence)
   * asks a person once it has waited this long past its minimum duration AND the rollout has run this long past its
   * planned end (the ramp's minimum durations and the bake), so a slow first step may use the time the plan gives the
   * whole rollout. Default 600 s (Flagger's progress deadline).
   */
  progressDeadlineSeconds?: number;
  /**
   * The rollout's planned time (plan.ts `planRollout`: whole intervals, warm-up and evidence windows, the steps'
   * minimum requests at the canary's traffic). Default: the canary steps' minimum durations and the bake.
   */
  plannedSeconds?: number;
}

export interface StepResult {
  state: RolloutState;
  effects: RolloutEffect[];
  /** Set when the event does not apply in this state (a stale button click, a late timer): nothing changed. */
  ignored?: string;
}

export class RolloutError extends DomainError {
  override readonly code: AreaCode<'rollout'>;

  constructor(code: RolloutError['code'], message: string) {
    super(code, message);
    this.name = 'RolloutError';
    this.code = code;
  }
}
