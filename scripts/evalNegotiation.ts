/**
 * Runs the golden negotiation dialogues (test/negotiation/dialogues/) against the configured real model and prints
 * how often its outcomes agree with the expected ones: accepted amendments, refused floor rules and revision per turn
 * ("outcome"), and the expected keywords in the reply ("text"). Turns that fell back to offline are counted apart.
 *
 *   npm run eval:negotiation                 # needs AZURE_OPENAI_* or OPENAI_* in the environment
 *   npm run eval:negotiation -- --offline    # the same report for the offline negotiator
 *   npm run eval:negotiation -- --only 23    # dialogues whose file name contains "23"
 *   npm run eval:negotiation -- --phrasings  # single phrasings, offline: the tuning table and the held-out set
 *
 * Without credentials it says so and exits 0.
 */
import { loadConfig } from '../src/config/config.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { createNegotiationService, type NegotiationError } from '../src/negotiation/index.js';
import { InMemoryTurnLog } from '../src/negotiation/turnLog.js';
import { type DialogueResult, loadDialogues, runDialogue } from '../test/negotiation/dialogueSet.js';
import { evaluatePhrasing, type PhrasingCase } from '../test/negotiation/phrasingSet.js';
import { PHRASINGS } from '../test/negotiation/phrasings.js';
import { HELD_OUT_PHRASINGS } from './data/heldOutPhrasings.js';

const args = process.argv.slice(2);
const offlineOnly = args.includes('--offline');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;

function pct(n: number, d: number): string {
  return d === 0 ? 'n/a' : `${((n / d) * 100).toFixed(1)} %`;
}

/** One line per set: understood (or answered with the right closest phrasing) and misroutes; misses listed. */
function reportPhrasings(name: string, cases: PhrasingCase[]): void {
  const results = cases.map(evaluatePhrasing);
  const understood = results.filter((r) => r.understood).length;
  const misroutes = results.filter((r) => r.misroute).length;
  console.log(
    `${name}: understood ${understood}/${results.length} (${pct(understood, results.length)}), misroutes ${misroutes}`,
  );
  for (const r of results) {
    if (!r.understood || r.misroute) console.log(`  ${r.misroute ? 'MISROUTE' : 'missed  '} “${r.text}” → ${r.got}`);
  }
}

async function main(): Promise<number> {
  if (args.includes('--phrasings')) {
    reportPhrasings('tuning table (test/negotiation/phrasings.ts)', PHRASINGS);
    reportPhrasings('held-out set (scripts/data/heldOutPhrasings.ts)', HELD_OUT_PHRASINGS);
    return 0;
  }
  let model: Parameters<typeof createNegotiationService>[0]['model'] = { provider: 'offline' };
  let timeoutMs: number | undefined;
  if (!offlineOnly) {
    try {
      const config = loadConfig(process.env);
      model = config.model;
      timeoutMs = config.negotiationTimeoutMs;
    } catch (error) {
      console.error(`configuration error: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    if (model.provider === 'offline') {
      console.log(
        'No model credentials in the environment (AZURE_OPENAI_ENDPOINT + AZURE_OPENAI_DEPLOYMENT + AZURE_OPENAI_API_KEY or AZURE_OPENAI_USE_ENTRA=true, or OPENAI_MODEL + OPENAI_API_KEY / OPENAI_BASE_URL): nothing to evaluate. Use --offline to run the set offline.',
      );
      return 0;
    }
  }

  const dialogues = loadDialogues().filter((d) => !only || d.file.includes(only));
  const target =
    model.provider === 'azure-openai'
      ? `Azure OpenAI deployment ${model.deployment} (${model.auth.kind})`
      : model.provider === 'openai-compatible'
        ? `OpenAI-compatible model ${model.model}`
        : 'offline negotiator';
  console.log(`Evaluating ${dialogues.length} dialogues against ${target}\n`);

  let turns = 0;
  let outcomeAgree = 0;
  let textAgree = 0;
  let textChecked = 0;
  let fallbacks = 0;
  let finalsAgree = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  const latencies: number[] = [];
  const results: DialogueResult[] = [];

  for (const dialogue of dialogues) {
    const fallbackErrors: NegotiationError[] = [];
    const service = createNegotiationService({
      model,
      policy: DEFAULT_POLICY,
      turns: new InMemoryTurnLog(),
      ...(timeoutMs ? { timeoutMs } : {}),
      onFallback: (e) => fallbackErrors.push(e),
    });
    const result = await runDialogue(dialogue, service);
    results.push(result);
    let dialogueOk = result.finalFailures.length === 0;
    for (const [i, t] of result.turns.entries()) {
      turns++;
      latencies.push(t.outcome.latencyMs);
      promptTokens += t.outcome.usage?.promptTokens ?? 0;
      completionTokens += t.outcome.usage?.completionTokens ?? 0;
      if (t.outcome.fallbackNote) fallbacks++;
      if (t.outcomeFailures.length === 0) outcomeAgree++;
      else dialogueOk = false;
      const expectsText =
        (dialogue.turns[i]?.expect.replyIncludes?.length ?? 0) +
          (dialogue.turns[i]?.expect.replyExcludes?.length ?? 0) >
        0;
      if (expectsText) {
        textChecked++;
        if (t.textFailures.length === 0) textAgree++;
      }
    }
    if (result.finalFailures.length === 0) finalsAgree++;
    const mark = dialogueOk ? 'agree   ' : 'DISAGREE';
    console.log(`${mark} ${dialogue.file}  ${dialogue.name}`);
    if (!dialogueOk) {
      for (const [i, t] of result.turns.entries()) {
        for (const f of t.outcomeFailures) console.log(`           turn ${i + 1} “${t.user}”: ${f}`);
      }
      for (const f of result.finalFailures) console.log(`           ${f}`);
    }
    for (const e of fallbackErrors) console.log(`           fell back: ${e.code}: ${e.message}`);
  }

  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? Number.NaN;
  console.log('');
  console.log(`turn outcomes agreeing:     ${outcomeAgree}/${turns} (${pct(outcomeAgree, turns)})`);
  console.log(`reply keywords agreeing:    ${textAgree}/${textChecked} (${pct(textAgree, textChecked)})`);
  console.log(`final contracts agreeing:   ${finalsAgree}/${results.length} (${pct(finalsAgree, results.length)})`);
  console.log(`turns answered by fallback: ${fallbacks}/${turns}`);
  console.log(`latency per turn: median ${p(0.5).toFixed(0)} ms, p95 ${p(0.95).toFixed(0)} ms`);
  if (promptTokens + completionTokens > 0) {
    console.log(`tokens: ${promptTokens} prompt + ${completionTokens} completion`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
