/**
 * Errors of the announced-deployment adapters, each with a stable code the routers map to an HTTP status.
 * The announcer (the lead's chat-service adapter) throws `AnnounceError('unknown_service', …)` when no channel is
 * configured for the service; the routers answer 422 with its message.
 */
import { DomainError } from '../domain/errors.js';

export type AnnounceErrorCode =
  /** The service has no configured channel (or is otherwise not announceable). HTTP 422. */
  | 'unknown_service'
  /** The announcer could not post the card. HTTP 503. */
  | 'announce_failed'
  /** GitHub could not give us the change behind a protection-rule event. */
  | 'change_unreadable'
  /** The deployment_callback_url does not point at the configured GitHub API. */
  | 'callback_url_untrusted'
  /** GitHub refused or did not answer the protection-rule review. */
  | 'callback_failed';

export class AnnounceError extends DomainError {
  override readonly code: AnnounceErrorCode;

  constructor(code: AnnounceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'AnnounceError';
    this.code = code;
  }
}
