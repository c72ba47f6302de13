/**
 * Risk engine throughput and latency: assessments per second on the seed example, and latency percentiles for a
 * 2,000-file change with diffs. Run: npm run bench:risk
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseDeploymentJson, parseDeploymentRequest } from '../src/domain/request.js';
import { assessRisk } from '../src/domain/risk/engine.js';

const seed = parseDeploymentJson(
  readFileSync(new URL('../../shared/seed/deployment-example.json', import.meta.url), 'utf8'),
);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function measure(name: string, fn: () => unknown, iterations: number): void {
  for (let i = 0; i < Math.min(200, iterations); i++) fn();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  console.log(
    `${name}: ${iterations} runs, ${(iterations / (total / 1000)).toFixed(0)} /s, median ${percentile(times, 50).toFixed(3)} ms, ` +
      `p99 ${percentile(times, 99).toFixed(3)} ms, max ${(times[times.length - 1] ?? 0).toFixed(3)} ms`,
  );
}

const dirs = ['src/api', 'src/cache', 'db/migrations', 'src/auth', 'deploy/helm', 'src/core', 'src/util', 'docs'];
const snippets = [
  'const client = createRedisClient({ ttl: 300 });',
  'ALTER TABLE orders ADD COLUMN status text;',
  'export function handler(req, res) { return res.json(payload); }',
  'if (!user.hasRole("admin")) throw new Forbidden();',
  'retry({ retries: 3, backoff: 200, timeout: 5000 });',
  'const total = items.reduce((sum, item) => sum + item.price, 0);',
];
const bigChanges = Array.from({ length: 2000 }, (_, i) => {
  const dir = dirs[i % dirs.length];
  const lines = Array.from({ length: 20 }, (_, k) => ({
    line: k + 1,
    text: snippets[(i + k) % snippets.length] ?? '',
  }));
  return {
    file_path: `${dir}/module_${i}.${i % 5 === 0 ? 'sql' : 'ts'}`,
    change_type: 'modify',
    lines_added: 20,
    lines_deleted: 5,
    description: i % 10 === 0 ? 'Refactor handler and update cache TTL' : '',
    added_lines: lines,
  };
});
const big = parseDeploymentRequest({
  deployment_id: 'bench-2000',
  service_name: 'bench',
  environment: 'production',
  version: '1.0.0',
  changes: bigChanges,
});

const bigPathsOnly = parseDeploymentRequest({
  deployment_id: 'bench-2000-paths',
  service_name: 'bench',
  environment: 'production',
  version: '1.0.0',
  changes: bigChanges.map(({ added_lines: _lines, ...rest }) => rest),
});

measure('seed example', () => assessRisk(seed), 50_000);
measure('2,000 files, paths and descriptions only', () => assessRisk(bigPathsOnly), 500);
measure('2,000 files x 20 added lines', () => assessRisk(big), 300);
const seedText = readFileSync(new URL('../../shared/seed/deployment-example.json', import.meta.url), 'utf8');
measure('parse seed JSON + assess', () => assessRisk(parseDeploymentJson(seedText)), 10_000);
