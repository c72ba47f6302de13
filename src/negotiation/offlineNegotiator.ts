/**
 * The offline negotiator (the embedded default): deterministic intent parsing, the same engine checks as the model
 * path, and explanations that quote the contract. Multi-turn memory: a bare value ("what about 20%?") applies to the
 * term the thread discussed last.
 */
import type { Contract } from '../domain/model.js';
import { describeDecisions, formatDuration, METRIC_LABEL, num, rampText, VALIDATOR_LABEL } from './describe.js';
import { type AmendmentEngine, ProposalLedger } from './engine.js';
import { explain } from './explain.js';
import { type Intent, parseMessage, type Topic, topicFromHistory } from './intents.js';
import { examplePhrasing } from './phrasing.js';
import type { NegotiationInput, NegotiationOutcome, Negotiator } from './types.js';

export const OFFLINE_HELP = [
  'I can change the contract within the policy floor, or explain it. For example:',
  '• “start the canary at 25%” or “ramp 10, 25, 50”',
  '• “raise the error threshold to 0.4%”, “p95 to 350ms”, “p99 to 900 ms”',
  '• “extend the window to 10 minutes”, “bake for 30 min”, “each step 10 minutes”',
  '• “halve the bake”, “double the first step”, “one step less”',
  '• “add a feature flag” (or “we have a feature flag”), “drop the canary”',
  '• “why is this high risk?”, “what does p99 mean?”, “why the database migration?”',
  'Approving, rejecting, promoting and rolling back happen on the contract card, not in this chat.',
].join('\n');

const FORBIDDEN_REPLY: Record<string, string> = {
  approve:
    'I cannot approve (or mark approved) anything, whatever the message says: approvers do that with the Approve button on the contract card.',
  reject: 'I cannot reject a contract: approvers do that with the Reject button on the contract card.',
  promote: 'I cannot promote a rollout: the on-call uses Promote on the rollout card once the guardrails pass.',
  rollback: 'I cannot roll back from a negotiation: use “Roll back now” on the rollout card or `@chaos rollback <id>`.',
  approvals:
    'The number of approvals is set by policy for the risk level and is not negotiable in chat; approvals happen on the card.',
};

export interface OfflineNegotiatorOptions {
  engine: AmendmentEngine;
  /** Wall clock for latency figures; injected so benchmarks and tests control it. */
  now?: () => number;
}

export class OfflineNegotiator implements Negotiator {
  readonly mode = 'offline' as const;
  private readonly engine: AmendmentEngine;
  private readonly now: () => number;

  constructor(options: OfflineNegotiatorOptions) {
    this.engine = options.engine;
    this.now = options.now ?? (() => performance.now());
  }

  async negotiate(input: NegotiationInput): Promise<NegotiationOutcome> {
    return this.negotiateSync(input);
  }

