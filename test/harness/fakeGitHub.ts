/**
 * A local stand-in for the parts of the GitHub REST API the product reads (pull request, files, commits, compare)
 * and the callbacks it makes, on 127.0.0.1. Pages are served with Link headers as GitHub does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '30');
      const paged = <T>(items: T[]) => {
        const slice = items.slice((page - 1) * perPage, page * perPage);
        const last = Math.max(1, Math.ceil(items.length / perPage));
        const links: string[] = [];
        if (page < last) {
          const next = new URL(url.href.replace('http://127.0.0.1', base));
          next.searchParams.set('page', String(page + 1));
          links.push(`<${next.href}>; rel="next"`);
          next.searchParams.set('page', String(last));
          links.push(`<${next.href}>; rel="last"`);
        }
        send(200, slice, links.length ? { link: links.join(', ') } : {});
      };
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] === 'repos' && parts[3] === 'pulls') {
        const pr = pulls.get(`${parts[1]}/${parts[2]}#${parts[4]}`);
        if (!pr) return send(404, { message: 'Not Found' });
        if (parts.length === 5) {
          return send(200, {
            number: pr.number,
            html_url: `https://github.com/${pr.owner}/${pr.repo}/pull/${pr.number}`,
            title: pr.title,
            body: pr.body,
            user: { login: pr.author },
            base: { sha: pr.baseSha },
            head: { sha: pr.headSha },
            changed_files: pr.files.length,
          });
        }
        if (parts[5] === 'files') return paged(pr.files.slice(0, 3000));
        if (parts[5] === 'commits') return paged(pr.commits.map((m, i) => ({ sha: `c${i}`, commit: { message: m } })));
      }
      if (parts[0] === 'repos' && parts[3] === 'compare') {
        const comparison = comparisons.get(`${parts[1]}/${parts[2]}:${decodeURIComponent(parts[4] ?? '')}`);
        if (!comparison) return send(404, { message: 'Not Found' });
        const commits = comparison.commits.map((m, i) => ({ sha: `k${i}`, commit: { message: m } }));
        return send(200, {
          html_url: `https://github.com/${parts[1]}/${parts[2]}/compare/${parts[4]}`,
          base_commit: { sha: (parts[4] ?? '').split('...')[0] },
          total_commits: commits.length,
          commits: commits.slice((page - 1) * perPage, page * perPage),
          files: page === 1 ? comparison.files.slice(0, 300) : undefined,
        });
      }
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

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
