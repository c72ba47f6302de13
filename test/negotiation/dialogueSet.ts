/**
 * The golden negotiation dialogues (YAML files in test/negotiation/dialogues/): loading, running through a
 * NegotiationService, and checking each turn's outcome. Shared by the offline test and `npm run eval:negotiation`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Contract } from '../../src/domain/model.js';
import type { NegotiationService } from '../../src/negotiation/service.js';
import type { NegotiationOutcome } from '../../src/negotiation/types.js';
import { contractAssessed, contractFixture, contractFromRequest, FIXTURE_NAMES } from './fixtures.js';

export const DIALOGUE_DIR = fileURLToPath(new URL('./dialogues/', import.meta.url));

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.array(z.number())]);

const TurnExpect = z
  .object({
    /** Amendments the engine must accept this turn, in order; each lists `kind` plus any fields to compare. */
    accepted: z.array(z.record(Scalar)).optional(),
    /** Floor / engine rule ids of the refused proposals, in order. */
    refused: z.array(z.string()).optional(),
    /** Case-insensitive substrings the reply must contain (explanations quote numbers and evidence). */
    replyIncludes: z.array(z.string()).optional(),
    replyExcludes: z.array(z.string()).optional(),
    /** Contract revision after the turn. */
    revision: z.number().int().positive().optional(),
  })
  .strict();

const TermsExpect = z
  .object({
    state: z.string().optional(),
    revision: z.number().int().positive().optional(),
    errorRate: z.number().optional(),
    p95: z.number().optional(),
    p99: z.number().optional(),
    windows: z.record(z.number()).optional(),
    firstStep: z.number().nullable().optional(),
    ramp: z.array(z.number()).optional(),
    stepSeconds: z.number().optional(),
    bakeSeconds: z.number().optional(),
    requiredValidators: z.array(z.string()).optional(),
    absentValidators: z.array(z.string()).optional(),
    approvals: z.number().int().optional(),
  })
  .strict();

const RiskFixture = z.object({
  level: z.enum(['low', 'medium', 'high', 'critical']),
  score: z.number(),
  confidence: z.number().optional(),
});

export const DialogueSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** A fixture name from fixtures.ts, or an inline wire-format request (with a fixed risk, or assessed by the real engine). */
    contract: z.string().optional(),
    request: z.record(z.unknown()).optional(),
    risk: RiskFixture.optional(),
    /** What the dialogue exercises: floor, memory, explain, injection, … (for the eval report). */
    tags: z.array(z.string()).default([]),
    turns: z.array(z.object({ user: z.string().min(1), expect: TurnExpect.default({}) }).strict()).min(1),
    final: TermsExpect.optional(),
  })
  .strict()
  .refine((d) => (d.contract === undefined) !== (d.request === undefined), {
    message: 'give either `contract` (a fixture name) or `request` (+ `risk`)',
  });
export type Dialogue = z.infer<typeof DialogueSchema> & { file: string };

export function loadDialogues(dir = DIALOGUE_DIR): Dialogue[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml') || f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const raw = readFileSync(join(dir, file), 'utf8');
    const data: unknown = file.endsWith('.json') ? JSON.parse(raw) : parseYaml(raw);
    const parsed = DialogueSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid dialogue'}`);
    }
    if (parsed.data.contract && !FIXTURE_NAMES.includes(parsed.data.contract)) {
      throw new Error(
        `${file}: contract: unknown fixture "${parsed.data.contract}" (known: ${FIXTURE_NAMES.join(', ')})`,
      );
    }
    return { ...parsed.data, file };
  });
}

export function dialogueContract(d: Dialogue): Contract {
  if (d.contract) return contractFixture(d.contract);
  if (!d.risk) return contractAssessed(d.request);
  return contractFromRequest(d.request, d.risk);
}

export interface TurnResult {
  user: string;
  outcome: NegotiationOutcome;
  /** Failures of the outcome checks (accepted amendments, refused rules, revision). */
  outcomeFailures: string[];
  /** Failures of the reply-text checks (keywords). */
  textFailures: string[];
}

