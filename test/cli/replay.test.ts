import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, SEED } from './cliHarness.js';

const T0 = Date.parse('2026-01-05T10:00:00Z');
let dir: string;

/** A minute-by-minute series: 3,000 requests a minute, healthy figures, `bad` rows with 2 % errors. */
function series(rows: number, bad: (i: number) => boolean, extra = ''): string {
  const lines = [`timestamp,requests,errors,p50_ms,p95_ms,p99_ms${extra ? `,${extra}` : ''}`];
  for (let i = 0; i < rows; i++) {
    lines.push(`${new Date(T0 + i * 60_000).toISOString()},3000,${bad(i) ? 60 : 1},40,120,200${extra ? ',' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-replay-'));
});

describe('chaos replay', () => {
  it('prints one JSON line per interval with the guardian decision, then the summary', async () => {
    const metrics = await file(
      'regression.csv',
      series(40, (i) => i >= 12),
    );
    const r = await run(['replay', SEED, '--metrics', metrics, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const summary = lines.pop() as { summary: Record<string, number> };
    for (const [k, line] of lines.entries()) {
      expect(Object.keys(line)).toEqual(['index', 'timestamp', 'verdict', 'phase', 'weight', 'action', 'reasons']);
      expect(line.index).toBe(k);
      expect(line.timestamp).toBe(new Date(T0 + k * 60_000).toISOString());
    }
    const rollback = lines.findIndex((l) => l.action === 'rollback');
    expect(rollback).toBeGreaterThanOrEqual(12);
    expect(lines[rollback]).toMatchObject({ verdict: 'FAIL', phase: 'rolled_back', weight: 0 });
    expect(lines.slice(0, 12).every((l) => l.verdict !== 'FAIL')).toBe(true);
    // Without --continuous the replay stops when the rollout ends.
    expect(lines).toHaveLength(rollback + 1);
    expect(summary.summary).toEqual({
      intervals: lines.length,
      rollouts: 1,
      rollbacks: 1,
      promotions: 0,
      pass: lines.filter((l) => l.verdict === 'PASS').length,
      hold: lines.filter((l) => l.verdict === 'HOLD').length,
      fail: 1,
      asks: 0,
    });
  });

  it('with --continuous starts the next rollout at the next row, and promotes healthy ones', async () => {
    const metrics = await file(
      'healthy.csv',
      series(150, () => false),
    );
    const r = await run(['replay', SEED, '--metrics', metrics, '--json', '--continuous', '--risk-level', 'medium']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const summary = (lines.pop() as { summary: Record<string, number> }).summary;
    expect(lines).toHaveLength(150);
    expect(summary.rollbacks).toBe(0);
    expect(summary.promotions).toBeGreaterThanOrEqual(2);
    const promote = lines.findIndex((l) => l.action === 'promote');
    expect(lines[promote + 1]).toMatchObject({ weight: 25, phase: 'progressing' });
    expect(lines.some((l) => l.action === 'advance')).toBe(true);
  });

  it('asks a person when the rollout cannot conclude (too little traffic), and stops there without --continuous', async () => {
    const lines = ['timestamp,requests,errors,p50_ms,p95_ms,p99_ms'];
    for (let i = 0; i < 120; i++) lines.push(`${(T0 + i * 60_000) / 1000},2,0,40,120,200`);
    const metrics = await file('trickle.csv', `${lines.join('\n')}\n`);
    const r = await run(['replay', SEED, '--metrics', metrics, '--json', '--risk-level', 'medium']);
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout);
    const summary = (out.pop() as { summary: Record<string, number> }).summary;
    const ask = out.at(-1);
    expect(ask).toMatchObject({ action: 'ask', phase: 'paused', verdict: 'HOLD' });
    expect(out.slice(0, -1).every((l) => l.verdict === 'HOLD' && l.action === 'hold')).toBe(true);
    expect(summary).toMatchObject({ rollouts: 1, asks: 1, rollbacks: 0, promotions: 0 });
  });

  it('prints a table and the summary without --json; --risk-level drafts at that level', async () => {
    const metrics = await file(
      'short.csv',
      series(5, () => false),
    );
    const r = await run(['replay', SEED, '--metrics', metrics, '--risk-level', 'low']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('LOW risk (--risk-level)');
    // Low risk: no canary step, a 600 s bake at 60 s intervals (longer than warm-up and evidence windows).
    expect(r.stdout).toContain('planned 10 intervals (10): a rollout still undecided past it asks a person');
    expect(r.stdout).toMatch(/#\s+timestamp\s+rollout\s+verdict\s+action\s+phase\s+weight/);
    expect(r.stdout).toContain('5 intervals of 60 s');
  });

  it('plans the time a healthy canary needs for its first PASS, and a healthy low-traffic rollout finishes in it', async () => {
    // PetSite-like: 1.61 requests/s (483 a 5-minute row), 0.226 % errors today against the high-risk 0.4 % guardrail,
    // so its first PASS needs about 4,825 requests: ten rows after the warm-up one, not the 3 the windows need.
    const deployment = await file(
      'petsite.json',
      JSON.stringify({
        deployment_id: 'petsite-43',
        service_name: 'PetSite',
        environment: 'production',
        version: 'v43',
        previous_version: 'v42',
        changes: [{ file_path: 'src/app.ts', change_type: 'modify', lines_changed: 40, description: 'checkout' }],
        current_error_rate_percent: 0.226,
        current_p95_latency_ms: 318.8,
        current_p99_latency_ms: 483.1,
        target_error_rate_percent: 0.1,
        current_qps: 1.61,
        rollback_capability: true,
      }),
    );
    const rows = ['timestamp,requests,errors,p50_ms,p95_ms,p99_ms'];
    for (let i = 0; i < 30; i++) rows.push(`${new Date(T0 + i * 300_000).toISOString()},483,1,120,300,450`);
    const metrics = await file('petsite.csv', `${rows.join('\n')}\n`);
    const table = await run(['replay', deployment, '--metrics', metrics, '--risk-level', 'high']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('planned 23 intervals (11 + 3 + 3 + 6)');
    const r = await run(['replay', deployment, '--metrics', metrics, '--risk-level', 'high', '--json']);
    const lines = jsonLines(r.stdout);
    const summary = (lines.pop() as { summary: Record<string, number> }).summary;
    expect(summary).toMatchObject({ rollouts: 1, promotions: 1, rollbacks: 0, asks: 0 });
    const promoted = lines.findIndex((l) => l.action === 'promote');
    expect(promoted + 1).toBeLessThanOrEqual(23);
    // Slower than the 16 intervals a plan without the first PASS's evidence would have promised.
    expect(promoted + 1).toBeGreaterThan(16);
  });

  it('honours --interval: two rows per interval are merged', async () => {
    const metrics = await file(
      'fine.csv',
      series(20, () => false),
    );
    const r = await run(['replay', SEED, '--metrics', metrics, '--json', '--interval', '120']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    lines.pop();
    expect(lines).toHaveLength(10);
    expect(lines[1]?.timestamp).toBe(new Date(T0 + 120_000).toISOString());
  });

  it('exits 2 naming the line and column of bad input', async () => {
    const bad = await file(
      'bad.csv',
      'timestamp,requests,errors\n2026-01-05T10:00:00Z,10,0\n2026-01-05T10:01:00Z,-3,0\n',
    );
    const r = await run(['replay', SEED, '--metrics', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${bad}: line 3 (row 2), column requests: "-3" is not a non-negative integer\n`);
    const unknown = await file('unknown.csv', 'timestamp,requests,errors,cpu\n60,1,0,5\n');
    const u = await run(['replay', SEED, '--metrics', unknown]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('unknown column cpu');
    const level = await run(['replay', SEED, '--metrics', unknown, '--risk-level', 'extreme']);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('--risk-level must be one of low, medium, high, critical');
    const one = await file('one.csv', 'timestamp,requests,errors\n60,1,0\n');
    expect((await run(['replay', SEED, '--metrics', one])).stderr).toContain('pass --interval');
    expect((await run(['replay', SEED, '--metrics', join(dir, 'missing.csv')])).code).toBe(2);
    const short = await file(
      'short2.csv',
      series(3, () => false),
    );
    const tooLong = await run(['replay', SEED, '--metrics', short, '--interval', '600']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('the rows cover 180 s, less than one analysis interval of 600 s');
  });
});
