/**
 * A small real git repository for history tests: a root commit, docs-only, a cache change, a migration, a big
 * refactor, a rename + delete, and a feature branch merged with --no-ff. Returns the repository and its commit ids.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export interface HistoryRepo {
  dir: string;
  sha: Record<'root' | 'docs' | 'cache' | 'migration' | 'refactor' | 'rename' | 'feature' | 'merge', string>;
}

export async function createHistoryRepo(dir: string): Promise<HistoryRepo> {
  let minute = 0;
  const git = async (...args: string[]) => {
    // One minute apart, so git log's newest-first order is well defined.
    const date = new Date(Date.UTC(2026, 0, 1, 0, minute++)).toISOString();
    const env = { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    const flags = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
    return (await execa('git', [...flags, ...args], { cwd: dir, env })).stdout.trim();
  };
  const write = async (path: string, text: string) => {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  };
  const commit = async (message: string) => {
    await git('add', '-A');
    await git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };

  await mkdir(dir, { recursive: true });
  await git('init', '-q', '-b', 'main');
  await write('src/app.ts', 'export function main() {\n  return 1;\n}\n');
  await write('README.md', '# Service\n');
  const root = await commit('initial import');

  await write('README.md', '# Service\n\nHow to run it locally.\nAnother line.\n');
  await write('docs/guide.md', 'Guide\n');
  const docs = await commit('docs: explain local setup');

  await write(
    'src/cache/redis.ts',
    'import Redis from "ioredis";\nexport const cache = new Redis();\nexport const TTL_SECONDS = 300;\n' +
      'export async function cached(key: string) {\n  return cache.get(key);\n}\n',
  );
  const cache = await commit('cache product lookups in redis');

  await write(
    'db/migrations/0002_drop_legacy.sql',
    'ALTER TABLE orders DROP COLUMN legacy_id;\nALTER TABLE orders ADD COLUMN note text;\n',
  );
  const migration = await commit('drop legacy column from orders\n\nThe column has been unused since v2.');

  for (const area of ['api', 'billing', 'search', 'jobs', 'ui', 'lib', 'reports', 'users']) {
    for (let i = 1; i <= 8; i++) {
      const body = Array.from({ length: 60 }, (_, n) => `export const v${n + 1} = 0;`).join('\n');
      await write(`src/${area}/module${i}.ts`, `${body}\n`);
    }
  }
  const refactor = await commit('refactor: split monolith into modules');

  await git('mv', 'src/app.ts', 'src/main.ts');
  await git('rm', '-q', 'docs/guide.md');
  const rename = await commit('rename app entry point, drop old guide');

  await git('checkout', '-q', '-b', 'feature');
  await write(
    'src/auth/permissions.ts',
    'export function isAdmin(user: { role: string }) {\n  return user.role === "admin";\n}\n',
  );
  const feature = await commit('add admin role check');
  await git('checkout', '-q', 'main');
  await git('merge', '-q', '--no-ff', 'feature', '-m', 'Merge branch feature');
  const merge = await git('rev-parse', 'HEAD');

  return { dir, sha: { root, docs, cache, migration, refactor, rename, feature, merge } };
}
