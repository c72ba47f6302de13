/**
 * A local stand-in for the parts of the GitHub REST API the product reads (pull request, files, commits, compare)
 * and the callbacks it makes, on 127.0.0.1. Pages are served with Link headers as GitHub does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerRepoRead, safeJson } from './githubReadRoutes.js';

export interface FakeFile {
  filename: string;
  status: string;
  additions: number;
  deletions: number;
  patch?: string;
  previous_filename?: string;
}

export interface FakePullRequest {
  owner: string;
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  baseSha: string;
  headSha: string;
  files: FakeFile[];
  commits: string[];
}

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  addPullRequest(pr: FakePullRequest): void;
  addComparison(owner: string, repo: string, basehead: string, files: FakeFile[], commits: string[]): void;
  /** The next `count` API requests answer 403 with an exhausted primary rate limit that resets in `resetInSeconds`. */
  rateLimitNext(count: number, resetInSeconds: number): void;
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const pulls = new Map<string, FakePullRequest>();
  const comparisons = new Map<string, { files: FakeFile[]; commits: string[] }>();
  const calls: RecordedCall[] = [];
  let rateLimited = 0;
  let resetIn = 1;
  let base = '';

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: raw ? safeJson(raw) : undefined,
      });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (rateLimited > 0) {
        rateLimited--;
        send(
          403,
          { message: 'API rate limit exceeded' },
          {
            'x-ratelimit-limit': '5000',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + resetIn),
          },
        );
        return;
      }
      if (answerRepoRead(url, base, { pulls, comparisons }, send)) return;
      send(200, { ok: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    calls,
    addPullRequest: (pr) => void pulls.set(`${pr.owner}/${pr.repo}#${pr.number}`, pr),
    addComparison: (owner, repo, basehead, files, commits) =>
      void comparisons.set(`${owner}/${repo}:${basehead}`, { files, commits }),
    rateLimitNext(count, resetInSeconds) {
      rateLimited = count;
      resetIn = resetInSeconds;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
