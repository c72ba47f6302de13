/**
 * One catalog of the error codes that cross module boundaries, by area. Every error class carries a `code` from it
 * (CodedError), so the CLI's exit code and the chat's error cards read it instead of guessing from text or from any
 * object that happens to have a `code`. A test keeps the codes unique across areas.
 */

/** Codes by area; `input` codes mean the caller's input was wrong (CLI exit 2), the rest are faults (exit 1). */
export const ERROR_CATALOG = {
  cli: { input: ['cli_input'], fault: ['cli_exit'] },
  chat: { input: ['chat_no_input', 'chat_pull_requests_disabled'], fault: [] },
  domain: {
    input: ['invalid_request', 'policy_invalid'],
    fault: [
      'invalid_spread_metrics',
      'rollout_invalid_terms',
      'policy_inconsistent',
      'illegal_transition',
      'canonical_json_invalid',
      'invalid_size_model',
      'rollout_invalid_event',
      'rollout_invalid_state',
    ],
  },
  intake: {
    input: ['invalid_range', 'not_a_repository'],
    fault: ['invalid_pull_request_url', 'git_failed', 'pull_request_unreadable'],
  },
  store: { input: [], fault: ['store_unavailable', 'store_conflict', 'store_invalid', 'store_not_found'] },
  teams: { input: [], fault: ['no_conversation_reference', 'send_failed'] },
  cards: { input: [], fault: ['card_unexpanded', 'card_too_large', 'card_invalid'] },
  replay: { input: [], fault: ['invalid_series'] },
  simulator: { input: [], fault: ['simulator_invalid_config'] },
} as const;

type Catalog = typeof ERROR_CATALOG;
export type ErrorArea = keyof Catalog;
export type ErrorCode = {
  [Area in ErrorArea]: Catalog[Area]['input'][number] | Catalog[Area]['fault'][number];
}[ErrorArea];

export interface CodedError extends Error {
  readonly code: ErrorCode;
}

const CODES = new Map<string, { area: ErrorArea; input: boolean }>(
  (Object.entries(ERROR_CATALOG) as [ErrorArea, { input: readonly string[]; fault: readonly string[] }][]).flatMap(
    ([area, codes]) => [
      ...codes.input.map((code) => [code, { area, input: true }] as const),
      ...codes.fault.map((code) => [code, { area, input: false }] as const),
    ],
  ),
);

/** An Error whose code is in the catalog (not any object that happens to carry a `code`). */
export function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && CODES.has(String((error as { code?: unknown }).code));
}

/** Whether a catalogued error means the caller's input was wrong. */
export function isInputError(error: unknown): boolean {
  return isCodedError(error) && CODES.get(error.code)?.input === true;
}

export function isStoreConflict(error: unknown): boolean {
  return isCodedError(error) && error.code === 'store_conflict';
}

export function isStoreNotFound(error: unknown): boolean {
  return isCodedError(error) && error.code === 'store_not_found';
}
