/**
 * Errors of the announced-deployment adapters, each with a stable code the routers map to an HTTP status.
 * The announcer (the lead's chat-service adapter) throws `AnnounceError('announce_unknown_service', …)` when no channel is
 * configured for the service; the routers answer 422 with its message.
 */

import { DomainError } from '../domain/errors.js';
import type { AreaCode } from '../errors.js';

/**
 * - announce_unknown_service: the service has no configured channel (or is otherwise not announceable). HTTP 422.
 * - announce_failed: the announcer could not post the card. HTTP 503.
 * - announce_change_unreadable: GitHub could not give us the change behind a protection-rule event.
 * - announce_callback_url_untrusted: the deployment_callback_url does not point at the configured GitHub API.
 * - announce_callback_failed: GitHub refused or did not answer the protection-rule review.
 */
export type AnnounceErrorCode = AreaCode<'announce'>;

export class AnnounceError extends DomainError {
  override readonly code: AnnounceErrorCode;

  constructor(code: AnnounceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'AnnounceError';
    this.code = code;
  }
}
