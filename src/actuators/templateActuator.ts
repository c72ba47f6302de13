/**
 * Moves traffic by running operator-supplied command templates (kubectl, `kubectl argo rollouts`, a mesh CLI …).
 * Placeholders {{namespace}}, {{name}}, {{service}}, {{canaryVersion}}, {{baselineVersion}}, {{weight}} are
 * substituted word by word after splitting, with values restricted to a safe character set.
 */
import { runCommand, splitCommandLine } from './commandRunner.js';
import { type ActuationResult, ActuatorError, type RolloutTarget, type TrafficActuator } from './ports.js';

export interface CommandTemplates {
  setWeight: string;
  promote: string;
  abort: string;
}

/** Argo Rollouts owns the weights (the canary steps come from `chaos export argo`); the guardian advances it. */
export const ARGO_ROLLOUTS_TEMPLATES: CommandTemplates = {
  setWeight: 'kubectl argo rollouts promote {{name}} -n {{namespace}}',
  promote: 'kubectl argo rollouts promote {{name}} -n {{namespace}} --full',
  abort: 'kubectl argo rollouts abort {{name}} -n {{namespace}}',
};

const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,252}$/;

export class CommandTemplateActuator implements TrafficActuator {
  readonly name = 'command-templates';

  constructor(
    private readonly templates: CommandTemplates,
    private readonly options: { timeoutMs?: number; dryRun?: boolean } = {},
  ) {
    for (const template of Object.values(templates)) splitCommandLine(template);
  }

  setCanaryWeight(target: RolloutTarget, percent: number): Promise<ActuationResult> {
    return this.run(this.templates.setWeight, target, String(Math.round(percent)));
  }

  promote(target: RolloutTarget): Promise<ActuationResult> {
    return this.run(this.templates.promote, target, '100');
  }

  abort(target: RolloutTarget): Promise<ActuationResult> {
    return this.run(this.templates.abort, target, '0');
  }

  renderCommand(template: string, target: RolloutTarget, weight: string): string[] {
    const values: Record<string, string | undefined> = {
      namespace: target.namespace,
      name: target.resourceName,
      service: target.serviceName,
      canaryVersion: target.canaryVersion,
      baselineVersion: target.baselineVersion,
      weight,
    };
    return splitCommandLine(template).map((word) =>
      word.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
        const value = values[key];
        if (value === undefined)
          throw new ActuatorError('actuator_unsafe_argument', `template placeholder {{${key}}} has no value`);
        if (!SAFE_VALUE.test(value)) {
          throw new ActuatorError(
            'actuator_unsafe_argument',
            `${key} "${value.slice(0, 60)}" contains characters not allowed in a command`,
          );
        }
        return value;
      }),
    );
  }

  private async run(template: string, target: RolloutTarget, weight: string): Promise<ActuationResult> {
    const argv = this.renderCommand(template, target, weight);
    const action = argv.map(quoteForDisplay).join(' ');
    if (this.options.dryRun) return { ok: true, action, dryRun: true, durationMs: 0 };
    const result = await runCommand(action, { timeoutMs: this.options.timeoutMs ?? 60_000 });
    return {
      ok: result.ok,
      action,
      dryRun: false,
      output: result.output,
      durationMs: result.durationMs,
      ...(result.ok ? {} : { error: result.timedOut ? 'timed out' : `exit code ${result.exitCode}` }),
    };
  }
}

function quoteForDisplay(word: string): string {
  return /^[A-Za-z0-9._:/@+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