export interface DialogueResult {
  dialogue: Dialogue;
  turns: TurnResult[];
  finalFailures: string[];
  contract: Contract;
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

function matches(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.entries(expected).every(([k, v]) => {
    const got = actual[k];
    if (Array.isArray(v)) return Array.isArray(got) && v.length === got.length && v.every((x, i) => x === got[i]);
    if (typeof v === 'number' && typeof got === 'number') return near(v, got);
    return v === got;
  });
}

export function checkTurn(
  expect: z.infer<typeof TurnExpect>,
  outcome: NegotiationOutcome,
  after: Contract,
): { outcomeFailures: string[]; textFailures: string[] } {
  const outcomeFailures: string[] = [];
  const textFailures: string[] = [];
  const accepted = outcome.proposals.filter((p) => p.decision.allowed).map((p) => p.amendment);
  const refused = outcome.proposals.flatMap((p) => (p.decision.allowed ? [] : [p.decision.rule]));
  const wantAccepted = expect.accepted ?? [];
  if (
    accepted.length !== wantAccepted.length ||
    !wantAccepted.every((w, i) => {
      const got = accepted[i];
      return got !== undefined && matches(w, got as unknown as Record<string, unknown>);
    })
  ) {
    outcomeFailures.push(`accepted ${JSON.stringify(accepted)}; expected ${JSON.stringify(wantAccepted)}`);
  }
  const wantRefused = expect.refused ?? [];
  if (refused.length !== wantRefused.length || !wantRefused.every((r, i) => refused[i] === r)) {
    outcomeFailures.push(`refused ${JSON.stringify(refused)}; expected ${JSON.stringify(wantRefused)}`);
  }
  if (expect.revision !== undefined && after.revision !== expect.revision) {
    outcomeFailures.push(`revision ${after.revision}; expected ${expect.revision}`);
  }
  const reply = outcome.reply.toLowerCase();
  for (const k of expect.replyIncludes ?? []) {
    if (!reply.includes(k.toLowerCase())) textFailures.push(`reply lacks "${k}"`);
  }
  for (const k of expect.replyExcludes ?? []) {
    if (reply.includes(k.toLowerCase())) textFailures.push(`reply contains "${k}"`);
  }
  return { outcomeFailures, textFailures };
}

export function checkFinal(expect: z.infer<typeof TermsExpect> | undefined, c: Contract): string[] {
  if (!expect) return [];
  const f: string[] = [];
  const t = c.terms;
  const g = (m: string) => t.guardrails.find((x) => x.metric === m);
  const eq = (label: string, got: unknown, want: unknown) => {
    const same =
      typeof got === 'number' && typeof want === 'number'
        ? near(got, want)
        : JSON.stringify(got) === JSON.stringify(want);
    if (!same) f.push(`final ${label}: ${JSON.stringify(got)}; expected ${JSON.stringify(want)}`);
  };
  if (expect.state !== undefined) eq('state', c.state, expect.state);
  if (expect.revision !== undefined) eq('revision', c.revision, expect.revision);
  if (expect.errorRate !== undefined) eq('error rate', g('error_rate')?.threshold, expect.errorRate);
  if (expect.p95 !== undefined) eq('p95', g('latency_p95')?.threshold, expect.p95);
  if (expect.p99 !== undefined) eq('p99', g('latency_p99')?.threshold, expect.p99);
  for (const [metric, seconds] of Object.entries(expect.windows ?? {}))
    eq(`${metric} window`, g(metric)?.windowSeconds, seconds);
  if (expect.firstStep !== undefined) eq('first step', t.ramp.steps[0]?.trafficPercent ?? null, expect.firstStep);
  if (expect.ramp !== undefined)
    eq(
      'ramp',
      t.ramp.steps.map((s) => s.trafficPercent),
      expect.ramp,
    );
  if (expect.stepSeconds !== undefined) eq('step duration', t.ramp.steps[0]?.minDurationSeconds, expect.stepSeconds);
  if (expect.bakeSeconds !== undefined) eq('bake', t.ramp.bakeTimeSeconds, expect.bakeSeconds);
  if (expect.approvals !== undefined) eq('approvals', t.approvalsRequired, expect.approvals);
  for (const v of expect.requiredValidators ?? []) {
    if (t.validators.find((x) => x.kind === v)?.requirement !== 'required')
      f.push(`final: validator ${v} is not required`);
  }
  for (const v of expect.absentValidators ?? []) {
    if (t.validators.some((x) => x.kind === v)) f.push(`final: validator ${v} is still present`);
  }
  return f;
}

/** Runs one dialogue through a service (fresh contract, the service's own TurnLog for memory). */
export async function runDialogue(
  d: Dialogue,
  service: NegotiationService,
  actorId = 'dev-1',
): Promise<DialogueResult> {
  let contract = dialogueContract(d);
  const turns: TurnResult[] = [];
  for (const turn of d.turns) {
    const outcome = await service.negotiate({ contract, message: turn.user, actor: { id: actorId, name: 'Dana Dev' } });
    if (outcome.accepted) contract = outcome.accepted.contract;
    turns.push({ user: turn.user, outcome, ...checkTurn(turn.expect, outcome, contract) });
  }
  return { dialogue: d, turns, finalFailures: checkFinal(d.final, contract), contract };
}
