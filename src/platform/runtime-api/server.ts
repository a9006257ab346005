/**
 * @module platform/runtime-api/server
 * One execution environment's Runtime API (`2018-06-01`), exactly as LAMBDA-FACTS §1 describes it: a long-poll
 * `GET /next`, `POST /{id}/response` (buffered or streamed), `POST /{id}/error`, `POST /init/error`.
 *
 * It is on the hot path of every invoke, so requests are routed with string operations, replies use constant
 * header objects, and nothing is parsed that does not have to be.
 */
import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { debuglog } from 'node:util';
import {
  MAX_RESPONSE_BYTES,
  MAX_STREAMED_RESPONSE_BYTES,
  RUNTIME_API_ERROR,
  RUNTIME_HEADER,
  RUNTIME_PATH,
  STREAMING_RESPONSE_MODE,
} from '../../protocol/runtime-api.ts';
import { PLATFORM_ERROR } from '../../protocol/platform-errors.ts';
import { PlatformError } from '../errors.ts';
import type { InitError, Invocation, InvocationOutcome } from './types.ts';

const log = debuglog('lambkin:rapi');

export interface RuntimeApiEvents {
  /** The runtime's first GET /next arrived: init is over (Init Duration ends). */
  onReady?(): void;
  /** The runtime posted /runtime/init/error (before its first /next). */
  onInitError?(error: InitError): void;
  /** The runtime called GET /next again after finishing `requestId`: the invoke's Duration ends now. */
  onInvokeEnd?(requestId: string): void;
}

export interface RuntimeApiOptions {
  host?: string;
  port?: number;
  /** Listen on a Unix socket instead (isolated-network environments). */
  socketPath?: string;
  events?: RuntimeApiEvents;
  /** Largest buffered response (default 6,291,556 bytes, as Lambda). */
  maxResponseBytes?: number;
}

const ERROR_CAUSE_CONTENT_TYPE = 'application/vnd.aws.lambda.error.cause+json';
const ACCEPTED_BODY = '{"status":"OK"}\n';
const ACCEPTED_HEADERS = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ACCEPTED_BODY) };
const ERROR_BODY_LIMIT = MAX_RESPONSE_BYTES;

type Phase = 'waiting' | 'delivered' | 'answering' | 'answered';

interface Current {
  inv: Invocation;
  phase: Phase;
  headers: Record<string, string | number>;
  resolve: (outcome: InvocationOutcome) => void;
}

export class RuntimeApiServer {
  readonly #server: Server;
  readonly #events: RuntimeApiEvents;
  readonly #maxResponseBytes: number;
  readonly #sockets = new Set<Socket>();
  #address = '';
  #ready = false;
  #initErrored = false;
  #current: Current | null = null;
  /** Id of the last invocation answered, until the runtime's next /next marks the end of its Duration. */
  #endingId: string | null = null;
  #parkedNext: ServerResponse | null = null;
  #closed: Promise<void> | null = null;

