import { timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` → token. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1]?.trim();
}

/** `?token=<token>` of a request URL (for callers that cannot send headers, like Flagger's webhooks). */
export function queryToken(query: unknown): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.token;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
