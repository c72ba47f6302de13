import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/negotiation/intents.js';
import { contractFixture } from './fixtures.js';
import { evaluatePhrasing } from './phrasingSet.js';
import { PHRASINGS } from './phrasings.js';

describe('offline negotiator phrasing table', () => {
  it('has at least 100 phrasings', () => {
    expect(PHRASINGS.length).toBeGreaterThanOrEqual(100);
  });

  it.each(PHRASINGS.map((c) => [c.text, c] as const))('%s', (_text, c) => {
    const result = evaluatePhrasing(c);
    expect(result.misroute, `changed another term: ${result.got}`).toBe(false);
    expect(result.understood, `not understood: ${result.got}`).toBe(true);
  });

  it.each([
    'the rapid fix was flagged by QA',
    'make sure the bike is ready',
    'the state of the plant is fine',
    'we are taking care of it',
  ])('real words near domain words stay as written: %s', (text) => {
    const intents = parseMessage(text, contractFixture('search-high')).intents;
    expect(intents.filter((i) => i.type === 'amend')).toEqual([]);
  });
});
