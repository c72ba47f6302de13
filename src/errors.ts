/**
 * One catalog of the error codes, by area. Every error class implements CodedError with a `code` typed from its
 * area's codes (AreaCode<'store'>, …), so a code outside the catalog does not compile, and the CLI's exit code and
 * the chat's error cards read the catalog instead of guessing from text or from any object that happens to have a
 * `code`. Every code starts with its area and an underscore (`store_conflict`); a test keeps codes unique and prefixed.
 *
 * Codes are for programs and logs. The HTTP APIs keep their own documented `error` values (`invalid_request`,
 * `unknown_service`, …), mapped from these where an error crosses the wire.
 *
 * This module imports nothing, so every layer (src/domain included) may depend on it.
 */

/** Codes by area; `input` codes mean the caller's input was wrong (CLI exit 2), the rest are faults (exit 1). */
export const ERROR_CATALOG = {
  cli: { input: ['cli_input'], fault: ['cli_exit'] },
  config: {
    input: ['config_invalid', 'config_not_production_ready', 'config_services_file_invalid'],
    fault: [],
  },
  chat: { input: ['chat_no_input', 'chat_pull_requests_disabled'], fault: [] },
  request: { input: ['request_invalid'], fault: [] },
  policy: { input: ['policy_invalid'], fault: ['policy_inconsistent'] },
  contract: { input: [], fault: ['contract_illegal_transition'] },
  risk: { input: [], fault: ['risk_invalid_spread_metrics', 'risk_invalid_size_model', 'risk_invalid_model'] },
  judge: {
    input: [],
    fault: [
      'judge_empty_history',
      'judge_invalid_interval',
      'judge_invalid_guardrail',
      'judge_invalid_limits',
      'judge_invalid_budget',
      'judge_state_mismatch',
    ],
  },
  rollout: { input: [], fault: ['rollout_invalid_terms', 'rollout_invalid_event', 'rollout_invalid_state'] },
  canonical_json: { input: [], fault: ['canonical_json_invalid'] },
  metrics: {
    input: [],
    fault: [
      'metrics_provider_unavailable',
      'metrics_provider_auth',
      'metrics_provider_bad_response',
      'metrics_provider_timeout',
      'metrics_simulator_invalid_config',
    ],
  },
  intake: {
    input: ['intake_invalid_range', 'intake_not_a_repository'],
    fault: ['intake_invalid_pull_request_url', 'intake_git_failed', 'intake_pull_request_unreadable'],
  },
  store: { input: [], fault: ['store_unavailable', 'store_conflict', 'store_invalid', 'store_not_found'] },
  announce: {
    input: ['announce_unknown_service'],
    fault: [
      'announce_failed',
      'announce_change_unreadable',
      'announce_callback_url_untrusted',
      'announce_callback_failed',
    ],
  },
  negotiation: {
    input: [],
    fault: [
      'negotiation_timeout',
      'negotiation_rate_limited',
      'negotiation_server_error',
      'negotiation_malformed_output',
      'negotiation_connection',
      'negotiation_auth',
      'negotiation_bad_request',
      'negotiation_aborted',
      'negotiation_not_configured',
    ],
  },
  guardian: {
    input: ['guardian_not_approved', 'guardian_no_rollout', 'guardian_already_running', 'guardian_finished'],
    fault: ['guardian_lease_lost'],
  },
  actuator: {
    input: [],
    fault: [
      'actuator_unsafe_argument',
      'actuator_command_failed',
      'actuator_command_timeout',
      'actuator_azure_api_failed',
    ],
  },
  teams: { input: [], fault: ['teams_no_conversation_reference', 'teams_send_failed'] },
  slack: {
    input: [],
    fault: [
      'slack_invalid_thread_key',
      'slack_post_failed',
      'slack_update_failed',
      'slack_rate_limited',
      'slack_invalid_configuration',
      'slack_limiter_closed',
      'slack_lookup_failed',
    ],
  },
  card: { input: [], fault: ['card_unexpanded', 'card_too_large', 'card_invalid'] },
  replay: { input: [], fault: ['replay_invalid_series'] },
} as const;

type Catalog = typeof ERROR_CATALOG;
export type ErrorArea = keyof Catalog;
/** The codes of one area: what an area's error class types its `code` as. */
export type AreaCode<Area extends ErrorArea> = Catalog[Area]['input'][number] | Catalog[Area]['fault'][number];
export type ErrorCode = { [Area in ErrorArea]: AreaCode<Area> }[ErrorArea];

/** What every error class in src implements. */
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
