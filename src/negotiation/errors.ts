/** Typed negotiation errors: every failure of the model path carries a code the service maps to a fallback note. */
import type { AreaCode, CodedError } from '../errors.js';

export type NegotiationErrorCode = AreaCode<'negotiation'>;

export class NegotiationError extends Error implements CodedError {
  readonly code: NegotiationErrorCode;
  /** HTTP status of the model endpoint when there was one. */
  readonly status: number | undefined;

  constructor(code: NegotiationErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NegotiationError';
    this.code = code;
    this.status = options?.status;
  }
}

/** The line shown in the thread when a model turn was answered offline instead. */
export function fallbackNoteFor(error: NegotiationError): string {
  const why: Record<NegotiationErrorCode, string> = {
    negotiation_timeout: 'the model did not answer in time',
    negotiation_rate_limited: 'the model endpoint is rate-limiting requests',
    negotiation_server_error: 'the model endpoint returned a server error',
    negotiation_malformed_output: 'the model returned output I could not use',
    negotiation_connection: 'the model endpoint could not be reached',
    negotiation_auth: 'the model endpoint refused our credentials',
    negotiation_bad_request: 'the model endpoint rejected the request',
    negotiation_aborted: 'the request was cancelled',
    negotiation_not_configured: 'no model is configured',
  };
  return `Answered by the offline negotiator because ${why[error.code]} (${error.message}).`;
}
