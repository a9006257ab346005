/**
 * @module runtime/streaming
 * Response streaming as AWS's Node runtime offers it. `awslambda.streamifyResponse(fn, {highWaterMark})` tags a
 * handler `fn(event, responseStream, context)`; the stream is the body of a chunked `POST /response` with
 * `Lambda-Runtime-Function-Response-Mode: streaming` and `Trailer: Lambda-Runtime-Function-Error-Type,
 * Lambda-Runtime-Function-Error-Body`. `awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies})`
 * switches to the HTTP-integration form: its content type, then the JSON prelude and 8 NUL bytes before the body.
 * A failure ends the body with the error trailers (type, and the error JSON in base64).
 */
import type * as HttpModule from 'node:http';
import { HTTP_INTEGRATION_CONTENT_TYPE, RUNTIME_PATH, STREAMING_RESPONSE_MODE } from '../protocol/runtime-api.ts';
import { formatError, RuntimeError } from './errors.ts';
import { HIGH_WATER_MARK_SYMBOL, STREAMING_SYMBOL } from './handler-loader.ts';
import type { InvokeStore } from './invoke-store.ts';

let http: { request: typeof HttpModule.request; agent: HttpModule.Agent } | undefined;

/**
 * node:http, loaded the first time a handler streams (buffered responses never need it). The CommonJS object of a
 * builtin loads faster than its ES namespace; one kept-alive socket, as the official client's agent.
 */
function httpClient(): NonNullable<typeof http> {
  if (http === undefined) {
    const { Agent, request } = process.getBuiltinModule('node:http');
    http = { request, agent: new Agent({ keepAlive: true, maxSockets: 1 }) };
  }
  return http;
}

const TRAILER_ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';
const TRAILER_ERROR_BODY = 'Lambda-Runtime-Function-Error-Body';

/**
 * What the handler gets, exactly the surface of AWS's response stream: the POST request's own writable methods and
 * properties (so `pipeline()` and events work as on AWS), plus `setContentType`.
 */
const WRITABLE_METHODS = [
  'cork',
  'destroy',
  'end',
  'uncork',
  'write',
  'addListener',
  'on',
  'once',
  'prependListener',
  'prependOnceListener',
  'off',
  'removeListener',
  'removeAllListeners',
  'setMaxListeners',
  'getMaxListeners',
  'listeners',
  'rawListeners',
  'listenerCount',
  'eventNames',
  'emit',
  'setContentType',
] as const;
const PROPS_READ_WRITE = ['destroyed', '_onBeforeFirstWrite'] as const;
const PROPS_READ_ONLY = [
  'writableFinished',
  'writableObjectMode',
  'writableEnded',
  'writableNeedDrain',
  'writableHighWaterMark',
  'writableCorked',
  'writableLength',
  'writable',
] as const;

/** The handler's view of the stream (see WRITABLE_METHODS). */
export interface ResponseStream {
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean;
  end(...args: unknown[]): unknown;
  setContentType(contentType: string): void;
  readonly writableFinished: boolean;
  readonly writableEnded: boolean;
  _onBeforeFirstWrite?: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
}

export interface StreamedResponse {
  stream: ResponseStream;
  /** Settles when the Runtime API has answered the POST (with its status; 0 when the request failed). */
  done: Promise<number>;
  /** Ends the body with the error trailers: the invocation fails with `error`. */
  fail: (error: unknown) => Promise<void>;
}

type Request = HttpModule.ClientRequest & Record<string, unknown>;

