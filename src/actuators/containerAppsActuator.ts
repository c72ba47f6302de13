/**
 * Azure Container Apps revision weights through @azure/arm-appcontainers: reads the app, rewrites
 * `configuration.ingress.traffic` to canary/baseline weights and PATCHes it back (keeping the rest of ingress).
 */
import type { ContainerAppsAPIClient, TrafficWeight } from '@azure/arm-appcontainers';
import { type ActuationResult, ActuatorError, type RolloutTarget, type TrafficActuator } from './ports.js';

export interface ContainerAppsActuatorOptions {
  client: Pick<ContainerAppsAPIClient, 'containerApps'>;
  resourceGroup: string;
  /** Revision name for a version; by default `<app>--<version>`. */
  revisionForVersion?: (target: RolloutTarget, version: string) => string;
  dryRun?: boolean;
}

export class ContainerAppsActuator implements TrafficActuator {
  readonly name = 'azure-container-apps';

  constructor(private readonly options: ContainerAppsActuatorOptions) {}

  setCanaryWeight(target: RolloutTarget, percent: number): Promise<ActuationResult> {
    return this.applyWeights(target, Math.max(0, Math.min(100, Math.round(percent))));
  }

  promote(target: RolloutTarget): Promise<ActuationResult> {
    return this.applyWeights(target, 100);
  }

  abort(target: RolloutTarget): Promise<ActuationResult> {
    return this.applyWeights(target, 0);
  }

  private revision(target: RolloutTarget, version: string): string {
    return this.options.revisionForVersion?.(target, version) ?? `${target.resourceName}--${version}`;
  }

  private async applyWeights(target: RolloutTarget, canaryPercent: number): Promise<ActuationResult> {
    const traffic: TrafficWeight[] = [
      { revisionName: this.revision(target, target.canaryVersion), weight: canaryPercent },
    ];
    if (target.baselineVersion) {
      traffic.push({ revisionName: this.revision(target, target.baselineVersion), weight: 100 - canaryPercent });
    } else if (canaryPercent < 100) {
      throw new ActuatorError(
        'actuator_unsafe_argument',
        'a baseline revision is needed to send traffic away from the canary',
      );
    }
    const action = `PATCH containerApps/${target.resourceName} traffic ${traffic
      .filter((t) => (t.weight ?? 0) > 0 || t.revisionName)
      .map((t) => `${t.revisionName}=${t.weight}`)
      .join(', ')}`;
    if (this.options.dryRun) return { ok: true, action, dryRun: true, durationMs: 0 };
    const started = performance.now();
    try {
      const app = await this.options.client.containerApps.get(this.options.resourceGroup, target.resourceName);
      const ingress = app.configuration?.ingress;
      if (!ingress)
        throw new ActuatorError('actuator_azure_api_failed', `container app ${target.resourceName} has no ingress`);
      await this.options.client.containerApps.beginUpdateAndWait(this.options.resourceGroup, target.resourceName, {
        location: app.location,
        configuration: { ...app.configuration, ingress: { ...ingress, traffic } },
      });
      return { ok: true, action, dryRun: false, durationMs: performance.now() - started };
    } catch (error) {
      return {
        ok: false,
        action,
        dryRun: false,
        error: error instanceof Error ? error.message : String(error),
        durationMs: performance.now() - started,
      };
    }
  }
}
