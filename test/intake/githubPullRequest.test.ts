import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../../src/intake/githubClient.js';
import { parsePullRequestUrl, readComparison, readPullRequest } from '../../src/intake/githubPullRequest.js';
import { type FakeGitHub, startFakeGitHub } from '../harness/fakeGitHub.js';

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub();
});
afterAll(async () => github.close());

const manyFiles = Array.from({ length: 2500 }, (_, i) => ({
  filename: `services/orders/src/module${Math.floor(i / 50)}/file${i}.ts`,
  status: i % 10 === 0 ? 'added' : 'modified',
  additions: 3,
  deletions: 1,
  patch: '@@ -1,2 +1,4 @@\n context\n+const ttl = 30;\n+cache.set(key, value, ttl);\n-old();',
}));

describe('parsePullRequestUrl', () => {
  it('reads github.com and enterprise links', () => {
    expect(parsePullRequestUrl('https://github.com/acme/shop/pull/42')).toEqual({
      owner: 'acme',
      repo: 'shop',
      number: 42,
      apiBaseUrl: 'https://api.github.com',
    });
    expect(parsePullRequestUrl('https://git.example.com/acme/shop/pull/7/files').apiBaseUrl).toBe(
      'https://git.example.com/api/v3',
    );
  });

  it('names what is wrong with other links', () => {
    expect(() => parsePullRequestUrl('not a url')).toThrow(/is not a URL/);
    expect(() => parsePullRequestUrl('https://github.com/acme/shop/issues/4')).toThrow(/expected a link like/);
    expect(() => parsePullRequestUrl('ftp://github.com/acme/shop/pull/4')).toThrow(/must be http/);
  });
});

describe('readPullRequest through the real Octokit client', () => {
  it('follows pagination through 2,500 files and all commits', async () => {
    github.addPullRequest({
      owner: 'acme',
      repo: 'shop',
      number: 42,
      title: 'Cache order lookups',
      body: 'Adds a Redis cache in front of the orders table.',
      author: 'dev1',
      baseSha: 'base1',
      headSha: 'head1',
      files: manyFiles,
      commits: Array.from({ length: 130 }, (_, i) => `commit ${i}`),
    });
    const client = createGitHubClient({ baseUrl: github.url, token: 'ghs_test' });
    const change = await readPullRequest(client, { owner: 'acme', repo: 'shop', number: 42 });
    expect(change.files).toHaveLength(2500);
    expect(change.commitMessages).toHaveLength(130);
    expect(change.truncated).toBe(false);
    expect(change.files[0]).toMatchObject({
      path: 'services/orders/src/module0/file0.ts',
      status: 'added',
      additions: 3,
    });
    expect(change.author).toBe('dev1');
    expect(github.calls.find((c) => c.path.endsWith('/files'))?.headers.authorization).toBe('token ghs_test');
  });

  it('waits out a primary rate limit and then succeeds', async () => {
    github.addPullRequest({
      owner: 'acme',
      repo: 'shop',
      number: 43,
      title: 'Small fix',
      body: '',
      author: 'dev2',
      baseSha: 'b',
      headSha: 'h',
      files: manyFiles.slice(0, 3),
      commits: ['fix'],
    });
    const client = createGitHubClient({ baseUrl: github.url, token: 'ghs_test' });
    github.rateLimitNext(1, 1);
    const started = Date.now();
    const change = await readPullRequest(client, { owner: 'acme', repo: 'shop', number: 43 });
    expect(change.files).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('gives up when the reset is further away than it may wait', async () => {
    const client = createGitHubClient({ baseUrl: github.url, token: 'ghs_test', maxRateLimitWaitSeconds: 1 });
    github.rateLimitNext(1, 3600);
    await expect(readPullRequest(client, { owner: 'acme', repo: 'shop', number: 43 })).rejects.toThrow(/rate limit/i);
  });

  it('marks a pull request past the API file limit as truncated', async () => {
    github.addPullRequest({
      owner: 'acme',
      repo: 'mono',
      number: 1,
      title: 'Huge rename',
      body: '',
      author: 'dev3',
      baseSha: 'b',
      headSha: 'h',
      files: Array.from({ length: 3100 }, (_, i) => ({
        filename: `f${i}`,
        status: 'renamed',
        additions: 0,
        deletions: 0,
      })),
      commits: ['rename'],
    });
    const client = createGitHubClient({ baseUrl: github.url, token: 't' });
    const change = await readPullRequest(client, { owner: 'acme', repo: 'mono', number: 1 });
    expect(change.files).toHaveLength(3000);
    expect(change.truncated).toBe(true);
  });
});

describe('readComparison', () => {
  it('reads files from the first page and pages through commits', async () => {
    github.addComparison(
      'acme',
      'shop',
      'aaa...bbb',
      manyFiles.slice(0, 12),
      Array.from({ length: 150 }, (_, i) => `change ${i}`),
    );
    const client = createGitHubClient({ baseUrl: github.url, token: 't' });
    const change = await readComparison(client, { owner: 'acme', repo: 'shop', base: 'aaa', head: 'bbb' });
    expect(change.files).toHaveLength(12);
    expect(change.commitMessages).toHaveLength(150);
    expect(change.baseSha).toBe('aaa');
    expect(change.truncated).toBe(false);
  });
});
