/**
 * The `chaos` command line: builds the commander program from injected dependencies and runs it, mapping errors to
 * exit codes. Commands live in src/cli/commands/<name>.ts and export `register<Name>Command(program, deps)`;
 * add new ones to `buildProgram`.
 *
 * Exit codes: 0 success; 2 invalid input (bad arguments, unreadable or invalid files, invalid requests, policies or
 * git ranges), reported as ONE line on stderr naming what is wrong; 1 internal error (one line too, no stack trace
 * unless CHAOS_DEBUG is set).
 */

import { once } from 'node:events';
import { open, readFile, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import type { DeploymentRequest } from '../domain/model.js';
import { isInputError } from '../errors.js';
import { readGitHistory } from '../intake/gitHistory.js';
import { readGitRange } from '../intake/gitRange.js';
import { registerAssessCommand } from './commands/assess.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerBacktestCommand } from './commands/backtest.js';
import { registerExportCommand } from './commands/export.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { type CliDeps, CliExitError, EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, openTextStream } from './deps.js';

export * from './deps.js';

export function buildProgram(deps: CliDeps): Command {
  const program = new Command('chaos')
    .description('Chaos Negotiator: deployment risk, contracts and guarded rollouts')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.io.stdout(text),
      writeErr: (text) => deps.io.stderr(text),
    })
    .showSuggestionAfterError(true);
  registerAssessCommand(program, deps);
  registerBacktestCommand(program, deps);
  registerExportCommand(program, deps);
  registerSimulateCommand(program, deps);
  registerReplayCommand(program, deps);
  registerAuditCommand(program, deps);
  return program;
}

/** Runs the CLI with user arguments (without `node` and the script path) and returns the exit code. */
export async function runCli(args: readonly string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    return reportError(error, deps);
  }
}

function reportError(error: unknown, deps: CliDeps): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (through configureOutput) for usage errors.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    ) {
      return EXIT_OK;
    }
    return error.exitCode === 0 ? EXIT_OK : EXIT_INPUT;
  }
  if (error instanceof CliExitError) return error.exitCode;
  // The reader of stdout went away (e.g. piped into `head`): nothing left to report to, like a SIGPIPE'd Unix tool.
  if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPIPE') return EXIT_OK;
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  // The error catalog (src/errors.ts) says which codes mean the input was wrong.
  if (isInputError(error)) {
    deps.io.stderr(`error: ${line}\n`);
    return EXIT_INPUT;
  }
  deps.io.stderr(`internal error: ${line}\n`);
  if (deps.env.CHAOS_DEBUG && error instanceof Error && error.stack) deps.io.stderr(`${error.stack}\n`);
  return EXIT_INTERNAL;
}

export function defaultCliDeps(): CliDeps {
  // A reader that goes away (`chaos assess --batch big.ndjson | head`) closes the pipe: remember the EPIPE instead of
  // crashing on an unhandled 'error' event, stop writing, and let the next drain() end the command.
  let stdoutError: Error | undefined;
  process.stdout.on('error', (error) => {
    stdoutError = error;
  });
  return {
    io: {
      stdout: (text) => {
        if (!stdoutError) process.stdout.write(text);
      },
      stderr: (text) => process.stderr.write(text),
      readStdin: async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        return Buffer.concat(chunks).toString('utf8');
      },
      stdinStream: () => process.stdin,
      drain: async () => {
        if (!stdoutError && process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
        if (stdoutError) throw stdoutError;
      },
    },
    readTextFile: (path) => readFile(path, 'utf8'),
    openTextStream: (path) => openTextStream(path),
    writeTextFile: (path, text) => writeFile(path, text, 'utf8'),
    readGitRange: (options) => readGitRange(options),
    readGitHistory,
    now: () => new Date(),
    cwd: () => process.cwd(),
    env: process.env,
  };
}
