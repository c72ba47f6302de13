/** The store's one error class; its own module so every persistence module can throw it without import cycles. */
export class StoreError extends Error {
  constructor(
    readonly code: 'store_unavailable' | 'store_conflict' | 'store_invalid' | 'store_not_found',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
