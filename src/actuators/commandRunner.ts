/**
 * Runs one operator command without a shell: the command line is split into words with shell-quote and any
 * shell operator (pipes, redirects, `;`, `&&`, substitutions) is refused, so a plan step can only run one program.
 */
import { execa } from 'execa';
import { parse } from 'shell-quote';
import { ActuatorError } from './ports.js';

export interface CommandResult {
  ok: boolean;
  timedOut: boolean;
  exitCode: number | undefined;
  output: string;
  durationMs: number;
}

export function splitCommandLine(commandLine: string): string[] {
  const words = parse(commandLine);
  const argv: string[] = [];
  for (const word of words) {
    if (typeof word !== 'string') {
      throw new ActuatorError(
        'actuator_unsafe_argument',
        `refusing to run "${commandLine}": shell operators are not allowed`,
      );
    }
    argv.push(word);
  }
  if (argv.length === 0) throw new ActuatorError('actuator_unsafe_argument', 'refusing to run an empty command');
  return argv;
}

const OUTPUT_LIMIT = 8_000;

export async function runCommand(
  commandLine: string,
  options: { timeoutMs: number; cwd?: string },
): Promise<CommandResult> {
  const [program, ...args] = splitCommandLine(commandLine);
  const started = performance.now();
  const result = await execa(program!, args, {
    timeout: options.timeoutMs,
    reject: false,
    all: true,
    stdin: 'ignore',
    cwd: options.cwd,
    forceKillAfterDelay: 2_000,
  });
  const output = (result.all ?? '').toString();
  return {
    ok: result.exitCode === 0 && !result.timedOut,
    timedOut: Boolean(result.timedOut),
    exitCode: result.exitCode,
    output: output.length > OUTPUT_LIMIT ? `${output.slice(0, OUTPUT_LIMIT)}\n… (output truncated)` : output,
    durationMs: performance.now() - started,
  };
}
