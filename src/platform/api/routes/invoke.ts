/**
 * @module platform/api/routes/invoke
 * Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`): RequestResponse (200), Event (202), DryRun
 * (204). Headers in: `X-Amz-Invocation-Type`, `X-Amz-Log-Type`, `X-Amz-Client-Context`; headers out:
 * `X-Amz-Executed-Version`, `X-Amz-Function-Error`, `X-Amz-Log-Result`. Function errors are payloads (200), never
 * API errors.
 *
 * InvokeWithResponseStream (`POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`):
 * RequestResponse or DryRun. The body is an event stream: a `PayloadChunk` per chunk as the function streams it (a
 * buffered response is one chunk), then one `InvokeComplete` with `ErrorCode`/`ErrorDetails` on failure and
 * `LogResult` for `Tail`. The response's `Content-Type` is the function's stream content type. Errors before the
 * stream begins (unknown function, throttling, bad input) are ordinary API errors.
 */
import { MAX_ASYNC_EVENT_BYTES, MAX_SYNC_EVENT_BYTES } from '../../../protocol/runtime-api.ts';
import type { InvokeResult } from '../../invoke/types.ts';
import { apiError, LambdaApiError } from '../errors.ts';
import { eventMessage } from '../event-stream.ts';
import { route, STREAMED, type ApiRequest, type ApiResponse, type ResponseWriter, type Route } from '../router.ts';
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
        const { type, logTail, command } = invokeInput(req, ['Event', 'RequestResponse', 'DryRun']);
        const { name, qualifier } = qualifiedFunction(req, service);
        if (type === 'Event' && req.body.length > MAX_ASYNC_EVENT_BYTES) {
          throw new LambdaApiError(
            'RequestEntityTooLargeException',
            `${req.body.length} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_EVENT_BYTES} bytes)`,
          );
        }
        if (req.body.length > 0) checkJson(req.body);
        const outcome = await service.invoke.invoke({ ...command(), functionName: name, qualifier, type });
        if (outcome.type === 'DryRun') return { status: 204 };
        if (outcome.type === 'Event') return { status: 202 };
        const { result, executedVersion } = outcome;
        const headers: Record<string, string> = {
          'content-type': result.contentType ?? 'application/json',
          'x-amz-executed-version': executedVersion,
        };
        if (result.functionError !== undefined) headers['x-amz-function-error'] = result.functionError;
        if (logTail) headers['x-amz-log-result'] = Buffer.from(result.logTail ?? '').toString('base64');
        return { status: 200, body: result.payload, headers };
      },
    ),
    route(
      'POST',
      '/2021-11-15/functions/{FunctionName}/response-streaming-invocations',
      'InvokeWithResponseStream',
      MAX_SYNC_EVENT_BYTES,
      async (req): Promise<ApiResponse> => {
        const { type, logTail, command } = invokeInput(req, ['RequestResponse', 'DryRun']);
        const { name, qualifier } = qualifiedFunction(req, service);
        if (req.body.length > 0) checkJson(req.body);
        // (An object, so that type narrowing does not assume it unchanged across the callbacks.)
        const response: { writer: ResponseWriter | null; streamed: boolean } = { writer: null, streamed: false };
        const begin = (contentType: string, executedVersion: string): ResponseWriter =>
          (response.writer ??= req.begin(200, {
            'content-type': contentType,
            'x-amz-executed-version': executedVersion,
          }));
        try {
          const outcome = await service.invoke.invoke({
            ...command(),
            functionName: name,
            qualifier,
            type,
            // A caller slower than the function holds the function's stream back (see ChunkConsumer).
            onChunk: (chunk, stream) => {
              if (chunk.length === 0) return undefined;
              response.streamed = true;
              return begin(stream.contentType, stream.executedVersion).write(payloadChunk(chunk));
            },
          });
          if (outcome.type !== 'RequestResponse') return { status: 204 };
          const { result, executedVersion } = outcome;
          const out = begin(result.contentType ?? 'application/json', executedVersion);
          // A buffered response is one chunk; an error is told by InvokeComplete alone.
          if (!response.streamed && result.functionError === undefined && result.payload.length > 0) {
            void out.write(payloadChunk(result.payload));
          }
          // The last writes need not wait for the caller: the response ends with them.
          void out.write(invokeComplete(result, logTail));
          out.end();
          return STREAMED;
        } catch (err) {
          // Once the stream has begun, a failure can only end it.
          const started = response.writer;
          if (started === null) throw err;
          const failure =
            err instanceof LambdaApiError
              ? { ErrorCode: err.code, ErrorDetails: err.message }
              : { ErrorCode: 'ServiceException', ErrorDetails: 'The invocation failed after its response began.' };
          void started.write(eventMessage('InvokeComplete', 'application/json', jsonBytes(failure)));
          started.end();
          return STREAMED;
        }
      },
    ),
  ];
}

/** The request headers both Invoke operations read, checked, and the invoke command they make. */
function invokeInput(req: ApiRequest, types: InvocationType[]) {
  const check = new Checker();
  const type = (check.string(header(req, 'x-amz-invocation-type'), 'invocationType', { enum: types }) ??
    'RequestResponse') as InvocationType;
  const logType = check.string(header(req, 'x-amz-log-type'), 'logType', { enum: ['None', 'Tail'] });
  const tenantId = check.string(header(req, 'x-amz-tenant-id'), 'tenantId', {
    min: 1,
    max: 256,
    pattern: TENANT_ID,
    patternText: TENANT_ID.source,
  });
  check.done();
  const logTail = logType === 'Tail';
  const command = () => {
    const clientContext = decodeClientContext(header(req, 'x-amz-client-context'));
    return {
      payload: req.body.length === 0 ? Buffer.from('{}') : req.body,
      logTail,
      requestId: req.requestId,
      signal: req.signal,
      ...(clientContext !== undefined ? { clientContext } : {}),
      ...(tenantId !== undefined ? { tenantId } : {}),
    };
  };
  return { type, logTail, command };
}

function payloadChunk(chunk: Buffer): Buffer {
  return eventMessage('PayloadChunk', 'application/octet-stream', chunk);
}

/** `InvokeComplete`: the error's type and message when the invocation failed, the log tail when asked for. */
function invokeComplete(result: InvokeResult, logTail: boolean): Buffer {
  const body: Record<string, string> = {};
  if (result.functionError !== undefined) {
    const error = errorFields(result.payload);
    body.ErrorCode = error.errorType ?? result.errorType ?? result.functionError;
    body.ErrorDetails = error.errorMessage ?? result.payload.toString('utf8');
  }
  if (logTail) body.LogResult = Buffer.from(result.logTail ?? '').toString('base64');
  return eventMessage('InvokeComplete', 'application/json', jsonBytes(body));
}

/** `errorType` and `errorMessage` of Lambda's error JSON, where the payload is that. */
function errorFields(payload: Buffer): { errorType?: string; errorMessage?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { errorType, errorMessage } = parsed as Record<string, unknown>;
  return {
    ...(typeof errorType === 'string' && errorType !== '' ? { errorType } : {}),
    ...(typeof errorMessage === 'string' ? { errorMessage } : {}),
  };
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
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
