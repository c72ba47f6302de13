/**
 * Block Kit rendering of the surface-neutral chat cards (src/chat/port.ts ChatCard), from the same view models the
 * Adaptive Cards use (src/views), so Slack shows the same content as Teams. Pure: no I/O, no SDK calls.
 *
 * Every text is escaped for mrkdwn (view-model strings can carry user or model text) and clipped to Block Kit's
 * limits, and a message never exceeds 50 blocks: when a huge contract would, the middle is cut with a note and the
 * revision line and the buttons always stay.
 */
import type { types } from '@slack/bolt';
import type { CardVerb, ChatCard } from '../chat/port.js';
import type { RiskLevel } from '../domain/model.js';
import { errorView, helpView, historyView, policyView, rolloutStatusView, statusView } from '../views/cardViews.js';
import { contractView } from '../views/contractView.js';
import { clip, escapeMrkdwn as e } from './mrkdwn.js';

export type SlackBlock = types.KnownBlock;

export interface SlackMessageContent {
  /** Notification and accessibility fallback (mrkdwn). */
  text: string;
  blocks: SlackBlock[];
}

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const BLOCK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 2000,
  buttonText: 75,
  buttonValue: 2000,
  fallbackText: 3000,
} as const;

export interface RenderOptions {
  /**
   * Buttons are rendered only on messages everyone sees. Ephemeral messages (a private card for the clicker) cannot be
   * edited with chat.update, so they carry no buttons and point at the card in the thread instead.
   */
  interactive?: boolean;
}

/** The value every card button carries; the click handler validates it (it comes back from the client). */
export interface ButtonValue {
  contractId: string;
  revision: number;
}

export function buttonValue(contractId: string, revision: number): string {
  return JSON.stringify({ contractId, revision } satisfies ButtonValue);
}

export function renderSlackMessage(
  card: ChatCard,
  options: RenderOptions = {},
  fallbackText?: string,
): SlackMessageContent {
  const interactive = options.interactive !== false;
  const rendered = renderCard(card, interactive);
  const text = fallbackText ? e(fallbackText) : rendered.text;
  return { text: clip(text, BLOCK_LIMITS.fallbackText), blocks: fitBlocks(rendered.body, rendered.footer) };
}

interface Rendered {
  text: string;
  body: SlackBlock[];
  /** Kept whatever the size: revision line, buttons. */
  footer: SlackBlock[];
}

