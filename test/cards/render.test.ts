import { describe, expect, it } from 'vitest';
import { MAX_CARD_BYTES, renderContractCard, renderDecisionCard } from '../../src/cards/render.js';
import { parseAdaptiveCard } from './adaptiveCardsParser.js';
import { hugeContract, ordinaryContract } from './cardFixtures.js';

interface Action {
  type: string;
  verb?: string;
  title?: string;
  data?: Record<string, unknown>;
  card?: { body?: { type: string; id?: string; isRequired?: boolean }[]; actions?: Action[] };
}

function actionsOf(card: object): Action[] {
  return ((card as { actions?: Action[] }).actions ?? []) as Action[];
}

describe('contract card', () => {
  it('offers Approve, Reject (with a required reason), Negotiate and Details carrying the id and revision', () => {
    const contract = ordinaryContract();
    const card = renderContractCard({ contract, requestedBy: 'Ada' });
    const actions = actionsOf(card);
    expect(actions.map((a) => a.title)).toEqual(['Approve', 'Reject', 'Negotiate', 'Details']);
    const approve = actions[0]!;
    expect(approve).toMatchObject({ type: 'Action.Execute', verb: 'contract.approve' });
    expect(approve.data).toEqual({ contractId: contract.id, revision: 1 });
    const reject = actions[1]!;
    expect(reject.type).toBe('Action.ShowCard');
    expect(reject.card?.body?.[0]).toMatchObject({ type: 'Input.Text', id: 'reason', isRequired: true });
    expect(reject.card?.actions?.[0]).toMatchObject({
      type: 'Action.Execute',
      verb: 'contract.reject',
      data: { contractId: contract.id, revision: 1 },
    });
    expect(actions[2]).toMatchObject({ type: 'Action.Execute', verb: 'contract.negotiate' });
    expect(actions[3]).toMatchObject({ type: 'Action.Execute', verb: 'contract.details' });
  });

  it('shows the risk badge, score, factors with evidence, guardrails, validators, ramp, rollback and revision', () => {
    const contract = ordinaryContract();
    const text = JSON.stringify(renderContractCard({ contract }));
    expect(text).toContain('HIGH RISK');
    expect(text).toContain('score 60/100');
    expect(text).toContain('Database schema/migration');
    expect(text).toContain('db/migrations/0042_add_index.sql');
    expect(text).toContain('\\"ttl\\" at src/cache/redis.ts:12');
    expect(text).toContain('Error rate');
    expect(text).toContain('< 0.3\u00a0%');
    expect(text).toContain('Canary');
    expect(text).toContain('10\u00a0% → 25\u00a0% → 50\u00a0% → 100\u00a0%');
    expect(text).toContain('Rollback plan');
    expect(text).toContain(`Revision 1 · hash ${contract.contentHash.slice(0, 12)}`);
    expect(text).toContain('Approvals 0 of 1');
  });

  it('is a valid Adaptive Card 1.5 for the adaptivecards parser, with nothing unexpanded', () => {
    for (const input of [
      { contract: ordinaryContract() },
      { contract: ordinaryContract(), detailed: true, notice: 'hello' },
      { contract: ordinaryContract(), supersededBy: 2 },
    ]) {
      const card = renderContractCard(input);
      const parsed = parseAdaptiveCard(card);
      expect(parsed.problems).toEqual([]);
      expect(parsed.version).toBe('1.5');
      expect(JSON.stringify(card)).not.toContain('${');
    }
  });

  it('stays under 28 KB for a contract with 2,000 files and thousands of findings, also in the details view', () => {
    const contract = hugeContract();
    expect(JSON.stringify(contract).length).toBeGreaterThan(1_000_000);
    for (const detailed of [false, true]) {
      const card = renderContractCard({
        contract,
        detailed,
        approvals: [{ actorName: 'Approver One'.repeat(20), at: '2026-11-24T12:00:00Z' }],
      });
      const bytes = Buffer.byteLength(JSON.stringify(card));
      expect(bytes).toBeLessThan(MAX_CARD_BYTES);
      expect(JSON.stringify(card)).not.toContain('${');
      expect(parseAdaptiveCard(card).problems).toEqual([]);
    }
    const decision = renderDecisionCard({
      contract,
      decision: { outcome: 'rejected', by: ['R'], at: '2026-11-24T12:00:00Z', reason: 'r'.repeat(5000) },
    });
    expect(Buffer.byteLength(JSON.stringify(decision))).toBeLessThan(MAX_CARD_BYTES);
  });

  it('never lets template syntax from untrusted text through', () => {
    const base = ordinaryContract();
    // Built by concatenation: these are data that merely look like bindings.
    const open = '$' + '{';
    const contract = {
      ...base,
      deployment: { ...base.deployment, serviceName: 'svc' + open + 'secret}', ownerTeam: open + '$root.contractId}' },
      suggestions: [{ text: 'ignore ' + open + 'previous} instructions' }],
    };
    const text = JSON.stringify(
      renderContractCard({ contract, requestedBy: open + 'user.name}', notice: open + 'x}' }),
    );
    expect(text).not.toContain(open);
    expect(text).toContain('svc$\u200b{secret}');
  });

  it('drops the decision buttons once the revision is decided or superseded, keeping Details', () => {
    const contract = ordinaryContract();
    const decided = renderDecisionCard({
      contract: { ...contract, state: 'approved' },
      approvals: [{ actorName: 'Grace', at: '2026-11-24T12:00:00Z' }],
      decision: { outcome: 'approved', by: ['Grace'], at: '2026-11-24T12:00:00Z' },
    });
    expect(actionsOf(decided).map((a) => a.verb)).toEqual(['contract.details']);
    expect(JSON.stringify(decided)).toContain('✅ Approved by Grace');
    expect(parseAdaptiveCard(decided).problems).toEqual([]);
    const superseded = renderContractCard({ contract, supersededBy: 2 });
    expect(actionsOf(superseded).map((a) => a.verb)).toEqual(['contract.details']);
    expect(JSON.stringify(superseded)).toContain('Superseded by revision 2');
  });
});
