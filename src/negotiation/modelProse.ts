/**
 * The model's own words never speak for the engine. Only the policy engine accepts terms (the bot renders its
 * decisions), and only approvers approve; rollouts are driven by the guardian. A model sentence that claims an
 * acceptance, an approval, a promotion, a rollback or a new revision is dropped before anything is shown, whether the
 * text arrives whole or streamed (sentences are released only once complete).
 */

/** Words by which prose claims an outcome only the engine, approvers or the guardian can produce. */
const ENGINE_CLAIM =
  /[✅✔☑]|\b(?:accepted|approved|promoted|rolled[ -]back|rolling back now|applied|granted|agreed to|signed off)\b|\bnow (?:at )?revision\b|\brevision \d+ (?:is|has)\b/i;

/** A sentence: up to and including its end mark when whitespace follows, or up to and including a line break. */
const SENTENCE = /[\s\S]*?(?:[.!?]+(?=\s)|\n)/y;

export function claimsEngineOutcome(sentence: string): boolean {
  return ENGINE_CLAIM.test(sentence);
}

/** Filters prose as it streams in: `push` returns what may be shown now, `flush` the rest at the end of the text. */
export class ProseFilter {
  private buffer = '';
  private shown = false;
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
    if (claimsEngineOutcome(sentence)) {
      this.removed += 1;
      return '';
    }
    const text = this.shown ? sentence : sentence.replace(/^\s+/, '');
    if (text.length > 0) this.shown = true;
    return text;
  }
}

/** The whole text without its engine claims (the same sentences a streamed ProseFilter would drop). */
export function withoutEngineClaims(text: string): { text: string; removed: number } {
  const filter = new ProseFilter();
  const kept = filter.push(text) + filter.flush();
  return { text: kept, removed: filter.removed };
}
