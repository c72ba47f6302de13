/**
 * What the CLI's commands share with the program: injected dependencies, the input/exit errors and exit codes. Its
 * own module so commands never import the program that registers them.
 */

import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { DeploymentRequest } from '../domain/model.js';
import type { CodedError } from '../errors.js';
import type { readGitHistory } from '../intake/gitHistory.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** Standard input as a stream, for line-by-line reading (`assess --batch -`); falls back to readStdin when absent. */
  stdinStream?(): Readable;
  /** Resolves once stdout can take more output (backpressure for long streams); absent = never waits. */
  drain?(): Promise<void>;
}

export interface CliDeps {
  io: CliIo;
  readTextFile(path: string): Promise<string>;
  /** Opens a file for streaming reads (`assess --batch FILE`); defaults to node:fs createReadStream. */
  openTextStream?(path: string): Promise<Readable>;
  /** Writes a whole file (`export -o FILE`); defaults to node:fs writeFile. */
  writeTextFile?(path: string, text: string): Promise<void>;
  readGitRange(options: { repoDir: string; range: string }): Promise<DeploymentRequest>;
  /** Streams the commits of a range (`backtest`); defaults to src/intake/gitHistory.ts. */
  readGitHistory?: typeof readGitHistory;
  now(): Date;
  cwd(): string;
  env: Readonly<Record<string, string | undefined>>;
}

/** An error caused by the user's input; exits 2. */
export class CliInputError extends Error implements CodedError {
  readonly code = 'cli_input' as const;
  override readonly name = 'CliInputError';
}

/** Ends the command with an exit code after it already reported why on stderr (e.g. a batch with invalid lines). */
export class CliExitError extends Error implements CodedError {
  readonly code = 'cli_exit' as const;
  override readonly name = 'CliExitError';

  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_INPUT = 2;

/** Opens a file for reading as a stream, failing up front (ENOENT, EISDIR, EACCES) rather than on the first read. */
export async function openTextStream(path: string): Promise<Readable> {
  const handle = await open(path, 'r');
  try {
    if ((await handle.stat()).isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: 'EISDIR' });
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle.createReadStream();
}
