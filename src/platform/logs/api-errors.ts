/**
 * @module platform/logs/api-errors
 * CloudWatch Logs API errors in the AWS JSON 1.1 wire shape: status 400 (500 for faults), `Content-Type:
 * application/x-amz-json-1.1`, and a body `{"__type":"<Name>","message":"…"}`. Errors the AWS JSON front end raises
 * before an operation runs (a body that is not JSON, an unknown target) carry no message, as on AWS.
 */

/** Every exception the Logs API returns, with its HTTP status (docs/errors.md lists them; a test checks). */
export const LOGS_ERROR_STATUS = {
  ResourceNotFoundException: 400,
  InvalidParameterException: 400,
  ServiceUnavailableException: 500,
  SerializationException: 400,
  UnknownOperationException: 400,
  MissingAuthenticationTokenException: 400,
  InvalidSignatureException: 400,
  UnrecognizedClientException: 400,
  RequestEntityTooLargeException: 413,
} as const;

export type LogsErrorCode = keyof typeof LOGS_ERROR_STATUS;

export class LogsApiError extends Error {
  readonly code: LogsErrorCode;
  readonly #bare: boolean;

  /** `message` undefined: the body has `__type` only. */
  constructor(code: LogsErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? '', options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LogsApiError';
    this.code = code;
    this.#bare = message === undefined;
  }

  get status(): number {
    return LOGS_ERROR_STATUS[this.code];
  }

  toResponse(requestId: string): { status: number; headers: Record<string, string>; body: string } {
    const body = JSON.stringify(this.#bare ? { __type: this.code } : { __type: this.code, message: this.message });
    return {
      status: this.status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
      body,
    };
  }
}