  private constructor(events: RuntimeApiEvents, maxResponseBytes: number) {
    this.#events = events;
    this.#maxResponseBytes = maxResponseBytes;
    this.#server = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0, noDelay: true });
    this.#server.timeout = 0;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#route(req, res);
    });
    // Answer `Expect: 100-continue` ourselves so an oversize upload is refused before it is sent.
    this.#server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const length = Number(req.headers['content-length'] ?? 0);
      if (req.url?.endsWith('/response') === true && length > this.#maxResponseBytes && !isStreaming(req)) {
        this.#route(req, res);
        return;
      }
      res.writeContinue();
      this.#route(req, res);
    });
    this.#server.on('clientError', (_err: Error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  static async start(options: RuntimeApiOptions = {}): Promise<RuntimeApiServer> {
    const api = new RuntimeApiServer(options.events ?? {}, options.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    await new Promise<void>((resolve, reject) => {
      api.#server.once('error', reject);
      const done = () => {
        api.#server.off('error', reject);
        resolve();
      };
      if (options.socketPath !== undefined) api.#server.listen(options.socketPath, done);
      else api.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', done);
    });
    if (options.socketPath !== undefined) {
      // The sandbox user (another uid) connects to it through the bind mount.
      await chmod(options.socketPath, 0o777);
      api.#address = options.socketPath;
    } else {
      const { address, port } = api.#server.address() as AddressInfo;
      api.#address = `${address}:${port}`;
    }
    return api;
  }

  /** Value for `AWS_LAMBDA_RUNTIME_API` (`host:port`, or the socket path in socket mode). */
  get address(): string {
    return this.#address;
  }

  /** True once init finished (the first /next arrived). */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Hands `inv` to the runtime's pending (or next) `GET /next`. Resolves when the runtime's `/response` or
   * `/error` body is complete, or with `aborted` after `abort()`. Never rejects once accepted.
   */
  invoke(inv: Invocation): Promise<InvocationOutcome> {
    if (this.#closed !== null) throw new PlatformError('ERR_DISPOSED', 'the Runtime API server is closed');
    if (this.#current !== null && this.#current.phase !== 'answered') {
      throw new PlatformError('ERR_INTERNAL', 'an invocation is already in flight in this environment');
    }
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': inv.payload.length,
      'lambda-runtime-aws-request-id': inv.requestId,
      'lambda-runtime-deadline-ms': String(inv.deadlineMs),
      'lambda-runtime-invoked-function-arn': inv.invokedFunctionArn,
      'lambda-runtime-trace-id': inv.traceId,
    };
    if (inv.clientContext !== undefined) headers[RUNTIME_HEADER.ClientContext] = inv.clientContext;
    if (inv.cognitoIdentity !== undefined) headers[RUNTIME_HEADER.CognitoIdentity] = inv.cognitoIdentity;
    return new Promise<InvocationOutcome>((resolve) => {
      this.#current = { inv, phase: 'waiting', headers, resolve };
      const parked = this.#parkedNext;
      if (parked !== null) {
        this.#parkedNext = null;
        this.#deliver(parked);
      }
    });
  }

  /** Ends the in-flight invocation, if any, with `aborted`; later posts for its id get 400 InvalidRequestID. */
  abort(reason: string): void {
    const current = this.#current;
    this.#current = null;
    this.#endingId = null;
    if (current !== null && current.phase !== 'answered') current.resolve({ kind: 'aborted', reason });
  }

  /** Closes the server and every connection, a long-polling /next included. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.abort('closed');
      this.#server.close(() => {
        resolve();
      });
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  // ── routing ────────────────────────────────────────────────────────────────────────────────────────────────

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === RUNTIME_PATH.next) {
      if (req.method !== 'GET') {
        methodNotAllowed(req, res);
        return;
      }
      this.#next(req, res);
      return;
    }
    if (path.startsWith(RUNTIME_PATH.invocationPrefix)) {
      const rest = path.slice(RUNTIME_PATH.invocationPrefix.length);
      const slash = rest.lastIndexOf('/');
      const kind = slash === -1 ? '' : rest.slice(slash + 1);
      if (kind === 'response' || kind === 'error') {
        if (req.method !== 'POST') {
          methodNotAllowed(req, res);
          return;
        }
        this.#post(req, res, decodeSafe(rest.slice(0, slash)), kind);
        return;
      }
    }
    if (path === RUNTIME_PATH.initError) {
      if (req.method !== 'POST') {
        methodNotAllowed(req, res);
        return;
      }
      this.#initError(req, res);
      return;
    }
    reply(req, res, 404, 'NotFound', `Unknown Runtime API path: ${path.slice(0, 200)}`);
  }

  #next(req: IncomingMessage, res: ServerResponse): void {
    if (this.#initErrored) {
      reply(req, res, 403, RUNTIME_API_ERROR.InvalidStateTransition, 'State transition from InitError to Ready failed');
      return;
    }
    if (!this.#ready) {
      this.#ready = true;
      this.#events.onReady?.();
    }
    if (this.#endingId !== null) {
      const id = this.#endingId;
      this.#endingId = null;
      if (this.#current?.inv.requestId === id) this.#current = null;
      this.#events.onInvokeEnd?.(id);
    }
    const current = this.#current;
    if (current !== null && (current.phase === 'waiting' || current.phase === 'delivered')) {
      // `delivered`: the runtime asked again without answering; it gets the same event (as AWS's emulator does).
      this.#deliver(res);
      return;
    }
    // Long-poll: park until invoke(). A second parked /next replaces the first (whose socket is dropped).
    if (this.#parkedNext !== null) this.#parkedNext.destroy();
    this.#parkedNext = res;
    res.on('close', () => {
      if (this.#parkedNext === res) this.#parkedNext = null;
    });
  }

  #deliver(res: ServerResponse): void {
    const current = this.#current;
    if (current === null) return;
    current.phase = 'delivered';
    res.writeHead(200, current.headers);
    res.end(current.inv.payload);
  }

  #post(req: IncomingMessage, res: ServerResponse, requestId: string, kind: 'response' | 'error'): void {
    const current = this.#current;
    // Request validation comes before any state is looked at.
    if (requestId === '' || current?.inv.requestId !== requestId) {
      reply(req, res, 400, RUNTIME_API_ERROR.InvalidRequestID, 'Invalid request ID');
      return;
    }
    if (current.phase !== 'delivered') {
      reply(
        req,
        res,
        403,
        RUNTIME_API_ERROR.InvalidStateTransition,
        `State transition from ${current.phase === 'waiting' ? 'Ready' : 'InvocationResponse'} to InvocationResponse failed`,
      );
      return;
    }
    if (kind === 'error') {
      current.phase = 'answering';
      this.#readError(req, res, current);
      return;
    }
    const mode = req.headers[RUNTIME_HEADER.FunctionResponseMode];
    if (mode !== undefined) {
      if (mode !== STREAMING_RESPONSE_MODE) {
        reply(
          req,
          res,
          400,
          RUNTIME_API_ERROR.InvalidFunctionResponseMode,
          `Invalid function response mode: ${String(mode).slice(0, 100)}`,
        );
        return;
      }
      current.phase = 'answering';
      this.#readStream(req, res, current);
      return;
    }
    current.phase = 'answering';
    this.#readBuffered(req, res, current);
  }

  #settle(current: Current, outcome: InvocationOutcome): void {
    if (this.#current !== current) return; // aborted meanwhile
    current.phase = 'answered';
    this.#endingId = current.inv.requestId;
    current.resolve(outcome);
  }

  #readBuffered(req: IncomingMessage, res: ServerResponse, current: Current): void {
    const limit = this.#maxResponseBytes;
    const tooLarge = () => {
      reply(
        req,
        res,
        413,
        RUNTIME_API_ERROR.RequestEntityTooLarge,
        `Exceeded maximum allowed payload size (${limit} bytes).`,
      );
      this.#settle(current, { kind: 'too-large' });
    };
    const declared = Number(req.headers['content-length'] ?? -1);
    if (declared > limit) {
      req.resume();
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      res.writeHead(202, ACCEPTED_HEADERS);
      res.end(ACCEPTED_BODY);
      const body = chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks, size);
      this.#settle(current, { kind: 'response', body, contentType: req.headers['content-type'], streamed: false });
    });
    req.on('aborted', () => {
      if (!over) this.#truncated(current);
    });
  }

  #readStream(req: IncomingMessage, res: ServerResponse, current: Current): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let complete = false;
    const onChunk = current.inv.onChunk;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_STREAMED_RESPONSE_BYTES) chunks.push(chunk);
      onChunk?.(chunk);
    });
    req.on('end', () => {
      complete = true;
      res.writeHead(202, ACCEPTED_HEADERS);
      res.end(ACCEPTED_BODY);
      const errorType = req.trailers[RUNTIME_HEADER.FunctionErrorType];
      if (errorType !== undefined) {
        const encoded = req.trailers[RUNTIME_HEADER.FunctionErrorBody] ?? '';
        const body = Buffer.from(encoded, 'base64');
        this.#settle(current, { kind: 'error', errorType, body: body.length > 0 ? body : errorJson(errorType, '') });
        return;
      }
      if (size > MAX_STREAMED_RESPONSE_BYTES) {
        this.#settle(current, {
          kind: 'error',
          errorType: PLATFORM_ERROR.ResponseSizeTooLarge,
          body: errorJson(
            PLATFORM_ERROR.ResponseSizeTooLarge,
            `Response payload size exceeded maximum allowed payload size (${MAX_STREAMED_RESPONSE_BYTES} bytes).`,
          ),
        });
        return;
      }
      this.#settle(current, {
        kind: 'response',
        body: Buffer.concat(chunks),
        contentType: req.headers['content-type'] ?? 'application/octet-stream',
        streamed: true,
      });
    });
    req.on('close', () => {
      if (!complete) this.#truncated(current);
    });
  }

  #truncated(current: Current): void {
    this.#settle(current, {
      kind: 'error',
      errorType: PLATFORM_ERROR.TruncatedResponse,
      body: errorJson(PLATFORM_ERROR.TruncatedResponse, 'Response stream was cut short (TruncatedHTTPRequest)'),
    });
  }

  #readError(req: IncomingMessage, res: ServerResponse, current: Current): void {
    readLimited(req, ERROR_BODY_LIMIT, (body) => {
      res.writeHead(202, ACCEPTED_HEADERS);
      res.end(ACCEPTED_BODY);
      const header = req.headers[RUNTIME_HEADER.FunctionErrorType];
      const errorType = typeof header === 'string' && header !== '' ? header : 'Unhandled';
      const contentType = req.headers['content-type'] ?? '';
      this.#settle(current, {
        kind: 'error',
        errorType,
        body: contentType.startsWith(ERROR_CAUSE_CONTENT_TYPE) ? withoutErrorCause(body) : body,
      });
    });
  }

  #initError(req: IncomingMessage, res: ServerResponse): void {
    if (this.#ready || this.#initErrored) {
      reply(req, res, 403, RUNTIME_API_ERROR.InvalidStateTransition, 'State transition from Ready to InitError failed');
      return;
    }
    this.#initErrored = true;
    readLimited(req, ERROR_BODY_LIMIT, (body) => {
      res.writeHead(202, ACCEPTED_HEADERS);
      res.end(ACCEPTED_BODY);
      const header = req.headers[RUNTIME_HEADER.FunctionErrorType];
      const errorType = typeof header === 'string' && header !== '' ? header : 'Runtime.Unknown';
      const contentType = req.headers['content-type'] ?? '';
      this.#events.onInitError?.({
        errorType,
        body: contentType.startsWith(ERROR_CAUSE_CONTENT_TYPE) ? withoutErrorCause(body) : body,
      });
    });
  }
}

function isStreaming(req: IncomingMessage): boolean {
  return req.headers[RUNTIME_HEADER.FunctionResponseMode] !== undefined;
}

/** Reads a body up to `limit` bytes (the rest is discarded) and calls `done` once. */
function readLimited(req: IncomingMessage, limit: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (size >= limit) return;
    const room = limit - size;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(piece);
    size += piece.length;
  });
  req.on('end', () => {
    done(Buffer.concat(chunks, size));
  });
}

function reply(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  errorType: string,
  errorMessage: string,
): void {
  log('%s %s → %d %s', req.method, req.url, status, errorType);
  const body = JSON.stringify({ errorMessage, errorType });
  // The request body (if any) is not wanted; keep the connection usable when it is small, else close it.
  if (!req.complete) {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > 1024 * 1024 || req.headers['transfer-encoding'] !== undefined) res.shouldKeepAlive = false;
    req.resume();
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse): void {
  reply(req, res, 405, 'MethodNotAllowed', `Method ${req.method ?? ''} is not allowed on ${req.url ?? ''}`);
}

function decodeSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function errorJson(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorMessage, errorType }));
}

/** `application/vnd.aws.lambda.error.cause+json`: the caller sees the body without `errorCause`. */
function withoutErrorCause(body: Buffer): Buffer {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const rest = { ...(parsed as Record<string, unknown>) };
      delete rest.errorCause;
      return Buffer.from(JSON.stringify(rest));
    }
  } catch {
    // Not JSON: passed through as it is.
  }
  return body;
}
