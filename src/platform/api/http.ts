/**
 * @module platform/api/http
 * The edge of the Lambda API: authentication, request bodies with per-operation limits, routing, code downloads,
 * and the one place where errors become HTTP responses (AWS wire shape, `x-amzn-RequestId` on every response;
 * never a stack trace).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { debuglog } from 'node:util';
import type { FunctionSpec } from '../environments/function-spec.ts';
import { isPlatformError, PlatformError } from '../errors.ts';
import { AsyncQueue, type AsyncQueueOptions } from '../invoke/async-queue.ts';
import type { Invoker } from '../invoke/types.ts';
import type { LogStore } from '../logs/log-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { MetadataStore } from '../storage/metadata.ts';
import { CODE_URL_PREFIX, CodeUrls } from './code-urls.ts';
import { LambdaApiError } from './errors.ts';
import { findRoute, STREAMED, type ApiRequest, type ApiResponse, type Route } from './router.ts';
import { lambdaRoutes } from './routes/index.ts';
import { LambdaService } from './service.ts';
import { verifySigV4, type Credentials } from './sigv4.ts';

const log = debuglog('lambkin:api');

export interface LambdaApiConfig {
  region: string;
  accountId: string;
  /** Base URL clients reach this API at (for `Code.Location` / `Content.Location`). */
  publicUrl: string;
  /** `loopback`: any well-formed SigV4 header (or none) is accepted; `strict`: signatures are verified. */
  auth: 'loopback' | 'strict';
  credentials?: Credentials[];
  /** Event invocation retry delays (tests shorten them); default ~1 min, ~2 min. */
  retryDelaysMs?: number[];
  /** Further knobs of the Event queue (tests). */
  queue?: Omit<AsyncQueueOptions, 'store' | 'run'>;
}

export interface LambdaApiDeps {
  store: MetadataStore;
  blobs: BlobStore;
  /** The engine; `prepare` (optional) readies a new configuration before the function reports Active. */
  invoker: Invoker & { prepare?: (spec: FunctionSpec) => Promise<void> };
  /** Accepted for the composition root; the API itself does not read logs. */
  logs?: LogStore;
  config: LambdaApiConfig;
}

export interface LambdaApi {
  readonly service: LambdaService;
  readonly queue: AsyncQueue;
  /** Serves one request; never throws, never leaves a request unanswered. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Stops the Event worker (waiting for running attempts). Idempotent. The stores stay open: the caller owns them. */
  dispose(): Promise<void>;
}

export function createLambdaApi(deps: LambdaApiDeps): LambdaApi {
  const { config, invoker } = deps;
  const credentials = config.credentials ?? [];
  const codeUrls = new CodeUrls({ publicUrl: config.publicUrl });
  const service = new LambdaService({
    store: deps.store,
    blobs: deps.blobs,
    arn: { region: config.region, accountId: config.accountId },
    codeUrls,
    invoker,
    ...(invoker.prepare !== undefined ? { prepare: invoker.prepare.bind(invoker) } : {}),
  });
  const queue = new AsyncQueue({
    ...config.queue,
    ...(config.retryDelaysMs !== undefined ? { retryDelaysMs: config.retryDelaysMs } : {}),
    store: deps.store,
    run: (event) => service.invoke.runEvent(event),
  });
  service.invoke.attachQueue(queue);
  const routes = lambdaRoutes({ service });
  // Changes acknowledged before the last stop but never made ready, and queued events, carry on.
  service.functions.recover();
  queue.start();
  let disposing: Promise<void> | null = null;

  return {
    service,
    queue,
    handle(req, res) {
      const requestId = randomUUID();
      const abort = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      serve(req, res, requestId, abort.signal).catch((err: unknown) => {
        sendError(res, requestId, toApiError(err));
      });
    },
    dispose() {
      disposing ??= queue.dispose();
      return disposing;
    },
  };

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string, signal: AbortSignal) {
    if (disposing !== null) {
      req.resume();
      throw new PlatformError('ERR_DISPOSED', 'Lambkin is shutting down');
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const method = req.method ?? 'GET';

    if (path.startsWith('/_lambkin/')) {
      req.resume();
      await internal(method, path, query, res, requestId);
      return;
    }
    const found = findRoute(routes, method, path);
    if (found === null || found === 'method') {
      req.resume();
      throw new LambdaApiError('UnknownOperationException', `Unknown operation: ${method} ${path.slice(0, 200)}`);
    }
    const { route, params } = found;
    const body = await readBody(req, route);
    if (config.auth === 'strict') verifySigV4(req, body, credentials, config.region);
    else checkWellFormed(req);
    const apiReq: ApiRequest = {
      method,
      path,
      params,
      query,
      headers: req.headers,
      body,
      requestId,
      operation: route.operation,
      signal,
      begin(status, headers) {
        res.writeHead(status, { 'x-amzn-requestid': requestId, ...headers });
        // Once the response has ended or its client has gone, writes are dropped (never an error event).
        const open = () => !res.writableEnded && !res.destroyed;
        return {
          write: (chunk) => {
            if (!open() || res.write(chunk)) return undefined;
            return new Promise<void>((resolve) => {
              const done = () => {
                res.off('drain', done);
                res.off('close', done);
                resolve();
              };
              res.on('drain', done);
              res.on('close', done);
            });
          },
          end: () => {
            if (open()) res.end();
          },
        };
      },
    };
    const response = await route.handler(apiReq);
    if (response === STREAMED) {
      if (!res.writableEnded) res.end();
      return;
    }
    send(res, requestId, response);
  }

  /** Lambkin's own endpoints: a health check and the signed code downloads (their signature is the auth). */
  async function internal(
    method: string,
    path: string,
    query: URLSearchParams,
    res: ServerResponse,
    requestId: string,
  ): Promise<void> {
    if (path === '/_lambkin/health' && method === 'GET') {
      send(res, requestId, { status: 200, body: { status: 'ok' } });
      return;
    }
    if (path.startsWith(CODE_URL_PREFIX) && method === 'GET') {
      const sha = codeUrls.verify(path, query);
      if (sha === null) {
        throw new LambdaApiError('AccessDeniedException', 'Request has expired or its signature does not match.');
      }
      const file = deps.blobs.path(sha);
      const st = await stat(file).catch(() => null);
      if (st === null)
        throw new LambdaApiError('ResourceNotFoundException', 'The resource you requested does not exist.');
      res.writeHead(200, {
        'content-type': 'application/zip',
        'content-length': st.size,
        'x-amzn-requestid': requestId,
      });
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
      return;
    }
    throw new LambdaApiError('UnknownOperationException', `Unknown operation: ${method} ${path.slice(0, 200)}`);
  }
}

