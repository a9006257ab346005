/**
 * @module console/server/environments
 * `GET /_lambkin/environments[?FunctionName=…]`: the execution environments alive now (warm or busy, age,
 * invocations, memory), which no AWS API exposes. Read-only; signed like any request under `--auth strict`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LambdaApiError } from '../../platform/api/errors.ts';
import { sendError } from '../../platform/api/http.ts';
import { verifySigV4, type Credentials } from '../../platform/api/sigv4.ts';
import type { PoolEnvironmentInfo } from '../../platform/environments/pool.ts';

export const ENVIRONMENTS_PATH = '/_lambkin/environments';

export interface EnvironmentsDeps {
  list: (functionName?: string) => PoolEnvironmentInfo[];
  auth: 'loopback' | 'strict';
  credentials: readonly Credentials[];
  region: string;
}

/** The environment as the console shows it (no pid: nothing outside the host needs it). */
export type EnvironmentView = Omit<PoolEnvironmentInfo, 'pid'>;

export function handleEnvironments(
  deps: EnvironmentsDeps,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): void {
  req.resume();
  const requestId = randomUUID();
  try {
    if (req.method !== 'GET')
      throw new LambdaApiError(
        'UnknownOperationException',
        `Unknown operation: ${req.method ?? ''} ${ENVIRONMENTS_PATH}`,
      );
    if (deps.auth === 'strict') verifySigV4(req, Buffer.alloc(0), deps.credentials, deps.region);
    const name = query.get('FunctionName') ?? undefined;
    const Environments: EnvironmentView[] = deps
      .list(name === '' ? undefined : name)
      .map(({ pid: _pid, ...view }) => view);
    const body = Buffer.from(JSON.stringify({ Environments }));
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': body.length,
      'cache-control': 'no-store',
      'x-amzn-requestid': requestId,
    });
    res.end(body);
  } catch (err) {
    const error =
      err instanceof LambdaApiError ? err : new LambdaApiError('ServiceException', 'Could not list the environments.');
    sendError(res, requestId, error);
  }
}
