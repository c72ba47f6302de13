import { describe, expect, it } from 'vitest';
import { canTransition } from '../../src/domain/contractState.js';
import {
  type AuthorizationPolicy,
  type Click,
  type Decider,
  type DecisionSubject,
  decide,
  isOpenForDecision,
} from '../../src/domain/decision.js';
import { CONTRACT_STATES, type ContractState } from '../../src/domain/model.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const G = '55555555-5555-4555-8555-555555555555';
const DEV = '33333333-3333-4333-8333-333333333333';
const policy: AuthorizationPolicy = {
  approvers: { teams: [A, B], slack: ['U123'], groups: { sre: [G, 'U999'] } },
  openWhenUnconfigured: false,
};
const teams = (id: string, extra: Partial<Decider> = {}): Decider => ({ id, surface: 'teams', ...extra });

/** A high-risk revision 2 that needs two approvals and excludes its author (dev@example.com, asked by DEV). */
function subject(overrides: Partial<DecisionSubject> = {}): DecisionSubject {
  return {
    revision: 2,
    state: 'negotiating',
    terms: { excludeAuthor: true, approvalsRequired: 2 },
    deployment: { author: 'dev@example.com' },
    risk: { level: 'high' },
    ...overrides,
  };
}

function click(overrides: Partial<Click> = {}): Click {
  return {
    revision: 2,
    decision: 'approve',
    actor: teams(A, { aliases: ['alice@example.com'], directory: 'resolved' }),
    requester: teams(DEV),
    policy,
    ...overrides,
  };
}

describe('decide: every contract state × verb', () => {
  for (const state of CONTRACT_STATES) {
    for (const verb of ['approve', 'reject'] as const) {
      const open = state === 'negotiating';
      it(`${state} × ${verb}: ${open ? 'recorded' : 'not_open'}`, () => {
        const verdict = decide(subject({ state, terms: { excludeAuthor: true, approvalsRequired: 1 } }), [], {
          ...click(),
          decision: verb,
        });
        if (!open) {
          expect(verdict).toEqual({ outcome: 'not_open' });
          return;
        }
        expect(verdict).toMatchObject({
          outcome: 'recorded',
          state: verb === 'approve' ? 'approved' : 'rejected',
          approvals: verb === 'approve' ? 1 : 0,
          required: 1,
          via: 'teams approver list',
        });
      });
    }
  }

  it('agrees with the contract state machine on which states take decisions', () => {
    for (const state of CONTRACT_STATES) {
      expect(isOpenForDecision(state)).toBe(canTransition(state, 'approve') && canTransition(state, 'reject'));
    }
    expect(CONTRACT_STATES.filter(isOpenForDecision)).toEqual<ContractState[]>(['negotiating']);
  });
});

describe('decide: the order of the checks', () => {
  it('a click on an older revision is stale even when the clicker decided that revision before (no resurrection)', () => {
    // The approver of revision 1 clicks Approve on the revision-1 card after revision 2 exists.
    expect(decide(subject(), [], click({ revision: 1 }))).toEqual({ outcome: 'stale_revision' });
  });

  it('stale comes before not open, not authorised and duplicate', () => {
    const approved = subject({ state: 'approved' });
    expect(decide(approved, [], click({ revision: 1 }))).toEqual({ outcome: 'stale_revision' });
    expect(decide(subject(), [], click({ revision: 1, actor: teams('stranger') }))).toEqual({
      outcome: 'stale_revision',
    });
  });

  it('not open comes before not authorised', () => {
    expect(decide(subject({ state: 'rejected' }), [], click({ actor: teams('stranger') }))).toEqual({
      outcome: 'not_open',
    });
  });

  it('not authorised comes before duplicate', () => {
    const decisions = [{ decision: 'approve' as const, actorId: 'stranger' }];
    expect(decide(subject(), decisions, click({ actor: teams('stranger') }))).toMatchObject({
      outcome: 'refused',
      code: 'not_an_approver',
    });
  });

  it('a repeated decision on the current revision is a duplicate and counts once', () => {
    const decisions = [{ decision: 'approve' as const, actorId: A }];
    expect(decide(subject(), decisions, click())).toEqual({ outcome: 'duplicate' });
    expect(decide(subject(), decisions, click({ actor: teams(B, { directory: 'resolved' }) }))).toMatchObject({
      outcome: 'recorded',
      state: 'approved',
      approvals: 2,
    });
  });

  it('below the quorum an approval is recorded and the contract stays negotiating', () => {
    expect(decide(subject(), [], click())).toMatchObject({ outcome: 'recorded', state: 'negotiating', approvals: 1 });
  });
});

