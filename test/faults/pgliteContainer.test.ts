/**
 * Issue 18, PGlite under faults, run the way the shipped image runs it: the server is PID 1 of its own PID namespace
 * (`unshare --pid --fork --mount-proc`, as a container runtime does), on a data directory that outlives it.
 *
 * - SIGKILL mid-burst at three kill points, each run a fresh PID 1 on the same directory: every restart starts,
 *   and no acknowledged contract, link or decision is lost.
 * - While a run is alive, a second "container" (another PID namespace, whose server is PID 1 too) on the same
 *   directory is refused with a message naming the lock, and changes nothing.
 *
 * Without `unshare` (not root, no user namespaces) the same sequence runs as plain processes and the PID-1 checks
 * are skipped; the test says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditVerification } from '../../src/persistence/index.js';
import { Child, ROOT, resultOf, runToEnd, tempDir } from '../durability/support.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const NAMESPACES =
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
/** Acks (of any kind) before each SIGKILL: early in the first run, later in the others. */
const KILL_POINTS = [15, 60, 120];

interface Inspection {
  contracts: string[];
  links: string[];
  decisions: string[];
  verify: AuditVerification;
  writeAfterRestart?: string;
}

/** A fixture as PID 1 of a new PID namespace when possible (a container's server), else as a plain child. */
function startContainer(fixture: string, args: string[], name: string): Child {
  const { DATABASE_URL: _unused, ...env } = process.env;
  const node = [process.execPath, '--import', 'tsx', join(FIXTURES, fixture), ...args];
  const [command, ...rest] = NAMESPACES ? ['unshare', '--pid', '--fork', '--mount-proc', ...node] : node;
  const child = spawn(command as string, rest, {
    cwd: ROOT,
    env: { ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Child(name, child);
}

/** SIGKILLs the container's server itself (the namespace's PID 1, seen from here under its host pid). */
async function killServer(container: Child): Promise<void> {
  const pid = container.process.pid as number;
  const target = NAMESPACES ? Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()) : pid;
  expect(target).toBeGreaterThan(0);
  process.kill(target, 'SIGKILL');
  await container.exited;
}

describe('PGlite as PID 1 of a container, under SIGKILL', () => {
  const dir = tempDir('faults-pglite');
  afterAll(() => dir.remove());

  it(`restarts after SIGKILL at ${KILL_POINTS.length} kill points with nothing acknowledged lost, and refuses a second container${NAMESPACES ? '' : ' (no PID namespaces here: plain processes)'}`, async () => {
    const dataDir = join(dir.path, 'pglite');
    const acked = { contract: new Set<string>(), link: new Set<string>(), decision: new Set<string>() };
    let refused: Child | undefined;
    for (const [index, killAt] of KILL_POINTS.entries()) {
      const run = String.fromCharCode(97 + index);
      const server = startContainer('chatBurst.ts', ['--data-dir', dataDir, '--run', run], `server ${run}`);
      try {
        await server.until(
          `${killAt} acks`,
          (lines) => lines.filter((l) => l.startsWith('ack ')).length >= killAt,
          120_000,
        );
        if (NAMESPACES) expect(server.lines[0]).toBe('pid 1');
        if (index === 1) {
          // A second container on the same volume while this one runs: refused, and it says why.
          refused = startContainer('inspectChat.ts', ['--data-dir', dataDir], 'second container');
          const exit = await runToEnd(refused, 120_000);
          expect(exit.code, refused.describe()).not.toBe(0);
        }
      } finally {
        if (server.process.exitCode === null) await killServer(server);
      }
      for (const line of server.linesStartingWith('ack ')) {
        const [kind, id] = line.split(' ') as [keyof typeof acked, string];
        acked[kind].add(id);
      }
    }
    expect(refused?.stderr).toMatch(
      /the PGlite data directory .*pglite is in use \(held by process \d+ on host .*; lock .*pglite\.lock\)\. PGlite serves one process/,
    );
    if (NAMESPACES) expect(refused?.stderr).toContain('held by process 1 on host');

    const inspector = startContainer('inspectChat.ts', ['--data-dir', dataDir], 'restart after the last kill');
    const exit = await runToEnd(inspector, 120_000);
    expect(exit.code, inspector.describe()).toBe(0);
    if (NAMESPACES) expect(inspector.lines[0]).toBe('pid 1');
    const result = resultOf<Inspection>(inspector);
    const lost = {
      contracts: [...acked.contract].filter((id) => !result.contracts.includes(id)),
      links: [...acked.link].filter((id) => !result.links.includes(id)),
      decisions: [...acked.decision].filter((id) => !result.decisions.includes(id)),
    };
    process.stdout.write(
      `pglite faults: ${KILL_POINTS.length} SIGKILLs as PID 1=${NAMESPACES}; acknowledged ${acked.contract.size} contracts, ${acked.link.size} links, ${acked.decision.size} decisions; lost ${lost.contracts.length}/${lost.links.length}/${lost.decisions.length}; audit ${result.verify.ok ? 'intact' : 'BROKEN'}\n`,
    );
    expect(lost).toEqual({ contracts: [], links: [], decisions: [] });
    expect(acked.decision.size).toBeGreaterThan(0);
    expect(result.verify).toMatchObject({ ok: true });
    expect(result.writeAfterRestart).toBe('recorded');
  }, 400_000);
});
