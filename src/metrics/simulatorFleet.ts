/**
 * One simulator per rollout, for a process that runs several rollouts on the built-in simulator (the embedded
 * default, dry-run): each rollout gets its own seed (derived from the configured seed and the rollout's target), its
 * own canary weight (moved by the simulated actuator for that target only) and its own clock origin (its first
 * query), and its samples follow the analysis interval the guardian queries at. A shared instance would let one
 * rollout's traffic weight and intervals leak into another's.
 */
import type { IntervalMetrics, MetricProvider, MetricQuery } from '../domain/metrics.js';
import { createSimulator, type Simulator, type SimulatorOptions } from './simulator.js';

/** Who a rollout's simulator belongs to: the metric query and the actuator's target both carry these. */
export interface SimulatedRolloutKey {
  serviceName: string;
  namespace: string;
  canaryVersion: string;
}

/** Rollouts kept at once; the least recently used one is forgotten beyond this (it has long finished). */
const MAX_ROLLOUTS = 1_000;

export class SimulatorFleet implements MetricProvider {
  readonly name: string;
  private readonly simulators = new Map<string, Simulator>();

  constructor(private readonly options: Omit<SimulatorOptions, 'origin' | 'canaryPercent' | 'intervalSeconds'>) {
    this.name = options.name ?? `simulator:${options.scenario}`;
    createSimulator(options); // validates the options once, at start-up
  }

  /** The rollout's simulator, created on first use. */
  simulatorFor(key: SimulatedRolloutKey): Simulator {
    const id = `${key.namespace}/${key.serviceName}@${key.canaryVersion}`;
    let simulator = this.simulators.get(id);
    if (simulator) {
      this.simulators.delete(id);
    } else {
      simulator = createSimulator({ ...this.options, seed: rolloutSeed(this.options.seed, id) });
      if (this.simulators.size >= MAX_ROLLOUTS) {
        const oldest = this.simulators.keys().next().value;
        if (oldest !== undefined) this.simulators.delete(oldest);
      }
    }
    this.simulators.set(id, simulator);
    return simulator;
  }

  setCanaryPercent(key: SimulatedRolloutKey, percent: number): void {
    this.simulatorFor(key).setCanaryPercent(percent);
  }

  fetchInterval(query: MetricQuery): Promise<IntervalMetrics> {
    return this.simulatorFor(query).fetchInterval(query);
  }
}

/** FNV-1a over the rollout's id, mixed with the configured seed: stable across restarts, distinct per rollout. */
export function rolloutSeed(seed: number, id: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h | 0;
}
