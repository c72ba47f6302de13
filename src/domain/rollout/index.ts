export { canarySteps, initialRolloutState, step } from './stateMachine.js';
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
