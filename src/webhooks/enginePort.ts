/**
 * What the progressive-delivery engine endpoints (Flagger webhooks, Argo Rollouts web metric and notifications)
 * need from the rest of the product. The composition root implements it over the store and the engine rollouts
 * (src/guardian/engineRollouts.ts).
 */
import type { EngineName } from '../guardian/engineTargets.js';

export type JudgeVerdict = 'PASS' | 'HOLD' | 'FAIL';

export interface EngineRolloutView {
  contractId: string;
  revision: number;
  contractState: string;
  /** Phase of the contract's rollout record, null (or absent) before one started. */
  rolloutPhase?: string | null;
  /** The judge's latest verdict for this rollout, null before the first evaluation. */
  latestVerdict: JudgeVerdict | null;
  verdictEvidence: string[];
  /** Why the current step may not widen yet (the contract's minimum step duration or requests), when it may not. */
  stepHeld?: string;
  /** Someone pressed "Roll back now" (or the judge failed the canary) and the engine should roll back. */
  rollbackRequested: boolean;
}

/** The engine's object as its request names it. */
export interface EngineObjectRef {
  engine: EngineName;
  namespace: string;
  name: string;
}

export interface EngineEvent {
  engine: EngineName;
  namespace: string;
  name: string;
  phase?: string;
  message: string;
  severity: 'info' | 'warning' | 'error';
  at: Date;
}

export interface EnginePort {
  /** The open contract governing the engine's object, with its rollout, or null when there is none. */
  findByTarget(ref: EngineObjectRef): Promise<EngineRolloutView | null>;
  findByContractId(contractId: string): Promise<EngineRolloutView | null>;
  /** Starts the rollout record of an approved contract (idempotent); the view after it, null without a contract. */
  start(ref: EngineObjectRef): Promise<EngineRolloutView | null>;
  /**
   * Judges the contract's rollout live from the metric provider (starting it when approved and not started yet).
   * `contractId` picks the contract directly (Argo's verdict URL carries it); `trafficPercent` is the engine's
   * current canary weight when it reports one.
   */
  judge(
    ref: EngineObjectRef,
    options?: { contractId?: string; trafficPercent?: number },
  ): Promise<EngineRolloutView | null>;
  /** The engine promoted or rolled back the canary. */
  finish(ref: EngineObjectRef, outcome: 'promoted' | 'rolled_back', reason: string): Promise<EngineRolloutView | null>;
  /** Streams an engine event into the rollout's thread; false when no thread is known for it. */
  postEvent(event: EngineEvent): Promise<boolean>;
}

/** Contract states in which the engine may shift traffic. */
export const APPROVED_STATES = new Set(['approved', 'rolling_out']);
