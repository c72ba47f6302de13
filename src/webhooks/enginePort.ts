/**
 * What the progressive-delivery engine endpoints (Flagger webhooks, Argo Rollouts web metric and notifications)
 * need from the rest of the product. The composition root implements it over the store and the guardian.
 */
export type JudgeVerdict = 'PASS' | 'HOLD' | 'FAIL';

export interface EngineRolloutView {
  contractId: string;
  revision: number;
  contractState: string;
  /** The judge's latest verdict for this rollout, null before the first evaluation. */
  latestVerdict: JudgeVerdict | null;
  verdictEvidence: string[];
  /** Someone pressed "Roll back now" (or the guardian decided to) and the engine should roll back. */
  rollbackRequested: boolean;
}

export interface EngineEvent {
  engine: 'flagger' | 'argo-rollouts';
  namespace: string;
  name: string;
  phase?: string;
  message: string;
  severity: 'info' | 'warning' | 'error';
  at: Date;
}

export interface EnginePort {
  /** The open contract governing the engine's object `namespace/name`, or null when there is none. */
  findByTarget(engine: EngineEvent['engine'], namespace: string, name: string): Promise<EngineRolloutView | null>;
  findByContractId(contractId: string): Promise<EngineRolloutView | null>;
  /** Streams an engine event into the rollout's thread; false when no thread is known for it. */
  postEvent(event: EngineEvent): Promise<boolean>;
}

/** Contract states in which the engine may shift traffic. */
export const APPROVED_STATES = new Set(['approved', 'rolling_out']);
