/** Runs the CLI in-process with captured stdout/stderr and real file and git access (shared by the CLI tests). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type CliDeps, runCli } from '../../src/cli/program.js';
import { readGitRange } from '../../src/intake/gitRange.js';
import { FIXED_NOW } from '../support/fixtures.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SEED = 'test/fixtures/deployment-example.json';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(args: string[], overrides: Partial<CliDeps> & { stdin?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const { stdin, ...rest } = overrides;
  const deps: CliDeps = {
    io: {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      readStdin: async () => stdin ?? '',
    },
    readTextFile: (path) => readFile(path, 'utf8'),
    readGitRange: (options) => readGitRange(options),
    now: () => FIXED_NOW,
    cwd: () => ROOT,
    env: {},
    ...rest,
  };
  const code = await runCli(args, deps);
  return { code, stdout, stderr };
}

export async function seedObject(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(resolve(ROOT, SEED), 'utf8')) as Record<string, unknown>;
}
