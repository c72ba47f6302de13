import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import { valueFreeErrorMap } from './fields.js';

/** How the service's rollouts are driven: by this bot's own guardian, or by Flagger / Argo Rollouts via webhooks. */
export const ROLLOUT_ENGINES = ['builtin', 'flagger', 'argo'] as const;
export type RolloutEngine = (typeof ROLLOUT_ENGINES)[number];

const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const workloadTemplate = z
  .string()
  .regex(/^[a-z0-9{}.-]{1,253}$/, 'must be a workload name, {{name}} standing for the engine object name');

const serviceRouteSchema = z
  .object({
    teams: z
      .object({
        /** Channel conversation id, e.g. `19:…@thread.tacv2`. */
        conversationId: z.string().min(1, 'must not be empty'),
        /** Bot Framework service URL of the tenant's region; learnt from the first message when absent. */
        serviceUrl: z.string().url('must be a URL').optional(),
        tenantId: z
          .string()
          .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID')
          .optional(),
      })
      .strict()
      .optional(),
    slack: z
      .object({ channelId: z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id (C…, G… or D…)') })
      .strict()
      .optional(),
    engine: z.enum(ROLLOUT_ENGINES).default('builtin'),
    /**
     * Kubernetes namespace of the workload: where an engine-driven canary is measured (metric queries) and the
     * namespace rollback commands use.
     */
    namespace: z.string().regex(K8S_NAME, 'must be a Kubernetes namespace name').optional(),
    /**
     * Names of the engine's canary and baseline workloads in the metrics, `{{name}}` standing for the Flagger Canary
     * or Argo Rollout name. Defaults: Flagger `{{name}}` / `{{name}}-primary`, Argo `{{name}}-canary` /
     * `{{name}}-stable` (src/guardian/engineTargets.ts).
     */
    canaryWorkload: workloadTemplate.optional(),
    baselineWorkload: workloadTemplate.optional(),
    /** GitHub repositories (`owner/name`) whose deployments belong to this service. */
    repositories: z.array(z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name')).optional(),
  })
  .strict()
  .refine((route) => route.teams !== undefined || route.slack !== undefined, {
    message: 'needs a teams or a slack destination',
  });

const serviceDirectorySchema = z
  .object({
    services: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'is not a valid service name'),
      serviceRouteSchema,
    ),
  })
  .strict();

export type ServiceRoute = z.infer<typeof serviceRouteSchema>;
export type ServiceDirectory = z.infer<typeof serviceDirectorySchema>;

/**
 * Parses the service routing file (YAML or JSON, since YAML is a superset):
 *
 * ```yaml
 * services:
 *   checkout:
 *     teams: { conversationId: "19:abc@thread.tacv2" }
 *     slack: { channelId: C0123456 }
 *     engine: builtin
 * ```
 */
export function parseServiceDirectory(text: string, source = 'CHAOS_SERVICES_FILE'): ServiceDirectory {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : 'unreadable';
    throw new ConfigError('config_services_file_invalid', [
      { variable: source, message: `not valid YAML/JSON: ${reason}` },
    ]);
  }
  const result = serviceDirectorySchema.safeParse(data ?? {}, { errorMap: valueFreeErrorMap });
  if (!result.success) {
    const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
      variable: source,
      message: `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
    }));
    throw new ConfigError('config_services_file_invalid', issues);
  }
  return result.data;
}

export function loadServiceDirectory(path: string): ServiceDirectory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError('config_services_file_invalid', [
      { variable: 'CHAOS_SERVICES_FILE', message: `cannot read file (${code})` },
    ]);
  }
  return parseServiceDirectory(text);
}

/** The route for a service, or undefined when the file does not mention it. */
export function routeForService(directory: ServiceDirectory, service: string): ServiceRoute | undefined {
  return Object.hasOwn(directory.services, service) ? directory.services[service] : undefined;
}
