/**
 * Single chat phrasings and what the offline negotiator should make of them: amendments (kind plus the fields to
 * compare), an explanation subject, a refused action, thanks, or, when the text names a term without a usable value,
 * the closest supported phrasing for that term. Shared by the phrasing table test and `npm run eval:negotiation --
 * --phrasings`, which also runs the held-out set in scripts/data/.
 */
import type { Amendment, Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createPolicyEngine } from '../../src/negotiation/engine.js';
import { type Intent, parseMessage, type Topic, topicFromHistory } from '../../src/negotiation/intents.js';
import { OfflineNegotiator } from '../../src/negotiation/offlineNegotiator.js';
import { examplePhrasing } from '../../src/negotiation/phrasing.js';
import { contractFixture } from './fixtures.js';

export type Expectation =
  | { amend: Array<Partial<Amendment> & { kind: Amendment['kind'] }> }
  /** An explain term (error_rate, window, …), a risk factor, or `risk`. */
  | { explain: string }
  | { forbidden: 'approve' | 'reject' | 'promote' | 'rollback' | 'approvals' }
  | { thanks: true }
  /** Not actionable as written: the reply must offer the example phrasing of this topic. */
  | { suggest: Topic };

export interface PhrasingCase {
  text: string;
  expect: Expectation;
  /** The thread's earlier user message, for follow-ups ("what about 20%?"). */
  previous?: string;
  /** A fixture name from fixtures.ts; `search-high` by default. */
  contract?: string;
}

export interface PhrasingResult {
  text: string;
  understood: boolean;
  /** An amendment to a term other than the one asked about. */
  misroute: boolean;
  got: string;
}

/** The term an amendment changes: kind plus metric or validator. */
function termKey(a: Partial<Amendment>): string {
  const extra = 'metric' in a ? a.metric : 'validator' in a ? a.validator : '';
  return `${a.kind}${extra ? `:${extra}` : ''}`;
}

function matches(actual: Amendment, expected: Partial<Amendment>): boolean {
  const { justification: _j, ...rest } = actual;
  return Object.entries(expected).every(
    ([k, v]) => JSON.stringify((rest as Record<string, unknown>)[k]) === JSON.stringify(v),
  );
}

function subjectKey(i: Intent): string | undefined {
  if (i.type !== 'explain') return undefined;
  const s = i.subject;
  return s.kind === 'term' ? s.term : s.kind === 'factor' ? s.factor : s.kind;
}

function describeIntents(intents: Intent[], reply: string): string {
  const parts = intents.map((i) => {
    switch (i.type) {
      case 'amend':
        return `amend ${i.amendments.map((a) => JSON.stringify({ ...a, justification: undefined })).join(' ')}`;
      case 'explain':
        return `explain ${subjectKey(i)}`;
      case 'needs_value':
        return `needs_value ${i.topic.kind}`;
      case 'forbidden':
        return `forbidden ${i.action}`;
      case 'unknown':
        return 'unknown';
      default:
        return i.type;
    }
  });
  return `${parts.join('; ')} | reply: ${reply.split('\n')[0]?.slice(0, 100)}`;
}

export function evaluatePhrasing(c: PhrasingCase): PhrasingResult {
  const contract: Contract = contractFixture(c.contract ?? 'search-high');
  const previous = c.previous ? topicFromHistory([c.previous]) : undefined;
  const intents = parseMessage(c.text, contract, previous).intents;
  const negotiator = new OfflineNegotiator({ engine: createPolicyEngine(DEFAULT_POLICY) });
  const outcome = negotiator.negotiateSync({
    contract,
    message: c.text,
    actor: { id: 'u-eval' },
    history: c.previous
      ? [{ contractId: contract.id, revision: 1, role: 'user', actor: 'u-eval', text: c.previous, at: '' }]
      : [],
  });
  const proposed = outcome.proposals.map((p) => p.amendment);
  const e = c.expect;
  const expectedTerms = new Set('amend' in e ? e.amend.map(termKey) : []);
  const misroute = proposed.some((a) => !expectedTerms.has(termKey(a)));
  let understood: boolean;
  if ('amend' in e) {
    understood = proposed.length === e.amend.length && e.amend.every((x, i) => matches(proposed[i] as Amendment, x));
  } else if ('explain' in e) {
    understood = intents.some((i) => subjectKey(i) === e.explain);
  } else if ('forbidden' in e) {
    understood = intents.some((i) => i.type === 'forbidden' && i.action === e.forbidden);
  } else if ('thanks' in e) {
    understood = intents.length > 0 && intents.every((i) => i.type === 'thanks');
  } else {
    understood = proposed.length === 0 && outcome.reply.includes(examplePhrasing(e.suggest));
  }
  return { text: c.text, understood, misroute, got: describeIntents(intents, outcome.reply) };
}
