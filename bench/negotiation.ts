/**
 * Negotiation benchmark: offline turns per second and turn latency, and the model-mode overhead (prompt building,
 * token counting, the real openai client, tool validation, engine decisions, TurnLog) against a local fake server
 * that answers at once. Goal: model-mode overhead p99 < 30 ms.
 *
 *   npm run bench:negotiation [-- --turns 5000 --model-turns 500]
 */
import OpenAI from 'openai';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { createPolicyEngine } from '../src/negotiation/engine.js';
import { createNegotiationService } from '../src/negotiation/index.js';
import { OfflineNegotiator } from '../src/negotiation/offlineNegotiator.js';
import { InMemoryTurnLog } from '../src/negotiation/turnLog.js';
import { startFakeOpenAI, toolCall } from '../test/harness/fakeOpenAI.js';
import { loadDialogues } from '../test/negotiation/dialogueSet.js';
import { contractFixture, FIXTURE_NAMES } from '../test/negotiation/fixtures.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

function summary(label: string, samples: number[], totalMs?: number): void {
  const s = [...samples].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(3).padStart(8);
  const rate = totalMs ? `  ${((samples.length / totalMs) * 1000).toFixed(0).padStart(7)} turns/s` : '';
  console.log(
    `${label.padEnd(44)} n=${String(samples.length).padStart(5)}  median ${f(quantile(s, 0.5))} ms  p95 ${f(quantile(s, 0.95))} ms  p99 ${f(quantile(s, 0.99))} ms  max ${f(s.at(-1) ?? Number.NaN)} ms${rate}`,
  );
}

const messages = loadDialogues().flatMap((d) => d.turns.map((t) => t.user));
const contracts = FIXTURE_NAMES.map((n) => contractFixture(n));
const actor = { id: 'bench-user' };

// ---------------------------------------------------------------------------------------------------------------
// Offline

const offline = new OfflineNegotiator({ engine: createPolicyEngine(DEFAULT_POLICY) });
const offlineTurns = arg('turns', 5000);
for (let i = 0; i < 500; i++) {
  offline.negotiateSync({
    contract: contracts[i % contracts.length]!,
    message: messages[i % messages.length]!,
    actor,
    history: [],
  });
}
const offlineSamples: number[] = [];
const offlineStart = performance.now();
for (let i = 0; i < offlineTurns; i++) {
  const t0 = performance.now();
  offline.negotiateSync({
    contract: contracts[i % contracts.length]!,
    message: messages[i % messages.length]!,
    actor,
    history: [],
  });
  offlineSamples.push(performance.now() - t0);
}
const offlineTotal = performance.now() - offlineStart;

console.log(
  `negotiation benchmark — ${messages.length} distinct messages from the golden dialogues, ${contracts.length} contracts`,
);
console.log('');
summary('offline negotiator (parse + engine + reply)', offlineSamples, offlineTotal);

// Offline through the service: TurnLog read + two appends per turn, threads of 10 turns.
let offlineService = createNegotiationService({
  model: { provider: 'offline' },
  policy: DEFAULT_POLICY,
  turns: new InMemoryTurnLog(),
});
const serviceSamples: number[] = [];
const serviceStart = performance.now();
for (let i = 0; i < Math.min(offlineTurns, 2000); i++) {
  if (i % 50 === 0) {
    offlineService = createNegotiationService({
      model: { provider: 'offline' },
      policy: DEFAULT_POLICY,
      turns: new InMemoryTurnLog(),
    });
  }
  const t0 = performance.now();
  await offlineService.negotiate({
    contract: contracts[i % contracts.length]!,
    message: messages[i % messages.length]!,
    actor,
  });
  serviceSamples.push(performance.now() - t0);
}
summary('offline via NegotiationService (in-memory log)', serviceSamples, performance.now() - serviceStart);

// ---------------------------------------------------------------------------------------------------------------
// Model mode against a fake that answers at once

