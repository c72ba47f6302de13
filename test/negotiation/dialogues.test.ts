import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createPolicyEngine } from '../../src/negotiation/engine.js';
import { OfflineNegotiator } from '../../src/negotiation/offlineNegotiator.js';
import { NegotiationService } from '../../src/negotiation/service.js';
import { InMemoryTurnLog } from '../../src/negotiation/turnLog.js';
import { loadDialogues, runDialogue } from './dialogueSet.js';
import { FIXED_NOW } from './fixtures.js';

const dialogues = loadDialogues();

describe('golden negotiation dialogues (offline)', () => {
  it('has at least 30 dialogues', () => {
    expect(dialogues.length).toBeGreaterThanOrEqual(30);
  });

  it.each(dialogues.map((d) => [d.file, d] as const))('%s', async (_file, dialogue) => {
    const turns = new InMemoryTurnLog();
    const service = new NegotiationService({
      turns,
      offline: new OfflineNegotiator({ engine: createPolicyEngine(DEFAULT_POLICY) }),
      clock: () => FIXED_NOW,
    });
    const result = await runDialogue(dialogue, service);
    const failures = [
      ...result.turns.flatMap((t, i) =>
        [...t.outcomeFailures, ...t.textFailures].map(
          (f) => `turn ${i + 1} “${t.user}”: ${f}\n--- reply ---\n${t.outcome.reply}`,
        ),
      ),
      ...result.finalFailures,
    ];
    expect(failures).toEqual([]);
    expect(result.turns.every((t) => t.outcome.mode === 'offline')).toBe(true);
    // Every turn is stored, user and bot, in order.
    const stored = await turns.list(result.contract.id);
    expect(stored.map((t) => t.role)).toEqual(dialogue.turns.flatMap(() => ['user', 'assistant']));
  });
});
