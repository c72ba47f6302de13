/**
 * The model negotiator: Azure OpenAI or an OpenAI-compatible endpoint with tool calling. The model proposes; every
 * proposal goes through the engine and the result is fed back as the tool answer; the final reply is the model's text
 * followed by the engine's own list of decisions. Bounded everywhere: a turn deadline (AbortSignal), a limited number
 * of tool rounds, at most `maxInvalidRetries` rounds with unknown tools or invalid arguments, one honoured 429
 * retry-after when it fits the deadline. Failures throw NegotiationError; the service falls back to offline.
 */

import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  RateLimitError,
} from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import type { Policy } from '../domain/policy.js';
import { currentTermValue, describeDecisions } from './describe.js';
import { type AmendmentEngine, ProposalLedger } from './engine.js';
import { NegotiationError } from './errors.js';
import { explain } from './explain.js';
import type { ModelClient } from './modelClient.js';
import { ProseFilter, withoutEngineClaims } from './modelProse.js';
import { buildPrompt, tokens } from './prompt.js';
import { NEGOTIATION_TOOLS, parseToolCall } from './tools.js';
import type { NegotiationInput, NegotiationOutcome, Negotiator, TokenUsage } from './types.js';

export const DEFAULT_MODEL_TIMEOUT_MS = 20_000;

