/**
 * Assessment throughput and latency: parse → assessRisk → draftContract, in one process on one core.
 *   (a) the seed example (/work/shared/seed copy in test/fixtures): goal ≥ 5,000 assessments/s;
 *   (b) a synthetic 2,000-file change with descriptions and added lines: goal p99 < 50 ms.
 *   (c) `chaos assess --batch` of 10,000 and 40,000 NDJSON lines (the 40,000 run is the rate after start-up).
 * Run: npm run bench:assess [-- --batch-only]. Prints a table; never fails on a goal (figures, not a test).
 */

import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { assessNdjson } from '../src/cli/commands/batch.js';
import { openTextStream } from '../src/cli/program.js';
import { assessDeployment } from '../src/domain/contract.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { renderContractText } from '../src/domain/render/text.js';
import { parseDeploymentJson } from '../src/domain/request.js';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const seedText = readFileSync(join(import.meta.dirname, '../test/fixtures/deployment-example.json'), 'utf8');

function syntheticChange(files: number): string {
  const areas = [
    'api',
    'cache',
    'db/migrations',
    'billing',
    'auth',
    'ui/components',
    'infra',
    'lib/util',
    'search',
    'jobs',
  ];
  const changes = Array.from({ length: files }, (_, i) => {
    const area = areas[i % areas.length];
    const ext = area === 'db/migrations' ? 'sql' : 'ts';
    return {
      file_path: `src/${area}/module_${Math.floor(i / areas.length)}/file_${i}.${ext}`,
      change_type: i % 17 === 0 ? 'add' : 'modify',
      lines_added: 8 + (i % 23),
      lines_deleted: i % 7,
      description: i % 5 === 0 ? `Refactor ${area} handler ${i} for lower latency` : '',
      added_lines: [
        { line: 10, text: `export function handler${i}(req) { return process(req, ${i}); }` },
        { line: 11, text: ext === 'sql' ? 'ALTER TABLE orders ADD COLUMN note text;' : `const ttl = ${i % 300};` },
      ],
    };
  });
  return JSON.stringify({
    deployment_id: 'deploy-bench-2000',
    service_name: 'monolith',
    environment: 'production',
    version: 'v9.0.0',
    changes,
    current_error_rate_percent: 0.05,
    current_p95_latency_ms: 180,
    current_p99_latency_ms: 450,
    target_error_rate_percent: 0.1,
    target_p95_latency_ms: 250,
    target_p99_latency_ms: 800,
    current_qps: 5000,
    peak_qps: 8000,
    rollback_capability: true,
  });
}

interface Result {
  name: string;
  iterations: number;
  perSecond: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
}

function measure(
  name: string,
  fn: () => unknown,
  options: { warmup: number; minIterations: number; minMs: number },
): Result {
  for (let i = 0; i < options.warmup; i++) fn();
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (samples.length < options.minIterations || elapsedMs < options.minMs) {
    const t0 = process.hrtime.bigint();
    fn();
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0) / 1e6);
    elapsedMs = Number(t1 - start) / 1e6;
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? Number.NaN;
  return {
    name,
    iterations: samples.length,
    perSecond: (samples.length / elapsedMs) * 1000,
    medianMs: at(0.5),
    p99Ms: at(0.99),
    maxMs: samples[samples.length - 1] ?? Number.NaN,
  };
}

/** (a) and (b): one request at a time. */
function benchSingleRequests(): void {
  const bigText = syntheticChange(2000);
  const results = [
    measure(
      '(a) seed example: parse + assess + draft',
      () => assessDeployment(parseDeploymentJson(seedText), DEFAULT_POLICY, { now: NOW }),
      {
        warmup: 2000,
        minIterations: 20_000,
        minMs: 3000,
      },
    ),
    measure(
      '(a′) seed example + text render',
      () => renderContractText(assessDeployment(parseDeploymentJson(seedText), DEFAULT_POLICY, { now: NOW })),
      { warmup: 1000, minIterations: 10_000, minMs: 2000 },
    ),
    measure(
      '(b) synthetic 2,000-file change',
      () => assessDeployment(parseDeploymentJson(bigText), DEFAULT_POLICY, { now: NOW }),
      {
        warmup: 20,
        minIterations: 200,
        minMs: 5000,
      },
    ),
  ];

  const big = assessDeployment(parseDeploymentJson(bigText), DEFAULT_POLICY, { now: NOW });
  console.log(
    `node ${process.version}, ${process.arch}; synthetic change: ${big.deployment.changes.length} files, ${(bigText.length / 1024).toFixed(0)} KiB JSON, level ${big.risk.level}`,
  );
  console.table(
    results.map((r) => ({
      benchmark: r.name,
      iterations: r.iterations,
      'per second': Math.round(r.perSecond),
      'median ms': Number(r.medianMs.toFixed(3)),
      'p99 ms': Number(r.p99Ms.toFixed(3)),
      'max ms': Number(r.maxMs.toFixed(3)),
    })),
  );
  const [a, , b] = results;
  console.log(
    `goal (a) ≥ 5,000/s: ${a && a.perSecond >= 5000 ? 'met' : 'NOT met'} (${Math.round(a?.perSecond ?? 0)}/s)`,
  );
  console.log(`goal (b) p99 < 50 ms: ${b && b.p99Ms < 50 ? 'met' : 'NOT met'} (${b?.p99Ms.toFixed(2)} ms)`);
}

