export { type PlannedPhase, planRollout, type RolloutPlan, type RolloutPlanInput } from './plan.js';
export { canarySteps, initialRolloutState, plannedSeconds, step } from './stateMachine.js';
export type {
  ActiveState,
  BakingState,
  EvaluationAlert,
  PausedState,
  ProgressingState,
  RolloutEffect,
  RolloutEvent,
  RolloutPhase,
  RolloutState,
  RolloutTerms,
  StepResult,
} from './types.js';
export { ROLLOUT_PHASES, RolloutError, TERMINAL_PHASES } from './types.js';