/** Reads the body up to the operation's limit; beyond it the request is refused without buffering the rest. */
function readBody(req: IncomingMessage, route: Route): Promise<Buffer> {
  // AWS names Invoke "InvokeFunction" here, and quotes 69905067 bytes for every operation but the two Invokes.
  const invoke = route.operation === 'Invoke' || route.operation === 'InvokeWithResponseStream';
  const operation = route.operation === 'Invoke' ? 'InvokeFunction' : route.operation;
  const tooLarge = () =>
    new LambdaApiError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${invoke ? route.maxBody : 69905067} bytes for the ${operation} operation`,
    );
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > route.maxBody) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > route.maxBody) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      resolve(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}

/** Loopback mode accepts any signature, but a present Authorization header must at least look like SigV4. */
function checkWellFormed(req: IncomingMessage): void {
  const auth = req.headers.authorization;
  if (auth === undefined) return;
  if (
    !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/[^/]+\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.test(
      auth,
    )
  ) {
    throw new LambdaApiError(
      'InvalidSignatureException',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS Signature Version 4).",
    );
  }
}

function send(res: ServerResponse, requestId: string, response: ApiResponse): void {
  const headers: Record<string, string | number> = { 'x-amzn-requestid': requestId, ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const body = Buffer.isBuffer(response.body) ? response.body : Buffer.from(JSON.stringify(response.body));
  headers['content-type'] ??= 'application/json';
  headers['content-length'] = body.length;
  res.writeHead(response.status, headers);
  res.end(body);
}

/** An error that knows its wire form (Lambda's, or the Logs API's JSON 1.1 form). */
export interface WireError {
  toResponse(requestId: string): { status: number; headers: Record<string, string>; body: string };
}

/** Writes an error response (or drops a connection whose response has already begun). */
export function sendError(res: ServerResponse, requestId: string, err: WireError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const { status, headers, body } = err.toResponse(requestId);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Anything that is not already an API error: a user error keeps its message, a fault becomes ServiceException. */
function toApiError(err: unknown): LambdaApiError {
  if (err instanceof LambdaApiError) return err;
  if (isPlatformError(err, 'ERR_DISPOSED')) {
    return new LambdaApiError('ServiceException', 'Lambkin is shutting down; try again when it is back.');
  }
  log('internal error: %o', err);
  if (isPlatformError(err) && err.isUserError())
    return new LambdaApiError('InvalidParameterValueException', err.message);
  return new LambdaApiError(
    'ServiceException',
    'An internal error occurred in Lambkin; see its log (NODE_DEBUG=lambkin:*).',
    { cause: err },
  );
}