if (!process.argv.slice(2).includes('--batch-only')) benchSingleRequests();

// ---------------------------------------------------------------------------------------------------------------
// (c) Batch throughput: `chaos assess --batch` in-process. 10,000 NDJSON lines written to a temporary file, streamed
// through assessNdjson (readline in, one compact JSON result per line out) into a null sink that honours
// backpressure. Goal: 10,000 requests scored in under 5 s. A 4x longer run checks that memory stays flat.

const seedRequest = JSON.parse(seedText) as Record<string, unknown>;
const seedChanges = seedRequest.changes as Record<string, unknown>[];

function batchLine(i: number): string {
  const changes = [...seedChanges];
  if (i % 10 === 0) {
    changes.push({
      file_path: `db/migrations/${String(i).padStart(5, '0')}_add_index.sql`,
      change_type: 'add',
      lines_added: 4,
      lines_deleted: 0,
      added_lines: [{ line: 1, text: `CREATE INDEX idx_${i} ON orders (customer_id);` }],
    });
  }
  const { total_lines_changed: _declaredTotal, ...rest } = seedRequest; // derived from the changes instead
  return JSON.stringify({
    ...rest,
    deployment_id: `deploy-batch-${i}`,
    environment: i % 3 === 0 ? 'staging' : 'production',
    rollback_capability: i % 2 === 0,
    changes,
  });
}

interface BatchRun {
  seconds: number;
  assessed: number;
  invalid: number;
  bytesOut: number;
  rssBefore: number;
  rssPeak: number;
  heapPeak: number;
}

async function runBatchBench(count: number): Promise<BatchRun> {
  const dir = await mkdtemp(join(tmpdir(), 'chaos-bench-batch-'));
  const file = join(dir, 'requests.ndjson');
  // Written line by line so generating the input does not itself inflate the process's memory.
  const writer = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    if (!writer.write(`${batchLine(i)}\n`)) await once(writer, 'drain');
  }
  writer.end();
  await once(writer, 'finish');

  let bytesOut = 0;
  const nullSink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer | string, _encoding, callback) {
      bytesOut += chunk.length;
      setImmediate(callback); // an asynchronous consumer, so backpressure is real
    },
  });
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  let heapPeak = process.memoryUsage().heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  };
  const sampler = setInterval(sample, 20);
  const start = process.hrtime.bigint();
  const summary = await assessNdjson(
    await openTextStream(file),
    { policy: DEFAULT_POLICY, now: () => NOW, format: 'summary-json', source: file },
    {
      out: (text) => {
        nullSink.write(text);
      },
      err: () => undefined,
      drain: async () => {
        if (nullSink.writableNeedDrain) await once(nullSink, 'drain');
      },
    },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(sampler);
  sample();
  await rm(dir, { recursive: true, force: true });
  return { seconds, assessed: summary.assessed, invalid: summary.invalid, bytesOut, rssBefore, rssPeak, heapPeak };
}

const mib = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
const batchRuns = [await runBatchBench(10_000), await runBatchBench(40_000)];
console.table(
  batchRuns.map((r) => ({
    benchmark: `(c) batch ${(r.assessed + r.invalid).toLocaleString('en-US')} NDJSON lines`,
    invalid: r.invalid,
    seconds: Number(r.seconds.toFixed(2)),
    'requests/s': Math.round(r.assessed / r.seconds),
    'MiB out': mib(r.bytesOut),
    'RSS before MiB': mib(r.rssBefore),
    'peak RSS MiB': mib(r.rssPeak),
    'peak heap MiB': mib(r.heapPeak),
  })),
);
const [tenK, fortyK] = batchRuns;
console.log(
  `goal (c) 10,000 requests in < 5 s: ${tenK && tenK.seconds < 5 ? 'met' : 'NOT met'} (${tenK?.seconds.toFixed(2)} s); ` +
    `peak RSS 10k → 40k lines: ${mib(tenK?.rssPeak ?? 0)} → ${mib(fortyK?.rssPeak ?? 0)} MiB, ` +
    `peak heap ${mib(tenK?.heapPeak ?? 0)} → ${mib(fortyK?.heapPeak ?? 0)} MiB; ` +
    `process max RSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB`,
);
