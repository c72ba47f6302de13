/**
 * The only things the model can do: propose an amendment, explain a term or factor, ask a question. Tool schemas
 * are generated from zod with `zodFunction` (strict mode). The amendment tool is one flat object with nullable fields
 * because strict tool schemas reject the keywords a discriminated union produces (ranges, defaults, $refs); every
 * call is then validated against the domain's AmendmentSchema. There is deliberately no approve, reject, promote or
 * rollback tool.
 */
import { zodFunction } from 'openai/helpers/zod';
import { z } from 'zod';
import { type Amendment, AmendmentSchema, GUARDRAIL_METRICS, RISK_FACTORS, VALIDATOR_KINDS } from '../domain/model.js';
import { EXPLAIN_TERMS, type ExplainSubject, isRiskFactor } from './explain.js';

export const AMENDMENT_KINDS = [
  'set_guardrail_threshold',
  'set_guardrail_window',
  'set_first_canary_step',
  'set_ramp_steps',
  'set_step_duration',
  'set_bake_time',
  'add_validator',
  'remove_validator',
] as const satisfies readonly Amendment['kind'][];

export const ProposeAmendmentArgs = z
  .object({
    kind: z
      .enum(AMENDMENT_KINDS)
      .describe(
        'set_guardrail_threshold (metric, value) | set_guardrail_window (metric, windowSeconds) | set_first_canary_step (percent) | set_ramp_steps (steps) | set_step_duration (seconds) | set_bake_time (seconds) | add_validator (validator) | remove_validator (validator)',
      ),
    metric: z
      .enum(GUARDRAIL_METRICS)
      .nullable()
      .describe('guardrail metric, for set_guardrail_threshold and set_guardrail_window'),
    value: z
      .number()
      .nullable()
      .describe('new guardrail threshold: percent for error_rate (0.3 means 0.3 %), milliseconds for latency'),
    windowSeconds: z.number().int().nullable().describe('guardrail evaluation window in seconds'),
    percent: z.number().nullable().describe('traffic share of the first canary step, in percent (0-100)'),
    steps: z
      .array(z.number())
      .nullable()
      .describe('canary traffic steps in percent, strictly increasing, each below 100 (100 % follows the last step)'),
    seconds: z.number().int().nullable().describe('duration in seconds for set_step_duration and set_bake_time'),
    validator: z.enum(VALIDATOR_KINDS).nullable().describe('validator for add_validator and remove_validator'),
    justification: z.string().describe('why, in the words of the developer; empty string if none given'),
  })
  .describe('Propose one change to the contract terms. The policy engine accepts or refuses it.');
export type ProposeAmendmentArgs = z.infer<typeof ProposeAmendmentArgs>;

export const EXPLAIN_SUBJECTS = ['risk', 'contract', ...RISK_FACTORS, ...EXPLAIN_TERMS] as const;

export const ExplainArgs = z
  .object({
    subject: z
      .enum(EXPLAIN_SUBJECTS)
      .describe('risk (why this risk level), contract (all terms), a risk factor id, or a contract term'),
  })
  .describe('Get the explanation of a risk factor or a contract term, with this contract’s numbers and evidence.');

export const AskQuestionArgs = z
  .object({ question: z.string().describe('one short question for the developer') })
  .describe('Ask the developer a clarifying question when the request is ambiguous.');

export const TOOL_NAMES = ['propose_amendment', 'explain', 'ask_question'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export const NEGOTIATION_TOOLS = [
  zodFunction({ name: 'propose_amendment', parameters: ProposeAmendmentArgs }),
  zodFunction({ name: 'explain', parameters: ExplainArgs }),
  zodFunction({ name: 'ask_question', parameters: AskQuestionArgs }),
];

export type ToolAction =
  | { tool: 'propose_amendment'; amendment: Amendment }
  | { tool: 'explain'; subject: ExplainSubject }
  | { tool: 'ask_question'; question: string };

export type ParsedToolCall = { ok: true; action: ToolAction } | { ok: false; error: string };

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 4)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
}

