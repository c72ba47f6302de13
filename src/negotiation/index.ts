/** Negotiation: the port surfaces call (NegotiationService) and how to build it from configuration. */
import type { ModelConfig } from '../config/config.js';
import type { Policy } from '../domain/policy.js';
import { type AmendmentEngine, createPolicyEngine } from './engine.js';
import { createModelClient, type ModelClientOptions } from './modelClient.js';
import { DEFAULT_MODEL_TIMEOUT_MS, ModelNegotiator, type ModelNegotiatorOptions } from './modelNegotiator.js';
import { OfflineNegotiator } from './offlineNegotiator.js';
import { NegotiationService, type NegotiationServiceOptions } from './service.js';
import type { TurnLog } from './types.js';

export { describeAmendment, describeDecisions } from './describe.js';
export { type AmendmentEngine, type AmendmentResult, createPolicyEngine, ProposalLedger } from './engine.js';
export { fallbackNoteFor, NegotiationError, type NegotiationErrorCode } from './errors.js';
export { type ExplainSubject, explain } from './explain.js';
export { parseMessage } from './intents.js';
export { JsonlTurnLog } from './jsonlTurnLog.js';
export {
  COGNITIVE_SERVICES_SCOPE,
  createModelClient,
  type ModelClient,
  type ModelClientOptions,
} from './modelClient.js';
export {
  DEFAULT_MODEL_TIMEOUT_MS,
  ModelNegotiator,
  type ModelNegotiatorOptions,
  retryAfterMs,
} from './modelNegotiator.js';
export { OFFLINE_HELP, OfflineNegotiator } from './offlineNegotiator.js';
export { BOT_ACTOR, type NegotiateRequest, NegotiationService, type NegotiationServiceOptions } from './service.js';
export { NEGOTIATION_TOOLS, TOOL_NAMES } from './tools.js';
export { InMemoryTurnLog } from './turnLog.js';
export type * from './types.js';

export interface CreateNegotiationServiceOptions {
  model: ModelConfig;
  policy: Policy;
  turns: TurnLog;
  /** NEGOTIATION_TIMEOUT_MS; default 20 s. */
  timeoutMs?: number;
  engine?: AmendmentEngine;
  client?: ModelClientOptions;
  negotiator?: Partial<Omit<ModelNegotiatorOptions, 'model' | 'engine' | 'policy' | 'timeoutMs'>>;
  onFallback?: NegotiationServiceOptions['onFallback'];
  clock?: () => Date;
}

/** Offline always; the model negotiator in front of it when the configuration names one. */
export function createNegotiationService(options: CreateNegotiationServiceOptions): NegotiationService {
  const engine = options.engine ?? createPolicyEngine(options.policy);
  const offline = new OfflineNegotiator({ engine });
  const timeoutMs = options.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
  const client = createModelClient(options.model, { timeoutMs, ...options.client });
  const model = client
    ? new ModelNegotiator({ ...options.negotiator, model: client, engine, policy: options.policy, timeoutMs })
    : undefined;
  return new NegotiationService({
    turns: options.turns,
    offline,
    ...(model ? { model } : {}),
    ...(options.onFallback ? { onFallback: options.onFallback } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
export { coalesceStream, keepTyping, type StreamCoalescer } from './typing.js';
