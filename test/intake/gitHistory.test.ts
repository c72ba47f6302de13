import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HISTORY_LOG_FORMAT,
  type HistoryCommit,
  HistoryRecordReader,
  readGitHistory,
  resolveGitHistory,
  splitHistoryRange,
} from '../../src/intake/gitHistory.js';
import { createHistoryRepo, type HistoryRepo } from './gitRepoFixture.js';

let tmp: string;
let repo: HistoryRepo;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'chaos-history-'));
  repo = await createHistoryRepo(join(tmp, 'shop'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function collect(options: Parameters<typeof readGitHistory>[0]): Promise<HistoryCommit[]> {
  const out: HistoryCommit[] = [];
  for await (const commit of readGitHistory(options)) out.push(commit);
  return out;
}

describe('readGitHistory (real repository)', () => {
  it('yields every non-merge commit newest first, each as its own change, the root against the empty tree', async () => {
    const commits = await collect({ repoDir: repo.dir, range: 'HEAD' });
    const { sha } = repo;
    expect(commits.map((c) => c.sha)).toEqual([
      sha.feature,
      sha.rename,
      sha.refactor,
      sha.migration,
      sha.cache,
      sha.docs,
      sha.root,
    ]);
    const byName = (s: string) => commits.find((c) => c.sha === s) as HistoryCommit;
    const root = byName(sha.root);
    expect(root.parents).toEqual([]);
    expect(root.request?.changes.map((c) => [c.filePath, c.changeType, c.linesAdded]).sort()).toEqual([
      ['README.md', 'add', 1],
      ['src/app.ts', 'add', 3],
    ]);
    expect(root.request?.previousVersion).toBeUndefined();
    expect(root.request?.source).toEqual({ kind: 'git', ref: sha.root });

    const migration = byName(sha.migration);
    expect(migration.subject).toBe('drop legacy column from orders');
    expect(migration.request?.commitMessages).toEqual([
      'drop legacy column from orders\n\nThe column has been unused since v2.',
    ]);
    expect(migration.request?.source.ref).toBe(`${sha.cache}..${sha.migration}`);
    expect(migration.request?.changes[0]?.addedLines).toEqual([
      { line: 1, text: 'ALTER TABLE orders DROP COLUMN legacy_id;' },
      { line: 2, text: 'ALTER TABLE orders ADD COLUMN note text;' },
    ]);
    expect(migration.request).toMatchObject({
      serviceName: 'shop',
      environment: 'production',
      version: sha.migration.slice(0, 12),
      previousVersion: sha.cache.slice(0, 12),
      deploymentId: `git-shop-${sha.migration.slice(0, 12)}`,
      author: 'test@example.com',
    });

    const rename = byName(sha.rename);
    expect(rename.request?.changes.map((c) => [c.filePath, c.changeType]).sort()).toEqual([
      ['docs/guide.md', 'delete'],
      ['src/main.ts', 'rename'],
    ]);
    expect(byName(sha.refactor).request?.changes).toHaveLength(64);
    expect(byName(sha.refactor).request?.spread.directories).toBe(8);
  });

  it('skips merges by default and counts them; --first-parent scores a merge as its pull request', async () => {
    const info = await resolveGitHistory({ repoDir: repo.dir, range: 'HEAD' });
    expect(info).toEqual({ to: repo.sha.merge, mergesSkipped: 1 });
    const firstParent = await collect({ repoDir: repo.dir, range: `${repo.sha.refactor}..HEAD`, firstParent: true });
    expect(firstParent.map((c) => c.sha)).toEqual([repo.sha.merge, repo.sha.rename]);
    expect(firstParent[0]?.request?.changes.map((c) => c.filePath)).toEqual(['src/auth/permissions.ts']);
    expect(firstParent[0]?.parents).toHaveLength(2);
  });

  it('runs one git log for the whole range, whatever the number of commits', async () => {
    const log = join(tmp, 'git-calls.log');
    const wrapper = join(tmp, 'git-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\necho "$1" >> "${log}"\nexec git "$@"\n`);
    await chmod(wrapper, 0o755);
    const commits = await collect({ repoDir: repo.dir, range: 'HEAD', gitBinary: wrapper });
    expect(commits).toHaveLength(7);
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls.filter((c) => c === 'log')).toHaveLength(1);
    expect(calls.length).toBeLessThanOrEqual(4); // rev-parse --git-dir, rev-parse --verify, rev-list --count, log
  });

  it('caps the diff read per commit but keeps exact line counts; 0 reads numstat only', async () => {
    const capped = await collect({
      repoDir: repo.dir,
      range: `${repo.sha.migration}..${repo.sha.refactor}`,
      maxDiffBytesPerCommit: 2000,
    });
    const refactor = capped[0] as HistoryCommit;
    expect(refactor.diffTruncated).toBe(true);
    const changes = refactor.request?.changes ?? [];
    expect(changes.reduce((sum, c) => sum + c.linesAdded, 0)).toBe(64 * 60);
    expect(changes.filter((c) => c.addedLines !== undefined).length).toBeLessThan(64);
    expect(changes.some((c) => c.description === 'diff not read (size cap)')).toBe(true);

    const none = await collect({
      repoDir: repo.dir,
      range: `${repo.sha.cache}..${repo.sha.migration}`,
      maxDiffBytesPerCommit: 0,
    });
    expect(none[0]?.request?.changes[0]).toMatchObject({ changeType: 'add', linesAdded: 2 });
    expect(none[0]?.request?.changes[0]?.addedLines).toBeUndefined();
    expect(none[0]?.diffTruncated).toBe(false);
  });

  it('honours maxCommits and stops git when the consumer stops early', async () => {
    expect((await collect({ repoDir: repo.dir, range: 'HEAD', maxCommits: 2 })).map((c) => c.sha)).toEqual([
      repo.sha.feature,
      repo.sha.rename,
    ]);
    for await (const commit of readGitHistory({ repoDir: repo.dir, range: 'HEAD' })) {
      expect(commit.sha).toBe(repo.sha.feature);
      break;
    }
  });

  it('rejects bad ranges, unknown revisions and non-repositories with coded errors', async () => {
    await expect(collect({ repoDir: repo.dir, range: '--output=/tmp/x' })).rejects.toMatchObject({
      code: 'intake_invalid_range',
    });
    await expect(collect({ repoDir: repo.dir, range: 'a b' })).rejects.toMatchObject({ code: 'intake_invalid_range' });
    await expect(collect({ repoDir: repo.dir, range: 'nope..HEAD' })).rejects.toMatchObject({
      code: 'intake_invalid_range',
      message: expect.stringContaining('unknown revision "nope"'),
    });
    await expect(collect({ repoDir: tmp, range: 'HEAD' })).rejects.toMatchObject({ code: 'intake_not_a_repository' });
    await expect(collect({ repoDir: join(tmp, 'missing'), range: 'HEAD' })).rejects.toMatchObject({
      code: 'intake_not_a_repository',
    });
    expect(splitHistoryRange('v1..v2')).toEqual(['v1', 'v2']);
    expect(splitHistoryRange('main')).toEqual([undefined, 'main']);
  });
});

describe('HistoryRecordReader', () => {
  const marker = HISTORY_LOG_FORMAT.replace(/%x1e/g, '\x1e').replace(/%x1f/g, '\x1f').split('%H')[0] ?? '';
  const header = (sha: string, parents: string, message: string) =>
    `${marker}${sha}\x1f${parents}\x1fAda\x1fada@example.com\x1f2026-01-01T00:00:00+00:00\x1f${message}\x1f`;

  function read(lines: string[], maxDiffBytes = 1 << 20) {
    const reader = new HistoryRecordReader(maxDiffBytes);
    const records = lines.map((l) => reader.push(l)).filter((r) => r !== undefined);
    const last = reader.end();
    return last ? [...records, last] : records;
  }

  it('reads multi-line messages, numstat, summary and patch; a message line that looks like a diff stays message', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const records = read([
      ...header(a, b, 'subject\n\ndiff --git a/x b/x\n12\t3\tnot/a/file').split('\n'),
      '',
      '2\t0\tdb/m.sql',
      '1\t1\t"caf\\303\\251.txt"',
      ' create mode 100644 db/m.sql',
      '',
      'diff --git a/db/m.sql b/db/m.sql',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/db/m.sql',
      '@@ -0,0 +1,2 @@',
      '+ALTER TABLE t ADD c int;',
      '+-\t5\tlooks like numstat',
      ...header(b, '', 'root').split('\n'),
      '',
      '1\t0\tREADME.md',
      ' create mode 100644 README.md',
    ]);
    expect(records).toHaveLength(2);
    const [first, second] = records;
    expect(first?.message).toBe('subject\n\ndiff --git a/x b/x\n12\t3\tnot/a/file');
    expect(first?.numstat.map((e) => e.path)).toEqual(['db/m.sql', 'café.txt']);
    expect([...(first?.created ?? [])]).toEqual(['db/m.sql']);
    expect(first?.diff.files[0]?.addedLines).toEqual([
      { line: 1, text: 'ALTER TABLE t ADD c int;' },
      { line: 2, text: '-\t5\tlooks like numstat' },
    ]);
    expect(second).toMatchObject({ sha: b, parents: [], message: 'root', diffTruncated: false });
  });

  it('stops keeping patch lines past the cap and says so', () => {
    const records = read(
      [
        ...header('c'.repeat(40), '', 'big').split('\n'),
        '3\t0\tx.txt',
        'diff --git a/x.txt b/x.txt',
        '--- a/x.txt',
        '+++ b/x.txt',
        '@@ -0,0 +1,3 @@',
        '+one',
        '+two',
        '+three',
      ],
      60,
    );
    expect(records[0]?.diffTruncated).toBe(true);
    expect(records[0]?.numstat[0]?.added).toBe(3);
  });
});