export interface ModelNegotiatorOptions {
  model: ModelClient;
  engine: AmendmentEngine;
  /** Sent to the model so it can propose within the floor (the engine decides regardless). */
  policy?: Policy;
  /** Whole-turn deadline, all rounds included. Default 20 s. */
  timeoutMs?: number;
  /** Tokens for earlier turns of the thread. Default 3000. */
  historyTokenBudget?: number;
  /** Model calls per turn (tool rounds + the final answer). Default 5. */
  maxRounds?: number;
  /** Rounds with an unknown tool, bad JSON or invalid arguments tolerated before giving up. Default 2. */
  maxInvalidRetries?: number;
  /** Tool calls handled per round; extra calls are refused. Default 8. */
  maxToolCallsPerRound?: number;
  /** null: do not send (reasoning models reject it). Default 0.2. */
  temperature?: number | null;
  /** Completion token cap, sent as max_tokens. Default 800. */
  maxTokens?: number;
  /** Ask for a usage chunk at the end of streams (stream_options.include_usage). Default true. */
  streamUsage?: boolean;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

interface RoundResult {
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  usage?: { prompt: number; completion: number };
}

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Milliseconds the endpoint asks us to wait, from retry-after-ms or retry-after (seconds or an HTTP date). */
export function retryAfterMs(
  headers: Record<string, string | null | undefined> | undefined,
  nowMs = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) => {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v) return v;
    return undefined;
  };
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && get('retry-after-ms') !== undefined) return ms;
  const raw = get('retry-after');
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export class ModelNegotiator implements Negotiator {
  readonly mode = 'model' as const;
  private readonly o: Required<Omit<ModelNegotiatorOptions, 'policy' | 'temperature'>> & {
    policy: Policy | undefined;
    temperature: number | null;
  };

  constructor(options: ModelNegotiatorOptions) {
    this.o = {
      timeoutMs: DEFAULT_MODEL_TIMEOUT_MS,
      historyTokenBudget: 3000,
      maxRounds: 5,
      maxInvalidRetries: 2,
      maxToolCallsPerRound: 8,
      maxTokens: 800,
      streamUsage: true,
      now: () => performance.now(),
      sleep: abortableSleep,
      ...options,
      policy: options.policy,
      temperature: options.temperature === undefined ? 0.2 : options.temperature,
    };
  }

  get timeoutMs(): number {
    return this.o.timeoutMs;
  }

  async negotiate(input: NegotiationInput): Promise<NegotiationOutcome> {
    const started = this.o.now();
    const deadline = started + this.o.timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new NegotiationError('negotiation_timeout', `no answer within ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    const signal = input.signal ? AbortSignal.any([timeout.signal, input.signal]) : timeout.signal;
    try {
      return await this.run(input, signal, deadline, started);
    } catch (error) {
      throw classify(error, timeout.signal.aborted, input.signal?.aborted === true, this.o.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(
    input: NegotiationInput,
    signal: AbortSignal,
    deadline: number,
    started: number,
  ): Promise<NegotiationOutcome> {
    const prompt = buildPrompt({
      contract: input.contract,
      message: input.message,
      actor: input.actor,
      history: input.history,
      historyTokenBudget: this.o.historyTokenBudget,
      ...(this.o.policy ? { policy: this.o.policy } : {}),
    });
    const messages: ChatCompletionMessageParam[] = [...prompt.messages];
    const ledger = new ProposalLedger(this.o.engine, input.contract, input.actor.id);
    const texts: string[] = [];
    const explanations: string[] = [];
    const questions: string[] = [];
    const usage = { prompt: 0, completion: 0, estimated: false };
    const stream = input.onStreamChunk;
    let invalidRounds = 0;
    let streamedAnything = false;
    const emit = (text: string) => {
      if (!stream || text.length === 0) return;
      stream(text);
      streamedAnything = true;
    };

    for (let round = 0; round < this.o.maxRounds; round++) {
      if (stream && streamedAnything && texts.length > 0) emit('\n\n');
      // The model's prose is shown without any sentence that claims what only the engine or approvers decide.
      const prose = new ProseFilter();
      const result = await this.complete(
        messages,
        signal,
        deadline,
        stream ? (chunk) => emit(prose.push(chunk)) : undefined,
      );
      if (stream) emit(prose.flush());
      if (result.usage) {
        usage.prompt += result.usage.prompt;
        usage.completion += result.usage.completion;
      } else {
        usage.estimated = true;
        usage.prompt += messages.reduce((n, m) => n + tokens(typeof m.content === 'string' ? m.content : ''), 0);
        usage.completion += tokens(result.text + result.toolCalls.map((c) => c.name + c.arguments).join(''));
      }
      const text = result.text.trim();
      const shown = withoutEngineClaims(result.text).text.trim();
      if (shown.length > 0) texts.push(shown);

      if (result.toolCalls.length === 0) {
        if (text.length > 0 || ledger.proposals.length > 0 || explanations.length > 0 || questions.length > 0) break;
        invalidRounds++;
        if (invalidRounds > this.o.maxInvalidRetries) {
          throw new NegotiationError('negotiation_malformed_output', 'the model returned neither text nor a tool call');
        }
        messages.push({ role: 'system', content: 'Your last answer was empty. Answer the developer or call a tool.' });
        continue;
      }

      messages.push({
        role: 'assistant',
        content: text.length > 0 ? text : null,
        tool_calls: result.toolCalls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        })),
      });
      let invalidThisRound = false;
      result.toolCalls.forEach((call, i) => {
        let content: string;
        if (i >= this.o.maxToolCallsPerRound) {
          invalidThisRound = true;
          content = `ERROR: too many tool calls in one answer (at most ${this.o.maxToolCallsPerRound}); this one was ignored.`;
        } else {
          const parsed = parseToolCall(call.name, call.arguments);
          if (!parsed.ok) {
            invalidThisRound = true;
            content = `ERROR: ${parsed.error.replace(/\.$/, '')}. Nothing was changed. Call a tool with valid arguments, or answer in text.`;
          } else {
            const action = parsed.action;
            if (action.tool === 'propose_amendment') {
              const before = ledger.contract;
              const decided = ledger.decide(action.amendment);
              if (decided.decision.allowed) {
                content = `ACCEPTED. The contract is now revision ${ledger.contract.revision}. Changes: ${decided.diff.join('; ')}`;
              } else {
                const now = currentTermValue(before, action.amendment);
                content = `REFUSED by policy rule ${decided.decision.rule}: ${decided.decision.message}.${now ? ` The term stays at ${now}.` : ''}`;
              }
            } else if (action.tool === 'explain') {
              content = explain(ledger.contract, action.subject);
              explanations.push(content);
            } else {
              questions.push(action.question);
              content = 'The question will be shown to the developer below your answer; do not repeat it.';
            }
          }
        }
        messages.push({ role: 'tool', tool_call_id: call.id, content });
      });
      if (invalidThisRound) {
        invalidRounds++;
        if (invalidRounds > this.o.maxInvalidRetries) {
          throw new NegotiationError(
            'negotiation_malformed_output',
            `the model kept calling unknown tools or sending invalid arguments (${invalidRounds} rounds)`,
          );
        }
      }
    }

    const accepted = ledger.accepted();
    let body = texts.join('\n\n');
    if (body.length === 0 && explanations.length > 0) {
      body = explanations.join('\n\n');
      emit(body);
    }
    if (body.length === 0 && ledger.proposals.length === 0 && questions.length === 0) {
      throw new NegotiationError('negotiation_malformed_output', 'the model produced no answer within the round limit');
    }
    const engineSection = describeDecisions(ledger.proposals, accepted?.diff ?? [], ledger.contract);
    if (accepted) {
      engineSection.push(
        '',
        `Contract is now at revision ${accepted.contract.revision}; earlier approvals no longer count.`,
      );
    }
    const tail = [...(engineSection.length > 0 ? [engineSection.join('\n')] : []), ...questions.map((q) => `❓ ${q}`)];
    const tailText = tail.join('\n\n');
    if (tailText.length > 0) emit(`${body.length > 0 ? '\n\n' : ''}${tailText}`);
    const reply = [body, tailText].filter((s) => s.length > 0).join('\n\n');

    const tokenUsage: TokenUsage = { promptTokens: usage.prompt, completionTokens: usage.completion };
    if (usage.estimated) tokenUsage.estimated = true;
    const outcome: NegotiationOutcome = {
      reply,
      proposals: ledger.proposals,
      mode: 'model',
      usage: tokenUsage,
      latencyMs: this.o.now() - started,
    };
    if (accepted) outcome.accepted = accepted;
    return outcome;
  }

  /** One model call, with one retry after a 429 when its retry-after fits before the deadline. */
  private async complete(
    messages: ChatCompletionMessageParam[],
    signal: AbortSignal,
    deadline: number,
    onText: ((text: string) => void) | undefined,
  ): Promise<RoundResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return onText ? await this.streamOnce(messages, signal, onText) : await this.createOnce(messages, signal);
      } catch (error) {
        if (!(error instanceof RateLimitError) || attempt > 0) throw error;
        const wait = retryAfterMs(error.headers);
        const remaining = deadline - this.o.now();
        if (wait === undefined || wait > remaining - 50) {
          throw new NegotiationError(
            'negotiation_rate_limited',
            wait === undefined
              ? 'HTTP 429 without retry-after'
              : `HTTP 429, retry-after ${Math.ceil(wait)} ms does not fit the remaining ${Math.max(0, Math.floor(remaining))} ms`,
            { status: 429, cause: error },
          );
        }
        await this.o.sleep(wait, signal);
      }
    }
  }

  private params(messages: ChatCompletionMessageParam[]): ChatCompletionCreateParamsBase {
    return {
      model: this.o.model.model,
      messages,
      tools: NEGOTIATION_TOOLS,
      tool_choice: 'auto',
      max_tokens: this.o.maxTokens,
      ...(this.o.temperature === null ? {} : { temperature: this.o.temperature }),
    };
  }

  private async createOnce(messages: ChatCompletionMessageParam[], signal: AbortSignal): Promise<RoundResult> {
    const completion: ChatCompletion = await this.o.model.client.chat.completions.create(
      { ...this.params(messages), stream: false },
      { signal },
    );
    const choice = completion?.choices?.[0];
    if (!choice?.message) throw new NegotiationError('negotiation_malformed_output', 'the completion has no choices');
    const toolCalls = (choice.message.tool_calls ?? []).map((c: ChatCompletionMessageToolCall) => ({
      id: c.id,
      name: c.function?.name ?? '',
      arguments: c.function?.arguments ?? '',
    }));
    const result: RoundResult = { text: choice.message.content ?? '', toolCalls };
    if (completion.usage) {
      result.usage = { prompt: completion.usage.prompt_tokens, completion: completion.usage.completion_tokens };
    }
    return result;
  }

  private async streamOnce(
    messages: ChatCompletionMessageParam[],
    signal: AbortSignal,
    onText: (text: string) => void,
  ): Promise<RoundResult> {
    const stream = await this.o.model.client.chat.completions.create(
      {
        ...this.params(messages),
        stream: true,
        ...(this.o.streamUsage ? { stream_options: { include_usage: true } } : {}),
      },
      { signal },
    );
    let text = '';
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let usage: RoundResult['usage'];
    for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
      if (chunk.usage) usage = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
      const delta = chunk.choices?.[0]?.delta;
      if (!delta) continue;
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        text += delta.content;
        onText(delta.content);
      }
      for (const part of delta.tool_calls ?? []) {
        const entry = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
        if (part.id) entry.id = part.id;
        if (part.function?.name) entry.name += part.function.name;
        if (part.function?.arguments) entry.arguments += part.function.arguments;
        calls.set(part.index, entry);
      }
    }
    const toolCalls = [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => ({ ...c, id: c.id || `call_${index}` }));
    return usage ? { text, toolCalls, usage } : { text, toolCalls };
  }
}

/** Maps anything thrown on the model path to a NegotiationError code. */
export function classify(
  error: unknown,
  timedOut: boolean,
  callerAborted: boolean,
  timeoutMs: number,
): NegotiationError {
  if (timedOut)
    return new NegotiationError('negotiation_timeout', `no answer within ${timeoutMs} ms`, { cause: error });
  if (callerAborted)
    return new NegotiationError('negotiation_aborted', 'the caller cancelled the turn', { cause: error });
  if (error instanceof NegotiationError) return error;
  if (error instanceof APIUserAbortError)
    return new NegotiationError('negotiation_aborted', 'request aborted', { cause: error });
  if (error instanceof APIConnectionTimeoutError) {
    return new NegotiationError('negotiation_timeout', 'the HTTP request timed out', { cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new NegotiationError('negotiation_connection', 'could not connect to the model endpoint', { cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    const short = `HTTP ${status}`;
    if (status === 429) return new NegotiationError('negotiation_rate_limited', short, { status, cause: error });
    if (status >= 500) return new NegotiationError('negotiation_server_error', short, { status, cause: error });
    if (status === 401 || status === 403)
      return new NegotiationError('negotiation_auth', short, { status, cause: error });
    if (error instanceof BadRequestError || status === 404 || status === 422) {
      return new NegotiationError('negotiation_bad_request', short, { status, cause: error });
    }
    return new NegotiationError('negotiation_server_error', short, { status, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NegotiationError('negotiation_malformed_output', `unusable model output: ${message.slice(0, 200)}`, {
    cause: error,
  });
}
