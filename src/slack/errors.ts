/** Typed errors of the Slack adapter, with codes from the error catalog (src/errors.ts). */
import type { AreaCode, CodedError } from '../errors.js';

export type SlackErrorCode = AreaCode<'slack'>;

export class SlackSurfaceError extends Error implements CodedError {
  readonly code: SlackErrorCode;
  constructor(code: SlackErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackSurfaceError';
    this.code = code;
  }
}

/** The Web API's rate-limit error (`slack_webapi_rate_limited_error`, thrown with rejectRateLimitedCalls). */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, retryAfter } = error as { code?: unknown; retryAfter?: unknown };
  if (code !== 'slack_webapi_rate_limited_error') return undefined;
  return typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1;
}

/** The Web API's platform error code (`not_in_channel`, `channel_not_found`, …), when it is one. */
export function platformErrorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, data } = error as { code?: unknown; data?: { error?: unknown } };
  if (code !== 'slack_webapi_platform_error') return undefined;
  return typeof data?.error === 'string' ? data.error : undefined;
}
