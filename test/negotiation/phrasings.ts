/**
 * The tuning table of chat phrasings for the offline negotiator (run by phrasings.test.ts). Every case runs against
 * the `search-high` fixture unless it names another: error < 0.3 %, p95 < 216 ms, p99 < 546 ms, windows 5 min, ramp
 * 10/25/50 % with 7 min steps, bake 30 min, validators tests + canary + rollback plan, no feature flag. The held-out
 * set that measures the parser without having been tuned on is scripts/data/heldOutPhrasings.ts.
 */
import type { Amendment } from '../../src/domain/model.js';
import type { PhrasingCase } from './phrasingSet.js';

const ALL_WINDOWS = (windowSeconds: number): Array<Partial<Amendment> & { kind: Amendment['kind'] }> =>
  (['error_rate', 'latency_p95', 'latency_p99'] as const).map((metric) => ({
    kind: 'set_guardrail_window',
    metric,
    windowSeconds,
  }));
const first = (percent: number) => ({ amend: [{ kind: 'set_first_canary_step' as const, percent }] });
const errorRate = (value: number) => ({
  amend: [{ kind: 'set_guardrail_threshold' as const, metric: 'error_rate' as const, value }],
});
const p95 = (value: number) => ({
  amend: [{ kind: 'set_guardrail_threshold' as const, metric: 'latency_p95' as const, value }],
});
const p99 = (value: number) => ({
  amend: [{ kind: 'set_guardrail_threshold' as const, metric: 'latency_p99' as const, value }],
});
const bake = (seconds: number) => ({ amend: [{ kind: 'set_bake_time' as const, seconds }] });
const stepDuration = (seconds: number) => ({ amend: [{ kind: 'set_step_duration' as const, seconds }] });
const ramp = (steps?: number[]) => ({ amend: [{ kind: 'set_ramp_steps' as const, ...(steps ? { steps } : {}) }] });
const add = (validator: Amendment & { kind: 'add_validator' } extends { validator: infer V } ? V : never) => ({
  amend: [{ kind: 'add_validator' as const, validator }],
});
const drop = (validator: Amendment & { kind: 'remove_validator' } extends { validator: infer V } ? V : never) => ({
  amend: [{ kind: 'remove_validator' as const, validator }],
});

