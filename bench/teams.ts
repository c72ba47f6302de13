/**
 * Teams bot benchmark (`npm run bench:teams`): starts the real server (`src/main.ts`, embedded defaults, a fresh
 * data directory) as a child process, points it at a fake Bot Connector on 127.0.0.1, and runs 50 concurrent
 * conversations that each send `assess` and click Approve on the card they get.
 *
 *   message→card     POST /api/messages (assess) until the card arrives at the connector
 *   click→response   POST /api/messages (Approve invoke) until its HTTP response (the updated card)
 *   peak RSS         the server process's VmHWM (Linux), sampled RSS elsewhere
 *
 * Goals (issue 4): message→card p99 < 300 ms, click→response p99 < 150 ms, RSS < 300 MB.
 * The data directory is initialised by a first boot (reported apart: initdb is a one-off peak), then measured.
 * Env: BENCH_CONVERSATIONS (50), BENCH_ROUNDS (4), BENCH_WARMUP (10), BENCH_DATABASE_URL (PostgreSQL instead of PGlite).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  actionActivity,
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
} from '../test/harness/fakeConnector.js';

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const APPROVER = {
  id: '29:bench-approver',
  name: 'Bench Approver',
  aadObjectId: '11111111-1111-4111-8111-111111111111',
};
const DEVELOPER = { id: '29:bench-dev', name: 'Bench Dev', aadObjectId: '33333333-3333-4333-8333-333333333333' };

interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function startServer(dataDir: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'warn',
      CHAOS_DATA_DIR: dataDir,
      TEAMS_APPROVERS: APPROVER.aadObjectId,
      MicrosoftAppId: '',
      DATABASE_URL: process.env.BENCH_DATABASE_URL ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s\n${stderr}`)), 60_000);
    child.stdout?.on('data', (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}\n${stderr}`));
    });
  });
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function rssOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

async function conversation(
  server: Server,
  connector: FakeConnector,
  n: number,
): Promise<{ card: number; click: number }> {
  const thread: ConversationSpec = { id: `19:bench${n}@thread.tacv2;messageid=root${n}`, type: 'channel' };
  const text = `assess service=checkout version=2.${n}.0 files=src/api/cart.ts:80,src/ui/button.tsx:12 rollback=true`;
  const message = messageActivity(connector.serviceUrl, thread, DEVELOPER, text);
  const arrived = connector.waitFor((a) => a.method === 'POST' && a.activityId === message.id, 30_000);
  const sent = performance.now();
  const response = await sendToBot(server.url, message);
  if (response.status !== 200) throw new Error(`assess answered ${response.status}: ${response.text}`);
  const posted = await arrived;
  const card = posted.at - sent;

  const approve = (
    cardOf(posted.body)?.actions as { verb?: string; data?: Record<string, unknown> }[] | undefined
  )?.find((a) => a.verb === 'contract.approve');
  if (!approve?.data) throw new Error('the card has no Approve button');
  const clickedAt = performance.now();
  const clicked = await sendToBot(
    server.url,
    actionActivity(connector.serviceUrl, thread, APPROVER, posted.id, 'contract.approve', approve.data),
  );
  const click = performance.now() - clickedAt;
  const body = clicked.body as { type?: string; value?: unknown } | undefined;
  if (clicked.status !== 200 || !JSON.stringify(body?.value ?? '').includes('Approved by')) {
    throw new Error(`Approve answered ${clicked.status}: ${clicked.text.slice(0, 200)}`);
  }
  return { card, click };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chaos-bench-teams-'));
  const connector = await startFakeConnector();
  // First boot creates the embedded database (initdb), a one-off memory peak; measure it apart from the run.
  const firstBoot = await startServer(dataDir);
  const firstBootPeak = rssOf(firstBoot.child.pid ?? 0)?.hwm ?? 0;
  await firstBoot.stop();
  const server = await startServer(dataDir);
  const pid = server.child.pid ?? 0;
  let peakSampled = 0;
  const sampler = setInterval(() => {
    const m = rssOf(pid);
    if (m) peakSampled = Math.max(peakSampled, m.rss);
  }, 20);
  try {
    for (let i = 0; i < WARMUP; i++) await conversation(server, connector, 100_000 + i);
    const cards: number[] = [];
    const clicks: number[] = [];
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(
        Array.from({ length: CONVERSATIONS }, (_, i) => conversation(server, connector, round * CONVERSATIONS + i)),
      );
      for (const r of results) {
        cards.push(r.card);
        clicks.push(r.click);
      }
    }
    const elapsed = (performance.now() - started) / 1000;
    cards.sort((a, b) => a - b);
    clicks.sort((a, b) => a - b);
    const memory = rssOf(pid);
    const peak = Math.max(memory?.hwm ?? 0, peakSampled);
    const mb = peak / (1024 * 1024);

    const rows: [string, string, string, string][] = [
      ['message→card', fmt(percentile(cards, 50)), fmt(percentile(cards, 99)), 'p99 < 300 ms'],
      ['click→response', fmt(percentile(clicks, 50)), fmt(percentile(clicks, 99)), 'p99 < 150 ms'],
    ];
    console.log(
      `Teams bot: ${CONVERSATIONS} concurrent conversations × ${ROUNDS} rounds = ${cards.length} assess + Approve (after ${WARMUP} warm-up), ${elapsed.toFixed(1)} s`,
    );
    console.log(`${'metric'.padEnd(16)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}  goal`);
    for (const [name, p50, p99, goal] of rows)
      console.log(`${name.padEnd(16)} ${p50.padStart(10)} ${p99.padStart(10)}  ${goal}`);
    console.log(`peak RSS of the server: ${mb.toFixed(1)} MB (goal < 300 MB)`);
    console.log(
      `first boot on an empty data directory (database initialisation), peak RSS: ${(firstBootPeak / (1024 * 1024)).toFixed(1)} MB`,
    );
    console.log(`store: ${process.env.BENCH_DATABASE_URL ? 'PostgreSQL (BENCH_DATABASE_URL)' : 'embedded PGlite'}`);
    const ok = percentile(cards, 99) < 300 && percentile(clicks, 99) < 150 && mb < 300;
    console.log(ok ? 'all goals met' : 'GOAL MISSED');
  } finally {
    clearInterval(sampler);
    await server.stop();
    await connector.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
