/** Entry point of the `chaos` CLI (bin/chaos.js loads this): real dependencies, exit code from runCli. */
import { defaultCliDeps, runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2), defaultCliDeps());
