/**
 * Who may act on a rollout, and what a worker that takes one over may still do. Every rollout repository (the
 * in-memory one, PGlite, PostgreSQL) follows these rules; the SQL ones state them as predicates over the same
 * constants.
 *
 * - A contract has at most one active (not finished) rollout; starting again returns that one.
 * - A worker acts on a rollout only while it holds the lease: its token is the current one and the lease has not
 *   expired on the store's clock (never the worker's own clock: replicas' clocks drift, the store's is one).
 * - A rollback step recorded as done is never run again. A step recorded as started but never finished was cut off
 *   with its worker; it may or may not have taken effect, so it is not run again either: it is reported as
 *   interrupted, the steps that depend on it are skipped and a person finishes the rollback.
 */
import { type RolloutPhase, TERMINAL_PHASES } from './types.js';

/** Phases of a rollout that has not finished; at most one rollout per contract is in one of these. */
export const ACTIVE_ROLLOUT_PHASES: readonly RolloutPhase[] = [
  'pending',
  'progressing',
  'paused',
  'baking',
  'rolling_back',
];

export function isActiveRollout(phase: RolloutPhase): boolean {
  return !TERMINAL_PHASES.includes(phase);
}

/** The rollout a command about a contract acts on: the active one, else the most recently created. */
export function rolloutOfContract<T extends { state: { phase: RolloutPhase }; createdAt: string }>(
  rollouts: readonly T[],
): T | undefined {
  let chosen: T | undefined;
  for (const rollout of rollouts) {
    if (!chosen) {
      chosen = rollout;
      continue;
    }
    const active = isActiveRollout(rollout.state.phase);
    const chosenActive = isActiveRollout(chosen.state.phase);
    if (active !== chosenActive ? active : rollout.createdAt > chosen.createdAt) chosen = rollout;
  }
  return chosen;
}

export interface Lease {
  token: string;
  owner: string;
  /** Milliseconds since the epoch, on the store's clock. */
  expiresAt: number;
}

/** Shortest and longest lease a configuration may ask for. */
export const MIN_LEASE_MS = 200;
export const MAX_LEASE_MS = 3_600_000;

export function leaseHeld(lease: Lease | undefined, token: string, storeNowMs: number): boolean {
  return lease !== undefined && lease.token === token && lease.expiresAt > storeNowMs;
}

/** A lease may be claimed by another worker once it has expired on the store's clock. */
export function leaseFree(lease: Lease | undefined, storeNowMs: number): boolean {
  return lease === undefined || lease.expiresAt <= storeNowMs;
}

/** How often a worker renews a lease while a long effect runs: three chances before it would expire. */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(50, Math.floor(leaseMs / 3));
}

export type RollbackStepMark = 'started' | 'done';

export type RollbackStepResume =
  | { action: 'run' }
  | { action: 'skip_done' }
  | { action: 'skip_interrupted'; reason: string };

/** What a worker does with a rollback step, given what earlier owners of the rollout recorded about it. */
export function resumeRollbackStep(mark: RollbackStepMark | undefined): RollbackStepResume {
  if (mark === undefined) return { action: 'run' };
  if (mark === 'done') return { action: 'skip_done' };
  return {
    action: 'skip_interrupted',
    reason: 'the worker running this step stopped before recording its outcome; it is not run twice — check it by hand',
  };
}
