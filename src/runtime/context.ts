/**
 * @module runtime/context
 * The handler's `context` object, from the invocation's headers and the environment, with the members (and, for
 * code that serialises it, the property order) of the official client: 4.x (nodejs24.x) adds `xRayTraceId`;
 * 3.x (nodejs20.x/22.x) puts `callbackWaitsForEmptyEventLoop`, `succeed`, `fail`, `done` first.
 */
import { RUNTIME_HEADER } from '../protocol/runtime-api.ts';
import { RuntimeError } from './errors.ts';

/** Headers of a `/next` reply, names in lower case. */
export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

export interface LambdaContext {
  awsRequestId: string;
  invokedFunctionArn: string | undefined;
  functionName: string | undefined;
  functionVersion: string | undefined;
  memoryLimitInMB: string | undefined;
  logGroupName: string | undefined;
  logStreamName: string | undefined;
  identity: unknown;
  clientContext: unknown;
  tenantId: string | undefined;
  xRayTraceId?: string | undefined;
  getRemainingTimeInMillis(): number;
  callbackWaitsForEmptyEventLoop?: boolean;
  done?: (err?: unknown, result?: unknown) => void;
  succeed?: (result?: unknown) => void;
  fail?: (err?: unknown) => void;
}

/** The 3.x members that come first: the flag (an accessor) and the completion functions. */
export interface CallbackMembers {
  callbackWaitsForEmptyEventLoop: boolean;
  succeed: (result?: unknown) => void;
  fail: (err?: unknown) => void;
  done: (err?: unknown, result?: unknown) => void;
}

export function header(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Client 4.x: `{clientContext, identity, invokedFunctionArn, awsRequestId, tenantId, xRayTraceId,
 * getRemainingTimeInMillis, functionName, functionVersion, memoryLimitInMB, logGroupName, logStreamName}`.
 * Throws `Runtime.PlatformError` for unparsable JSON headers.
 */
export function createContext(requestId: string, headers: HeaderMap, env: NodeJS.ProcessEnv): LambdaContext {
  const deadline = deadlineOf(headers);
  return {
    clientContext: parseJsonHeader(headers, RUNTIME_HEADER.ClientContext, 4),
    identity: parseJsonHeader(headers, RUNTIME_HEADER.CognitoIdentity, 4),
    invokedFunctionArn: header(headers, RUNTIME_HEADER.InvokedFunctionArn),
    awsRequestId: requestId,
    tenantId: header(headers, RUNTIME_HEADER.TenantId),
    xRayTraceId: header(headers, RUNTIME_HEADER.TraceId),
    getRemainingTimeInMillis: () => deadline - Date.now(),
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  };
}

/**
 * Client 3.x: the callback members (the same object, so the flag stays an accessor), then `functionVersion,
 * functionName, memoryLimitInMB, logGroupName, logStreamName, clientContext, identity, invokedFunctionArn,
 * awsRequestId, tenantId, getRemainingTimeInMillis`. Throws for unparsable JSON headers.
 */
export function createLegacyContext<T extends object>(
  base: T,
  requestId: string,
  headers: HeaderMap,
  env: NodeJS.ProcessEnv,
): T & LambdaContext {
  const deadline = deadlineOf(headers);
  return Object.assign(
    base,
    {
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    },
    {
      clientContext: parseJsonHeader(headers, RUNTIME_HEADER.ClientContext, 3),
      identity: parseJsonHeader(headers, RUNTIME_HEADER.CognitoIdentity, 3),
      invokedFunctionArn: header(headers, RUNTIME_HEADER.InvokedFunctionArn),
      awsRequestId: requestId,
      tenantId: header(headers, RUNTIME_HEADER.TenantId),
      getRemainingTimeInMillis: () => deadline - Date.now(),
    },
  );
}

/** `_X_AMZN_TRACE_ID` follows the invoke's trace header; it is deleted when the header is absent. */
export function forwardTraceId(headers: HeaderMap, env: NodeJS.ProcessEnv): void {
  const trace = header(headers, RUNTIME_HEADER.TraceId);
  if (trace !== undefined && trace !== '') env._X_AMZN_TRACE_ID = trace;
  else delete env._X_AMZN_TRACE_ID;
}

function deadlineOf(headers: HeaderMap): number {
  const deadline = parseInt(header(headers, RUNTIME_HEADER.DeadlineMs) ?? '', 10);
  // The platform always sends it; without one the handler sees a generous budget rather than a crash.
  return Number.isNaN(deadline) ? Date.now() + 900_000 : deadline;
}

function parseJsonHeader(headers: HeaderMap, name: string, client: 3 | 4): unknown {
  const text = header(headers, name);
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (client === 4) throw new RuntimeError('Runtime.PlatformError', `Failed to parse ${name} as JSON: ${message}`);
    const label = name === RUNTIME_HEADER.ClientContext ? 'ClientContext' : 'CognitoIdentity';
    throw new Error(`Cannot parse ${label} as json: ${String(err)}`);
  }
}
