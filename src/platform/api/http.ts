/**
 * @module platform/api/http
 * The edge of the Lambda API: authentication, request bodies with per-operation limits, routing, and the one
 * place where errors become HTTP responses (AWS wire shape; never a stack trace).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { debuglog } from 'node:util';
import type { FunctionSpec } from '../environments/function-spec.ts';
import { isPlatformError } from '../errors.ts';
import { AsyncQueue, type EventOutcome } from '../invoke/async-queue.ts';
import type { Invoker } from '../invoke/types.ts';
import type { LogStore } from '../logs/log-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { MetadataStore, QueuedEvent } from '../storage/metadata.ts';
import { LambdaApiError } from './errors.ts';
import { findRoute, type ApiRequest, type ApiResponse, type Route } from './router.ts';
import { lambdaRoutes } from './routes.ts';
import { LambdaService } from './service.ts';
import { verifySigV4, type Credentials } from './sigv4.ts';

const log = debuglog('lambkin:api');

export interface LambdaApiConfig {
  region: string;
  accountId: string;
  publicUrl: string;
  auth: 'loopback' | 'strict';
  credentials: Credentials[];
  /** Event invocation retry delays (tests shorten them). */
  retryDelaysMs?: number[];
}

export interface LambdaApiDeps {
  store: MetadataStore;
  blobs: BlobStore;
  invoker: Invoker & { prepare?: (spec: FunctionSpec) => Promise<void> };
  logs?: LogStore;
  config: LambdaApiConfig;
}

export interface LambdaApi {
  readonly service: LambdaService;
  readonly queue: AsyncQueue;
  handle(req: IncomingMessage, res: ServerResponse): void;
  dispose(): Promise<void>;
}

export function createLambdaApi(deps: LambdaApiDeps): LambdaApi {
  const { config, invoker } = deps;
  const service = new LambdaService({
    store: deps.store,
    blobs: deps.blobs,
    ctx: { region: config.region, accountId: config.accountId },
    publicUrl: config.publicUrl,
    ...(invoker.prepare !== undefined ? { prepare: invoker.prepare.bind(invoker) } : {}),
    retire: (name, key) => {
      invoker.retire(name, key);
    },
  });
  const queue = new AsyncQueue({
    store: deps.store,
    run: (event) => runEvent(service, invoker, event),
    ...(config.retryDelaysMs !== undefined ? { retryDelaysMs: config.retryDelaysMs } : {}),
  });
  queue.start();
  const routes = lambdaRoutes({ service, invoker, queue });

  return {
    service,
    queue,
    handle(req, res) {
      const requestId = randomUUID();
      handle(req, res, requestId).catch((err: unknown) => {
        sendError(res, requestId, toApiError(err));
      });
    },
    dispose: () => queue.dispose(),
  };

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const method = req.method ?? 'GET';

    if (path.startsWith('/_lambkin/')) {
      await internal(req, res, path);
      return;
    }
    const found = findRoute(routes, method, path);
    if (found === null || found === 'method') {
      req.resume();
      throw new LambdaApiError('UnknownOperationException', `Unknown operation: ${method} ${path.slice(0, 200)}`);
    }
    const { route, params } = found;
    const body = await readBody(req, route);
    if (config.auth === 'strict') verifySigV4(req, body, config.credentials, config.region);
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
    };
    const response = await route.handler(apiReq);
    send(res, requestId, response);
  }

  async function internal(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    req.resume();
    if (path === '/_lambkin/health') {
      send(res, '', { status: 200, body: { status: 'ok' } });
      return;
    }
    const blob = /^\/_lambkin\/blobs\/([0-9a-f]{64})$/.exec(path)?.[1];
    if (blob !== undefined && req.method === 'GET') {
      const file = deps.blobs.path(blob);
      const st = await stat(file).catch(() => null);
      if (st !== null) {
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': st.size });
        createReadStream(file).pipe(res);
        return;
      }
    }
    throw new LambdaApiError('ResourceNotFoundException', 'The resource you requested does not exist.');
  }
}

async function runEvent(service: LambdaService, invoker: Invoker, event: QueuedEvent): Promise<EventOutcome> {
  try {
    const qualifier = event.qualifier === '$LATEST' ? undefined : event.qualifier;
    const { record } = service.resolve(event.functionName, qualifier);
    if (record.state !== 'Active') return 'throttled';
    const result = await invoker.invoke({
      spec: service.specFor(record, undefined),
      payload: event.payload,
      invokedFunctionArn: `arn:aws:lambda:${service.ctx.region}:${service.ctx.accountId}:function:${event.functionName}${qualifier === undefined ? '' : `:${qualifier}`}`,
      logTail: false,
      requestId: event.id,
    });
    return result.functionError === undefined ? 'ok' : 'error';
  } catch (err) {
    if (isPlatformError(err, 'ERR_THROTTLED')) return 'throttled';
    if (err instanceof LambdaApiError && err.code === 'ResourceNotFoundException') return 'gone';
    log('event %s failed: %o', event.id, err);
    return 'error';
  }
}

/** Reads the body up to the operation's limit; beyond it the request is refused without reading the rest. */
function readBody(req: IncomingMessage, route: Route): Promise<Buffer> {
  const tooLarge = () =>
    new LambdaApiError(
      'RequestEntityTooLargeException',
      route.operation === 'Invoke'
        ? 'Request must be smaller than 6291456 bytes for the InvokeFunction operation'
        : `Request must be smaller than 69905067 bytes for the ${route.operation} operation`,
    );
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > route.maxBody) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > route.maxBody) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks, size));
    });
    req.on('error', reject);
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

function sendError(res: ServerResponse, requestId: string, err: LambdaApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = err.toResponse(requestId);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function toApiError(err: unknown): LambdaApiError {
  if (err instanceof LambdaApiError) return err;
  log('internal error: %o', err);
  if (isPlatformError(err) && err.isUserError())
    return new LambdaApiError('InvalidParameterValueException', err.message);
  return new LambdaApiError(
    'ServiceException',
    'An internal error occurred in Lambkin; see its log (NODE_DEBUG=lambkin:*).',
    { cause: err },
  );
}
