import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessRisk } from '../../src/domain/risk/engine.js';
import { GitIntakeError, readGitRange, readGitRangeDetailed, validateRange } from '../../src/intake/gitRange.js';

let repo: string;
const commits: Record<string, string> = {};

async function git(...args: string[]): Promise<string> {
  const env = {
    GIT_AUTHOR_NAME: 'Dev One',
    GIT_AUTHOR_EMAIL: 'dev@example.com',
    GIT_COMMITTER_NAME: 'Dev One',
    GIT_COMMITTER_EMAIL: 'dev@example.com',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  return (await execa('git', args, { cwd: repo, env })).stdout.trim();
}

function write(path: string, content: string): void {
  const full = join(repo, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

async function commit(name: string, message: string): Promise<void> {
  await git('add', '-A');
  await git('commit', '-q', '-m', message);
  commits[name] = await git('rev-parse', 'HEAD');
}

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'chaos-git-range-'));
  await git('init', '-q', '-b', 'main');
  write('src/cache/redis.ts', 'export const client = createClient();\nexport const TTL_SECONDS = 60;\n');
  write('src/app.ts', 'export const app = 1;\n');
  write('docs/README.md', '# Orders\n');
  await commit('base', 'Initial commit');

  write(
    'db/migrations/001_add_orders.sql',
    '-- orders\nALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX idx_orders_note ON orders (note);\n',
  );
  await commit('migration', 'Add note column to orders');

  write(
    'src/cache/redis.ts',
    'export const client = createClient();\nexport const TTL_SECONDS = 300;\nexport const redisPrefix = "orders:";\n',
  );
  await commit('cache', 'Raise cache TTL to five minutes\n\nFewer misses at peak.');

  write('docs/README.md', '# Orders\n\nHow to run the service locally.\n');
  await commit('docs', 'Document local setup');

  // On a side branch, so HEAD stays at the docs commit.
  await git('checkout', '-q', '-b', 'bugfix');
  write('src/app.ts', 'export const app = 2;\n');
  await commit('fix', 'Fix the app constant\n\nThe value was off by one.\n\nBug: 4321\nChange-Id: I0123456789abcdef');
  await git('checkout', '-q', 'main');
});

afterAll(() => {
  if (repo) rmSync(repo, { recursive: true, force: true });
});

