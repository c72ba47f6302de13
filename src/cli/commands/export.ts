/**
 * `chaos export argo --contract-id ID --server URL [--prometheus URL] [--rollout-name NAME] [--token-secret NAME:KEY]
 *                    [-o FILE]`
 * `chaos export argo <contract.json | request.json | -> [--prometheus URL] [--verdict-url URL] [--rollout-name NAME]
 *                    [--policy FILE] [-o FILE]`
 *
 * Writes the contract's Argo Rollouts AnalysisTemplate and Rollout strategy patch as multi-document YAML.
 * With `--contract-id`, the stored contract is read from the bot (`GET /api/contracts/:id?include=contract` with
 * `Authorization: Bearer $CHAOS_API_TOKEN`, the intake secret or a read token), and the judge's web metric points at
 * that server with the real contract id. Otherwise the input is a contract as printed by `chaos assess --json` or a
 * deployment request in the prior system's JSON, assessed first (with --policy when given). A contract is checked
 * either way: the fields the export reads must be well-formed and the content hash must match the content, so a
 * hand-edited contract is refused.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { z } from 'zod';
import { assessDeployment, computeContentHash } from '../../domain/contract.js';
import { formatJsonPath, RequestValidationError } from '../../domain/errors.js';
import { exportToArgoRollouts } from '../../domain/export/argoRollouts.js';
import { type Contract, GUARDRAIL_METRICS } from '../../domain/model.js';
import { DEFAULT_POLICY } from '../../domain/policy.js';
import { parseDeploymentRequest } from '../../domain/request.js';
import { type CliDeps, CliInputError } from '../deps.js';
import { loadPolicy, readFailure, readInput } from './assess.js';

interface ExportArgoOptions {
  prometheus?: string;
  verdictUrl?: string;
  contractId?: string;
  server?: string;
  tokenSecret?: string;
  rolloutName?: string;
  policy?: string;
  output?: string;
}

export function registerExportCommand(program: Command, deps: CliDeps): void {
  const exportCommand = program.command('export').description('export a contract to a progressive-delivery tool');
  exportCommand
    .command('argo')
    .description('write the Argo Rollouts AnalysisTemplate and Rollout patch (YAML) for a contract')
    .argument('[input]', 'contract JSON (chaos assess --json), or a deployment request JSON to assess; "-" = stdin')
    .option('--contract-id <id>', "export the bot's stored contract (needs --server and $CHAOS_API_TOKEN)")
    .option('--server <url>', "the bot's base URL, to read the contract from and to serve the judge's verdict")
    .option('--prometheus <url>', 'Prometheus address for the guardrail metrics (default: $PROMETHEUS_URL)')
    .option('--verdict-url <url>', "this bot's base URL, to add the judge as an Argo web metric (default: --server)")
    .option('--rollout-name <name>', "Rollout resource name (default: the deployment target's resource name)")
    .option(
      '--token-secret <name:key>',
      'Secret and key holding the engine token for the web metric (default: chaos-negotiator:engine-token)',
    )
    .option('--policy <file>', 'policy for assessing a deployment request (default policy otherwise)')
    .option('-o, --output <file>', 'write the YAML to a file instead of standard output')
    .action(async (input: string | undefined, options: ExportArgoOptions) => {
      const prometheus = options.prometheus ?? deps.env.PROMETHEUS_URL;
      if (!prometheus) throw new CliInputError('--prometheus URL is required (or set PROMETHEUS_URL)');
      const prometheusAddress = httpUrl(prometheus, '--prometheus');
      const server = options.server === undefined ? undefined : httpUrl(options.server, '--server');
      const verdictBaseUrl = options.verdictUrl === undefined ? server : httpUrl(options.verdictUrl, '--verdict-url');
      if (options.rolloutName !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(options.rolloutName)) {
        throw new CliInputError(
          `--rollout-name must be a Kubernetes resource name (lowercase letters, digits, "-" or ".") (got ${JSON.stringify(options.rolloutName)})`,
        );
      }
      const tokenSecret = options.tokenSecret === undefined ? undefined : parseSecretRef(options.tokenSecret);
      if (options.contractId !== undefined && input !== undefined) {
        throw new CliInputError('give either an input file or --contract-id, not both');
      }
      if (options.contractId === undefined && input === undefined) {
        throw new CliInputError(
          'an input (contract or deployment request JSON) or --contract-id ID --server URL is required',
        );
      }
      const contract =
        options.contractId !== undefined
          ? await fetchStoredContract(options.contractId, server, deps)
          : await loadContract(input as string, options, deps);
      const yaml = renderArgoYaml(contract, {
        prometheusAddress,
        ...(verdictBaseUrl !== undefined ? { verdictBaseUrl } : {}),
        ...(tokenSecret ? { tokenSecret } : {}),
        ...(options.rolloutName !== undefined ? { rolloutName: options.rolloutName } : {}),
      });
      if (options.output === undefined) {
        deps.io.stdout(yaml);
        return;
      }
      const path = resolve(deps.cwd(), options.output);
      try {
        await (deps.writeTextFile ?? defaultWrite)(path, yaml);
      } catch (error) {
        const failure = readFailure(options.output, error);
        if (failure instanceof CliInputError)
          throw new CliInputError(failure.message.replace('cannot read', 'cannot write'));
        throw failure;
      }
      deps.io.stderr(
        `wrote ${options.output} (AnalysisTemplate and Rollout patch for ${contract.id} revision ${contract.revision})\n`,
      );
    });
}

/** The two documents, AnalysisTemplate then Rollout patch, as one YAML stream. */
export function renderArgoYaml(contract: Contract, options: Parameters<typeof exportToArgoRollouts>[1]): string {
  const { analysisTemplate, rolloutPatch } = exportToArgoRollouts(contract, options);
  const header =
    `# Generated by chaos export argo from contract ${contract.id} revision ${contract.revision}\n` +
    `# content hash ${contract.contentHash}\n`;
  const doc = (value: unknown) => stringify(value, { lineWidth: 0 });
  return `${header}${doc(analysisTemplate)}---\n${doc(rolloutPatch)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Input

const positive = z.number().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** The parts of a contract the export reads; the content hash check below covers the rest. */
const ExportableContractSchema = z.object({
  id: z.string().min(1).max(256),
  revision: z.number().int().positive(),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
  deployment: z.object({
    serviceName: z.string().min(1),
    version: z.string().min(1),
    target: z.object({ namespace: z.string().min(1), resourceName: z.string().min(1) }),
  }),
  risk: z.object({ score: z.number(), level: z.string() }),
  terms: z.object({
    guardrails: z
      .array(z.object({ metric: z.enum(GUARDRAIL_METRICS), threshold: positive, windowSeconds: positive }))
      .min(1),
    ramp: z.object({
      steps: z.array(z.object({ trafficPercent: z.number().gt(0).max(100), minDurationSeconds: nonNegativeInt })),
      bakeTimeSeconds: nonNegativeInt,
      analysisIntervalSeconds: positive,
      cumulativeFailureLimit: z.number().int().positive(),
    }),
  }),
  rollbackPlan: z.object({}).passthrough(),
});

async function loadContract(input: string, options: ExportArgoOptions, deps: CliDeps): Promise<Contract> {
  const label = input === '-' ? 'stdin' : input;
  const text = input === '-' ? await deps.io.readStdin() : await readContractFile(input, deps);
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new CliInputError(`${label}: is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliInputError(`${label}: expected a JSON object (a contract or a deployment request)`);
  }
  if ('terms' in value || 'risk' in value || 'contentHash' in value) return checkContract(value, label);
  if ('deployment_id' in value) {
    let request: ReturnType<typeof parseDeploymentRequest>;
    try {
      request = parseDeploymentRequest(value);
    } catch (error) {
      if (error instanceof RequestValidationError) throw new CliInputError(`${label}: ${error.message}`);
      throw error;
    }
    const policy = options.policy ? await loadPolicy(options.policy, deps) : DEFAULT_POLICY;
    return assessDeployment(request, policy, { now: deps.now() });
  }
  throw new CliInputError(
    `${label}: neither a contract (as printed by chaos assess --json: id, terms, risk, contentHash) nor a deployment request (deployment_id)`,
  );
}

