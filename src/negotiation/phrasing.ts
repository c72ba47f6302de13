/**
 * The supported phrasing of each negotiable term: the example the offline negotiator offers when a message names a
 * term without a usable value, or when it did not understand a message at all but can tell which term it is closest to.
 */
import type { ValidatorKind } from '../domain/model.js';
import type { Topic } from './intents.js';

const VALIDATOR_EXAMPLE: Record<ValidatorKind, string> = {
  tests: '“add tests” or “skip tests”',
  canary: '“add a canary” or “drop the canary”',
  rollback_plan: '“we have a rollback plan” or “drop the rollback plan”',
  feature_flag: '“we have a feature flag” or “drop the feature flag”',
};

export function examplePhrasing(topic: Topic): string {
  switch (topic.kind) {
    case 'threshold':
      if (topic.metric === 'error_rate') return '“set the error threshold to 0.25%”';
      return topic.metric === 'latency_p95' ? '“p95 to 350ms”' : '“p99 to 900ms”';
    case 'window':
      return '“extend the window to 10 minutes”';
    case 'bake':
      return '“bake for 30 min”';
    case 'step_duration':
      return '“each step 10 minutes”';
    case 'first_step':
      return '“start the canary at 5%”';
    case 'ramp':
      return '“ramp 5, 25, 50”';
    case 'validator':
      return VALIDATOR_EXAMPLE[topic.validator];
  }
}
