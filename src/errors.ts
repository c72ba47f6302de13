/**
 * One catalog of the error codes that cross module boundaries. Every error class carries a `code` from it
 * (CodedError), so the CLI's exit code and the chat's error cards are read from here instead of guessed from text.
 */

/** Codes by area; `input: true` means the caller's input was wrong (CLI exit 2), otherwise it is an internal fault. */
const CATALOG = {} as const;

export type ErrorCode = string;

export interface CodedError extends Error {
  readonly code: ErrorCode;
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

export function isStoreConflict(error: unknown): boolean {
  return isCodedError(error) && error.code === 'store_conflict';
}

export function isStoreNotFound(error: unknown): boolean {
  return isCodedError(error) && error.code === 'store_not_found';
}

void CATALOG;