const REQUIRED_FIELDS: Record<Amendment['kind'], (keyof ProposeAmendmentArgs)[]> = {
  set_guardrail_threshold: ['metric', 'value'],
  set_guardrail_window: ['metric', 'windowSeconds'],
  set_first_canary_step: ['percent'],
  set_ramp_steps: ['steps'],
  set_step_duration: ['seconds'],
  set_bake_time: ['seconds'],
  add_validator: ['validator'],
  remove_validator: ['validator'],
};

/** Flat tool arguments → a validated Amendment, or the reason it is not one (sent back to the model). */
export function toAmendment(
  args: ProposeAmendmentArgs,
): { ok: true; amendment: Amendment } | { ok: false; error: string } {
  const fields = REQUIRED_FIELDS[args.kind];
  const missing = fields.filter((f) => args[f] === null || args[f] === undefined);
  if (missing.length > 0) return { ok: false, error: `${args.kind} needs ${missing.join(' and ')} (got null)` };
  const candidate: Record<string, unknown> = { kind: args.kind, justification: args.justification.slice(0, 2000) };
  for (const f of fields) candidate[f] = args[f];
  const parsed = AmendmentSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, error: issuesText(parsed.error) };
  return { ok: true, amendment: parsed.data };
}

function subjectOf(subject: (typeof EXPLAIN_SUBJECTS)[number]): ExplainSubject {
  if (subject === 'risk' || subject === 'contract') return { kind: subject };
  if (isRiskFactor(subject)) return { kind: 'factor', factor: subject };
  return { kind: 'term', term: subject as (typeof EXPLAIN_TERMS)[number] };
}

/** Validates one tool call from the model. Unknown tools and invalid arguments come back as an error string. */
export function parseToolCall(name: string, rawArguments: string): ParsedToolCall {
  if (!(TOOL_NAMES as readonly string[]).includes(name)) {
    return {
      ok: false,
      error: `unknown tool "${name.slice(0, 64)}". The only tools are ${TOOL_NAMES.join(', ')}; approving, rejecting, promoting and rolling back are not possible here.`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(rawArguments || '{}');
  } catch {
    return { ok: false, error: `the arguments of ${name} are not valid JSON` };
  }
  if (name === 'propose_amendment') {
    // Absent nullable fields are read as null so a lenient (non-strict) endpoint's output still validates.
    const withNulls =
      json && typeof json === 'object' && !Array.isArray(json)
        ? {
            metric: null,
            value: null,
            windowSeconds: null,
            percent: null,
            steps: null,
            seconds: null,
            validator: null,
            justification: '',
            ...json,
          }
        : json;
    const parsed = ProposeAmendmentArgs.safeParse(withNulls);
    if (!parsed.success)
      return { ok: false, error: `invalid propose_amendment arguments: ${issuesText(parsed.error)}` };
    const amendment = toAmendment(parsed.data);
    if (!amendment.ok) return { ok: false, error: `invalid amendment: ${amendment.error}` };
    return { ok: true, action: { tool: 'propose_amendment', amendment: amendment.amendment } };
  }
  if (name === 'explain') {
    const parsed = ExplainArgs.safeParse(json);
    if (!parsed.success) return { ok: false, error: `invalid explain arguments: ${issuesText(parsed.error)}` };
    return { ok: true, action: { tool: 'explain', subject: subjectOf(parsed.data.subject) } };
  }
  const parsed = AskQuestionArgs.safeParse(json);
  if (!parsed.success) return { ok: false, error: `invalid ask_question arguments: ${issuesText(parsed.error)}` };
  const question = parsed.data.question.trim().slice(0, 500);
  if (question.length === 0) return { ok: false, error: 'ask_question needs a non-empty question' };
  return { ok: true, action: { tool: 'ask_question', question } };
}
