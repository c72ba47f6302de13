/**
 * The negotiation port: what a surface (Teams, Slack, CLI) hands to the negotiation service and what it gets back.
 * Negotiators (model or offline) propose amendments; the engine (policy floor) decides them. No negotiator can
 * approve, reject, promote or roll back: there is no such operation in this vocabulary.
 */
import type { Amendment, AmendmentDecision, Contract } from '../domain/model.js';

export type NegotiationMode = 'model' | 'offline';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** true when the endpoint reported no usage and the figures were counted locally with gpt-tokenizer. */
  estimated?: boolean;
}

/** One stored message of a negotiation thread. The bot's turns carry mode, usage and latency. */
export interface NegotiationTurn {
  contractId: string;
  /** The contract revision the turn was spoken against (the bot turn: the revision after its amendments). */
  revision: number;
  role: 'user' | 'assistant';
  /** User id for user turns; `chaos-negotiator` for the bot. */
  actor: string;
  actorName?: string;
  text: string;
  /** ISO-8601 UTC. */
  at: string;
  mode?: NegotiationMode;
  usage?: TokenUsage;
  latencyMs?: number;
  fallbackNote?: string;
  /** Proposals decided in this turn (bot turns only). */
  proposals?: Proposal[];
}

/** Where turns live. The store adapts its `appendTurn` / `listTurns` to this port; tests use InMemoryTurnLog. */
export interface TurnLog {
  append(turn: NegotiationTurn): Promise<void>;
  /** All turns of one contract, oldest first. */
  list(contractId: string): Promise<NegotiationTurn[]>;
}

export interface Proposal {
  amendment: Amendment;
  decision: AmendmentDecision;
}

export interface NegotiationActor {
  id: string;
  name?: string;
}

export interface NegotiationInput {
  contract: Contract;
  /** The chat message, untrusted. */
  message: string;
  actor: NegotiationActor;
  /** Earlier turns of this contract, oldest first (the service loads them from the TurnLog). */
  history: NegotiationTurn[];
  /** When given, the model negotiator streams its reply text through it (Teams personal chat). */
  onStreamChunk?: (text: string) => void;
  signal?: AbortSignal;
}

export interface NegotiationOutcome {
  /** Markdown-ish text for the chat thread. */
  reply: string;
  /** Every amendment proposed in this turn with the engine's decision, in the order proposed. */
  proposals: Proposal[];
  /** The new revision when at least one amendment was allowed; diff lines of every accepted amendment. */
  accepted?: { contract: Contract; diff: string[] };
  mode: NegotiationMode;
  /** Set when the model was configured but the turn was answered offline, e.g. "model timed out after 20 s". */
  fallbackNote?: string;
  usage?: TokenUsage;
  latencyMs: number;
}

export interface Negotiator {
  readonly mode: NegotiationMode;
  negotiate(input: NegotiationInput): Promise<NegotiationOutcome>;
}
