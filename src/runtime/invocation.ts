/**
 * @module runtime/invocation
 * What both invoke loops share: what changes when an invocation starts, the event, the result's JSON.
 */
import { RUNTIME_HEADER } from '../protocol/runtime-api.ts';
import type { Logger, LogState } from './console-patch.ts';
import { forwardTraceId, header } from './context.ts';
import type { LoadedHandler } from './handler-loader.ts';
import type { InvokeStore } from './invoke-store.ts';
import type { NextInvocation, RuntimeApiClient } from './runtime-api-client.ts';

export interface RuntimeDeps {
  api: RuntimeApiClient;
  logger: Logger;
  state: LogState;
  env: NodeJS.ProcessEnv;
  taskRoot: string;
  handlerName: string;
  /** `awslambda.InvokeStore` (client 4.x only). */
  store: InvokeStore | undefined;
}

export type { LoadedHandler };

const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');

/** An invocation starts: the log lines' request id, `_X_AMZN_TRACE_ID`, the invoke store. */
export function beginInvocation(deps: RuntimeDeps, inv: NextInvocation): void {
  deps.state.requestId = inv.requestId;
  deps.state.tenantId = header(inv.headers, RUNTIME_HEADER.TenantId);
  forwardTraceId(inv.headers, deps.env);
  if (deps.store === undefined) {
    // Client 3.x publishes the request id on a global symbol (some logging libraries read it).
    (globalThis as unknown as Record<symbol, unknown>)[REQUEST_ID_SYMBOL] = inv.requestId;
  } else {
    deps.store.begin(inv.requestId, header(inv.headers, RUNTIME_HEADER.TraceId));
  }
}

/** The event: the body's JSON (an empty body, which Lambda never sends, is taken as `{}`). */
export function parseEvent(body: Buffer): unknown {
  return body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** One turn of the event loop, as the official client takes before posting (work the handler scheduled runs first). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** JSON.stringify as it is: undefined for a function, a symbol, or a toJSON returning undefined. */
const stringify = JSON.stringify as (value: unknown) => string | undefined;

/** `JSON.stringify(result)`, `undefined` → `null`; returns undefined when it cannot be serialised. */
export function serializeResult(result: unknown): string | undefined {
  try {
    // A function or a symbol stringifies to undefined: sent as null.
    return stringify(result === undefined ? null : result) ?? 'null';
  } catch {
    return undefined;
  }
}
