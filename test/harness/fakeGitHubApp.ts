/**
 * A local stand-in for the GitHub REST API as a GitHub App sees it, on 127.0.0.1: installation tokens (the app's
 * RS256 JWT is verified with its public key), pull requests with files and commits, comparisons, deployments with
 * their statuses, and the deployment protection rule review callback. Pages carry Link headers as GitHub's do.
 * Only installation tokens it minted are accepted on repository routes.
 */
import { createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeFile, FakePullRequest, RecordedCall } from './fakeGitHub.js';
import { answerRepoRead, pager, safeJson } from './githubReadRoutes.js';

export type { FakeFile, FakePullRequest, RecordedCall } from './fakeGitHub.js';

export interface FakeDeployment {
  id: number;
  sha: string;
  environment: string;
  /** Newest last, as GitHub records them (the API lists newest first). */
  statuses: string[];
}

export interface ProtectionReview {
  owner: string;
  repo: string;
  runId: number;
  authorization: string | undefined;
  body: { environment_name?: string; state?: string; comment?: string };
}

export interface FakeGitHubApp {
  url: string;
  appId: number;
  /** PEM of the app's private key, for GITHUB_APP_PRIVATE_KEY. */
  privateKey: string;
  calls: RecordedCall[];
  reviews: ProtectionReview[];
  /** Installation tokens minted, by installation id. */
  tokens: Map<number, string>;
  addPullRequest(pr: FakePullRequest): void;
  addComparison(owner: string, repo: string, basehead: string, files: FakeFile[], commits: string[]): void;
  /** Deployments of a repository, oldest first. */
  addDeployment(owner: string, repo: string, deployment: FakeDeployment): void;
  /** The next `count` review callbacks answer this status (e.g. 502) instead of 204. */
  failReviews(count: number, status: number): void;
  callbackUrl(owner: string, repo: string, runId: number): string;
  close(): Promise<void>;
}

export async function startFakeGitHubApp(options: { appId?: number } = {}): Promise<FakeGitHubApp> {
  const appId = options.appId ?? 4242;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const pulls = new Map<string, FakePullRequest>();
  const comparisons = new Map<string, { files: FakeFile[]; commits: string[] }>();
  const deployments = new Map<string, FakeDeployment[]>();
  const calls: RecordedCall[] = [];
  const reviews: ProtectionReview[] = [];
  const tokens = new Map<number, string>();
  let failing = 0;
  let failStatus = 502;
  let base = '';

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const body = raw ? safeJson(raw) : undefined;
      calls.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(status === 204 ? undefined : JSON.stringify(payload));
      };
      const paged = pager(url, base, send);
      const parts = url.pathname.split('/').filter(Boolean);
      const authorization = req.headers.authorization;

      // POST /app/installations/{id}/access_tokens with the app's JWT
      if (req.method === 'POST' && parts[0] === 'app' && parts[1] === 'installations' && parts[3] === 'access_tokens') {
        const jwt = /^bearer (.+)$/i.exec(authorization ?? '')?.[1];
        if (!jwt || !jwtValid(jwt, publicKey, appId))
          return send(401, { message: 'A JSON web token could not be decoded' });
        const installationId = Number(parts[2]);
        const token = `ghs_fake_${installationId}_${tokens.size + 1}`;
        tokens.set(installationId, token);
        return send(201, { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {} });
      }
      if (parts[0] !== 'repos') return send(404, { message: 'Not Found' });
      const presented = /^(?:token|bearer) (.+)$/i.exec(authorization ?? '')?.[1];
      if (!presented || ![...tokens.values()].includes(presented)) return send(401, { message: 'Bad credentials' });

      const [, owner = '', repo = '', section, ...rest] = parts;
      if (answerRepoRead(url, base, { pulls, comparisons }, send)) return;
      if (section === 'deployments') {
        const list = deployments.get(`${owner}/${repo}`) ?? [];
        if (rest.length === 0) {
          const environment = url.searchParams.get('environment');
          const newestFirst = list.filter((d) => environment === null || d.environment === environment).reverse();
          return paged(newestFirst.map((d) => ({ id: d.id, sha: d.sha, environment: d.environment, ref: 'main' })));
        }
        const deployment = list.find((d) => d.id === Number(rest[0]));
        if (!deployment) return send(404, { message: 'Not Found' });
        if (rest[1] === 'statuses') {
          return paged([...deployment.statuses].reverse().map((state, i) => ({ id: deployment.id * 100 + i, state })));
        }
      }
      if (
        req.method === 'POST' &&
        section === 'actions' &&
        rest[0] === 'runs' &&
        rest[2] === 'deployment_protection_rule'
      ) {
        if (failing > 0) {
          failing--;
          return send(failStatus, { message: 'Server Error' });
        }
        reviews.push({
          owner,
          repo,
          runId: Number(rest[1]),
          authorization,
          body: (body ?? {}) as ProtectionReview['body'],
        });
        return send(204, undefined);
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    appId,
    privateKey: pem,
    calls,
    reviews,
    tokens,
    addPullRequest: (pr) => void pulls.set(`${pr.owner}/${pr.repo}#${pr.number}`, pr),
    addComparison: (owner, repo, basehead, files, commits) =>
      void comparisons.set(`${owner}/${repo}:${basehead}`, { files, commits }),
    addDeployment(owner, repo, deployment) {
      const key = `${owner}/${repo}`;
      deployments.set(key, [...(deployments.get(key) ?? []), deployment]);
    },
    failReviews(count, status) {
      failing = count;
      failStatus = status;
    },
    callbackUrl: (owner, repo, runId) =>
      `${base}/repos/${owner}/${repo}/actions/runs/${runId}/deployment_protection_rule`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function jwtValid(jwt: string, publicKey: KeyObject, appId: number): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return false;
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  if (!verifier.verify(publicKey, Buffer.from(signature, 'base64url'))) return false;
  const claims = safeJson(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: unknown };
  const now = Math.floor(Date.now() / 1000);
  return String(claims.iss) === String(appId) && typeof claims.exp === 'number' && claims.exp > now;
}
