/**
 * @module platform/errors
 * Internal errors of the platform. They carry an `ERR_*` code to match on (never `instanceof` across
 * modules) and chain with `cause`. The API edge turns them into AWS-shaped responses.
 */

export type PlatformErrorCode =
  | 'ERR_DISPOSED'
  | 'ERR_SANDBOX_UNAVAILABLE'
  | 'ERR_SANDBOX_START'
  | 'ERR_ZIP_INVALID'
  | 'ERR_ZIP_UNSAFE'
  | 'ERR_ZIP_TOO_LARGE'
  | 'ERR_THROTTLED'
  | 'ERR_RESERVED_ENV'
  | 'ERR_NOT_FOUND'
  | 'ERR_INTERNAL';

export class PlatformError extends Error {
  readonly code: PlatformErrorCode;
  /** Extra, code-specific detail (e.g. the throttle reason). */
  readonly detail: Record<string, unknown>;

  constructor(
    code: PlatformErrorCode,
    message: string,
    options?: { cause?: unknown; detail?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlatformError';
    this.code = code;
    this.detail = options?.detail ?? {};
  }

  /** True when the error is the caller's doing (bad input), not a fault of the platform. */
  isUserError(): boolean {
    return this.code !== 'ERR_INTERNAL' && this.code !== 'ERR_SANDBOX_START' && this.code !== 'ERR_DISPOSED';
  }
}

export function isPlatformError(value: unknown, code?: PlatformErrorCode): value is PlatformError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'PlatformError' &&
    (code === undefined || (value as { code?: unknown }).code === code)
  );
}
