import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseDeploymentJson } from '../../src/domain/request.js';
import { draftReplayContract } from '../../src/replay/contract.js';
import { type ReplayInterval, replaySeries } from '../../src/replay/runner.js';
import { parseSeries } from '../../src/replay/series.js';

const T0 = Date.parse('2026-02-01T00:00:00Z');

/** Minute rows: healthy, with error bursts in rows 20–23 and 60–64. */
function csv(rows: number): string {
  const lines = ['timestamp,requests,errors,p50_ms,p95_ms,p99_ms'];
  for (let i = 0; i < rows; i++) {
    const bad = (i >= 20 && i < 24) || (i >= 60 && i < 65);
    lines.push(`${(T0 + i * 60_000) / 1000},2500,${bad ? 75 : i % 3},40,${bad ? 400 : 110},190`);
  }
  return lines.join('\n');
}

async function replay(rows: number): Promise<ReplayInterval[]> {
  const request = parseDeploymentJson(
    await readFile(resolve(import.meta.dirname, '../fixtures/deployment-example.json'), 'utf8'),
  );
  const { contract, policy } = draftReplayContract({
    request,
    policy: DEFAULT_POLICY,
    intervalSeconds: 60,
    riskLevel: 'medium',
    now: new Date(T0),
  });
  const out: ReplayInterval[] = [];
  for await (const i of replaySeries({
    contract,
    series: parseSeries(csv(rows)),
    intervalSeconds: 60,
    continuous: true,
    policy,
  })) {
    out.push(i);
  }
  return out;
}

describe('replaySeries', () => {
  it('is strictly online: what it decided at interval k does not change when later rows are added', async () => {
    const full = await replay(90);
    const prefix = await replay(40);
    expect(full).toHaveLength(90);
    expect(full.slice(0, prefix.length)).toEqual(prefix);
    expect(full.map((i) => i.index)).toEqual(Array.from({ length: 90 }, (_, k) => k));
  });

  it('rolls back on the bursts and starts the next rollout at the next row', async () => {
    const intervals = await replay(90);
    const rollbacks = intervals.filter((i) => i.action === 'rollback');
    expect(rollbacks.length).toBeGreaterThanOrEqual(2);
    expect(rollbacks.every((r) => (r.index >= 20 && r.index < 27) || (r.index >= 60 && r.index < 68))).toBe(true);
    for (const r of rollbacks) {
      expect(r).toMatchObject({ verdict: 'FAIL', phase: 'rolled_back', weight: 0 });
      const next = intervals[r.index + 1];
      if (next) expect(next.rollout).toBe(r.rollout + 1);
    }
  });
});
