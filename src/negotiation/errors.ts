/** Typed negotiation errors: every failure of the model path carries a code the service maps to a fallback note. */

export type NegotiationErrorCode =
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'malformed_output'
  | 'connection'
  | 'auth'
  | 'bad_request'
  | 'aborted'
  | 'not_configured';

export class NegotiationError extends Error {
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
    timeout: 'the model did not answer in time',
    rate_limited: 'the model endpoint is rate-limiting requests',
    server_error: 'the model endpoint returned a server error',
    malformed_output: 'the model returned output I could not use',
    connection: 'the model endpoint could not be reached',
    auth: 'the model endpoint refused our credentials',
    bad_request: 'the model endpoint rejected the request',
    aborted: 'the request was cancelled',
    not_configured: 'no model is configured',
  };
  return `Answered by the offline negotiator because ${why[error.code]} (${error.message}).`;
}
