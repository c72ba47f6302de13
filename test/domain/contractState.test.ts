import { describe, expect, it } from 'vitest';
import {
  allowedEvents,
  CONTRACT_EVENTS,
  type ContractEvent,
  canTransition,
  IllegalTransitionError,
  isTerminal,
  transition,
} from '../../src/domain/contractState.js';
import { CONTRACT_STATES, type ContractState } from '../../src/domain/model.js';

/** The whole lifecycle, written out independently of the implementation's table. */
const EXPECTED: Record<ContractState, Partial<Record<ContractEvent, ContractState>>> = {
  draft: { propose: 'negotiating', amend: 'negotiating', abort: 'aborted' },
  negotiating: { amend: 'negotiating', approve: 'approved', reject: 'rejected', abort: 'aborted' },
  approved: { amend: 'negotiating', start_rollout: 'rolling_out', abort: 'aborted' },
  rejected: {},
  rolling_out: { promote: 'promoted', roll_back: 'rolled_back', abort: 'aborted' },
  promoted: {},
  rolled_back: {},
  aborted: {},
};

const CASES = CONTRACT_STATES.flatMap((state) =>
  CONTRACT_EVENTS.map((event) => [state, event, EXPECTED[state][event] ?? null] as const),
);

describe('transition: every state × every event', () => {
  it.each(CASES)('%s + %s → %s', (state, event, next) => {
    if (next) {
      expect(transition(state, event)).toBe(next);
      expect(canTransition(state, event)).toBe(true);
    } else {
      expect(canTransition(state, event)).toBe(false);
      let caught: unknown;
      try {
        transition(state, event);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(IllegalTransitionError);
      const e = caught as IllegalTransitionError;
      expect(e.code).toBe('contract_illegal_transition');
      expect(e.from).toBe(state);
      expect(e.event).toBe(event);
      expect(e.message).toContain(event.replace('_', ' '));
      expect(e.message).toContain(state.replace('_', ' '));
    }
  });
});

describe('lifecycle helpers', () => {
  it('lists allowed events and terminal states', () => {
    expect(allowedEvents('negotiating')).toEqual(['amend', 'approve', 'reject', 'abort']);
    expect(CONTRACT_STATES.filter(isTerminal)).toEqual(['rejected', 'promoted', 'rolled_back', 'aborted']);
    expect(() => transition('promoted', 'roll_back')).toThrow(
      'cannot roll back a contract that is promoted (no further transitions)',
    );
    expect(() => transition('draft', 'approve')).toThrow('(allowed: propose, amend, abort)');
  });

  it('walks the happy path and the amendment loop', () => {
    let s: ContractState = 'draft';
    for (const e of ['propose', 'amend', 'approve', 'amend', 'approve', 'start_rollout', 'promote'] as const)
      s = transition(s, e);
    expect(s).toBe('promoted');
  });
});
