/**
 * @module platform/api/errors
 * AWS-shaped API errors. Handlers throw `LambdaApiError`; the edge turns it into the wire format the AWS SDKs and
 * CLI parse: status from the catalog, `X-Amzn-ErrorType`, and a JSON body `{"Type","Message"|"message"}`.
 */
import { ERROR_CATALOG, type LambdaErrorCode } from './error-catalog.generated.ts';

export type { LambdaErrorCode };

export class LambdaApiError extends Error {
  readonly code: LambdaErrorCode;
  /** Extra body members (e.g. `Reason` for TooManyRequestsException). */
  readonly extra: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string>;

  constructor(
    code: LambdaErrorCode,
    message: string,
    options?: { cause?: unknown; extra?: Record<string, unknown>; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LambdaApiError';
    this.code = code;
    this.extra = options?.extra ?? {};
    this.headers = options?.headers ?? {};
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  /** The wire shape: status, headers and body. */
  toResponse(requestId: string): { status: number; headers: Record<string, string>; body: string } {
    const entry = ERROR_CATALOG[this.code];
    const body = JSON.stringify({ Type: entry.type, [entry.member]: this.message, ...this.extra });
    return {
      status: entry.status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': this.code,
        'x-amzn-requestid': requestId,
        ...this.headers,
      },
      body,
    };
  }
}

/** Shorthands for the errors every route uses. */
export const apiError = {
  notFound: (message: string) => new LambdaApiError('ResourceNotFoundException', message),
  invalid: (message: string) => new LambdaApiError('InvalidParameterValueException', message),
  conflict: (message: string) => new LambdaApiError('ResourceConflictException', message),
  validation: (field: string, value: unknown, constraint: string) =>
    new LambdaApiError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
    ),
};
