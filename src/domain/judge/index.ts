export {
  checkRelativeErrorRate,
  checkRelativeLatencyDistribution,
  checkRelativeLatencyTail,
  rateRatioPValue,
  smirnovPValue,
} from './baselineChecks.js';
export {
  binomialLowerTail,
  binomialUpperTail,
  clopperPearsonLower,
  clopperPearsonUpper,
} from './distributions.js';
export { checkErrorRate, checkLatency } from './guardrailChecks.js';
export { type Histogram, histogramQuantile, toHistogram } from './histogram.js';
export { baselineBlind, DEFAULT_JUDGE_OPTIONS, INITIAL_JUDGE_STATE, judgeInterval, replayJudge } from './judge.js';
export { checkKillSwitch } from './killSwitch.js';
export type {
  AlertKind,
  CheckId,
  CheckOutcome,
  EvidenceItem,
  JudgeAlert,
  JudgeErrorCode,
  JudgeInput,
  JudgeOptions,
  JudgeResult,
  JudgeState,
  JudgeStep,
  Verdict,
} from './types.js';
export { JudgeInputError } from './types.js';
