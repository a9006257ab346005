/**
 * @module platform/invoke/types
 * The data plane's contract with the control plane: run one invocation of a function version.
 */
import type { FunctionSpec } from '../environments/function-spec.ts';
import type { ChunkConsumer } from '../runtime-api/types.ts';

export interface InvokeOptions {
  spec: FunctionSpec;
  payload: Buffer;
  /** ARN as the caller named it (qualified with `:alias`/`:version` when given). */
  invokedFunctionArn: string;
  /** Client context JSON text (already base64-decoded). */
  clientContext?: string;
  /** True when the caller asked for `X-Amz-Log-Type: Tail`. */
  logTail: boolean;
  /** Request id to use (the API's `x-amzn-RequestId`); generated when absent. */
  requestId?: string;
  /**
   * Receives streamed response chunks as they arrive, with the stream's content type (InvokeWithResponseStream).
   * They are not kept: the result's payload is then empty. A promise back holds the stream until it settles.
   */
  onChunk?: ChunkConsumer;
  /** Aborts the wait (the caller went away); the invocation itself still runs to its end. */
  signal?: AbortSignal;
}

export interface InvokeResult {
  requestId: string;
  /** Bytes the caller receives: the function's response, or the error JSON. */
  payload: Buffer;
  /** `Unhandled` when the function (or the platform on its behalf) failed; undefined on success. */
  functionError: 'Unhandled' | undefined;
  /** errorType when functionError is set (for logs, metrics and the console). */
  errorType?: string;
  /** Response content type posted by the runtime, when it sent one. */
  contentType?: string;
  /** Last 4 KB of the invocation's log text, when `logTail` was asked for. */
  logTail?: string;
  /**
   * Figures of the REPORT line. Present when the caller waited for the invocation's end (`logTail`, or an error
   * the platform detected); otherwise the response is returned as soon as the runtime posted it, as Lambda does,
   * and the report follows in the log.
   */
  report?: InvokeReport;
}

export interface InvokeReport {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  /** Set on the cold invoke only. */
  initDurationMs?: number;
  status?: 'error' | 'timeout';
  errorType?: string;
}

/**
 * Runs invocations. Throws PlatformError `ERR_THROTTLED` (detail.reason = a Lambda throttle Reason such as
 * `ReservedFunctionConcurrentInvocationLimitExceeded`) when no environment may be used.
 */
export interface Invoker {
  invoke(options: InvokeOptions): Promise<InvokeResult>;
  /** Retires (gracefully) every environment of `functionName` whose spec key differs from `keepKey`. */
  retire(functionName: string, keepKey?: string): void;
}
