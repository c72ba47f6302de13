import { describe, expect, it } from 'vitest';
import { renderChatCard } from '../../src/cards/index.js';
import { helpContent } from '../../src/chat/help.js';
import type { ChatCard } from '../../src/chat/port.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseAdaptiveCard } from './adaptiveCardsParser.js';
import { hugeContract, ordinaryContract } from './cardFixtures.js';

const cards: [string, ChatCard][] = [
  ['help', { kind: 'help', input: helpContent({ pullRequests: true, rollouts: false, intro: 'I don’t know “x”.' }) }],
  [
    'error',
    {
      kind: 'error',
      input: {
        title: 'I could not read that deployment request',
        summary: 'The JSON has 20 problems:',
        problems: Array.from({ length: 20 }, (_, i) => ({
          path: `changes[${i}].lines_changed`,
          message: 'must be an integer',
        })),
        hint: 'Type help.',
      },
    },
  ],
  ['status', { kind: 'status', input: { contract: ordinaryContract(), events: ['created by Ada', 'approved by Bo'] } }],
  [
    'history',
    {
      kind: 'history',
      input: {
        service: 'checkout',
        entries: Array.from({ length: 30 }, (_, i) => ({
          contractId: `ctr-${i}`,
          version: `1.${i}`,
          level: 'high' as const,
          score: 55.25,
          state: 'approved' as const,
          revision: 2,
          createdAt: '2026-11-24T12:00:00.000Z',
        })),
      },
    },
  ],
  ['history (empty)', { kind: 'history', input: { entries: [] } }],
  ['policy', { kind: 'policy', input: { policy: DEFAULT_POLICY, approvers: { teams: 2, slack: 0, groups: ['sre'] } } }],
  [
    'rollout-status',
    {
      kind: 'rollout-status',
      input: {
        contractId: 'ctr-1',
        revision: 2,
        service: 'checkout',
        version: '2.4.0',
        phase: 'running',
        trafficPercent: 10,
        stepIndex: 0,
        stepCount: 4,
        verdict: 'HOLD',
        verdictReason: 'too little traffic',
        checks: [{ metric: 'Error rate', detail: '0.12 % vs < 0.3 % (n = 4,210)', status: 'pass' }],
        steps: ['10 % started 12:00'],
        updatedAt: '2026-11-24T12:05:00.000Z',
      },
    },
  ],
  ['status (huge)', { kind: 'status', input: { contract: hugeContract() } }],
];

describe('card templates', () => {
  it.each(cards)('%s expands to a valid Adaptive Card 1.5 with nothing unexpanded', (_name, card) => {
    const rendered = renderChatCard(card);
    const text = JSON.stringify(rendered);
    expect(text).not.toContain('${');
    expect(Buffer.byteLength(text)).toBeLessThan(28 * 1024);
    const parsed = parseAdaptiveCard(rendered);
    expect(parsed.problems).toEqual([]);
    expect(parsed.version).toBe('1.5');
  });

  it('the validator used above does report broken cards', () => {
    const problems = parseAdaptiveCard({
      type: 'AdaptiveCard',
      version: '1.5',
      body: [{ type: 'Bogus' }, { type: 'Container', style: 'purple', items: [] }],
    }).problems;
    expect(problems.join('\n')).toMatch(/Unknown element type "Bogus"/);
    expect(problems.join('\n')).toMatch(/Invalid value "purple"/);
  });

  it('the rollout card offers Roll back now, Pause and Promote while running, nothing when finished', () => {
    const base = cards.find(([n]) => n === 'rollout-status')?.[1];
    if (base?.kind !== 'rollout-status') throw new Error('fixture');
    const running = renderChatCard(base) as { actions?: { verb: string }[] };
    expect(running.actions?.map((a) => a.verb)).toEqual(['rollout.rollback', 'rollout.pause', 'rollout.promote']);
    const done = renderChatCard({ ...base, input: { ...base.input, phase: 'promoted' } }) as { actions?: unknown[] };
    expect(done.actions ?? []).toEqual([]);
  });
});
