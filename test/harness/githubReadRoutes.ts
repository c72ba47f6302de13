/**
 * The read-only GitHub REST routes both local GitHub fakes serve: a pull request, its files and commits (paged with
 * Link headers as GitHub does) and a base...head comparison (files on the first page only, commits paged).
 */
import type { FakeFile, FakePullRequest } from './fakeGitHub.js';

export type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;

export interface RepoData {
  pulls: Map<string, FakePullRequest>;
  comparisons: Map<string, { files: FakeFile[]; commits: string[] }>;
}

/**
 * Answers `GET /repos/{owner}/{repo}/pulls/{n}[/files|/commits]` and `/compare/{basehead}`; false for other paths.
 * `base` is the fake's own origin, used in the Link headers.
 */
export function answerRepoRead(url: URL, base: string, data: RepoData, send: Send): boolean {
  const [root, owner = '', repo = '', section, ...rest] = url.pathname.split('/').filter(Boolean);
  if (root !== 'repos') return false;
  const page = Number(url.searchParams.get('page') ?? '1');
  const perPage = Number(url.searchParams.get('per_page') ?? '30');
  const paged = pager(url, base, send);

  if (section === 'pulls') {
    const pr = data.pulls.get(`${owner}/${repo}#${rest[0]}`);
    if (!pr) send(404, { message: 'Not Found' });
    else if (rest.length === 1) {
      send(200, {
        number: pr.number,
        html_url: `https://github.com/${pr.owner}/${pr.repo}/pull/${pr.number}`,
        title: pr.title,
        body: pr.body,
        user: { login: pr.author },
        base: { sha: pr.baseSha },
        head: { sha: pr.headSha },
        changed_files: pr.files.length,
      });
    } else if (rest[1] === 'files') paged(pr.files.slice(0, 3000));
    else if (rest[1] === 'commits') paged(pr.commits.map((m, i) => ({ sha: `c${i}`, commit: { message: m } })));
    else send(404, { message: 'Not Found' });
    return true;
  }
  if (section === 'compare') {
    const basehead = decodeURIComponent(rest[0] ?? '');
    const comparison = data.comparisons.get(`${owner}/${repo}:${basehead}`);
    if (!comparison) {
      send(404, { message: 'Not Found' });
      return true;
    }
    const commits = comparison.commits.map((m, i) => ({ sha: `k${i}`, commit: { message: m } }));
    send(200, {
      html_url: `https://github.com/${owner}/${repo}/compare/${basehead}`,
      base_commit: { sha: basehead.split('...')[0] },
      total_commits: commits.length,
      commits: commits.slice((page - 1) * perPage, page * perPage),
      files: page === 1 ? comparison.files.slice(0, 300) : undefined,
    });
    return true;
  }
  return false;
}

/** Sends one page of `items` for the request's `page` / `per_page`, with GitHub's Link header. */
export function pager(url: URL, base: string, send: Send): <T>(items: T[]) => void {
  const page = Number(url.searchParams.get('page') ?? '1');
  const perPage = Number(url.searchParams.get('per_page') ?? '30');
  return (items) => {
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const links: string[] = [];
    if (page < last) {
      const next = new URL(`${base}${url.pathname}${url.search}`);
      next.searchParams.set('page', String(page + 1));
      links.push(`<${next.href}>; rel="next"`);
      next.searchParams.set('page', String(last));
      links.push(`<${next.href}>; rel="last"`);
    }
    send(200, items.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
  };
}

export function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