describe('decide: who may decide', () => {
  it('allows listed approvers and group members, case-insensitively; refuses others and other surfaces', () => {
    const low = subject({ terms: { excludeAuthor: false, approvalsRequired: 5 } });
    expect(decide(low, [], click({ actor: teams(A.toUpperCase()) }))).toMatchObject({ via: 'teams approver list' });
    expect(decide(low, [], click({ actor: teams(G) }))).toMatchObject({ via: 'group sre' });
    expect(decide(low, [], click({ actor: { id: 'U999', surface: 'slack' }, decision: 'reject' }))).toMatchObject({
      outcome: 'recorded',
    });
    expect(decide(low, [], click({ actor: teams('someone') }))).toMatchObject({ code: 'not_an_approver' });
    expect(decide(low, [], click({ actor: teams('U123') }))).toMatchObject({ code: 'not_an_approver' });
  });

  it('with no approvers configured: open in development, closed in production', () => {
    const empty = { teams: [], slack: [], groups: {} };
    const low = subject({ terms: { excludeAuthor: false, approvalsRequired: 1 } });
    expect(
      decide(low, [], click({ actor: teams('x'), policy: { approvers: empty, openWhenUnconfigured: true } })),
    ).toMatchObject({ outcome: 'recorded' });
    expect(
      decide(low, [], click({ actor: teams('x'), policy: { approvers: empty, openWhenUnconfigured: false } })),
    ).toMatchObject({ outcome: 'refused', code: 'not_an_approver' });
  });
});

describe('decide: separation of duties', () => {
  it('refuses the requester approving, and the deployment author matched by an e-mail alias; rejecting is allowed', () => {
    expect(decide(subject(), [], click({ requester: teams(A) }))).toMatchObject({ code: 'self_approval' });
    expect(
      decide(subject(), [], click({ actor: teams(A, { aliases: ['DEV@example.com'], directory: 'resolved' }) })),
    ).toMatchObject({ code: 'self_approval' });
    expect(decide(subject(), [], click({ requester: teams(A), decision: 'reject' }))).toMatchObject({
      outcome: 'recorded',
      state: 'rejected',
    });
    const lowRisk = subject({ terms: { excludeAuthor: false, approvalsRequired: 2 } });
    expect(decide(lowRisk, [], click({ requester: teams(A) }))).toMatchObject({ outcome: 'recorded' });
  });

  it('fails closed when the directory lookup failed: the author with an unresolved identity cannot approve', () => {
    // The author (dev@example.com) is an approver; the roster lookup timed out, so no e-mail alias is known.
    const author = teams(A, { directory: 'failed' });
    const verdict = decide(subject(), [], click({ actor: author }));
    expect(verdict).toMatchObject({ outcome: 'refused', code: 'identity_unknown' });
    if (verdict.outcome !== 'refused') throw new Error('expected a refusal');
    expect(verdict.reason).toContain('the directory lookup of your account failed or timed out');
    expect(verdict.reason).toContain('conversation roster');
    expect(decide(subject(), [], click({ actor: { id: 'U123', surface: 'slack' } }))).toMatchObject({
      code: 'identity_unknown',
      reason: expect.stringContaining('users:read.email'),
    });
    expect(decide(subject(), [], click({ actor: teams(A, { directory: 'not_found' }) }))).toMatchObject({
      code: 'identity_unknown',
    });
  });

  it('needs no directory when there is nothing to compare but same-surface ids', () => {
    const noAuthor = subject({ deployment: {} });
    expect(decide(noAuthor, [], click({ actor: teams(A) }))).toMatchObject({ outcome: 'recorded' });
    // A requester on another surface can only be told apart through the directory.
    expect(decide(noAuthor, [], click({ actor: teams(A), requester: { id: 'U777', surface: 'slack' } }))).toMatchObject(
      { code: 'identity_unknown' },
    );
  });
});
