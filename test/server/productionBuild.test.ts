/**
 * What the container image runs: the `tsc` build output started with plain `node` (no tsx). Built into a folder
 * inside the repository so the compiled files resolve the installed node_modules as they do in the image.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
let outDir: string;
let dataDir: string;

beforeAll(async () => {
  const base = mkdtempSync(join(root, '.tmp-build-'));
  outDir = join(base, 'dist');
  dataDir = join(base, 'data');
  await run(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
    {
      cwd: root,
    },
  );
}, 240_000);

afterAll(() => {
  if (outDir) rmSync(join(outDir, '..'), { recursive: true, force: true });
});

function startServer(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  listening: Promise<string>;
} {
  const child = spawn(process.execPath, [join(outDir, 'main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', CHAOS_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return { child, output: () => output, listening };
}

describe('the production build', () => {
  it('starts the server with plain node, serves /healthz and stops on SIGTERM', async () => {
    const server = startServer({});
    const url = await server.listening;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { store: { ok: true, detail: 'pglite' } } });
    const exited = new Promise<number | null>((resolve) => server.child.on('exit', resolve));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('runs the CLI from the build', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(outDir, 'cli/main.js'), 'assess', 'test/fixtures/deployment-example.json', '--json'],
      {
        cwd: root,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ risk: { level: 'critical' }, revision: 1 });
  }, 60_000);

  it('refuses to start in production mode without bot authentication, saying why', async () => {
    const child = spawn(process.execPath, [join(outDir, 'main.js')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', CHAOS_MODE: 'production', PORT: '0', CHAOS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/MicrosoftAppId/);
    expect(stderr).not.toMatch(/at .*\.js:\d+/);
  }, 60_000);
});