const fake = await startFakeOpenAI();
const modelTurns = arg('model-turns', 500);
const amendArgs = {
  kind: 'set_first_canary_step',
  metric: null,
  value: null,
  windowSeconds: null,
  percent: 20,
  steps: null,
  seconds: null,
  validator: null,
  justification: 'bench',
};

// Threads of 10 turns (memory is part of the cost), fresh contract each thread.
async function modelRun(
  label: string,
  script: 'text' | 'tool' | 'stream',
  provider: 'openai' | 'azure',
): Promise<number[]> {
  const make = () =>
    createNegotiationService({
      model:
        provider === 'azure'
          ? {
              provider: 'azure-openai',
              endpoint: fake.url,
              deployment: 'bench',
              apiVersion: '2024-10-21',
              auth: { kind: 'api-key', apiKey: 'k' },
            }
          : { provider: 'openai-compatible', baseUrl: fake.baseURL, apiKey: 'k', model: 'bench' },
      policy: DEFAULT_POLICY,
      turns: new InMemoryTurnLog(),
    });
  let service = make();
  fake.setDefault((request) => {
    const hasTool = request.body.messages.some((m) => m.role === 'tool');
    if (script === 'stream')
      return {
        kind: 'stream',
        pieces: ['The canary ', 'starts at ', '10 %.'],
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      };
    if (script === 'tool' && !hasTool)
      return { kind: 'completion', toolCalls: [toolCall('propose_amendment', amendArgs)] };
    return { kind: 'completion', content: 'Done.' };
  });
  const contract = contractFixture('search-high');
  const samples: number[] = [];
  for (let i = 0; i < modelTurns + 50; i++) {
    if (i % 10 === 0) service = make();
    const t0 = performance.now();
    const outcome = await service.negotiate({
      contract,
      message: 'can we start the canary at 20%?',
      actor,
      ...(script === 'stream' ? { onStreamChunk: () => undefined } : {}),
    });
    if (outcome.mode !== 'model') throw new Error(`fell back: ${outcome.fallbackNote}`);
    if (i >= 50) samples.push(performance.now() - t0);
    fake.reset();
  }
  summary(label, samples);
  return samples;
}

// Baseline: the bare openai client round trip to the same fake (what any model call costs before our code).
{
  const client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'k', maxRetries: 0 });
  fake.setDefault({ kind: 'completion', content: 'Done.' });
  const samples: number[] = [];
  for (let i = 0; i < modelTurns + 50; i++) {
    const t0 = performance.now();
    await client.chat.completions.create({ model: 'bench', messages: [{ role: 'user', content: 'hi' }] });
    if (i >= 50) samples.push(performance.now() - t0);
    fake.reset();
  }
  console.log('');
  summary('baseline: bare openai client call, tiny prompt', samples);
}

console.log('');
console.log('model mode, fake server answering at once (overhead = whole turn: prompt, HTTP, validation, engine, log)');
const text = await modelRun('model: text answer, 1 call (OpenAI path)', 'text', 'openai');
const tool = await modelRun('model: tool call + answer, 2 calls (Azure)', 'tool', 'azure');
const stream = await modelRun('model: streamed answer, 1 call (Azure)', 'stream', 'azure');
await fake.close();

const p99 = Math.max(
  ...[text, tool, stream].map((s) =>
    quantile(
      [...s].sort((a, b) => a - b),
      0.99,
    ),
  ),
);
const offP50 = quantile(
  [...offlineSamples].sort((a, b) => a - b),
  0.5,
);
console.log('');
console.log(
  `offline: ${((offlineTurns / offlineTotal) * 1000).toFixed(0)} turns/s, p99 ${quantile(
    [...offlineSamples].sort((a, b) => a - b),
    0.99,
  ).toFixed(3)} ms`,
);
console.log(
  `model-mode overhead p99 (worst of the three): ${p99.toFixed(2)} ms — goal < 30 ms: ${p99 < 30 ? 'met' : 'NOT met'}`,
);
console.log(
  `model vs offline median ratio (text answer): ${(
    quantile(
      [...text].sort((a, b) => a - b),
      0.5,
    ) / offP50
  ).toFixed(1)}×`,
);
