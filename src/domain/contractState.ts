/**
 * Contract lifecycle (PRODUCT.md §2.3):
 *
 *   draft ──propose──▶ negotiating ──approve──▶ approved ──start_rollout──▶ rolling_out ──promote──▶ promoted
 *     │                  │  ▲ amend              │  │ amend (voids approvals)   ├─roll_back──▶ rolled_back
 *     │ amend            │  └──────────────┐     │  └──────▶ negotiating       └─abort──────▶ aborted
 *     └──────────────────┴─reject─▶ rejected     │
 *   draft / negotiating / approved ──abort──▶ aborted
 *
 * `approve` means the approval quorum is reached (individual approvals are counted elsewhere). rejected, promoted,
 * rolled_back and aborted are terminal.
 */
import { DomainError } from './errors.js';
import type { ContractState } from './model.js';

export const CONTRACT_EVENTS = [
  'propose',
  'amend',
  'approve',
  'reject',
  'start_rollout',
  'promote',
  'roll_back',
  'abort',
] as const;
export type ContractEvent = (typeof CONTRACT_EVENTS)[number];

const TABLE: Record<ContractState, Partial<Record<ContractEvent, ContractState>>> = {
  draft: { propose: 'negotiating', amend: 'negotiating', abort: 'aborted' },
  negotiating: { amend: 'negotiating', approve: 'approved', reject: 'rejected', abort: 'aborted' },
  approved: { amend: 'negotiating', start_rollout: 'rolling_out', abort: 'aborted' },
  rejected: {},
  rolling_out: { promote: 'promoted', roll_back: 'rolled_back', abort: 'aborted' },
  promoted: {},
  rolled_back: {},
  aborted: {},
};

export class IllegalTransitionError extends DomainError {
  override readonly code = 'contract_illegal_transition' as const;
  readonly from: ContractState;
  readonly event: ContractEvent;

  constructor(from: ContractState, event: ContractEvent) {
    const allowed = allowedEvents(from);
    super(
      'contract_illegal_transition',
      `cannot ${event.replace('_', ' ')} a contract that is ${from.replace('_', ' ')}` +
        (allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ' (no further transitions)'),
    );
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.event = event;
  }
}

/** The next state, or IllegalTransitionError (code `contract_illegal_transition`) naming the state and the event. */
export function transition(state: ContractState, event: ContractEvent): ContractState {
  const next = TABLE[state]?.[event];
  if (!next) throw new IllegalTransitionError(state, event);
  return next;
}

export function canTransition(state: ContractState, event: ContractEvent): boolean {
  return TABLE[state]?.[event] !== undefined;
}

export function allowedEvents(state: ContractState): ContractEvent[] {
  return CONTRACT_EVENTS.filter((event) => TABLE[state]?.[event] !== undefined);
}

export function isTerminal(state: ContractState): boolean {
  return allowedEvents(state).length === 0;
}
