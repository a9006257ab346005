/**
 * @module protocol/runtime-api
 * Wire constants of the Lambda Runtime API `2018-06-01`, shared by the platform (server side) and the
 * Lambkin runtime (guest side). Header names are lower-case, as Node's `http` module presents them.
 */

export const RUNTIME_API_VERSION = '2018-06-01';

export const RUNTIME_PATH = {
  next: `/${RUNTIME_API_VERSION}/runtime/invocation/next`,
  initError: `/${RUNTIME_API_VERSION}/runtime/init/error`,
  /** Prefix of `/{AwsRequestId}/response` and `/{AwsRequestId}/error`. */
  invocationPrefix: `/${RUNTIME_API_VERSION}/runtime/invocation/`,
} as const;

export const RUNTIME_HEADER = {
  AwsRequestId: 'lambda-runtime-aws-request-id',
  DeadlineMs: 'lambda-runtime-deadline-ms',
  InvokedFunctionArn: 'lambda-runtime-invoked-function-arn',
  TraceId: 'lambda-runtime-trace-id',
  ClientContext: 'lambda-runtime-client-context',
  CognitoIdentity: 'lambda-runtime-cognito-identity',
  TenantId: 'lambda-runtime-aws-tenant-id',
  FunctionErrorType: 'lambda-runtime-function-error-type',
  FunctionErrorBody: 'lambda-runtime-function-error-body',
  FunctionXRayErrorCause: 'lambda-runtime-function-xray-error-cause',
  FunctionResponseMode: 'lambda-runtime-function-response-mode',
} as const;

/** The only accepted value of `Lambda-Runtime-Function-Response-Mode` (case-sensitive). */
export const STREAMING_RESPONSE_MODE = 'streaming';

/** Content type of a streamed response in the HTTP-integration form (prelude + 8 NULs + body). */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

/** Largest buffered response a runtime may post: 6 MiB + 100 B, that exact size allowed. */
export const MAX_RESPONSE_BYTES = 6_291_556;
/** Largest synchronous event. */
export const MAX_SYNC_EVENT_BYTES = 6_291_456;
/** Largest asynchronous (Event) payload. */
export const MAX_ASYNC_EVENT_BYTES = 1_048_576;
/** Largest streamed response. */
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;

/** errorType values the Runtime API server answers with. */
export const RUNTIME_API_ERROR = {
  InvalidRequestID: 'InvalidRequestID',
  InvalidFunctionResponseMode: 'InvalidFunctionResponseMode',
  TruncatedHTTPRequest: 'TruncatedHTTPRequest',
  InvalidStateTransition: 'InvalidStateTransition',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  InternalServerError: 'InternalServerError',
} as const;

/** Body the runtime or the platform uses for function errors. */
export interface FunctionErrorBody {
  errorType: string;
  errorMessage: string;
  trace?: string[];
  stackTrace?: string[];
}
