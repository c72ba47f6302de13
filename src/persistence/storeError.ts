/** The store's one error class; its own module so every persistence module can throw it without import cycles. */
import type { AreaCode, CodedError } from '../errors.js';
export class StoreError extends Error implements CodedError {
  constructor(
    readonly code: AreaCode<'store'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
