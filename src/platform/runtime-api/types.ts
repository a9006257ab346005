/**
 * @module platform/runtime-api/types
 * What the platform hands to, and gets back from, one environment's Runtime API server.
 */

/** One event handed to the runtime through `GET /next`. */
export interface Invocation {
  requestId: string;
  payload: Buffer;
  /** Epoch ms; sent as `Lambda-Runtime-Deadline-Ms`. */
  deadlineMs: number;
  invokedFunctionArn: string;
  /** `Root=1-…;Parent=…;Sampled=0` */
  traceId: string;
  /** JSON text (already base64-decoded) for `Lambda-Runtime-Client-Context`, if any. */
  clientContext?: string;
  /** JSON text for `Lambda-Runtime-Cognito-Identity`, if any. */
  cognitoIdentity?: string;
  /** `Lambda-Runtime-Aws-Tenant-Id` (tenant-isolated functions only). */
  tenantId?: string;
  /**
   * Called with each chunk of a streamed response as it arrives, and its content type (InvokeWithResponseStream).
   * Chunks given to it are not kept: the outcome's body is then empty.
   */
  onChunk?: ChunkConsumer;
}

/**
 * Takes the chunks of a streamed response. A promise back means the consumer is full: nothing more is read from the
 * runtime until it settles, so a slow caller slows the function's stream (as on Lambda) instead of filling memory.
 */
export type ChunkConsumer = (chunk: Buffer, contentType: string) => Promise<void> | undefined;

/** How an invocation ended, as far as the Runtime API saw it. */
export type InvocationOutcome =
  | { kind: 'response'; body: Buffer; contentType: string | undefined; streamed: boolean }
  /** The runtime posted `/error` (or a stream ended with error trailers). `body` is what the caller gets. */
  | { kind: 'error'; body: Buffer; errorType: string }
  /** A buffered response over 6,291,556 bytes: the runtime got 413, the caller gets Function.ResponseSizeTooLarge. */
  | { kind: 'too-large' }
  /** The platform aborted it (timeout, runtime exit, shutdown): `reason` says which. */
  | { kind: 'aborted'; reason: string };

/** Init failure posted to `/runtime/init/error`. */
export interface InitError {
  errorType: string;
  body: Buffer;
}
