/**
 * NegotiationService: what chat surfaces call. It loads the thread from the TurnLog, asks the model negotiator (when
 * one is configured) under a deadline, falls back to the offline negotiator on any model failure with a visible note,
 * and records both turns with mode, token usage and latency. A turn always ends: the model path is bounded by its own
 * deadline and, as a last resort, by a hard guard here.
 */

import type { Contract } from '../domain/model.js';
import { fallbackNoteFor, NegotiationError } from './errors.js';
import type { OfflineNegotiator } from './offlineNegotiator.js';
import type { NegotiationActor, NegotiationOutcome, NegotiationTurn, Negotiator, TurnLog } from './types.js';

export const BOT_ACTOR = 'chaos-negotiator';

export interface NegotiationServiceOptions {
  turns: TurnLog;
  offline: OfflineNegotiator;
  /** Absent: offline only. */
  model?: Negotiator & { readonly timeoutMs?: number };
  /** Hard guard on a model turn (ms); default: the model's own timeout + 2 s, or 22 s. */
  hardTimeoutMs?: number;
  /** ISO timestamp for stored turns; injected for tests. */
  clock?: () => Date;
  /** Called when a model turn falls back (for logs and metrics). */
  onFallback?: (error: NegotiationError, contractId: string) => void;
}

export interface NegotiateRequest {
  contract: Contract;
  message: string;
  actor: NegotiationActor;
  /** Stream the model's reply (Teams personal chat); ignored offline. */
  onStreamChunk?: (text: string) => void;
  signal?: AbortSignal;
}

export class NegotiationService {
  private readonly turns: TurnLog;
  private readonly offline: OfflineNegotiator;
  private readonly model: (Negotiator & { readonly timeoutMs?: number }) | undefined;
  private readonly hardTimeoutMs: number;
  private readonly clock: () => Date;
  private readonly onFallback: ((error: NegotiationError, contractId: string) => void) | undefined;

  constructor(options: NegotiationServiceOptions) {
    this.turns = options.turns;
    this.offline = options.offline;
    this.model = options.model;
    this.hardTimeoutMs = options.hardTimeoutMs ?? (options.model?.timeoutMs ?? 20_000) + 2_000;
    this.clock = options.clock ?? (() => new Date());
    this.onFallback = options.onFallback;
  }

  get mode(): 'model' | 'offline' {
    return this.model ? 'model' : 'offline';
  }

  /** The stored thread of a contract, oldest first. */
  history(contractId: string): Promise<NegotiationTurn[]> {
    return this.turns.list(contractId);
  }

  async negotiate(request: NegotiateRequest): Promise<NegotiationOutcome> {
    const { contract, message, actor } = request;
    const history = await this.turns.list(contract.id);
    const userTurn: NegotiationTurn = {
      contractId: contract.id,
      revision: contract.revision,
      role: 'user',
      actor: actor.id,
      text: message,
      at: this.clock().toISOString(),
      ...(actor.name ? { actorName: actor.name } : {}),
    };

    await this.turns.append(userTurn);

    const started = performance.now();
    let outcome: NegotiationOutcome;
    if (this.model) {
      let streamed = false;
      const onStreamChunk = request.onStreamChunk
        ? (text: string) => {
            streamed = true;
            request.onStreamChunk?.(text);
          }
        : undefined;
      try {
        outcome = await this.withHardTimeout(
          (signal) =>
            (this.model as Negotiator).negotiate({
              contract,
              message,
              actor,
              history,
              signal,
              ...(onStreamChunk ? { onStreamChunk } : {}),
            }),
          request.signal,
        );
      } catch (error) {
        const failure =
          error instanceof NegotiationError
            ? error
            : new NegotiationError(
                'negotiation_malformed_output',
                error instanceof Error ? error.message : String(error),
              );
        if (failure.code === 'negotiation_aborted' && request.signal?.aborted) throw failure;
        this.onFallback?.(failure, contract.id);
        const offline = this.offline.negotiateSync({ contract, message, actor, history });
        const note = fallbackNoteFor(failure);
        outcome = {
          ...offline,
          fallbackNote: note,
          reply: `_${note}_\n\n${offline.reply}`,
          latencyMs: performance.now() - started,
        };
        // A stream that had started gets the offline answer appended so the visible message is complete.
        request.onStreamChunk?.(streamed ? `\n\n${outcome.reply}` : outcome.reply);
      }
    } else {
      outcome = this.offline.negotiateSync({ contract, message, actor, history });
    }

    const botTurn: NegotiationTurn = {
      contractId: contract.id,
      revision: outcome.accepted?.contract.revision ?? contract.revision,
      role: 'assistant',
      actor: BOT_ACTOR,
      text: outcome.reply,
      at: this.clock().toISOString(),
      mode: outcome.mode,
      latencyMs: Math.round(outcome.latencyMs * 1000) / 1000,
      proposals: outcome.proposals,
      ...(outcome.usage ? { usage: outcome.usage } : {}),
      ...(outcome.fallbackNote ? { fallbackNote: outcome.fallbackNote } : {}),
    };
    await this.turns.append(botTurn);
    return outcome;
  }

  private async withHardTimeout<T>(run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
    const guard = new AbortController();
    const signal = outer ? AbortSignal.any([guard.signal, outer]) : guard.signal;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new NegotiationError(
          'negotiation_timeout',
          `no answer within ${this.hardTimeoutMs} ms (hard limit)`,
        );
        guard.abort(error);
        reject(error);
      }, this.hardTimeoutMs);
    });
    try {
      return await Promise.race([run(signal), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