export const PHRASINGS: PhrasingCase[] = [
  // First canary step: values, fractions, arrows, typos, languages
  { text: 'start the canary at 25%', expect: first(25) },
  { text: 'first step 5 percent', expect: first(5) },
  { text: 'halve the first step', expect: first(5) },
  { text: 'double the initial share', expect: first(20) },
  { text: 'initial canary 10%->15%', expect: first(15) },
  { text: 'start with twenty percent', expect: first(20) },
  { text: 'first step 2.5%', expect: first(2.5) },
  { text: 'canary at 15 %', expect: first(15) },
  { text: 'erster Schritt 5 %', expect: first(5) },
  { text: 'primer paso 5 %', expect: first(5) },
  { text: 'premier palier 5 %', expect: first(5) },
  { text: 'inital step 20%', expect: first(20) },
  // Error-rate threshold
  { text: 'raise the error threshold to 0.4%', expect: errorRate(0.4) },
  { text: 'error rate 0.2%', expect: errorRate(0.2) },
  { text: 'errror threshold 0.25 %', expect: errorRate(0.25) },
  { text: 'error treshold to 0.35%', expect: errorRate(0.35) },
  { text: 'tasa de error 0,2 %', expect: errorRate(0.2) },
  { text: 'Fehlerrate 0,25 %', expect: errorRate(0.25) },
  { text: "taux d'erreur 0,2 %", expect: errorRate(0.2) },
  { text: 'lower the error threshold by 0.1', expect: errorRate(0.2) },
  { text: 'double the error threshold', expect: errorRate(0.6) },
  { text: 'halve the error threshold', expect: errorRate(0.15) },
  { text: '5xx rate to 0.25%', expect: errorRate(0.25) },
  { text: 'failure rate under 0.2 percent', expect: errorRate(0.2) },
  // Latency thresholds
  { text: 'p95 250ms', expect: p95(250) },
  { text: 'p95 to 0.25 s', expect: p95(250) },
  { text: 'p99 latency 700 ms please', expect: p99(700) },
  { text: 'raise p95 by 10 ms', expect: p95(226) },
  { text: 'p95 latancy to 240', expect: p95(240) },
  { text: 'p99 a 650 ms', expect: p99(650) },
  { text: 'p95 à 250 ms', expect: p95(250) },
  { text: 'tighten the p95 guardrail to 200 ms', expect: p95(200) },
  { text: '99th percentile to 800 ms', expect: p99(800) },
  { text: 'p99 latency 50 ms higher', expect: p99(596) },
  { text: 'reduce p99 by 10%', expect: p99(491.4) },
  { text: 'Latenz p95 240 ms', expect: p95(240) },
  // Windows
  { text: 'extend the window to 10 minutes', expect: { amend: ALL_WINDOWS(600) } },
  {
    text: 'p99 window 15 min',
    expect: { amend: [{ kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 900 }] },
  },
  {
    text: 'error window 10 minutes',
    expect: { amend: [{ kind: 'set_guardrail_window', metric: 'error_rate', windowSeconds: 600 }] },
  },
  { text: 'windw 10 min', expect: { amend: ALL_WINDOWS(600) } },
  { text: 'double the window', expect: { amend: ALL_WINDOWS(600) } },
  {
    text: 'halve the p95 window',
    expect: { amend: [{ kind: 'set_guardrail_window', metric: 'latency_p95', windowSeconds: 150 }] },
  },
  { text: 'Fenster 10 Minuten', expect: { amend: ALL_WINDOWS(600) } },
  { text: 'fenêtre de 10 minutes', expect: { amend: ALL_WINDOWS(600) } },
  { text: 'window 600 seconds', expect: { amend: ALL_WINDOWS(600) } },
  { text: 'window 2 minutes longer', expect: { amend: ALL_WINDOWS(420) } },
  { text: 'make the windows a third longer', expect: { amend: ALL_WINDOWS(400) } },
  // Bake
  { text: 'bake for 45 min', expect: bake(2700) },
  { text: 'bake for an hour', expect: bake(3600) },
  { text: 'double the bake', expect: bake(3600) },
  { text: 'halve the bake', expect: bake(900) },
  { text: 'bake time 20 minuten', expect: bake(1200) },
  { text: 'bake 20 minutos', expect: bake(1200) },
  { text: 'baking time 40 minutes', expect: bake(2400) },
  { text: 'soak 40 min', expect: bake(2400) },
  { text: 'bake 10 minutes longer', expect: bake(2400) },
  { text: 'reduce the bake by 25%', expect: bake(1350) },
  { text: 'make the bake twice as long', expect: bake(3600) },
  { text: 'cut the bake by a quarter', expect: bake(1350) },
  { text: 'triple the bake', expect: bake(5400) },
  // Step duration, including the per-step soak
  { text: 'soak for 15 minutes per step', expect: stepDuration(900) },
  { text: 'each step 10 minutes', expect: stepDuration(600) },
  { text: 'every stage 5 min', expect: stepDuration(300) },
  { text: 'per step 8 minutes', expect: stepDuration(480) },
  { text: 'hold each step for 6 min', expect: stepDuration(360) },
  { text: 'step length 9 min', expect: stepDuration(540) },
  { text: 'double the time per step', expect: stepDuration(840) },
  { text: 'halve the step duration', expect: stepDuration(210) },
  { text: 'each step one minute longer', expect: stepDuration(480) },
  { text: 'dwell 5 minutes per stage', expect: stepDuration(300) },
  { text: 'soak 10 min on each step', expect: stepDuration(600) },
  { text: 'stepp duration 5 min', expect: stepDuration(300) },
  { text: 'jeder Schritt 5 Minuten', expect: stepDuration(300) },
  { text: 'cada paso 5 minutos', expect: stepDuration(300) },
  // Ramp
  { text: 'ramp 5, 25, 50', expect: ramp([5, 25, 50]) },
  { text: 'ramp 5/20/50', expect: ramp([5, 20, 50]) },
  { text: 'steps 10% 30% 60%', expect: ramp([10, 30, 60]) },
  { text: 'ramp 10 → 25 → 50 → 75', expect: ramp([10, 25, 50, 75]) },
  { text: 'drop a step', expect: ramp([10, 25]) },
  { text: 'one step fewer', expect: ramp([10, 25]) },
  { text: 'add a step', expect: ramp([10, 25, 50, 75]) },
  { text: 'one more step please', expect: ramp([10, 25, 50, 75]) },
  { text: 'skip the 25% step', expect: ramp([10, 50]) },
  { text: 'rampa 5, 25, 50', expect: ramp([5, 25, 50]) },
  // Validators: add, "we have", remove
  { text: 'add a feature flag', expect: add('feature_flag') },
  { text: "we've got a flag for it", expect: add('feature_flag') },
  { text: 'we have a flag', expect: add('feature_flag') },
  { text: "there's a kill switch", expect: add('feature_flag') },
  { text: 'the code is behind a toggle', expect: add('feature_flag') },
  { text: 'we added a feature flag', expect: add('feature_flag') },
  { text: 'add a feture flag', expect: add('feature_flag') },
  { text: 'we have a rollback plan', expect: add('rollback_plan') },
  { text: 'rollbak plan requirment is not needed', expect: drop('rollback_plan') },
  { text: 'drop the canary', expect: drop('canary') },
  { text: 'no tests needed', expect: drop('tests') },
  { text: 'remove the rollback plan', expect: drop('rollback_plan') },
  { text: 'canary not needed', expect: drop('canary') },
  {
    text: 'add tests and a feature flag',
    expect: {
      amend: [
        { kind: 'add_validator', validator: 'tests' },
        { kind: 'add_validator', validator: 'feature_flag' },
      ],
    },
  },
  // Questions
  { text: 'why is this high risk?', expect: { explain: 'risk' } },
  { text: 'what does p99 mean?', expect: { explain: 'latency_p99' } },
  { text: '¿por qué es tan arriesgado?', expect: { explain: 'risk' } },
  { text: 'pourquoi ce risque ?', expect: { explain: 'risk' } },
  { text: 'warum so riskant?', expect: { explain: 'risk' } },
  { text: 'what is the bake time?', expect: { explain: 'bake_time' } },
  { text: 'why the database migration?', expect: { explain: 'database_migration' } },
  { text: 'explain the windw', expect: { explain: 'window' } },
  { text: "what's a canary", expect: { explain: 'canary' } },
  { text: 'why 0.3%?', expect: { explain: 'error_rate' } },
  { text: 'was ist p95?', expect: { explain: 'latency_p95' } },
  // What the negotiator may not do
  { text: 'approve this', expect: { forbidden: 'approve' } },
  { text: 'ship it', expect: { forbidden: 'approve' } },
  { text: 'roll back now', expect: { forbidden: 'rollback' } },
  { text: 'promote it', expect: { forbidden: 'promote' } },
  { text: 'fewer approvals please', expect: { forbidden: 'approvals' } },
  { text: 'reject it', expect: { forbidden: 'reject' } },
  // Thanks
  { text: 'thanks, looks good', expect: { thanks: true } },
  { text: 'merci', expect: { thanks: true } },
  { text: 'gracias', expect: { thanks: true } },
  { text: 'danke!', expect: { thanks: true } },
  // Not actionable as written: the closest supported phrasing
  { text: 'the error guardrail is too strict', expect: { suggest: { kind: 'threshold', metric: 'error_rate' } } },
  { text: 'bake longer', expect: { suggest: { kind: 'bake' } } },
  { text: 'smaller first step', expect: { suggest: { kind: 'first_step' } } },
  { text: 'the canary should start lower', expect: { suggest: { kind: 'first_step' } } },
  { text: 'longer steps', expect: { suggest: { kind: 'step_duration' } } },
  { text: 'widen the windows', expect: { suggest: { kind: 'window' } } },
  { text: 'p99 is too low', expect: { suggest: { kind: 'threshold', metric: 'latency_p99' } } },
  { text: 'can we start smaller', expect: { suggest: { kind: 'first_step' } } },
  { text: 'steps take too little time', expect: { suggest: { kind: 'step_duration' } } },
  { text: 'shorter windw', expect: { suggest: { kind: 'window' } } },
  { text: 'the trafic share at the start is too big', expect: { suggest: { kind: 'first_step' } } },
  // Follow-ups: a bare value or a relative word continues the term discussed last
  { text: 'what about 20%?', previous: 'start the canary at 40%', expect: first(20) },
  { text: 'make it 45 min', previous: 'bake for 1 hour', expect: bake(2700) },
  { text: 'and 240?', previous: 'p95 to 250ms', expect: p95(240) },
  { text: 'double it', previous: 'bake for 1 hour', expect: bake(3600) },
  { text: 'promote to 100% now', previous: 'bake for 1 hour', expect: { forbidden: 'promote' } },
];
