/**
 * Expands the Adaptive Card 1.5 templates of ./templates with adaptivecards-templating. The view models do the
 * formatting; this module binds them and checks the result: no `${…}` left (an unresolved binding stays literal in
 * adaptivecards-templating) and under the size budget. A card that fails either check is a bug, reported as a
 * CardRenderError rather than shown to anyone.
 */

import { createRequire } from 'node:module';
import type { AreaCode, CodedError } from '../errors.js';
import {
  type ErrorCardInput,
  errorView,
  type HelpCardInput,
  type HistoryCardInput,
  helpView,
  historyView,
  type PolicyCardInput,
  policyView,
  type RolloutStatusInput,
  rolloutStatusView,
  type StatusCardInput,
  statusView,
} from '../views/cardViews.js';
import { type ContractCardInput, contractView } from '../views/contractView.js';
import contractTemplate from './templates/contract.json' with { type: 'json' };
import decisionTemplate from './templates/decision.json' with { type: 'json' };
import errorTemplate from './templates/error.json' with { type: 'json' };
import helpTemplate from './templates/help.json' with { type: 'json' };
import historyTemplate from './templates/history.json' with { type: 'json' };
import policyTemplate from './templates/policy.json' with { type: 'json' };
import rolloutStatusTemplate from './templates/rollout-status.json' with { type: 'json' };
import statusTemplate from './templates/status.json' with { type: 'json' };

/** An expanded Adaptive Card, ready to attach (`application/vnd.microsoft.card.adaptive`). */
export interface AdaptiveCardJson {
  type: 'AdaptiveCard';
  version: string;
  [key: string]: unknown;
}

/**
 * Outlook's actionable-message limit, the strictest of the hosts (Teams refuses bot messages over 40 KB). Cards are
 * kept under it with room to spare for the activity envelope.
 */
export const MAX_CARD_BYTES = 28 * 1024;

export const TEMPLATES = {
  contract: contractTemplate,
  decision: decisionTemplate,
  error: errorTemplate,
  help: helpTemplate,
  history: historyTemplate,
  policy: policyTemplate,
  'rollout-status': rolloutStatusTemplate,
  status: statusTemplate,
} as const;
export type TemplateName = keyof typeof TEMPLATES;

export class CardRenderError extends Error implements CodedError {
  readonly code: AreaCode<'card'>;
  constructor(code: CardRenderError['code'], message: string) {
    super(message);
    this.name = 'CardRenderError';
    this.code = code;
  }
}

/**
 * adaptivecards-templating, loaded through require with a minimal local type: its published typings import the
 * `adaptivecards` package's TypeScript sources, which do not compile under this project's settings.
 */
interface TemplateEngine {
  Template: new (payload: unknown) => CardTemplate;
}
interface CardTemplate {
  expand(context: { $root: unknown }): unknown;
}
const ACData = createRequire(import.meta.url)('adaptivecards-templating') as TemplateEngine;

const compiled = new Map<TemplateName, CardTemplate>();

/** Binds `data` as `$root` of the named template and checks the result. */
export function expandTemplate(name: TemplateName, data: object): AdaptiveCardJson {
  let template = compiled.get(name);
  if (!template) {
    template = new ACData.Template(TEMPLATES[name]);
    compiled.set(name, template);
  }
  const card = template.expand({ $root: data }) as unknown;
  if (!isCard(card)) throw new CardRenderError('card_invalid', `template ${name} did not expand to an AdaptiveCard`);
  const text = JSON.stringify(card);
  const at = text.indexOf('${');
  if (at >= 0) {
    throw new CardRenderError(
      'card_unexpanded',
      `template ${name} left a binding unexpanded: ${text.slice(at, text.indexOf('}', at) + 1 || at + 40)}`,
    );
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CARD_BYTES) {
    throw new CardRenderError(
      'card_too_large',
      `template ${name} expanded to ${bytes} bytes (limit ${MAX_CARD_BYTES})`,
    );
  }
  return card;
}

function isCard(value: unknown): value is AdaptiveCardJson {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'AdaptiveCard';
}

export function renderContractCard(input: ContractCardInput): AdaptiveCardJson {
  return expandTemplate('contract', contractView(input));
}

/** The card that replaces the contract card for everyone once a revision is approved or rejected. */
export function renderDecisionCard(input: ContractCardInput): AdaptiveCardJson {
  if (!input.decision) throw new CardRenderError('card_invalid', 'a decision card needs a decision');
  return expandTemplate('decision', contractView(input));
}

export function renderErrorCard(input: ErrorCardInput): AdaptiveCardJson {
  return expandTemplate('error', errorView(input));
}

export function renderHelpCard(input: HelpCardInput): AdaptiveCardJson {
  return expandTemplate('help', helpView(input));
}

export function renderStatusCard(input: StatusCardInput): AdaptiveCardJson {
  return expandTemplate('status', statusView(input));
}

export function renderHistoryCard(input: HistoryCardInput): AdaptiveCardJson {
  return expandTemplate('history', historyView(input));
}

export function renderPolicyCard(input: PolicyCardInput): AdaptiveCardJson {
  return expandTemplate('policy', policyView(input));
}

export function renderRolloutStatusCard(input: RolloutStatusInput): AdaptiveCardJson {
  return expandTemplate('rollout-status', rolloutStatusView(input));
}
