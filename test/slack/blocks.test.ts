import { describe, expect, it } from 'vitest';
import { helpContent } from '../../src/chat/help.js';
import type { ChatCard } from '../../src/chat/port.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { BLOCK_LIMITS, fitBlocks, renderSlackMessage, type SlackBlock } from '../../src/slack/blocks.js';
import { negotiateModal, rejectModal } from '../../src/slack/modals.js';
import { hugeContract, ordinaryContract } from '../cards/cardFixtures.js';

/** Checks a message against Block Kit's documented limits; returns every violation. */
function violations(blocks: SlackBlock[], text: string): string[] {
  const out: string[] = [];
  if (blocks.length > BLOCK_LIMITS.blocksPerMessage) out.push(`${blocks.length} blocks`);
  if (text.length > BLOCK_LIMITS.fallbackText) out.push(`fallback text ${text.length}`);
  const actionIds = new Set<string>();
  blocks.forEach((block, i) => {
    const b = block as unknown as {
      type: string;
      text?: { type: string; text: string };
      fields?: { text: string }[];
      elements?: { type: string; text?: string | { text: string }; action_id?: string; value?: string }[];
      block_id?: string;
    };
    if (b.type === 'header' && (b.text?.text.length ?? 0) > BLOCK_LIMITS.headerText) out.push(`header ${i}`);
    if (b.type === 'header' && b.text?.type !== 'plain_text') out.push(`header ${i} not plain_text`);
    if (b.type === 'section') {
      if ((b.text?.text.length ?? 0) > BLOCK_LIMITS.sectionText) out.push(`section ${i} text ${b.text?.text.length}`);
      if ((b.fields?.length ?? 0) > BLOCK_LIMITS.fieldsPerSection) out.push(`section ${i} ${b.fields?.length} fields`);
      for (const f of b.fields ?? [])
        if (f.text.length > BLOCK_LIMITS.fieldText) out.push(`section ${i} field ${f.text.length}`);
      if (!b.text && !b.fields?.length) out.push(`section ${i} empty`);
    }
    if (b.type === 'context') {
      if ((b.elements?.length ?? 0) > BLOCK_LIMITS.contextElements) out.push(`context ${i} elements`);
      if ((b.elements?.length ?? 0) === 0) out.push(`context ${i} empty`);
      for (const el of b.elements ?? []) {
        if (typeof el.text === 'string' && el.text.length > BLOCK_LIMITS.contextText) out.push(`context ${i} text`);
      }
    }
    if (b.type === 'actions') {
      if ((b.elements?.length ?? 0) > 25) out.push(`actions ${i} elements`);
      for (const el of b.elements ?? []) {
        const label = typeof el.text === 'object' ? el.text.text : '';
        if (label.length > BLOCK_LIMITS.buttonText) out.push(`button label ${label.length}`);
        if ((el.value?.length ?? 0) > BLOCK_LIMITS.buttonValue) out.push('button value');
        if (el.action_id && actionIds.has(el.action_id)) out.push(`duplicate action_id ${el.action_id}`);
        if (el.action_id) actionIds.add(el.action_id);
      }
    }
  });
  return out;
}

function allText(blocks: SlackBlock[]): string {
  return JSON.stringify(blocks);
}

function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const own = record.type === 'mrkdwn' && typeof record.text === 'string' ? [record.text] : [];
  return [...own, ...Object.values(record).flatMap(mrkdwnTexts)];
}

