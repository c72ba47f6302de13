/**
 * `chaos assess <file | - | --git A..B [--repo DIR] | --batch FILE.ndjson> [--json | --markdown] [--policy FILE]`
 *
 * Reads a deployment request (the prior system's JSON, a git range, or one JSON request per line), assesses its risk
 * and prints the drafted contract as text (default), Markdown or JSON (the whole contract).
 * Batch mode streams (see batch.ts): one result per valid line as it goes (`--json`: one compact JSON object per line,
 * `--json --full`: the whole contract per line; text: one line per request, `--full` / `--markdown`: rendered
 * contracts), each invalid line on stderr as `error: FILE line N: field: reason`, then `N assessed, M invalid` on
 * stderr; exits 2 if any line was invalid.
 */
import { extname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { assessDeployment } from '../../domain/contract.js';
import { RequestValidationError } from '../../domain/errors.js';
import type { Contract, DeploymentRequest } from '../../domain/model.js';
import { DEFAULT_POLICY, type Policy, PolicyValidationError, parsePolicy } from '../../domain/policy.js';
import { renderContractMarkdown } from '../../domain/render/markdown.js';
import { renderContractText } from '../../domain/render/text.js';
import { parseDeploymentJson } from '../../domain/request.js';
import { type CliDeps, CliExitError, CliInputError, EXIT_INPUT, openTextStream } from '../deps.js';
import { assessNdjson, type BatchFormat } from './batch.js';

interface AssessOptions {
  git?: string;
  repo?: string;
  batch?: string;
  full?: boolean;
  json?: boolean;
  markdown?: boolean;
  policy?: string;
}

type Format = 'text' | 'markdown' | 'json';

export function registerAssessCommand(program: Command, deps: CliDeps): void {
  program
    .command('assess')
    .description('score a deployment and print its contract')
    .argument('[file]', 'deployment request JSON (prior system format); "-" reads standard input')
    .option('--git <range>', 'assess a local git range A..B instead of a file')
    .option('--repo <dir>', 'repository for --git (default: current directory)')
    .option('--batch <file>', 'assess one JSON request per line (NDJSON), streaming; "-" reads standard input')
    .option('--full', 'with --batch: print whole contracts instead of one summary line per request')
    .addOption(new Option('--json', 'print the whole contract as JSON').conflicts('markdown'))
    .option('--markdown', 'print the contract as Markdown')
    .option('--policy <file>', 'policy file (YAML or JSON) instead of the default policy')
    .action(async (file: string | undefined, options: AssessOptions) => {
      const format: Format = options.json ? 'json' : options.markdown ? 'markdown' : 'text';
      const sources = [file !== undefined, options.git !== undefined, options.batch !== undefined].filter(
        Boolean,
      ).length;
      if (sources !== 1) {
        throw new CliInputError(
          sources === 0
            ? 'assess needs a deployment file (or - for stdin), --git A..B, or --batch FILE'
            : 'give only one of: a deployment file, --git, --batch',
        );
      }
      if (options.repo !== undefined && options.git === undefined)
        throw new CliInputError('--repo only applies to --git');
      if (options.full && options.batch === undefined) throw new CliInputError('--full only applies to --batch');
      const policy = options.policy ? await loadPolicy(options.policy, deps) : DEFAULT_POLICY;

      if (options.batch !== undefined) {
        await assessBatch(options.batch, policy, batchFormat(format, options.full === true), deps);
        return;
      }
      const request =
        options.git !== undefined
          ? await deps.readGitRange({ repoDir: resolve(deps.cwd(), options.repo ?? '.'), range: options.git })
          : await readRequest(file as string, deps);
      const contract = assessDeployment(request, policy, { now: deps.now() });
      deps.io.stdout(render(contract, format));
    });
}

function render(contract: Contract, format: Format): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(contract, null, 2)}\n`;
    case 'markdown':
      return renderContractMarkdown(contract);
    case 'text':
      return renderContractText(contract);
  }
}

async function readRequest(file: string, deps: CliDeps): Promise<DeploymentRequest> {
  const text = file === '-' ? await deps.io.readStdin() : await readInput(file, deps);
  const label = file === '-' ? 'stdin' : file;
  try {
    return parseDeploymentJson(text);
  } catch (error) {
    if (error instanceof RequestValidationError) throw new CliInputError(`${label}: ${error.message}`);
    throw error;
  }
}

export async function readInput(path: string, deps: CliDeps): Promise<string> {
  try {
    return await deps.readTextFile(resolve(deps.cwd(), path));
  } catch (error) {
    throw readFailure(path, error);
  }
}

/** A CliInputError for the usual reasons a file cannot be read; any other error unchanged. */
export function readFailure(path: string, error: unknown): unknown {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : '';
  return why ? new CliInputError(`cannot read ${path}: ${why}`) : error;
}

export async function loadPolicy(path: string, deps: CliDeps): Promise<Policy> {
  const text = await readInput(path, deps);
  const format = extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
  try {
    return parsePolicy(text, format);
  } catch (error) {
    if (error instanceof PolicyValidationError) throw new CliInputError(`${path}: ${error.message}`);
    throw error;
  }
}

function batchFormat(format: Format, full: boolean): BatchFormat {
  if (format === 'json') return full ? 'full-json' : 'summary-json';
  if (format === 'markdown') return 'markdown';
  return full ? 'full-text' : 'text';
}

async function assessBatch(path: string, policy: Policy, format: BatchFormat, deps: CliDeps): Promise<void> {
  const input = path === '-' ? await stdinStream(deps) : await openInput(path, deps);
  const summary = await assessNdjson(
    input,
    { policy, format, now: () => deps.now(), source: path === '-' ? 'stdin' : path },
    { out: (text) => deps.io.stdout(text), err: (text) => deps.io.stderr(text), drain: deps.io.drain },
  );
  deps.io.stderr(`${summary.assessed} assessed, ${summary.invalid} invalid\n`);
  if (summary.invalid > 0) throw new CliExitError(EXIT_INPUT, `${summary.invalid} invalid request(s) in ${path}`);
}

async function stdinStream(deps: CliDeps): Promise<Readable> {
  if (deps.io.stdinStream) return deps.io.stdinStream();
  return Readable.from([await deps.io.readStdin()]);
}

async function openInput(path: string, deps: CliDeps): Promise<Readable> {
  try {
    return await (deps.openTextStream ?? openTextStream)(resolve(deps.cwd(), path));
  } catch (error) {
    throw readFailure(path, error);
  }
}
