import { describe, expect, it } from 'vitest';
import { type AuthorizationPolicy, authorizeDecision } from '../../src/chat/authorization.js';
import type { ChatActor } from '../../src/chat/port.js';
import { ordinaryContract } from '../cards/cardFixtures.js';

const A = '11111111-1111-4111-8111-111111111111';
const G = '55555555-5555-4555-8555-555555555555';
const policy: AuthorizationPolicy = {
  approvers: { teams: [A], slack: ['U123'], groups: { sre: [G, 'U999'] } },
  openWhenUnconfigured: false,
};
const teams = (id: string, aliases: string[] = []): ChatActor => ({ id, surface: 'teams', aliases });

describe('authorizeDecision', () => {
  const contract = ordinaryContract(); // high risk: excludes the author; deployment author dev@example.com

  it('allows listed approvers and group members, case-insensitively', () => {
    expect(authorizeDecision({ actor: teams(A.toUpperCase()), decision: 'approve', contract, policy })).toMatchObject({
      allowed: true,
      via: 'teams approver list',
    });
    expect(authorizeDecision({ actor: teams(G), decision: 'approve', contract, policy })).toMatchObject({
      allowed: true,
      via: 'group sre',
    });
    expect(
      authorizeDecision({ actor: { id: 'U999', surface: 'slack' }, decision: 'reject', contract, policy }),
    ).toMatchObject({ allowed: true });
  });

  it('refuses everyone else, and ids of the other surface', () => {
    expect(authorizeDecision({ actor: teams('someone'), decision: 'approve', contract, policy })).toMatchObject({
      allowed: false,
      code: 'not_an_approver',
    });
    expect(authorizeDecision({ actor: teams('U123'), decision: 'approve', contract, policy })).toMatchObject({
      allowed: false,
    });
  });

  it('refuses the author approving (requester or deployment author by e-mail alias), not rejecting', () => {
    const requester = teams(A);
    expect(authorizeDecision({ actor: teams(A), decision: 'approve', contract, requester, policy })).toMatchObject({
      allowed: false,
      code: 'self_approval',
    });
    expect(
      authorizeDecision({ actor: teams(A, ['DEV@example.com']), decision: 'approve', contract, policy }),
    ).toMatchObject({ allowed: false, code: 'self_approval' });
    expect(authorizeDecision({ actor: teams(A), decision: 'reject', contract, requester, policy })).toMatchObject({
      allowed: true,
    });
    const lowRisk = { ...contract, terms: { ...contract.terms, excludeAuthor: false } };
    expect(
      authorizeDecision({ actor: teams(A), decision: 'approve', contract: lowRisk, requester, policy }),
    ).toMatchObject({ allowed: true });
  });

  it('with no approvers configured: open in development, closed in production', () => {
    const empty = { teams: [], slack: [], groups: {} };
    expect(
      authorizeDecision({
        actor: teams('x'),
        decision: 'approve',
        contract,
        policy: { approvers: empty, openWhenUnconfigured: true },
      }),
    ).toMatchObject({ allowed: true });
    expect(
      authorizeDecision({
        actor: teams('x'),
        decision: 'approve',
        contract,
        policy: { approvers: empty, openWhenUnconfigured: false },
      }),
    ).toMatchObject({ allowed: false, code: 'not_an_approver' });
  });
});
