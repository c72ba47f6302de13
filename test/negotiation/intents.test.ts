import { describe, expect, it } from 'vitest';
import { normalise, parseMessage, quantities, splitClauses, topicFromHistory } from '../../src/negotiation/intents.js';
import { contractFixture } from './fixtures.js';

const high = contractFixture('search-high');

function amendments(message: string, previous?: Parameters<typeof parseMessage>[2]) {
  return parseMessage(message, high, previous).intents.flatMap((i) =>
    i.type === 'amend' ? i.amendments.map(({ justification: _j, ...rest }) => rest) : [],
  );
}

function types(message: string) {
  return parseMessage(message, high).intents.map((i) => i.type);
}

describe('intent parser', () => {
  it.each([
    ['can we start the canary at 25%?', [{ kind: 'set_first_canary_step', percent: 25 }]],
    ['change the first step from 10% to 15%', [{ kind: 'set_first_canary_step', percent: 15 }]],
    ['raise the error threshold to 0.4%', [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.4 }]],
    ['error rate guardrail 0.35 percent', [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.35 }]],
    ['p95 to 350ms', [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 350 }]],
    ['p99 to 1.2 s', [{ kind: 'set_guardrail_threshold', metric: 'latency_p99', value: 1200 }]],
    ['lower the p95 guardrail by 16ms', [{ kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 200 }]],
    ['raise the error threshold by 0.1', [{ kind: 'set_guardrail_threshold', metric: 'error_rate', value: 0.4 }]],
    ['bake for 30 min', [{ kind: 'set_bake_time', seconds: 1800 }]],
    ['bake for half an hour', [{ kind: 'set_bake_time', seconds: 1800 }]],
    ['bake 2h', [{ kind: 'set_bake_time', seconds: 7200 }]],
    ['each step 10 minutes', [{ kind: 'set_step_duration', seconds: 600 }]],
    ['ramp 5/25/50', [{ kind: 'set_ramp_steps', steps: [5, 25, 50] }]],
    ['steps of 10%, 30% and 60%', [{ kind: 'set_ramp_steps', steps: [10, 30, 60] }]],
    ['extend the p99 window to 600s', [{ kind: 'set_guardrail_window', metric: 'latency_p99', windowSeconds: 600 }]],
    ['add a feature flag', [{ kind: 'add_validator', validator: 'feature_flag' }]],
    ['drop the canary', [{ kind: 'remove_validator', validator: 'canary' }]],
    ["we don't need a rollback plan", [{ kind: 'remove_validator', validator: 'rollback_plan' }]],
    [
      'add tests and a feature flag',
      [
        { kind: 'add_validator', validator: 'tests' },
        { kind: 'add_validator', validator: 'feature_flag' },
      ],
    ],
    [
      'p95 to 250ms and p99 to 700ms',
      [
        { kind: 'set_guardrail_threshold', metric: 'latency_p95', value: 250 },
        { kind: 'set_guardrail_threshold', metric: 'latency_p99', value: 700 },
      ],
    ],
    ['start with five percent', [{ kind: 'set_first_canary_step', percent: 5 }]],
  ])('%s', (message, expected) => {
    expect(amendments(message)).toEqual(expected);
  });

  it('keeps the user words as the justification', () => {
    const intent = parseMessage('start at 20%, config only', high).intents[0];
    expect(intent?.type === 'amend' && intent.amendments[0]?.justification).toBe('start at 20%, config only');
  });

  it('reads metric names with digits (p95, 5xx, 99th percentile) as names, not values', () => {
    expect(quantities(normalise('p95 to 350ms')).map((q) => q.value)).toEqual([350]);
    expect(quantities(normalise('5xx rate 0.4%')).map((q) => q.value)).toEqual([0.4]);
    expect(quantities(normalise('99th percentile to 900 ms')).map((q) => q.value)).toEqual([900]);
    expect(quantities('version 2.4.0 at 25%').map((q) => q.value)).toEqual([25]);
  });

  it('splits on sentence ends and conjunctions but not inside number lists or decimals', () => {
    expect(splitClauses('raise to 0.4. then bake 30 min')).toEqual(['raise to 0.4', 'bake 30 min']);
    expect(splitClauses('ramp 10, 25 and 50')).toEqual(['ramp 10, 25 and 50']);
    expect(splitClauses('thanks, looks good')).toEqual(['thanks', 'looks good']);
  });

  it('matches words on boundaries (no "rapid" → api, no "flagged" → flag)', () => {
    expect(types('the rapid fix was flagged by QA')).toEqual(['unknown']);
  });

  it('explanations, forbidden actions, thanks and the unknown', () => {
    expect(parseMessage('why is this high risk?', high).intents).toEqual([
      { type: 'explain', subject: { kind: 'risk' } },
    ]);
    expect(parseMessage('what does p99 mean', high).intents).toEqual([
      { type: 'explain', subject: { kind: 'term', term: 'latency_p99' } },
    ]);
    expect(parseMessage('why is caching a factor?', high).intents).toEqual([
      { type: 'explain', subject: { kind: 'factor', factor: 'caching' } },
    ]);
    expect(types('approve this')).toEqual(['forbidden']);
    expect(types('roll back now')).toEqual(['forbidden']);
    expect(types('thanks, looks good')).toEqual(['thanks', 'thanks']);
    expect(types('lower the error threshold')).toEqual(['needs_value']);
    expect(types('bake for 50%')).toEqual(['needs_value']);
  });

  it('questions find their subject by value or from the rest of the message', () => {
    expect(parseMessage('why 10%?', high).intents).toEqual([
      { type: 'explain', subject: { kind: 'term', term: 'first_step' } },
    ]);
    expect(parseMessage('why 216ms?', high).intents).toEqual([
      { type: 'explain', subject: { kind: 'term', term: 'latency_p95' } },
    ]);
    expect(parseMessage('The deploy touches the auth module, is that why?', high).intents).toContainEqual({
      type: 'explain',
      subject: { kind: 'factor', factor: 'permissions_authz' },
    });
  });

  it('a value given in a later clause answers the earlier clause', () => {
    expect(types('could the canary run for less time per step, say 4 min')).toEqual(['amend']);
    expect(amendments('could the canary run for less time per step, say 4 min')).toEqual([
      { kind: 'set_step_duration', seconds: 240 },
    ]);
  });

  it('a bare value continues the previous topic only when its unit fits', () => {
    const prev = topicFromHistory(['can we start the canary at 40%?']);
    expect(prev).toEqual({ kind: 'first_step' });
    expect(amendments('what about 20%?', prev)).toEqual([{ kind: 'set_first_canary_step', percent: 20 }]);
    const bake = topicFromHistory(['bake for 1 hour']);
    expect(amendments('promote to 100% now', bake)).toEqual([]);
    expect(amendments('make it 45 min', bake)).toEqual([{ kind: 'set_bake_time', seconds: 2700 }]);
    expect(amendments('what about 20%?')).toEqual([]);
  });

  it('topicFromHistory skips questions and looks at the newest message first', () => {
    expect(topicFromHistory(['p95 to 250ms', 'why is the window 5 minutes?'])).toEqual({
      kind: 'threshold',
      metric: 'latency_p95',
    });
  });
});
