/**
 * The model's own words never speak for the engine. Only the policy engine accepts terms (the bot renders its
 * decisions), and only approvers approve; rollouts are driven by the guardian. A clause of model prose that claims an
 * acceptance, an approval, a promotion, a rollback or a new revision is removed before anything is shown, whether the
 * text arrives whole or streamed (a sentence is released only once complete, then filtered clause by clause), so the
 * rest of the negotiator's explanation survives.
 */

/** Words by which prose claims an outcome only the engine, approvers or the guardian can produce. */
const ENGINE_CLAIM =
  /[✅✔☑]|\b(?:accepted|approved|promoted|rolled[ -]back|rolling back now|applied|granted|agreed to|signed off)\b|\b(?:I|we)(?:'ve| have)? (?:accept|approve|promote|roll back)\b|\bnow (?:at )?revision\b|\brevision \d+ (?:is|has)\b|\bapprovals? (?:no longer count|(?:are|were|have been) (?:voided|reset))/i;

/** A sentence: up to and including its end mark when whitespace follows, or up to and including a line break. */
const SENTENCE = /[\s\S]*?(?:[.!?]+(?=\s)|\n)/y;

/**
 * Where one clause ends and the next begins: a comma, semicolon, colon or ellipsis before a space, a spaced dash, or
 * a coordinating word that starts a new clause with its own subject ("…, and I have accepted it").
 */
const CLAUSE_BREAK =
  /(\s*(?:[,;:]|\.\.\.|…)\s+|\s+[—–-]\s+|\s+(?=(?:and|but|so|then|which|while|whereas)\s+(?:I|I've|I'm|we|we've|it|it's|this|that|the contract|your|you)\b))/i;

const LEADING_CONJUNCTION = /^(?:and|but|so|then|which|while|whereas)\s+/i;

export function claimsEngineOutcome(text: string): boolean {
  return ENGINE_CLAIM.test(text);
}

/**
 * One sentence without its claiming clauses. A claiming clause that ends in a colon is a label for what follows it
 * ("✅ Accepted: error rate → 5 %"), so the rest of the sentence goes with it. Returns the sentence unchanged when it
 * claims nothing, and the number of clauses removed.
 */
export function withoutClaimingClauses(sentence: string): { text: string; removed: number } {
  if (!claimsEngineOutcome(sentence)) return { text: sentence, removed: 0 };
  const [, lead = '', body = '', end = ''] = /^(\s*)([\s\S]*?)([.!?]*\s*)$/.exec(sentence) ?? [];
  const parts = body.split(CLAUSE_BREAK);
  const kept: string[] = [];
  let removed = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const clause = parts[i] ?? '';
    const breakAfter = parts[i + 1] ?? '';
    if (claimsEngineOutcome(clause)) {
      removed += 1;
      if (/^\s*:\s/.test(breakAfter)) {
        removed += Math.floor((parts.length - i - 1) / 2);
        break;
      }
      continue;
    }
    if (clause.trim().length === 0) continue;
    kept.push(kept.length === 0 ? clause : `${parts[i - 1] ?? ' '}${clause}`);
  }
  if (kept.length === 0) return { text: '', removed };
  let text = kept.join('').replace(LEADING_CONJUNCTION, '');
  text = text.charAt(0).toUpperCase() + text.slice(1);
  const mark = /[.!?]/.test(end) ? end : `.${end}`;
  return { text: `${lead}${text}${mark}`, removed };
}

/** Filters prose as it streams in: `push` returns what may be shown now, `flush` the rest at the end of the text. */
export class ProseFilter {
  private buffer = '';
  private shown = false;
  /** Claiming clauses removed so far. */
  removed = 0;

  push(chunk: string): string {
    this.buffer += chunk;
    let out = '';
    let consumed = 0;
    SENTENCE.lastIndex = 0;
    for (let match = SENTENCE.exec(this.buffer); match; match = SENTENCE.exec(this.buffer)) {
      if (match[0].length === 0) break;
      out += this.keep(match[0]);
      consumed = SENTENCE.lastIndex;
    }
    this.buffer = this.buffer.slice(consumed);
    return out;
  }

  flush(): string {
    const rest = this.buffer;
    this.buffer = '';
    return rest.length > 0 ? this.keep(rest) : '';
  }

  private keep(sentence: string): string {
    const filtered = withoutClaimingClauses(sentence);
    this.removed += filtered.removed;
    const text = this.shown ? filtered.text : filtered.text.replace(/^\s+/, '');
    if (text.length > 0) this.shown = true;
    return text;
  }
}

/** The whole text without its engine claims (the same clauses a streamed ProseFilter would remove). */
export function withoutEngineClaims(text: string): { text: string; removed: number } {
  const filter = new ProseFilter();
  const kept = filter.push(text) + filter.flush();
  return { text: kept, removed: filter.removed };
}
