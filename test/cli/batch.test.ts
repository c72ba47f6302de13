import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessNdjson, type BatchResultLine, batchResultLine } from '../../src/cli/commands/batch.js';
import { assessDeployment } from '../../src/domain/contract.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseDeploymentRequest } from '../../src/domain/request.js';
import { FIXED_NOW } from '../support/fixtures.js';
import { ROOT, run, seedObject } from './cliHarness.js';

let tmp: string;
let seed: Record<string, unknown>;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'chaos-batch-'));
  seed = await seedObject();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Generated {
  text: string;
  /** 1-based line numbers and deployment ids of the valid requests, in order. */
  valid: { line: number; id: string }[];
  /** Line number → the reason text expected on stderr. */
  invalid: Map<number, RegExp>;
  blank: number;
}

/** 10,000 lines: mostly valid requests, with bad JSON, missing fields, wrong types, non-objects and blank lines. */
function generate(count: number): Generated {
  const lines: string[] = [];
  const valid: Generated['valid'] = [];
  const invalid = new Map<number, RegExp>();
  let blank = 0;
  for (let i = 1; i <= count; i++) {
    const id = `deploy-${i}`;
    const request: Record<string, unknown> = {
      ...seed,
      deployment_id: id,
      environment: i % 3 === 0 ? 'staging' : 'production',
      rollback_capability: i % 2 === 0,
    };
    if (i % 997 === 0) {
      lines.push(JSON.stringify(request).slice(0, 40)); // truncated: bad JSON
      invalid.set(i, /\$: is not valid JSON/);
    } else if (i % 1009 === 0) {
      const { service_name: _, ...missing } = request;
      lines.push(JSON.stringify(missing));
      invalid.set(i, /^service_name: is required$/);
    } else if (i % 1013 === 0) {
      lines.push(JSON.stringify({ ...request, current_qps: 'lots' }));
      invalid.set(i, /^current_qps: must be a non-negative number \(got "lots"\)$/);
    } else if (i % 1019 === 0) {
      lines.push(JSON.stringify([request]));
      invalid.set(i, /^\$: must be a JSON object/);
    } else if (i % 1021 === 0) {
      lines.push('   ');
      blank++;
    } else {
      lines.push(JSON.stringify(request));
      valid.push({ line: i, id });
    }
  }
  return { text: `${lines.join('\n')}\n`, valid, invalid, blank };
}

