/** Adaptive Card rendering of the surface-neutral chat cards (src/views/chatCard.ts ChatCard). */
import type { ChatCard } from '../views/chatCard.js';
import {
  type AdaptiveCardJson,
  renderContractCard,
  renderDecisionCard,
  renderErrorCard,
  renderHelpCard,
  renderHistoryCard,
  renderPolicyCard,
  renderRolloutStatusCard,
  renderStatusCard,
} from './render.js';

export * from './render.js';

export function renderChatCard(card: ChatCard): AdaptiveCardJson {
  switch (card.kind) {
    case 'contract':
      return renderContractCard(card.input);
    case 'decision':
      return renderDecisionCard(card.input);
    case 'status':
      return renderStatusCard(card.input);
    case 'error':
      return renderErrorCard(card.input);
    case 'help':
      return renderHelpCard(card.input);
    case 'history':
      return renderHistoryCard(card.input);
    case 'policy':
      return renderPolicyCard(card.input);
    case 'rollout-status':
      return renderRolloutStatusCard(card.input);
  }
}
