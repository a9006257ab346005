/**
 * @module platform/api/routes/invoke
 * Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`): RequestResponse (200), Event (202), DryRun
 * (204). Headers in: `X-Amz-Invocation-Type`, `X-Amz-Log-Type`, `X-Amz-Client-Context`; headers out:
 * `X-Amz-Executed-Version`, `X-Amz-Function-Error`, `X-Amz-Log-Result`. Function errors are payloads (200), never
 * API errors.
 */
import { MAX_ASYNC_EVENT_BYTES, MAX_SYNC_EVENT_BYTES } from '../../../protocol/runtime-api.ts';
import { apiError, LambdaApiError } from '../errors.ts';
import { route, type ApiResponse, type Route } from '../router.ts';
import type { InvocationType } from '../services/invoke.ts';
import { Checker } from '../validate.ts';
import { header, qualifiedFunction, type RouteDeps } from './common.ts';

const MAX_CLIENT_CONTEXT = 3583;
const TENANT_ID = /^[a-zA-Z0-9._:/=+\-@ ]+$/;

export function invokeRoutes({ service }: RouteDeps): Route[] {
  return [
    route(
      'POST',
      '/2015-03-31/functions/{FunctionName}/invocations',
      'Invoke',
      MAX_SYNC_EVENT_BYTES,
      async (req): Promise<ApiResponse> => {
        const check = new Checker();
        const type = (check.string(header(req, 'x-amz-invocation-type'), 'invocationType', {
          enum: ['Event', 'RequestResponse', 'DryRun'],
        }) ?? 'RequestResponse') as InvocationType;
        const logType = check.string(header(req, 'x-amz-log-type'), 'logType', { enum: ['None', 'Tail'] });
        const tenantId = check.string(header(req, 'x-amz-tenant-id'), 'tenantId', {
          min: 1,
          max: 256,
          pattern: TENANT_ID,
          patternText: TENANT_ID.source,
        });
        check.done();
        const { name, qualifier } = qualifiedFunction(req, service);
        if (type === 'Event' && req.body.length > MAX_ASYNC_EVENT_BYTES) {
          throw new LambdaApiError(
            'RequestEntityTooLargeException',
            `${req.body.length} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_EVENT_BYTES} bytes)`,
          );
        }
        if (req.body.length > 0) checkJson(req.body);
        const clientContext = decodeClientContext(header(req, 'x-amz-client-context'));
        const outcome = await service.invoke.invoke({
          functionName: name,
          qualifier,
          type,
          payload: req.body.length === 0 ? Buffer.from('{}') : req.body,
          logTail: logType === 'Tail',
          requestId: req.requestId,
          signal: req.signal,
          ...(clientContext !== undefined ? { clientContext } : {}),
          ...(tenantId !== undefined ? { tenantId } : {}),
        });
        if (outcome.type === 'DryRun') return { status: 204 };
        if (outcome.type === 'Event') return { status: 202 };
        const { result, executedVersion } = outcome;
        const headers: Record<string, string> = {
          'content-type': result.contentType ?? 'application/json',
          'x-amz-executed-version': executedVersion,
        };
        if (result.functionError !== undefined) headers['x-amz-function-error'] = result.functionError;
        if (logType === 'Tail') headers['x-amz-log-result'] = Buffer.from(result.logTail ?? '').toString('base64');
        return { status: 200, body: result.payload, headers };
      },
    ),
  ];
}

function checkJson(body: Buffer): void {
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new LambdaApiError(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** `X-Amz-Client-Context`: base64 of a JSON object, at most 3,583 bytes; passed to the runtime decoded. */
function decodeClientContext(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_CLIENT_CONTEXT) {
    throw apiError.invalid(`Client context must be at most ${MAX_CLIENT_CONTEXT} bytes of base64.`);
  }
  const text = Buffer.from(value, 'base64').toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    throw apiError.invalid('Client context must be a valid Base64-encoded JSON object.');
  }
  return text;
}