describe('chaos assess --batch (streaming)', () => {
  it('scores 10,000 lines: exactly the valid lines on stdout in order, each bad line on stderr, exit 2', async () => {
    const generated = generate(10_000);
    expect(generated.invalid.size).toBeGreaterThanOrEqual(30);
    const file = join(tmp, 'big.ndjson');
    await writeFile(file, generated.text);

    const r = await run(['assess', '--batch', file, '--json']);
    expect(r.code).toBe(2);

    const out = r.stdout.split('\n');
    expect(out.pop()).toBe('');
    expect(out).toHaveLength(generated.valid.length);
    const results = out.map((line) => JSON.parse(line) as BatchResultLine);
    expect(results.map((x) => ({ line: x.line, id: x.deploymentId }))).toEqual(generated.valid);
    for (const x of results.slice(0, 50)) {
      expect(Object.keys(x)).toEqual([
        'line',
        'deploymentId',
        'contractId',
        'score',
        'level',
        'confidence',
        'factors',
        'guardrails',
      ]);
      expect(x.contractId).toBe(`ctr-${x.deploymentId}`);
      expect(Object.keys(x.guardrails).sort()).toEqual(['error_rate', 'latency_p95', 'latency_p99']);
    }

    const err = r.stderr.trimEnd().split('\n');
    expect(err.at(-1)).toBe(`${generated.valid.length} assessed, ${generated.invalid.size} invalid`);
    const reported = err.slice(0, -1);
    expect(reported).toHaveLength(generated.invalid.size);
    const expected = [...generated.invalid.entries()].sort((a, b) => a[0] - b[0]);
    reported.forEach((line, index) => {
      const [lineNo, reason] = expected[index] as [number, RegExp];
      const m = new RegExp(`^error: ${escapeRegExp(file)} line (\\d+): (.*)$`).exec(line);
      expect(m, line).not.toBeNull();
      expect(Number(m?.[1])).toBe(lineNo);
      expect(m?.[2]).toMatch(reason);
    });
    expect(generated.valid.length + generated.invalid.size + generated.blank).toBe(10_000);
  });

  it('matches the single-request contract and exits 0 with a summary when every line is valid', async () => {
    const file = join(tmp, 'ok.ndjson');
    const second = { ...seed, deployment_id: 'deploy-2', environment: 'staging' };
    await writeFile(file, `${JSON.stringify(seed)}\r\n\r\n${JSON.stringify(second)}`);
    const r = await run(['assess', '--batch', file, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('2 assessed, 0 invalid\n');
    const lines = r.stdout.trim().split('\n');
    const expected = assessDeployment(parseDeploymentRequest(second), DEFAULT_POLICY, { now: FIXED_NOW });
    expect(JSON.parse(lines[1] ?? '')).toEqual(batchResultLine(3, expected));

    const full = await run(['assess', '--batch', file, '--json', '--full']);
    expect(full.code).toBe(0);
    const contracts = full.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Contract);
    expect(contracts[1]).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(contracts[0]?.id).toBe('ctr-deploy-example-prod-001');
  });

  it('prints one text line per request by default, whole contracts with --full or --markdown', async () => {
    const file = join(tmp, 'two.ndjson');
    await writeFile(file, `${JSON.stringify(seed)}\n${JSON.stringify({ ...seed, deployment_id: 'deploy-b' })}\n`);
    const text = await run(['assess', '--batch', file]);
    expect(text.code).toBe(0);
    const rows = text.stdout.trim().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^line 1\tdeploy-example-prod-001\t\d+\.\d (low|medium|high|critical)/);
    expect(rows[1]).toMatch(/^line 2\tdeploy-b\t/);
    const full = await run(['assess', '--batch', file, '--full']);
    expect(full.stdout.match(/RISK ASSESSMENT:/g)).toHaveLength(2);
    const md = await run(['assess', '--batch', file, '--markdown']);
    expect(md.stdout.match(/^## Deployment contract/gm)).toHaveLength(2);
    expect((await run(['assess', 'x.json', '--full'])).stderr).toBe('error: --full only applies to --batch\n');
  });

  it('reports an unreadable batch file as invalid input', async () => {
    const r = await run(['assess', '--batch', 'missing.ndjson']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'error: cannot read missing.ndjson: no such file\n' });
    const dir = await run(['assess', '--batch', tmp]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe(`error: cannot read ${tmp}: is a directory\n`);
  });

  it('streams standard input: a result is written before the next line arrives', async () => {
    const input = new PassThrough();
    let stdout = '';
    let stderr = '';
    let notify: (() => void) | undefined;
    const written = () =>
      new Promise<void>((resolve) => {
        notify = resolve;
      });
    const firstWritten = written();
    const done = run(['assess', '--batch', '-', '--json'], {
      io: {
        stdout: (t) => {
          stdout += t;
          notify?.();
        },
        stderr: (t) => {
          stderr += t;
        },
        readStdin: async () => {
          throw new Error('batch must not read stdin whole');
        },
        stdinStream: () => input,
      },
    });
    input.write(`${JSON.stringify(seed)}\n`);
    await firstWritten;
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
    input.write('{"deployment_id": 7}\n');
    input.end(`${JSON.stringify({ ...seed, deployment_id: 'late' })}\n`);
    const r = await done;
    expect(r.code).toBe(2);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as BatchResultLine).deploymentId),
    ).toEqual(['deploy-example-prod-001', 'late']);
    expect(stderr).toMatch(/^error: stdin line 2: deployment_id: must be a string \(got 7\)/);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('2 assessed, 1 invalid');
  });
});

describe('bin/chaos.js assess --batch as a child process', () => {
  it('streams into a pipe and ends quietly with exit 0 when the reader goes away (| head -1)', async () => {
    const file = join(tmp, 'pipe.ndjson');
    await writeFile(
      file,
      `${Array.from({ length: 3000 }, (_, i) => JSON.stringify({ ...seed, deployment_id: `p-${i}` })).join('\n')}\n`,
    );
    const r = await execa(
      'bash',
      ['-c', `node bin/chaos.js assess --batch "$1" --json | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`, 'sh', file],
      {
        cwd: ROOT,
        reject: false,
      },
    );
    expect((JSON.parse(r.stdout) as BatchResultLine).deploymentId).toBe('p-0');
    expect(r.stderr.trim()).toBe('rc=0');
  });
});

describe('assessNdjson', () => {
  it('waits for the sink to drain after each result and counts blank lines', async () => {
    const out: string[] = [];
    let drains = 0;
    const summary = await assessNdjson(
      Readable.from([`${JSON.stringify(seed)}\n\n`, `${JSON.stringify({ ...seed, deployment_id: 'b' })}`]),
      { policy: DEFAULT_POLICY, now: () => FIXED_NOW, format: 'summary-json', source: 'test' },
      {
        out: (t) => out.push(t),
        err: () => undefined,
        drain: async () => {
          drains++;
        },
      },
    );
    expect(summary).toEqual({ lines: 3, assessed: 2, invalid: 0, blank: 1 });
    expect(drains).toBe(2);
    expect(out.map((l) => (JSON.parse(l) as BatchResultLine).line)).toEqual([1, 3]);
  });

  it('splits lines across chunk boundaries and multi-byte characters', async () => {
    const text = `${JSON.stringify({ ...seed, owner_team: 'équipe-été' })}\n${JSON.stringify({ ...seed, deployment_id: 'z' })}\n`;
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const out: string[] = [];
    const summary = await assessNdjson(
      Readable.from(chunks),
      { policy: DEFAULT_POLICY, now: () => FIXED_NOW, format: 'full-json', source: 'test' },
      { out: (t) => out.push(t), err: () => undefined },
    );
    expect(summary.assessed).toBe(2);
    expect((JSON.parse(out[0] ?? '') as Contract).deployment.ownerTeam).toBe('équipe-été');
  });
});