function renderCard(card: ChatCard, interactive: boolean): Rendered {
  switch (card.kind) {
    case 'contract':
    case 'decision':
    case 'status':
      return renderContract(card, interactive);
    case 'error':
      return renderError(card.input);
    case 'help':
      return renderHelp(card.input);
    case 'history':
      return renderHistory(card.input);
    case 'policy':
      return renderPolicy(card.input);
    case 'rollout-status':
      return renderRolloutStatus(card.input, interactive);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Contract (and its decision and status variants)

const LEVEL_EMOJI: Record<RiskLevel, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_green_circle:',
};

function renderContract(
  card: Extract<ChatCard, { kind: 'contract' | 'decision' | 'status' }>,
  interactive: boolean,
): Rendered {
  const status = card.kind === 'status' ? statusView(card.input) : undefined;
  const view = status ?? contractView(card.input);
  const level = card.input.contract.risk.level;
  const body: SlackBlock[] = [header(view.title)];
  body.push(section(`${LEVEL_EMOJI[level]} *${e(view.risk.badge)}* · ${e(view.risk.scoreLine)}\n${e(view.subtitle)}`));
  if (view.hasNotice) body.push(section(`:warning: ${e(view.notice)}`));
  if (view.hasDecision) {
    body.push(section(`*${e(view.decisionLine)}*${view.hasReason ? `\n>${e(view.reason)}` : ''}`));
  }
  body.push(
    ...fieldSections(
      undefined,
      view.facts.map((f) => `*${e(f.title)}*\n${e(f.value)}`),
    ),
  );
  body.push(divider());

  if (view.hasFactors) {
    const lines = view.factors.map((f) => `• *${e(f.label)}* (${e(f.points)}): ${e(f.evidence)}`);
    if (view.hasMoreFactors) lines.push(`_${e(view.moreFactors)}_`);
    body.push(...packLines('Risk factors', lines));
  } else {
    body.push(section('*Risk factors*\nNo risk factor found in this change.'));
  }
  body.push(
    ...fieldSections(
      '*Guardrails* (roll back when breached)',
      view.guardrails.map((g) => `*${e(g.metric)}*\n${e(g.threshold)} over ${e(g.window)}\n_${e(g.evidence)}_`),
    ),
  );
  body.push(
    ...fieldSections(
      '*Validators*',
      view.validators.map((v) => `*${e(v.label)}*\n${e(v.status)}`),
    ),
  );
  body.push(section(`*Ramp*\n${e(view.ramp)}`));
  if (view.canaryEvidence !== '') {
    body.push(context([`${view.canaryEvidenceColor === 'attention' ? ':warning: ' : ''}${e(view.canaryEvidence)}`]));
  }
  body.push(section(`*Rollback*\n${e(view.rollback)}`));
  if (view.hasRollbackSteps) {
    body.push(
      ...packLines(
        'Rollback steps',
        view.rollbackSteps.map((s) => `*${e(s.title)}*\n${e(s.detail)}`),
      ),
    );
  }
  if (view.hasSuggestions)
    body.push(
      ...packLines(
        'Suggestions',
        view.suggestions.map((s) => e(s.text)),
      ),
    );
  if (view.hasAmendments)
    body.push(
      ...packLines(
        'Changed in this revision',
        view.amendments.map((a) => e(a.text)),
      ),
    );
  if (status?.hasEvents)
    body.push(
      ...packLines(
        'Recent events',
        status.events.map((x) => e(x.text)),
      ),
    );

  const footer: SlackBlock[] = [
    context([e(view.revisionLine), e(view.approvalLine), `State: *${e(view.stateLabel)}*`]),
  ];
  const buttons: types.Button[] = [];
  if (interactive && view.showDecisionButtons) {
    const value = buttonValue(view.contractId, view.revision);
    buttons.push(
      button('contract.approve', 'Approve', value, 'primary'),
      button('contract.reject', 'Reject', value, 'danger'),
      button('contract.negotiate', 'Negotiate', value),
    );
  }
  if (interactive && view.showDetailsButton) {
    buttons.push(button('contract.details', 'Details', buttonValue(view.contractId, view.revision)));
  }
  if (buttons.length > 0) footer.push({ type: 'actions', block_id: `contract:${view.revision}`, elements: buttons });
  if (!interactive && view.showDecisionButtons) {
    footer.push(context(['Only you can see this. Decide with the buttons on the newest contract card in the thread.']));
  }

  const what = card.kind === 'status' ? 'Status of' : view.hasDecision ? 'Decision on' : 'Deployment contract';
  return {
    text: e(`${what} ${view.contractId} (revision ${view.revision}, ${view.risk.badge.toLowerCase()}): ${view.title}`),
    body,
    footer,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Other cards

function renderError(input: Extract<ChatCard, { kind: 'error' }>['input']): Rendered {
  const view = errorView(input);
  const body: SlackBlock[] = [header(`⚠️ ${view.title}`), section(e(view.summary))];
  if (view.hasProblems) {
    const lines = view.problems.map((p) => `• \`${e(p.path)}\`: ${e(p.message)}`);
    if (view.hasMoreProblems) lines.push(e(view.moreProblems));
    body.push(...packLines(undefined, lines));
  }
  if (view.hasHint) body.push(context([e(view.hint)]));
  return { text: e(`${view.title}: ${view.summary}`), body, footer: [] };
}

const SLACK_HELP_FOOTER =
  'Mention me (@chaos …) in a channel, use /chaos …, or message me directly. Reply to a contract with @chaos in its thread, or use its Negotiate button, to negotiate its terms.';

function renderHelp(input: Extract<ChatCard, { kind: 'help' }>['input']): Rendered {
  const view = helpView({ ...input, footer: input.footer ?? SLACK_HELP_FOOTER });
  const body: SlackBlock[] = [header(view.title)];
  if (view.hasIntro) body.push(section(`${view.introColor === 'warning' ? ':warning: ' : ''}${e(view.intro)}`));
  body.push(
    ...packLines(
      'Commands',
      view.commands.map((c) => `• \`${e(c.usage)}\` — ${e(c.description)}`),
    ),
  );
  body.push(
    ...packLines(
      'Examples',
      view.examples.map((x) => `• \`${e(x.text)}\``),
    ),
  );
  body.push(context([e(view.footer)]));
  return { text: e(`${view.title}${view.hasIntro ? ` — ${view.intro}` : ''}`), body, footer: [] };
}

function renderHistory(input: Extract<ChatCard, { kind: 'history' }>['input']): Rendered {
  const view = historyView(input);
  const body: SlackBlock[] = [header(view.title)];
  if (view.isEmpty) body.push(section(e(view.emptyText)));
  const lines = view.entries.map(
    (x) => `• *${e(x.contractId)}* · ${e(x.version)} · ${e(x.risk)} · ${e(x.state)} · ${e(x.createdAt)} UTC`,
  );
  if (view.hasEntries) body.push(...packLines(undefined, lines));
  if (view.hasMore) body.push(context([e(view.moreText)]));
  return { text: e(view.title), body, footer: [] };
}

function renderPolicy(input: Extract<ChatCard, { kind: 'policy' }>['input']): Rendered {
  const view = policyView(input);
  const body: SlackBlock[] = [header(view.title), context([e(view.subtitle)])];
  for (const level of view.levels) {
    body.push(
      ...fieldSections(`${LEVEL_EMOJI[level.level]} *${e(level.level)}*`, [
        `*Error rate*\n${e(level.errorRate)}`,
        `*First step*\n${e(level.firstStep)}`,
        `*Canary*\n${e(level.canary)}`,
        `*Rollback plan*\n${e(level.rollbackPlan)}`,
        `*Approvals*\n${e(level.approvals)}`,
      ]),
    );
  }
  body.push(
    ...packLines(
      'Floor (not negotiable)',
      view.floor.map((f) => `• ${e(f.text)}`),
    ),
  );
  body.push(context([e(view.approvers)]));
  return { text: e(view.title), body, footer: [] };
}

const CHECK_EMOJI: Record<string, string> = { good: ':white_check_mark:', warning: ':hourglass:', attention: ':x:' };

function renderRolloutStatus(
  input: Extract<ChatCard, { kind: 'rollout-status' }>['input'],
  interactive: boolean,
): Rendered {
  const view = rolloutStatusView(input);
  const body: SlackBlock[] = [
    header(view.title),
    section(`*${e(view.phaseLine)}*\n${e(view.trafficLine)}\nVerdict: *${e(view.verdictLine)}*`),
  ];
  if (view.hasChecks) {
    body.push(
      ...packLines(
        'Guardrails',
        view.checks.map((c) => `${CHECK_EMOJI[c.color] ?? '•'} *${e(c.metric)}*: ${e(c.detail)}`),
      ),
    );
  }
  if (view.hasSteps)
    body.push(
      ...packLines(
        'Stages',
        view.steps.map((s) => e(s.text)),
      ),
    );
  const footer: SlackBlock[] = [
    context([`${e(view.contractId)} · revision ${view.revision} · updated ${e(view.updatedAt)} UTC`]),
  ];
  if (interactive && view.canAct) {
    const value = buttonValue(input.contractId, input.revision);
    footer.push({
      type: 'actions',
      block_id: `rollout:${input.revision}`,
      elements: [
        button('rollout.pause', view.pauseTitle, value),
        button('rollout.promote', 'Promote', value, 'primary'),
        button('rollout.rollback', 'Roll back', value, 'danger'),
      ],
    });
  }
  return { text: e(`${view.title}: ${view.phaseLine}, ${view.trafficLine}`), body, footer };
}

// ---------------------------------------------------------------------------------------------------------------
// Block helpers, each within Block Kit's limits

function header(text: string): SlackBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(text, BLOCK_LIMITS.headerText), emoji: true } };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, BLOCK_LIMITS.sectionText) } };
}