function checkContract(value: object, label: string): Contract {
  const parsed = ExportableContractSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const more = parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : '';
    const path = formatJsonPath(issue?.path ?? []);
    const why = issue?.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue?.message;
    throw new CliInputError(`${label}: not a valid contract: ${path}: ${why}${more}`);
  }
  // The schema checked the shape the export reads; the hash proves the rest is the contract as the engine drafted it.
  const contract = value as Contract;
  let actual: string;
  try {
    actual = computeContentHash(contract);
  } catch {
    throw new CliInputError(`${label}: not a valid contract: its content cannot be hashed`);
  }
  if (actual !== contract.contentHash) {
    throw new CliInputError(
      `${label}: contentHash does not match the contract's content (edited by hand?); re-run chaos assess --json`,
    );
  }
  return contract;
}

async function readContractFile(input: string, deps: CliDeps): Promise<string> {
  try {
    return await readInput(input, deps);
  } catch (error) {
    if (error instanceof CliInputError && /no such file/.test(error.message) && /^ctr-[^/\\]+$/.test(input)) {
      throw new CliInputError(
        `cannot read ${input}: no such file (to export a stored contract by id use --contract-id ${input} --server URL)`,
      );
    }
    throw error;
  }
}

/** The stored contract from the bot's contract API, checked like a file. */
async function fetchStoredContract(contractId: string, server: string | undefined, deps: CliDeps): Promise<Contract> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(contractId)) {
    throw new CliInputError(`--contract-id is not a contract id (got ${JSON.stringify(contractId)})`);
  }
  if (!server) throw new CliInputError('--contract-id needs --server URL (the bot that stores the contract)');
  const token = deps.env.CHAOS_API_TOKEN;
  if (!token) {
    throw new CliInputError('--contract-id needs CHAOS_API_TOKEN (the intake secret or a read token of the bot)');
  }
  const url = `${server}/api/contracts/${encodeURIComponent(contractId)}?include=contract`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new CliInputError(`cannot reach ${server}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new CliInputError(`${server} refused CHAOS_API_TOKEN (${response.status})`);
  }
  if (response.status === 404) throw new CliInputError(`${server} has no contract ${contractId}`);
  if (!response.ok) throw new CliInputError(`${server} answered ${response.status} for contract ${contractId}`);
  const body = (await response.json().catch(() => null)) as { contract?: unknown } | null;
  if (!body || typeof body.contract !== 'object' || body.contract === null) {
    throw new CliInputError(`${server} did not return the contract (an older server without ?include=contract?)`);
  }
  return checkContract(body.contract, `${server} contract ${contractId}`);
}

function parseSecretRef(value: string): { name: string; key: string } {
  const match = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?):([-._a-zA-Z0-9]{1,253})$/.exec(value);
  if (!match) {
    throw new CliInputError(`--token-secret must be SECRET-NAME:KEY (got ${JSON.stringify(value)})`);
  }
  return { name: match[1] as string, key: match[3] as string };
}

function httpUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliInputError(`${option} must be an http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliInputError(`${option} must be an http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.username || url.password) throw new CliInputError(`${option} must not contain credentials`);
  return value.replace(/\/+$/, '');
}

async function defaultWrite(path: string, text: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, text, 'utf8');
}