describe('contract card as Block Kit', () => {
  it('carries the card’s content: badge, score, confidence, factors with evidence, guardrails, validators, ramp, rollback, suggestions, revision', () => {
    const contract = ordinaryContract();
    const { blocks, text } = renderSlackMessage({ kind: 'contract', input: { contract, requestedBy: 'Dev' } });
    expect(violations(blocks, text)).toEqual([]);
    const all = allText(blocks);
    for (const expected of [
      'HIGH RISK',
      `score ${Math.round(contract.risk.score * 10) / 10}/100`,
      'confidence',
      'Database schema/migration',
      'db/migrations/0042_add_index.sql',
      '*Guardrails*',
      '*Error rate*',
      '*Validators*',
      '*Ramp*',
      '*Rollback*',
      '*Suggestions*',
      `Revision ${contract.revision}`,
      'Approvals 0 of',
    ]) {
      expect(all).toContain(expected);
    }
    // The guardrail table is section fields.
    const guardrails = blocks.find((b) => b.type === 'section' && JSON.stringify(b).includes('*Guardrails*')) as {
      fields?: unknown[];
    };
    expect(guardrails.fields?.length).toBe(contract.terms.guardrails.length);
    expect(text).toContain(contract.id);
  });

  it('buttons: approve, reject, negotiate, details, each carrying {contractId, revision}', () => {
    const contract = ordinaryContract();
    const { blocks } = renderSlackMessage({ kind: 'contract', input: { contract } });
    const actions = blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    const last = blocks.at(-1) as { type: string; elements: { action_id: string; value: string; style?: string }[] };
    expect(last.type).toBe('actions');
    expect(last.elements.map((e) => [e.action_id, e.style])).toEqual([
      ['contract.approve', 'primary'],
      ['contract.reject', 'danger'],
      ['contract.negotiate', undefined],
      ['contract.details', undefined],
    ]);
    for (const e of last.elements)
      expect(JSON.parse(e.value)).toEqual({ contractId: contract.id, revision: contract.revision });
  });

  it('a decided, a superseded and a private card carry no decision buttons', () => {
    const contract = ordinaryContract();
    const decided = renderSlackMessage({
      kind: 'decision',
      input: {
        contract: { ...contract, state: 'approved' },
        decision: { outcome: 'approved', by: ['Ada'], at: '2026-11-24T12:00:00Z' },
      },
    });
    expect(allText(decided.blocks)).toContain('Approved by Ada');
    expect(allText(decided.blocks)).not.toContain('contract.approve');
    const superseded = renderSlackMessage({ kind: 'contract', input: { contract, supersededBy: 2 } });
    expect(allText(superseded.blocks)).toContain('Superseded by revision 2');
    expect(allText(superseded.blocks)).not.toContain('contract.approve');
    const privateCard = renderSlackMessage({ kind: 'contract', input: { contract } }, { interactive: false });
    expect(privateCard.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(privateCard.blocks)).toContain('Only you can see this');
  });

  it('a huge contract stays within Block Kit limits, detailed or not, and keeps its footer and buttons', () => {
    const contract = hugeContract();
    for (const detailed of [false, true]) {
      const { blocks, text } = renderSlackMessage({
        kind: 'contract',
        input: { contract, detailed, requestedBy: 'x'.repeat(5000) },
      });
      expect(violations(blocks, text)).toEqual([]);
      expect(blocks.length).toBeLessThanOrEqual(50);
      expect(allText(blocks)).toContain(`Revision ${contract.revision}`);
      expect(blocks.at(-1)?.type).toBe('actions');
    }
    const status = renderSlackMessage({
      kind: 'status',
      input: { contract, events: Array.from({ length: 40 }, (_, i) => `event ${i} ${'e'.repeat(400)}`) },
    });
    expect(violations(status.blocks, status.text)).toEqual([]);
  });

  it('cuts the middle with a note when a message would exceed 50 blocks, keeping the footer', () => {
    const body: SlackBlock[] = Array.from({ length: 80 }, (_, i) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: `s${i}` },
    }));
    const footer: SlackBlock[] = [
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Revision 1' }] },
      { type: 'divider' },
    ];
    const fitted = fitBlocks(body, footer);
    expect(fitted).toHaveLength(50);
    expect(fitted.slice(-2)).toEqual(footer);
    expect(JSON.stringify(fitted[47])).toContain('33 more sections left out');
    expect(fitBlocks(body.slice(0, 10), footer)).toHaveLength(12);
  });

  it('escapes untrusted text: no mention, channel ping or link can be injected', () => {
    const contract = ordinaryContract();
    const evil = {
      ...contract,
      deployment: { ...contract.deployment, serviceName: '<!channel> <@U123> <https://evil.example|click>' },
    };
    const { blocks, text } = renderSlackMessage({
      kind: 'contract',
      input: { contract: evil, requestedBy: '<!here>' },
    });
    // plain_text (the header) is shown literally by Slack; only mrkdwn is parsed for mentions and links.
    const all = mrkdwnTexts(blocks).join('\n') + text;
    expect(all).not.toMatch(/<!channel>|<@U123>|<https:\/\/evil|<!here>/);
    expect(all).toContain('&lt;!channel&gt;');
  });
});