/** Opens the streamed `/response` for `requestId`. */
export function openResponseStream(
  target: { host: string; port: number; socketPath: string | undefined },
  requestId: string,
  highWaterMark: number | undefined,
): StreamedResponse {
  const { promise: done, resolve } = Promise.withResolvers<number>();
  const { request, agent } = httpClient();
  const req = request({
    ...(target.socketPath === undefined ? { host: target.host, port: target.port } : { socketPath: target.socketPath }),
    method: 'POST',
    path: `${RUNTIME_PATH.invocationPrefix}${encodeURIComponent(requestId)}/response`,
    agent,
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
    headers: {
      'Lambda-Runtime-Function-Response-Mode': STREAMING_RESPONSE_MODE,
      Trailer: `${TRAILER_ERROR_TYPE}, ${TRAILER_ERROR_BODY}`,
      'Content-Type': 'application/octet-stream',
      'Transfer-Encoding': 'chunked',
    },
  }) as Request;
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => {
      resolve(res.statusCode ?? 0);
    });
    res.on('error', () => {
      resolve(0);
    });
  });
  req.on('error', () => {
    resolve(0);
    req.destroy();
  });

  let writeCalled = false;
  req.setContentType = (contentType: string): void => {
    if (writeCalled) throw new RuntimeError('Runtime.InvalidStreamingOperation', 'Cannot set content-type, too late.');
    req.setHeader('Content-Type', contentType);
  };
  const write = req.write.bind(req) as (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
  req.write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    // As AWS's stream: strings, Buffers and Uint8Arrays as they are, anything else as its JSON.
    const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    const before = req._onBeforeFirstWrite;
    if (!writeCalled && typeof before === 'function') {
      (before as (w: (c: string | Uint8Array) => void) => void)((c) => {
        write(c);
      });
    }
    writeCalled = true;
    return write(data, encoding, callback);
  };

  const stream = {} as Record<string, unknown>;
  for (const method of WRITABLE_METHODS) {
    stream[method] = (req[method] as (...args: unknown[]) => unknown).bind(req);
  }
  for (const prop of PROPS_READ_WRITE) {
    Object.defineProperty(stream, prop, {
      get: () => req[prop],
      set: (v: unknown) => {
        (req as Record<string, unknown>)[prop] = v;
      },
    });
  }
  for (const prop of PROPS_READ_ONLY) {
    Object.defineProperty(stream, prop, { get: () => req[prop] });
  }

  const fail = (error: unknown): Promise<void> =>
    new Promise((settle) => {
      if (req.writableEnded || req.destroyed) {
        settle();
        return;
      }
      const body = formatError(error);
      req.addTrailers({
        [TRAILER_ERROR_TYPE]: body.errorType.replace(/[^\t\x20-\x7e]/g, '?'),
        [TRAILER_ERROR_BODY]: Buffer.from(JSON.stringify(body)).toString('base64'),
      });
      req.end(() => {
        settle();
      });
    });
  return { stream: stream as unknown as ResponseStream, done, fail };
}

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

/**
 * `awslambda.HttpResponseStream`: the HTTP-integration form of a response stream. As on AWS, the prelude and the 8
 * NUL bytes go out just before the first `write()` (a body given only to `end(chunk)` gets no prelude on AWS either).
 */
export const HttpResponseStream = {
  from(stream: ResponseStream, prelude: Prelude): ResponseStream {
    stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const json = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(json);
      write(new Uint8Array(8));
    };
    return stream;
  },
};

/**
 * Installs the `awslambda` global that handler modules use at load time (unless
 * `AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA` is `1` or `true`, as on AWS).
 */
export function installAwsLambdaGlobal(env: NodeJS.ProcessEnv, invokeStore: InvokeStore | undefined): void {
  const off = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  const g = globalThis as unknown as { awslambda?: Record<string, unknown> };
  g.awslambda = {
    ...g.awslambda,
    ...(invokeStore === undefined ? {} : { InvokeStore: invokeStore }),
    streamifyResponse<T extends object>(handler: T, options?: { highWaterMark?: number }): T {
      const tagged = handler as Record<symbol, unknown>;
      tagged[STREAMING_SYMBOL] = 'response';
      if (typeof options?.highWaterMark === 'number')
        tagged[HIGH_WATER_MARK_SYMBOL] = Math.trunc(options.highWaterMark);
      return handler;
    },
    HttpResponseStream,
  };
}
