/**
 * A held-out set of chat phrasings for the offline negotiator, written before the parser was changed to meet it and
 * never tuned on: `npm run eval:negotiation -- --phrasings` reports how many are understood (or answered with the
 * right closest phrasing) and how many misroute to a different term. The tuning table is test/negotiation/phrasings.ts.
 * Every case runs against the `search-high` fixture: error < 0.3 %, p95 < 216 ms, p99 < 546 ms, windows 5 min,
 * ramp 10/25/50 % with 7 min steps, bake 30 min, validators tests + canary + rollback plan (no feature flag).
 */
import type { PhrasingCase } from '../../test/negotiation/phrasingSet.js';

export const HELD_OUT_PHRASINGS: PhrasingCase[] = [
  { text: 'can we begin with 5% traffic', expect: { amend: [{ kind: 'set_first_canary_step', percent: 5 }] } },
  { text: 'make the first stage 20 percent', expect: { amend: [{ kind: 'set_first_canary_step', percent: 20 }] } },
  { text: 'halve the canary share', expect: { amend: [{ kind: 'set_first_canary_step', percent: 5 }] } },
  { text: 'double the first step', expect: { amend: [{ kind: 'set_first_canary_step', percent: 20 }] } },
  { text: 'first step 15 pct', expect: { amend: [{ kind: 'set_first_canary_step', percent: 15 }] } },
  { text: 'triple the first step', expect: { amend: [{ kind: 'set_first_canary_step', percent: 30 }] } },
  { text: 'first step 10 % → 5 %', expect: { amend: [{ kind: 'set_first_canary_step', percent: 5 }] } },
  {
    text: 'treshold for errors 0.25%',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.25 }] },
  },
  {
    text: 'eror rate limit to 0.2 %',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.2 }] },
  },
  {
    text: 'let the error rate go up to 0.4%',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.4 }] },
  },
  {
    text: 'set error budget 0.3%',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.3 }] },
  },
  {
    text: 'error rate 0,4%',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.4 }] },
  },
  {
    text: "seuil d'erreur à 0,25 %",
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.25 }] },
  },
  {
    text: 'p95 latncy 250 ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 250 }] },
  },
  {
    text: 'p99 should be 600ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p99', value: 600 }] },
  },
  {
    text: 'tighten p99 by 46 ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p99', value: 500 }] },
  },
  {
    text: 'p95 up by 20ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 236 }] },
  },
  {
    text: 'latencia p95 a 250 ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 250 }] },
  },
  {
    text: 'p99 auf 700 ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p99', value: 700 }] },
  },
  {
    text: 'p 95 to 230 ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 230 }] },
  },
  {
    text: '95th percentile latency 240ms',
    expect: { amend: [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 240 }] },
  },
  {
    text: 'window 10 min',
    expect: {
      amend: [
        { kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 600 },
        { kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 600 },
        { kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 600 },
      ],
    },
  },
  {
    text: 'make the p95 window 8 minutes',
    expect: { amend: [{ kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 480 }] },
  },
  {
    text: 'double the windows',
    expect: {
      amend: [
        { kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 600 },
        { kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 600 },
        { kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 600 },
      ],
    },
  },
  {
    text: 'evaluation windw of 7 minutes',
    expect: {
      amend: [
        { kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 420 },
        { kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 420 },
        { kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 420 },
      ],
    },
  },
  {
    text: 'ventana de 10 minutos',
    expect: {
      amend: [
        { kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 600 },
        { kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 600 },
        { kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 600 },
      ],
    },
  },
  {
    text: 'cut the window by half',
    expect: {
      amend: [
        { kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 150 },
        { kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 150 },
        { kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 150 },
      ],
    },
  },
  { text: 'bake it for 45 minutes', expect: { amend: [{ kind: 'set_bake_time', seconds: 2700 }] } },
  { text: 'shorten the bake to 20 min', expect: { amend: [{ kind: 'set_bake_time', seconds: 1200 }] } },
  { text: 'halve the bake time', expect: { amend: [{ kind: 'set_bake_time', seconds: 900 }] } },
  { text: 'soak time 40 minutes', expect: { amend: [{ kind: 'set_bake_time', seconds: 2400 }] } },
  { text: 'make the bake 1.5 hours', expect: { amend: [{ kind: 'set_bake_time', seconds: 5400 }] } },
  { text: 'bake 90s', expect: { amend: [{ kind: 'set_bake_time', seconds: 90 }] } },
  { text: 'a third less bake time', expect: { amend: [{ kind: 'set_bake_time', seconds: 1200 }] } },
  { text: 'soak each stage for 10 min', expect: { amend: [{ kind: 'set_step_duration', seconds: 600 }] } },
  { text: 'hold every step for 5 minutes', expect: { amend: [{ kind: 'set_step_duration', seconds: 300 }] } },
  { text: 'steps should last 6 min', expect: { amend: [{ kind: 'set_step_duration', seconds: 360 }] } },
  { text: 'double the step duration', expect: { amend: [{ kind: 'set_step_duration', seconds: 840 }] } },
  { text: 'each step 3 minutes shorter', expect: { amend: [{ kind: 'set_step_duration', seconds: 240 }] } },
  { text: 'step duration: 8 min', expect: { amend: [{ kind: 'set_step_duration', seconds: 480 }] } },
  { text: 'ramp 10 / 30 / 60', expect: { amend: [{ kind: 'set_ramp_steps', steps: [10, 30, 60] }] } },
  { text: 'use steps of 5, 20 and 50 percent', expect: { amend: [{ kind: 'set_ramp_steps', steps: [5, 20, 50] }] } },
  { text: 'ramp: 5% → 25% → 50%', expect: { amend: [{ kind: 'set_ramp_steps', steps: [5, 25, 50] }] } },
  { text: 'one step less', expect: { amend: [{ kind: 'set_ramp_steps' }] } },
  { text: 'add one more step to the ramp', expect: { amend: [{ kind: 'set_ramp_steps' }] } },
  {
    text: 'we have a feature flag for this',
    expect: { amend: [{ kind: 'add_validator', validator: 'feature_flag' }] },
  },
  { text: "it's behind a flag already", expect: { amend: [{ kind: 'add_validator', validator: 'feature_flag' }] } },
  { text: 'we added a kill switch', expect: { amend: [{ kind: 'add_validator', validator: 'feature_flag' }] } },
  { text: 'add a featur flag', expect: { amend: [{ kind: 'add_validator', validator: 'feature_flag' }] } },
  { text: 'we do have a rollback plan', expect: { amend: [{ kind: 'add_validator', validator: 'rollback_plan' }] } },
  { text: 'we got tests', expect: { amend: [{ kind: 'add_validator', validator: 'tests' }] } },
  { text: 'no canary please', expect: { amend: [{ kind: 'remove_validator', validator: 'canary' }] } },
  {
    text: 'the rollbak plan requirment can go',
    expect: { amend: [{ kind: 'remove_validator', validator: 'rollback_plan' }] },
  },
  { text: 'skip tests', expect: { amend: [{ kind: 'remove_validator', validator: 'tests' }] } },
  { text: 'tests are not needed', expect: { amend: [{ kind: 'remove_validator', validator: 'tests' }] } },
  {
    text: 'drop the feature flag requirement',
    expect: { amend: [{ kind: 'remove_validator', validator: 'feature_flag' }] },
  },
  { text: 'why so risky?', expect: { explain: 'risk' } },
  { text: "what's a bake?", expect: { explain: 'bake_time' } },
  { text: '¿por qué el riesgo es alto?', expect: { explain: 'risk' } },
  { text: 'warum ist das Risiko hoch?', expect: { explain: 'risk' } },
  { text: 'what does the window mean', expect: { explain: 'window' } },
  { text: 'explain p95', expect: { explain: 'latency_p95' } },
  { text: 'approve it please', expect: { forbidden: 'approve' } },
  { text: 'promote to full traffic', expect: { forbidden: 'promote' } },
  { text: 'rollback now!!', expect: { forbidden: 'rollback' } },
  { text: 'can we have fewer approvers', expect: { forbidden: 'approvals' } },
  { text: 'thanks that works', expect: { thanks: true } },
  { text: 'the latency guardrail is too tight', expect: { suggest: { kind: 'threshold', metric: 'latency_p95' } } },
  { text: 'shorter bake please', expect: { suggest: { kind: 'bake' } } },
  { text: 'the windows are too long', expect: { suggest: { kind: 'window' } } },
  { text: 'less traffic at first', expect: { suggest: { kind: 'first_step' } } },
  { text: 'can the canray start smaller', expect: { suggest: { kind: 'first_step' } } },
  { text: 'more time between steps', expect: { suggest: { kind: 'step_duration' } } },
];
