/** Traffic actuator for the embedded default and demos: records weights and tells a listener (the simulator). */
import type { ActuationResult, RolloutTarget, TrafficActuator } from './ports.js';

export class SimulatedActuator implements TrafficActuator {
  readonly name = 'simulated';
  private readonly weights = new Map<string, number>();

  constructor(private readonly onWeight?: (target: RolloutTarget, percent: number) => void) {}

  weightOf(target: RolloutTarget): number {
    return this.weights.get(key(target)) ?? 0;
  }

  async setCanaryWeight(target: RolloutTarget, percent: number): Promise<ActuationResult> {
    this.weights.set(key(target), percent);
    this.onWeight?.(target, percent);
    return {
      ok: true,
      action: `simulated: ${target.resourceName} canary weight ${percent} %`,
      dryRun: false,
      durationMs: 0,
    };
  }

  promote(target: RolloutTarget): Promise<ActuationResult> {
    return this.setCanaryWeight(target, 100);
  }

  abort(target: RolloutTarget): Promise<ActuationResult> {
    return this.setCanaryWeight(target, 0);
  }
}

function key(target: RolloutTarget): string {
  return `${target.namespace}/${target.resourceName}@${target.canaryVersion}`;
}