  negotiateSync(input: NegotiationInput): NegotiationOutcome {
    const started = this.now();
    const previous = topicFromHistory(input.history.filter((t) => t.role === 'user').map((t) => t.text));
    const parsed = parseMessage(input.message, input.contract, previous);
    const ledger = new ProposalLedger(this.engine, input.contract, input.actor.id);

    const sections: string[] = [];
    const notes: string[] = [];
    const intents = parsed.intents.filter((i) => i.type !== 'unknown');
    const guesses = parsed.intents.flatMap((i) => (i.type === 'unknown' && i.suggestion ? [i] : []));
    for (const intent of intents) {
      if (intent.type === 'amend') {
        for (const a of intent.amendments) ledger.decide(a);
        notes.push(...intent.notes);
      }
    }
    const accepted = ledger.accepted();
    const after = accepted?.contract ?? input.contract;

    if (ledger.proposals.length > 0) {
      sections.push(describeDecisions(ledger.proposals, accepted?.diff ?? [], after).join('\n'));
      const floorRefusal = ledger.proposals.some((p) => !p.decision.allowed && p.decision.rule.startsWith('floor.'));
      if (floorRefusal) {
        sections.push(
          'The policy floor for this risk level is not negotiable; name a value within it and I will apply it.',
        );
      }
      if (accepted) {
        sections.push(
          `Contract is now at revision ${after.revision}; approvals given on an earlier revision no longer count.`,
        );
      }
      if (notes.length > 0) sections.push([...new Set(notes)].join(' '));
    }

    const explained = new Set<string>();
    for (const intent of intents) {
      if (intent.type === 'explain') {
        const key = JSON.stringify(intent.subject);
        if (explained.has(key)) continue;
        explained.add(key);
        sections.push(explain(after, intent.subject));
      } else if (intent.type === 'needs_value') {
        sections.push(needsValueText(after, intent.topic, intent.reason));
      }
    }
    const forbidden = new Set(intents.filter((i) => i.type === 'forbidden').map((i) => i.action));
    for (const action of forbidden) sections.push(FORBIDDEN_REPLY[action] ?? '');

    const onlyThanks = intents.length > 0 && intents.every((i) => i.type === 'thanks');
    if (onlyThanks) {
      sections.push(
        `You're welcome. Revision ${after.revision} of the contract is on the card, ready for approval (${after.terms.approvalsRequired} needed${after.terms.excludeAuthor ? ', not the author' : ''}).`,
      );
    }
    if (sections.length === 0 && guesses.length > 0) {
      // Understood nothing, but the words point at a term: offer the phrasing for that term.
      for (const g of guesses) {
        const suggestion = g.suggestion as Topic;
        sections.push(
          `I did not understand “${g.text}”. The closest request I support is ${examplePhrasing(suggestion)}; try that with the value you want.`,
        );
      }
    } else if (sections.length === 0) {
      sections.push(`I did not understand that message; try one of these.\n${OFFLINE_HELP}`);
    } else if (forbidden.size > 0 && ledger.proposals.length === 0 && !intents.some(isExplain)) {
      sections.push(OFFLINE_HELP);
    }

    const outcome: NegotiationOutcome = {
      reply: sections.filter((s) => s.length > 0).join('\n\n'),
      proposals: ledger.proposals,
      mode: 'offline',
      latencyMs: this.now() - started,
    };
    if (accepted) outcome.accepted = accepted;
    return outcome;
  }
}

function isExplain(i: Intent): boolean {
  return i.type === 'explain';
}

function needsValueText(contract: Contract, topic: Topic, reason: string): string {
  const t = contract.terms;
  const g = (m: 'error_rate' | 'latency_p95' | 'latency_p99') => t.guardrails.find((x) => x.metric === m);
  switch (topic.kind) {
    case 'threshold': {
      const current = g(topic.metric);
      return `Which value for the ${METRIC_LABEL[topic.metric]} guardrail (${reason})? It is currently ${current ? `< ${num(current.threshold)} ${current.unit}` : 'not set'}. Say for example ${examplePhrasing(topic)}.`;
    }
    case 'window':
      return `How long should the window be (${reason})? Currently ${t.guardrails.map((x) => `${METRIC_LABEL[x.metric]} ${formatDuration(x.windowSeconds)}`).join(', ')}. Say for example ${examplePhrasing(topic)}.`;
    case 'bake':
      return `How long should the bake be (${reason})? Currently ${formatDuration(t.ramp.bakeTimeSeconds)}. Say for example ${examplePhrasing(topic)}.`;
    case 'step_duration':
      return `How long should each canary step last (${reason})? Currently ${formatDuration(t.ramp.steps[0]?.minDurationSeconds ?? 0)}. Say for example ${examplePhrasing(topic)}.`;
    case 'first_step':
      return `Which share of traffic should the canary start with (${reason})? The ramp is ${rampText(contract)}. Say for example ${examplePhrasing(topic)}.`;
    case 'ramp':
      return `Which steps (${reason})? The ramp is ${rampText(contract)}. Say for example ${examplePhrasing(topic)} or “one step less”.`;
    case 'validator':
      return `Should I add or drop the ${VALIDATOR_LABEL[topic.validator]} validator (${reason})? Say ${examplePhrasing(topic)}.`;
  }
}