describe('readGitRange against a real repository', () => {
  it('reads files, line counts, change types, commit messages and diffs', async () => {
    const request = await readGitRange({ repoDir: repo, range: `${commits.base}..${commits.docs}` });
    const byPath = new Map(request.changes.map((c) => [c.filePath, c]));
    expect([...byPath.keys()].sort()).toEqual([
      'db/migrations/001_add_orders.sql',
      'docs/README.md',
      'src/cache/redis.ts',
    ]);
    expect(byPath.get('db/migrations/001_add_orders.sql')).toMatchObject({
      changeType: 'add',
      linesAdded: 3,
      linesDeleted: 0,
    });
    expect(byPath.get('src/cache/redis.ts')).toMatchObject({ changeType: 'modify', linesAdded: 2, linesDeleted: 1 });
    expect(byPath.get('docs/README.md')).toMatchObject({ linesAdded: 2, linesDeleted: 0 });
    expect(byPath.get('db/migrations/001_add_orders.sql')?.addedLines).toEqual([
      { line: 1, text: '-- orders' },
      { line: 2, text: 'ALTER TABLE orders ADD COLUMN note text;' },
      { line: 3, text: 'CREATE INDEX idx_orders_note ON orders (note);' },
    ]);
    expect(request.commitMessages).toEqual([
      'Add note column to orders',
      'Raise cache TTL to five minutes\n\nFewer misses at peak.',
      'Document local setup',
    ]);
    expect(request.totalLinesChanged).toBe(8);
    expect(request.spread).toMatchObject({ linesAdded: 7, linesDeleted: 1, files: 3, directories: 3, subsystems: 3 });
    expect(request.spread.entropy).toBeGreaterThan(1);
    expect(request.source).toEqual({ kind: 'git', ref: `${commits.base}..${commits.docs}` });
    expect(request.version).toBe(commits.docs?.slice(0, 12));
    expect(request.previousVersion).toBe(commits.base?.slice(0, 12));
    expect(request.author).toBe('dev@example.com');
    expect(request.environment).toBe('production');
    expect(request.serviceName).toMatch(/^chaos-git-range-/);
  });

  it('finds the migration and caching factors with file and line evidence', async () => {
    const request = await readGitRange({ repoDir: repo, range: `${commits.base}..${commits.docs}` });
    const risk = assessRisk(request);
    const db = risk.findings.find((f) => f.factor === 'database_migration');
    const cache = risk.findings.find((f) => f.factor === 'caching');
    expect(db?.evidence).toContainEqual({
      source: 'diff',
      file: 'db/migrations/001_add_orders.sql',
      line: 2,
      text: 'alter table: ALTER TABLE orders ADD COLUMN note text;',
    });
    expect(cache?.evidence).toContainEqual({
      source: 'diff',
      file: 'src/cache/redis.ts',
      line: 2,
      text: 'ttl: export const TTL_SECONDS = 300;',
    });
    expect(risk.confidence).toBeGreaterThanOrEqual(0.75);
  });

  it('scores the docs-only range low with no such factors', async () => {
    const request = await readGitRange({
      repoDir: repo,
      range: `${commits.cache}..${commits.docs}`,
      defaults: { environment: 'staging', rollback_capability: true },
    });
    expect(request.changes.map((c) => c.filePath)).toEqual(['docs/README.md']);
    const risk = assessRisk(request);
    expect(risk.level).toBe('low');
    expect(risk.findings.map((f) => f.factor)).toEqual(['change_size_spread']);
  });

  it('reads the whole commit message, so a tracker footer shows as "fixes a tracked issue"', async () => {
    const request = await readGitRange({ repoDir: repo, range: `${commits.docs}..${commits.fix}` });
    expect(request.commitMessages[0]).toContain('Bug: 4321');
    const fix = assessRisk(request).findings.find((f) => f.factor === 'fixes_tracked_issue');
    expect(fix?.evidence).toEqual([{ source: 'commit_message', text: 'Bug: 4321' }]);
    expect(fix?.points).toBeGreaterThan(0);
    const plain = await readGitRange({ repoDir: repo, range: `${commits.cache}..${commits.docs}` });
    expect(assessRisk(plain).findings.some((f) => f.factor === 'fixes_tracked_issue')).toBe(false);
  });

  it('caps the diff and says so, keeping exact line counts', async () => {
    const result = await readGitRangeDetailed({
      repoDir: repo,
      range: `${commits.base}..${commits.docs}`,
      maxDiffBytes: 200,
    });
    expect(result.diffTruncated).toBe(true);
    expect(result.warnings[0]).toMatch(/diff larger than 200 bytes/);
    expect(result.request.totalLinesChanged).toBe(8);
    const withoutDiff = result.request.changes.filter((c) => c.addedLines === undefined);
    expect(withoutDiff.length).toBeGreaterThan(0);
  });

  it('accepts symbolic revisions and applies caller defaults', async () => {
    const request = await readGitRange({
      repoDir: repo,
      range: 'HEAD~1..HEAD',
      defaults: { service_name: 'orders', deployment_id: 'orders-77', current_qps: 120 },
    });
    expect(request.serviceName).toBe('orders');
    expect(request.deploymentId).toBe('orders-77');
    expect(request.slo.currentQps).toBe(120);
    expect(request.changes.map((c) => c.filePath)).toEqual(['docs/README.md']);
  });
});

describe('readGitRange errors', () => {
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      expect(error).toBeInstanceOf(GitIntakeError);
      return (error as GitIntakeError).code;
    }
    throw new Error('expected a GitIntakeError');
  };

  it('rejects ranges that could inject options or are malformed', () => {
    for (const range of [
      '--output=/tmp/x..HEAD',
      'HEAD..--exec=sh',
      '-p',
      'HEAD',
      'a...b',
      'a..b..c',
      'a b..c',
      '..HEAD',
      'HEAD;rm..x',
    ]) {
      expect(() => validateRange(range)).toThrow(GitIntakeError);
    }
    expect(validateRange('v1.2.0..main')).toEqual(['v1.2.0', 'main']);
    expect(validateRange('HEAD~3..origin/main')).toEqual(['HEAD~3', 'origin/main']);
  });

  it('reports intake_invalid_range before running git, and for unknown revisions', async () => {
    expect(await code(readGitRange({ repoDir: repo, range: '--upload-pack=evil..HEAD' }))).toBe('intake_invalid_range');
    expect(await code(readGitRange({ repoDir: repo, range: 'nosuchref..HEAD' }))).toBe('intake_invalid_range');
  });

  it('reports intake_not_a_repository for a plain directory and a missing one', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'chaos-not-git-'));
    try {
      expect(await code(readGitRange({ repoDir: plain, range: 'a..b' }))).toBe('intake_not_a_repository');
      expect(await code(readGitRange({ repoDir: join(plain, 'missing'), range: 'a..b' }))).toBe(
        'intake_not_a_repository',
      );
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it('reports intake_git_failed when git cannot run', async () => {
    expect(await code(readGitRange({ repoDir: repo, range: 'HEAD~1..HEAD', gitBinary: '/nonexistent/git' }))).toBe(
      'intake_git_failed',
    );
  });
});