function divider(): SlackBlock {
  return { type: 'divider' };
}

function context(texts: string[]): SlackBlock {
  return {
    type: 'context',
    elements: texts
      .filter((t) => t !== '')
      .slice(0, BLOCK_LIMITS.contextElements)
      .map((t) => ({ type: 'mrkdwn' as const, text: clip(t, BLOCK_LIMITS.contextText) })),
  };
}

function button(actionId: CardVerb, label: string, value: string, style?: 'primary' | 'danger'): types.Button {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: clip(label, BLOCK_LIMITS.buttonText), emoji: true },
    value: clip(value, BLOCK_LIMITS.buttonValue),
    ...(style ? { style } : {}),
  };
}

/** Sections of at most ten fields each; the first carries the title as its text. */
function fieldSections(title: string | undefined, fields: string[]): SlackBlock[] {
  if (fields.length === 0) return title ? [section(`${title}\n_none_`)] : [];
  const out: SlackBlock[] = [];
  for (let i = 0; i < fields.length; i += BLOCK_LIMITS.fieldsPerSection) {
    const chunk = fields.slice(i, i + BLOCK_LIMITS.fieldsPerSection).map((text) => ({
      type: 'mrkdwn' as const,
      text: clip(text, BLOCK_LIMITS.fieldText),
    }));
    out.push({
      type: 'section',
      ...(i === 0 && title ? { text: { type: 'mrkdwn' as const, text: clip(title, BLOCK_LIMITS.sectionText) } } : {}),
      fields: chunk,
    });
  }
  return out;
}

/** Lines packed into as few sections as the 3,000-character limit allows; the first starts with the title. */
function packLines(title: string | undefined, lines: string[]): SlackBlock[] {
  const max = BLOCK_LIMITS.sectionText;
  const out: SlackBlock[] = [];
  let current = title ? `*${e(title)}*` : '';
  for (const raw of lines) {
    const line = clip(raw, max - 100);
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > max) {
      out.push(section(current));
      current = line;
    } else {
      current = next;
    }
  }
  if (current !== '') out.push(section(current));
  return out;
}

/** Keeps a message within 50 blocks: the footer always stays, the body is cut with a note when it must be. */
export function fitBlocks(body: SlackBlock[], footer: SlackBlock[] = []): SlackBlock[] {
  const max = BLOCK_LIMITS.blocksPerMessage;
  if (body.length + footer.length <= max) return [...body, ...footer];
  const room = max - footer.length - 1;
  const kept = body.slice(0, room);
  const left = body.length - kept.length;
  return [
    ...kept,
    context([`… ${left} more section${left === 1 ? '' : 's'} left out (Slack shows at most ${max} blocks).`]),
    ...footer,
  ];
}
