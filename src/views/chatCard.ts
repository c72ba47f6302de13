/**
 * The surface-neutral cards the chat posts: which view model, from which input. The chat builds them; each surface
 * renders them from the same view models (Teams: Adaptive Cards in src/cards, Slack: Block Kit in src/slack).
 */
import type {
  ErrorCardInput,
  HelpCardInput,
  HistoryCardInput,
  PolicyCardInput,
  RolloutStatusInput,
  StatusCardInput,
} from './cardViews.js';
import type { ContractCardInput } from './contractView.js';

export type ChatCard =
  | { kind: 'contract'; input: ContractCardInput }
  | { kind: 'decision'; input: ContractCardInput }
  | { kind: 'status'; input: StatusCardInput }
  | { kind: 'error'; input: ErrorCardInput }
  | { kind: 'help'; input: HelpCardInput }
  | { kind: 'history'; input: HistoryCardInput }
  | { kind: 'policy'; input: PolicyCardInput }
  | { kind: 'rollout-status'; input: RolloutStatusInput };
