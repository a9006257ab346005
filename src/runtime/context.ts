/**
 * @module runtime/context
 * The handler's `context` object, from the invocation's headers and the environment.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RUNTIME_HEADER } from '../protocol/runtime-api.ts';

export interface LambdaContext {
  awsRequestId: string;
  invokedFunctionArn: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  identity: unknown;
  clientContext: unknown;
  xRayTraceId: string | undefined;
  getRemainingTimeInMillis(): number;
  callbackWaitsForEmptyEventLoop?: boolean;
  done?: (err?: unknown, result?: unknown) => void;
  succeed?: (result?: unknown) => void;
  fail?: (err?: unknown) => void;
}

export function createContext(requestId: string, headers: IncomingHttpHeaders, env: NodeJS.ProcessEnv): LambdaContext {
  const deadline = Number(header(headers, RUNTIME_HEADER.DeadlineMs) ?? Date.now() + 3000);
  return {
    awsRequestId: requestId,
    invokedFunctionArn: header(headers, RUNTIME_HEADER.InvokedFunctionArn) ?? '',
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    identity: parseJson(header(headers, RUNTIME_HEADER.CognitoIdentity)),
    clientContext: parseJson(header(headers, RUNTIME_HEADER.ClientContext)),
    xRayTraceId: header(headers, RUNTIME_HEADER.TraceId),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
