/**
 * `chaos assess <file | - | --git A..B [--repo DIR] | --batch FILE.ndjson> [--json | --markdown] [--policy FILE]`
 *
 * Reads a deployment request (the prior system's JSON, a git range, or one JSON request per line), assesses its risk
 * and prints the drafted contract as text (default), Markdown or JSON (the whole contract).
 * Batch mode prints one result per valid line (JSON: one contract per line), reports each invalid line on stderr
 * as `FILE line N: …`, and exits 2 if any line was invalid.
 */
import { extname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { assessDeployment } from '../../domain/contract.js';
import { RequestValidationError } from '../../domain/errors.js';
import type { Contract, DeploymentRequest } from '../../domain/model.js';
import { DEFAULT_POLICY, type Policy, PolicyValidationError, parsePolicy } from '../../domain/policy.js';
import { renderContractMarkdown } from '../../domain/render/markdown.js';
import { renderContractText } from '../../domain/render/text.js';
import { parseDeploymentJson } from '../../domain/request.js';
import { type CliDeps, CliInputError } from '../program.js';

interface AssessOptions {
  git?: string;
  repo?: string;
  batch?: string;
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
    .option('--batch <file>', 'assess one JSON request per line (NDJSON)')
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
      const policy = options.policy ? await loadPolicy(options.policy, deps) : DEFAULT_POLICY;

      if (options.batch !== undefined) {
        await assessBatch(options.batch, policy, format, deps);
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

async function readInput(path: string, deps: CliDeps): Promise<string> {
  try {
    return await deps.readTextFile(resolve(deps.cwd(), path));
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : '';
    if (why) throw new CliInputError(`cannot read ${path}: ${why}`);
    throw error;
  }
}

async function loadPolicy(path: string, deps: CliDeps): Promise<Policy> {
  const text = await readInput(path, deps);
  const format = extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
  try {
    return parsePolicy(text, format);
  } catch (error) {
    if (error instanceof PolicyValidationError) throw new CliInputError(`${path}: ${error.message}`);
    throw error;
  }
}

async function assessBatch(path: string, policy: Policy, format: Format, deps: CliDeps): Promise<void> {
  const text = path === '-' ? await deps.io.readStdin() : await readInput(path, deps);
  let invalid = 0;
  let first = true;
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let request: DeploymentRequest;
    try {
      request = parseDeploymentJson(line);
    } catch (error) {
      if (!(error instanceof RequestValidationError)) throw error;
      invalid++;
      deps.io.stderr(`error: ${path} line ${index + 1}: ${error.message}\n`);
      continue;
    }
    const contract = assessDeployment(request, policy, { now: deps.now() });
    if (format === 'json') deps.io.stdout(`${JSON.stringify(contract)}\n`);
    else {
      if (!first) deps.io.stdout('\n');
      deps.io.stdout(render(contract, format));
    }
    first = false;
  }
  if (invalid > 0) throw new CliInputError(`${invalid} invalid request(s) in ${path}`);
}
