import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installationClients } from '../../src/announce/githubClients.js';
import { addedLinesFromPatch, remoteChangeToRequest } from '../../src/announce/remoteChange.js';
import { RequestValidationError } from '../../src/domain/errors.js';
import { parseNameStatus, parseNumstat } from '../../src/domain/gitDiff.js';
import { type RemoteChange, readPullRequest } from '../../src/intake/githubPullRequest.js';
import { readGitRangeDetailed } from '../../src/intake/gitRange.js';
import { type FakeFile, type FakeGitHubApp, startFakeGitHubApp } from '../harness/fakeGitHubApp.js';

const meta = { serviceName: 'shop', environment: 'production', version: 'v2', deploymentId: 'dep-1' };

function change(files: RemoteChange['files'], extra: Partial<RemoteChange> = {}): RemoteChange {
  return {
    kind: 'pull-request',
    url: 'https://github.com/acme/shop/pull/7',
    title: 'Add cache',
    body: 'Body text',
    author: 'dev1',
    baseSha: 'a'.repeat(40),
    headSha: 'b'.repeat(40),
    files,
    commitMessages: ['first', 'second'],
    truncated: false,
    ...extra,
  };
}

describe('remoteChangeToRequest', () => {
  it('maps statuses, line counts, added lines and messages through the wire format', () => {
    const request = remoteChangeToRequest(
      change([
        { path: 'a/new.ts', status: 'added', additions: 2, deletions: 0, patch: '@@ -0,0 +1,2 @@\n+one\n+two' },
        { path: 'a/gone.ts', status: 'removed', additions: 0, deletions: 3, patch: '@@ -1,3 +0,0 @@\n-x\n-y\n-z' },
        { path: 'b/moved.ts', previousPath: 'b/old.ts', status: 'renamed', additions: 0, deletions: 0 },
        { path: 'logo.png', status: 'modified', additions: 0, deletions: 0 },
        { path: 'huge.json', status: 'modified', additions: 9000, deletions: 10 },
        { path: 'c.ts', status: 'copied', additions: 1, deletions: 0, patch: '@@ -0,0 +1 @@\n+c' },
      ]),
      { ...meta, previousVersion: 'v1', defaults: { current_qps: 40, environment: 'ignored' } },
    );
    expect(request.changes.map((c) => [c.filePath, c.changeType, c.linesAdded, c.linesDeleted])).toEqual([
      ['a/new.ts', 'add', 2, 0],
      ['a/gone.ts', 'delete', 0, 3],
      ['b/moved.ts', 'rename', 0, 0],
      ['logo.png', 'modify', 0, 0],
      ['huge.json', 'modify', 9000, 10],
      ['c.ts', 'add', 1, 0],
    ]);
    expect(request.changes[0]?.addedLines).toEqual([
      { line: 1, text: 'one' },
      { line: 2, text: 'two' },
    ]);
    expect(request.changes[2]?.description).toBe('renamed from b/old.ts');
    expect(request.changes[3]?.addedLines).toEqual([]);
    expect(request.changes[4]?.addedLines).toBeUndefined();
    expect(request.changes[4]?.description).toBe('diff not provided by GitHub');
    expect(request.totalLinesChanged).toBe(9016);
    expect(request.spread).toMatchObject({ files: 6, directories: 3, subsystems: 3 });
    expect(request.commitMessages).toEqual(['Add cache\n\nBody text', 'first', 'second']);
    expect(request).toMatchObject({
      environment: 'production',
      previousVersion: 'v1',
      author: 'dev1',
      slo: { currentQps: 40 },
      source: { kind: 'pull-request', ref: 'https://github.com/acme/shop/pull/7' },
    });
  });

  it('says when GitHub listed fewer files than the change has', () => {
    const request = remoteChangeToRequest(change([], { truncated: true, kind: 'compare', title: 'x', body: '' }), meta);
    expect(request.commitMessages.at(-1)).toMatch(/lower bound/);
    expect(request.commitMessages).not.toContain('x');
    expect(request.source.kind).toBe('webhook');
  });

  it('validates like every other intake, naming the field', () => {
    const attempt = () => remoteChangeToRequest(change([]), { ...meta, environment: 'prod eu' });
    expect(attempt).toThrow(RequestValidationError);
    expect(attempt).toThrow(/^environment: must be letters/);
  });

  it('reads added lines with their new-file line numbers across hunks and context', () => {
    const patch = [
      '@@ -3,4 +3,5 @@ function a() {',
      ' keep',
      '-old',
      '+new1',
      '+new2',
      ' keep',
      '@@ -40,2 +41,2 @@',
      '-x',
      '+y',
      ' z',
      '\\ No newline at end of file',
    ].join('\n');
    expect(addedLinesFromPatch('src/a.ts', patch)).toEqual([
      { line: 4, text: 'new1' },
      { line: 5, text: 'new2' },
      { line: 41, text: 'y' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The same 2,500+ files through a real git range and through the GitHub API must give the same request figures.

let tmp: string;
let repo: string;
let from: string;
let to: string;
let github: FakeGitHubApp;

async function git(...args: string[]): Promise<string> {
  const flags = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false'];
  return (await execa('git', [...flags, ...args], { cwd: repo, maxBuffer: 512 * 1024 * 1024 })).stdout;
}

async function write(path: string, text: string | Buffer): Promise<void> {
  await mkdir(join(repo, path, '..'), { recursive: true });
  await writeFile(join(repo, path), text);
}

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `line ${i + 1} of ${tag}`).join('\n');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'chaos-announce-'));
  repo = join(tmp, 'shop');
  await mkdir(repo);
  await git('init', '-q', '-b', 'main');
  const areas = ['api', 'billing', 'search', 'jobs', 'ui', 'lib', 'infra', 'db'];
  const path = (i: number) => `${i % 3 === 0 ? 'services' : 'packages'}/${areas[i % areas.length]}/m${i % 37}/f${i}.ts`;
  for (let i = 0; i < 2450; i++) await write(path(i), `${lines(8 + (i % 13), `f${i}`)}\n`);
  for (let i = 0; i < 25; i++) await write(`legacy/old${i}.ts`, `${lines(30, `old${i}`)}\n`);
  await write('assets/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 0, 9]));
  await git('add', '-A');
  await git('commit', '-q', '-m', 'base');
  from = (await git('rev-parse', 'HEAD')).trim();

  for (let i = 0; i < 2450; i++) {
    if (i % 7 === 6) continue; // untouched
    const original = lines(8 + (i % 13), `f${i}`).split('\n');
    original.splice(2, i % 3, `changed ${i}`, `also ${i}`);
    if (i % 5 === 0) original.push(`tail ${i}`);
    await write(path(i), `${original.join('\n')}\n`);
  }
  for (let i = 0; i < 400; i++) await write(`services/new/n${i % 20}/added${i}.ts`, `${lines(1 + (i % 9), `n${i}`)}\n`);
  for (let i = 0; i < 15; i++) await rm(join(repo, `legacy/old${i}.ts`));
  for (let i = 15; i < 25; i++) {
    await rm(join(repo, `legacy/old${i}.ts`));
    await write(`moved/old${i}.ts`, `${lines(30, `old${i}`)}\n${i % 2 ? 'extra\n' : ''}`);
  }
  await write('assets/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 9, 9, 9, 0, 0, 1]));
  await git('add', '-A');
  await git('commit', '-q', '-m', 'big change\n\nTouches most of the tree.');
  to = (await git('rev-parse', 'HEAD')).trim();
  github = await startFakeGitHubApp();
}, 120_000);

afterAll(async () => {
  await github?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** What GitHub's pull request files API would list for from..to: status, counts, per-file hunks (no headers). */
async function githubFilesFor(): Promise<FakeFile[]> {
  const common = ['--no-color', '--no-ext-diff', '--no-textconv', '-M'];
  const status = parseNameStatus(await git('diff', '--name-status', '-z', ...common, from, to));
  const numstat = parseNumstat(await git('diff', '--numstat', '-z', ...common, from, to));
  const patches = new Map<string, string>();
  const diff = await git('diff', ...common, from, to);
  for (const section of diff.split(/^(?=diff --git )/m)) {
    const header = /^diff --git a\/(.*) b\/(.*)$/m.exec(section);
    const firstHunk = section.indexOf('\n@@');
    if (!header || firstHunk < 0) continue;
    patches.set(header[2] as string, section.slice(firstHunk + 1).replace(/\n$/, ''));
  }
  const byPath = new Map(status.map((s) => [s.path, s]));
  return numstat.map((entry) => {
    const s = byPath.get(entry.path);
    const githubStatus =
      s?.changeType === 'add'
        ? 'added'
        : s?.changeType === 'delete'
          ? 'removed'
          : s?.changeType === 'rename'
            ? 'renamed'
            : 'modified';
    const patch = patches.get(entry.path);
    return {
      filename: entry.path,
      status: githubStatus,
      additions: entry.added ?? 0,
      deletions: entry.deleted ?? 0,
      ...(entry.oldPath ? { previous_filename: entry.oldPath } : {}),
      ...(patch !== undefined && !entry.binary ? { patch } : {}),
    };
  });
}

describe('a 2,500-file pull request against the git-range intake', () => {
  it('gives the same files, line counts, added lines and spread metrics', async () => {
    const fromGit = await readGitRangeDetailed({
      repoDir: repo,
      range: `${from}..${to}`,
      maxDiffBytes: 64 * 1024 * 1024,
      defaults: { service_name: 'shop', environment: 'production', deployment_id: 'dep-1', version: 'v2' },
    });
    expect(fromGit.diffTruncated).toBe(false);
    const files = await githubFilesFor();
    expect(files.length).toBeGreaterThanOrEqual(2500);
    github.addPullRequest({
      owner: 'acme',
      repo: 'shop',
      number: 9,
      title: 'Big change',
      body: 'Touches most of the tree.',
      author: 'dev1',
      baseSha: from,
      headSha: to,
      files,
      commits: ['big change\n\nTouches most of the tree.'],
    });
    const clients = installationClients({
      app: { appId: String(github.appId), privateKey: github.privateKey },
      apiUrl: github.url,
    });
    const client = clients?.(5);
    if (!client) throw new Error('no client');
    const pr = await readPullRequest(client, { owner: 'acme', repo: 'shop', number: 9 });
    expect(pr.files).toHaveLength(files.length);
    const fromGitHub = remoteChangeToRequest(pr, meta);

    const git = fromGit.request;
    expect(fromGitHub.totalLinesChanged).toBe(git.totalLinesChanged);
    expect(fromGitHub.spread).toEqual(git.spread);
    const view = (r: typeof git) =>
      r.changes
        .map((c) => ({ path: c.filePath, type: c.changeType, a: c.linesAdded, d: c.linesDeleted, added: c.addedLines }))
        .sort((x, y) => x.path.localeCompare(y.path));
    expect(view(fromGitHub)).toEqual(view(git));
    expect(git.changes.some((c) => c.changeType === 'rename')).toBe(true);
    expect(git.changes.some((c) => c.changeType === 'delete')).toBe(true);
    expect(git.changes.some((c) => c.filePath === 'assets/logo.png')).toBe(true);
    expect(git.spread.files).toBe(files.length);
  });
});
