/**
 * @module runtime/streaming
 * Response streaming as AWS's Node runtime offers it: the global `awslambda.streamifyResponse(fn)` marks a
 * handler `fn(event, responseStream, context)`; the stream is the body of a chunked `POST /response` with
 * `Lambda-Runtime-Function-Response-Mode: streaming`. `awslambda.HttpResponseStream.from(stream, prelude)` writes
 * the HTTP-integration prelude (JSON + 8 NUL bytes). A failure mid-stream ends the body with error trailers.
 */
import type { Agent, ClientRequest } from 'node:http';
import {
  HTTP_INTEGRATION_CONTENT_TYPE,
  RUNTIME_HEADER,
  RUNTIME_PATH,
  STREAMING_RESPONSE_MODE,
} from '../protocol/runtime-api.ts';
import type { ErrorBody } from './errors.ts';

// See runtime-api-client.ts: the CommonJS object of node:http starts much faster than its ES namespace.
const { request } = process.getBuiltinModule('node:http');
const { Writable } = process.getBuiltinModule('node:stream');

export const STREAMING_SYMBOL = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK_SYMBOL = Symbol.for('aws.lambda.runtime.handler.highWaterMark');

/** The writable handed to a streaming handler. */
export class ResponseStream extends Writable {
  readonly #req: ClientRequest;
  #started = false;

  constructor(req: ClientRequest, highWaterMark: number | undefined) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#req = req;
  }

  /** Only before the first write, as on AWS. */
  setContentType(contentType: string): void {
    if (this.#started) throw new Error('setContentType must be called before the first write');
    this.#req.setHeader('content-type', contentType);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#started = true;
    this.#req.write(chunk, (err) => {
      callback(err ?? null);
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#started = true;
    this.#req.end(() => {
      callback();
    });
  }

  /** Ends the body with the error trailers (the invocation fails with this error). */
  fail(body: ErrorBody): Promise<void> {
    return new Promise((resolve) => {
      if (this.#req.writableEnded) {
        resolve();
        return;
      }
      this.#req.addTrailers({
        'Lambda-Runtime-Function-Error-Type': body.errorType,
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(body)).toString('base64'),
      });
      this.#req.end(() => {
        resolve();
      });
    });
  }
}

/** Opens the streamed `/response` for `requestId`; `done` settles when the Runtime API has answered. */
export function openResponseStream(
  address: string,
  agent: Agent,
  requestId: string,
  highWaterMark: number | undefined,
): { stream: ResponseStream; done: Promise<number> } {
  const colon = address.lastIndexOf(':');
  let resolveDone: (status: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  const req = request({
    host: address.slice(0, colon),
    port: Number(address.slice(colon + 1)),
    method: 'POST',
    path: `${RUNTIME_PATH.invocationPrefix}${requestId}/response`,
    agent,
    headers: {
      [RUNTIME_HEADER.FunctionResponseMode]: STREAMING_RESPONSE_MODE,
      'content-type': 'application/octet-stream',
      'transfer-encoding': 'chunked',
      trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    },
  });
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => {
      resolveDone(res.statusCode ?? 0);
    });
  });
  req.on('error', () => {
    resolveDone(0);
  });
  return { stream: new ResponseStream(req, highWaterMark), done };
}

export function highWaterMarkOf(handler: unknown): number | undefined {
  const value = (handler as Record<symbol, unknown>)[HIGH_WATER_MARK_SYMBOL];
  return typeof value === 'number' ? value : undefined;
}

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

/** Installs the `awslambda` global that handler modules use at load time. */
export function installAwsLambdaGlobal(): void {
  const awslambda = {
    streamifyResponse<T extends object>(handler: T, options?: { highWaterMark?: number }): T {
      const tagged = handler as Record<symbol, unknown>;
      tagged[STREAMING_SYMBOL] = 'response';
      if (options?.highWaterMark !== undefined) tagged[HIGH_WATER_MARK_SYMBOL] = options.highWaterMark;
      return handler;
    },
    HttpResponseStream: {
      from(stream: ResponseStream, prelude: Prelude): ResponseStream {
        stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
        stream.write(Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]));
        return stream;
      },
    },
  };
  (globalThis as unknown as { awslambda: typeof awslambda }).awslambda = awslambda;
}