describe('the other cards', () => {
  const contract = ordinaryContract();
  const cards: ChatCard[] = [
    {
      kind: 'error',
      input: {
        title: 'I could not read that deployment request',
        summary: 'The JSON has 2 problems:',
        problems: Array.from({ length: 30 }, (_, i) => ({
          path: `changes.${i}.file_path`,
          message: 'is required (required)',
        })),
        hint: 'Type `help`.',
      },
    },
    { kind: 'help', input: helpContent({ pullRequests: true, rollouts: false, intro: 'I don’t know “deploy”.' }) },
    {
      kind: 'history',
      input: {
        service: 'checkout',
        entries: Array.from({ length: 20 }, (_, i) => ({
          contractId: `ctr-${i}`,
          version: '2.4.0',
          level: 'high' as const,
          score: 61.25,
          state: 'approved' as const,
          revision: 1,
          createdAt: '2026-11-24T10:00:00.000Z',
        })),
        more: 3,
      },
    },
    { kind: 'history', input: { entries: [] } },
    { kind: 'policy', input: { policy: DEFAULT_POLICY, approvers: { teams: 1, slack: 2, groups: ['release'] } } },
    {
      kind: 'rollout-status',
      input: {
        contractId: contract.id,
        revision: 1,
        service: 'checkout',
        version: '2.4.0',
        phase: 'running',
        trafficPercent: 25,
        stepIndex: 2,
        stepCount: 4,
        verdict: 'HOLD',
        verdictReason: 'not enough requests yet',
        checks: [
          { metric: 'error_rate', detail: '0.12 % observed vs < 0.3 % (baseline 0.05 %, n = 4,210)', status: 'hold' },
        ],
        steps: Array.from({ length: 30 }, (_, i) => `stage ${i}`),
        updatedAt: '2026-11-24T12:00:00.000Z',
      },
    },
  ];

  it.each(cards.map((card) => [card.kind, card] as const))('%s renders within limits', (_kind, card) => {
    const { blocks, text } = renderSlackMessage(card);
    expect(violations(blocks, text)).toEqual([]);
    expect(blocks[0]?.type).toBe('header');
    expect(text.length).toBeGreaterThan(0);
  });

  it('the error card names every shown problem', () => {
    const { blocks } = renderSlackMessage(cards[0] as ChatCard);
    expect(allText(blocks)).toContain('`changes.0.file_path`: is required');
    expect(allText(blocks)).toContain('more');
  });

  it('the rollout status card offers pause, promote and roll back while running', () => {
    const { blocks } = renderSlackMessage(cards[5] as ChatCard);
    const actions = blocks.find((b) => b.type === 'actions') as { elements: { action_id: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['rollout.pause', 'rollout.promote', 'rollout.rollback']);
    expect(allText(blocks)).toContain('25\u00a0% on the new version');
  });

  it('a fallback text given by the caller is used, escaped', () => {
    const { text } = renderSlackMessage(cards[1] as ChatCard, {}, 'Revision 2 of <x>');
    expect(text).toBe('Revision 2 of &lt;x&gt;');
  });
});

describe('modals', () => {
  const meta = { contractId: 'ctr-1', revision: 2, channel: 'C1', messageTs: '1.2', threadTs: '1.1' };
  it('reject asks for a required reason of at most 500 characters and carries the card coordinates', () => {
    const view = rejectModal(meta);
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(JSON.parse(view.private_metadata ?? '')).toEqual(meta);
    const input = view.blocks.find((b) => b.type === 'input') as {
      block_id: string;
      optional?: boolean;
      element: { max_length: number; min_length: number };
    };
    expect(input.block_id).toBe('reason');
    expect(input.optional).toBeUndefined();
    expect(input.element).toMatchObject({ min_length: 1, max_length: 500 });
  });

  it('negotiate asks what should change', () => {
    const view = negotiateModal(meta);
    expect(view.callback_id).toBe('contract.negotiate');
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(view.blocks.some((b) => b.type === 'input' && b.block_id === 'message')).toBe(true);
  });
});
