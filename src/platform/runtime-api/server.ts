/**
 * @module platform/runtime-api/server
 * One execution environment's Runtime API (`2018-06-01`), as LAMBDA-FACTS §1 describes it: a long-poll
 * `GET /next`, `POST /{id}/response` (buffered or streamed), `POST /{id}/error`, `POST /init/error`.
 *
 * One invocation at a time. Its record moves through these phases (validation always comes first):
 *
 * ```
 * invoke() ─→ queued ─GET /next→ delivered ─POST /response|/error→ answering ─body complete→ answered
 *                                    ↑ GET /next again: same event       │ cut short: back to delivered   │
 *                                                                        (streams: Runtime.TruncatedResponse)
 *                     GET /next after `answered` → onInvokeEnd(id); the record is gone (later posts for it → 400)
 * abort() before `answered` → outcome {kind:'aborted'}; the record is gone
 * ```
 *
 * It is on the hot path of every invoke, so it runs on its own small HTTP/1.1 server (`http1.ts`, on `node:net`)
 * rather than node:http. Routing is string comparison on `req.url`, replies are constant header lines, the `/next`
 * head is built once per invocation in `invoke()`, and bodies are read without per-request closures (`body.ts`).
 *
 * A warm invoke with a runtime that pipelines (Lambkin's own: `POST /{id}/response` and the next `GET /next` in one
 * write on one connection) costs this server one read and one write: the result completes, the `GET /next` behind
 * it parks, and the result's `202` is held (`coalesce`) until `invoke()` hands the parked `/next` the next event;
 * both then leave together (the hold is bounded to a couple of milliseconds, see `http1.ts`). A runtime that waits
 * for the `202` before asking again gets it at once.
 */
import { channel } from 'node:diagnostics_channel';
import { chmod } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { debuglog } from 'node:util';
import { PLATFORM_ERROR } from '../../protocol/platform-errors.ts';
import {
  MAX_RESPONSE_BYTES,
  MAX_STREAMED_RESPONSE_BYTES,
  RUNTIME_API_ERROR,
  RUNTIME_HEADER,
  RUNTIME_PATH,
  STREAMING_RESPONSE_MODE,
} from '../../protocol/runtime-api.ts';
import { PlatformError } from '../errors.ts';
import { BodyReader, type BodyPurpose, type BodySink } from './body.ts';
import { DRAIN_LIMIT, Http1Server, type Http1Request, type Http1Response } from './http1.ts';
import type { InitError, Invocation, InvocationOutcome } from './types.ts';

const log = debuglog('lambkin:rapi');
/** Published (only when someone listens) for every request: `{ address, method, url }`. */
const requestChannel = channel('lambkin:runtime-api:request');

/** Callbacks from the server to its environment. */
export interface RuntimeApiEvents {
  /** The runtime's first GET /next arrived: init is over (used to measure Init Duration). */
  onReady?(): void;
  /** The runtime posted /runtime/init/error (before its first /next). */
  onInitError?(error: InitError): void;
  /** The runtime called GET /next again after finishing `requestId`: the invoke's Duration ends now. */
  onInvokeEnd?(requestId: string): void;
}

export interface RuntimeApiOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Listen on this Unix socket path instead of TCP (isolated-network environments). */
  socketPath?: string;
  events?: RuntimeApiEvents;
  /** Largest buffered response (default 6,291,556 bytes, as Lambda). */
  maxResponseBytes?: number;
}

const ERROR_CAUSE_CONTENT_TYPE = 'application/vnd.aws.lambda.error.cause+json';
const STREAM_CONTENT_TYPE = 'application/octet-stream';
/** `/init/error` without `Lambda-Runtime-Function-Error-Type` (LAMBDA-FACTS §1). */
const INIT_ERROR_DEFAULT_TYPE = 'Runtime.Unknown';
/** `/error` without `Lambda-Runtime-Function-Error-Type`: the official client never sends one. */
const ERROR_DEFAULT_TYPE = 'Unhandled';
const ACCEPTED_BODY = Buffer.from('{"status":"OK"}\n');
const ACCEPTED_HEAD = `content-type: application/json\r\ncontent-length: ${ACCEPTED_BODY.length}\r\n`;

type Phase = 'queued' | 'delivered' | 'answering' | 'answered';

/** The invocation in flight (at most one per environment). */
interface InFlight {
  readonly inv: Invocation;
  /** `/next` reply header lines, built (and validated) once in `invoke()`. */
  readonly nextHead: string;
  readonly resolve: (outcome: InvocationOutcome) => void;
  phase: Phase;
}

/** `null` for `/init/error` bodies, which belong to no invocation. */
type Target = InFlight | null;

/** One environment's Runtime API server. Start it with {@link RuntimeApiServer.start}. */
export class RuntimeApiServer {
  readonly #server: Http1Server;
  readonly #events: RuntimeApiEvents;
  readonly #maxResponseBytes: number;
  /** The server's side of every body read; created once (no closures per request). */
  readonly #sink: BodySink<Target>;
  /** Bodies being read, so `abort()` can drop the one of its invocation. */
  readonly #readers = new Set<BodyReader<Target>>();
  #address = '';
  #init: 'initializing' | 'ready' | 'failed' = 'initializing';
  #current: InFlight | null = null;
  /** Id of the last invocation answered, until the runtime's next `/next` ends its Duration. */
  #endingId: string | null = null;
  /** A `/next` waiting for an event. */
  #parked: Http1Response | null = null;
  #closing: Promise<void> | null = null;

  private constructor(events: RuntimeApiEvents, maxResponseBytes: number) {
    this.#events = events;
    this.#maxResponseBytes = maxResponseBytes;
    this.#sink = {
      bodyComplete: (reader) => {
        this.#bodyComplete(reader);
      },
      bodyOverLimit: (reader) => {
        this.#bodyOverLimit(reader);
      },
      bodyCut: (reader, onWire) => {
        this.#bodyCut(reader, onWire);
      },
    };
    // No timeouts: `/next` long-polls for as long as the environment lives (it may be frozen meanwhile). No Host
    // header is required (hand-written runtimes: bash over /dev/tcp, minimal C clients). `Expect: 100-continue`
    // (libcurl, above 1 MiB): the route decides, `100` once the body is wanted (`BodyReader.start`) or the final
    // error reply at once (then the client sends no body); any other expectation is ignored rather than 417.
    this.#server = new Http1Server((req, res) => {
      this.#route(req, res);
    });
  }

  /** Starts a server on `host:port` (default `127.0.0.1:0`) or on `socketPath`. */
  static async start(options: RuntimeApiOptions = {}): Promise<RuntimeApiServer> {
    const api = new RuntimeApiServer(options.events ?? {}, options.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    const server = api.#server;
    await server.listen({ socketPath: options.socketPath, host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    if (options.socketPath !== undefined) {
      // The sandbox user (another uid) connects to it through a bind mount.
      await chmod(options.socketPath, 0o777);
      api.#address = options.socketPath;
    } else {
      const { address, port } = server.address() as AddressInfo;
      api.#address = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    }
    log('listening on %s', api.#address);
    return api;
  }

  /** Value for `AWS_LAMBDA_RUNTIME_API`: `host:port` (in socket mode: the socket path). */
  get address(): string {
    return this.#address;
  }

  /** True once init finished (the first `/next` arrived). */
  get ready(): boolean {
    return this.#init === 'ready';
  }

  /**
   * Hands `inv` to the runtime's pending (or next) `GET /next`. Resolves when the `/response` or `/error` body is
   * complete, or with `{kind:'aborted'}` after `abort()`; never rejects. Throws a `PlatformError` at once when an
   * invocation is still in flight (`ERR_INTERNAL`), when `inv` cannot be sent as headers (`ERR_INTERNAL`), or when
   * the server is closed (`ERR_DISPOSED`).
   */
  invoke(inv: Invocation): Promise<InvocationOutcome> {
    if (this.#closing !== null) throw new PlatformError('ERR_DISPOSED', 'the Runtime API server is closed');
    const current = this.#current;
    if (current !== null && current.phase !== 'answered') {
      throw new PlatformError('ERR_INTERNAL', `invocation ${current.inv.requestId} is still in flight`);
    }
    const nextHead = nextHeadOf(inv);
    return new Promise<InvocationOutcome>((resolve) => {
      const flight: InFlight = { inv, nextHead, resolve, phase: 'queued' };
      this.#current = flight;
      const parked = this.#parked;
      if (parked !== null) {
        this.#parked = null;
        // A /next whose connection died meanwhile (runtime re-spawned) is skipped; the new one will come.
        if (!parked.destroyed) this.#deliver(parked, flight);
      }
    });
  }

  /** Ends the in-flight invocation, if any, with `{kind:'aborted', reason}`. Later posts for its id get 400. */
  abort(reason: string): void {
    const current = this.#current;
    if (current === null || current.phase === 'answered') return;
    log('abort %s: %s', current.inv.requestId, reason);
    this.#current = null;
    // A result still arriving is read to its end (and refused) but no longer kept or streamed to the caller.
    for (const reader of this.#readers) if (reader.target === current) reader.abandon();
    current.resolve({ kind: 'aborted', reason });
  }

  /** Closes the server and destroys every connection, a long-polling `/next` included. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.abort('closed');
      this.#parked = null;
      void this.#server.close().then(resolve);
    });
    return this.#closing;
  }

  // ── routing ────────────────────────────────────────────────────────────────────────────────────────────────

  #route(req: Http1Request, res: Http1Response): void {
    if (requestChannel.hasSubscribers) {
      requestChannel.publish({ address: this.#address, method: req.method, url: req.url });
    }
    const path = pathOf(req.url);
    const method = req.method;
    if (path === RUNTIME_PATH.next) {
      if (method === 'GET') this.#next(req, res);
      else methodNotAllowed(req, res);
      return;
    }
    if (path.startsWith(RUNTIME_PATH.invocationPrefix)) {
      const slash = path.lastIndexOf('/');
      const action = path.slice(slash + 1);
      if (slash >= RUNTIME_PATH.invocationPrefix.length - 1 && (action === 'response' || action === 'error')) {
        if (method === 'POST') this.#post(req, res, requestIdOf(path, slash), action);
        else methodNotAllowed(req, res);
        return;
      }
    } else if (path === RUNTIME_PATH.initError) {
      if (method === 'POST') this.#initError(req, res);
      else methodNotAllowed(req, res);
      return;
    }
    reply(req, res, 404, 'NotFound', `Unknown Runtime API path: ${path.slice(0, 200)}`);
  }

  // ── GET /runtime/invocation/next ───────────────────────────────────────────────────────────────────────────

  #next(req: Http1Request, res: Http1Response): void {
    if (this.#init === 'failed') {
      reply(req, res, 403, RUNTIME_API_ERROR.InvalidStateTransition, 'State transition from InitError to Ready failed');
      return;
    }
    if (this.#init === 'initializing') {
      this.#init = 'ready';
      log('ready');
      this.#events.onReady?.();
    }
    if (this.#endingId !== null) this.#endInvoke(this.#endingId);
    const current = this.#current;
    if (current !== null && (current.phase === 'queued' || current.phase === 'delivered')) {
      // `delivered`: the runtime asks again without a result. Undocumented on Lambda; like AWS's emulator, it gets
      // the same event (same id and deadline) again. Conforming runtimes never do this.
      if (current.phase === 'delivered') log('next: %s has no result yet, delivering it again', current.inv.requestId);
      this.#deliver(res, current);
      return;
    }
    // Long-poll until invoke() (or, while a result is still arriving on another connection, until it is complete).
    const previous = this.#parked;
    // A newer /next wins (the older one belongs to a runtime that gave up on it, or to a dead process).
    if (previous !== null && !previous.destroyed) previous.destroy();
    // A result's 202 just before it on the same connection waits to leave with the event (see the module doc).
    res.longPoll = true;
    this.#parked = res;
  }

  #deliver(res: Http1Response, flight: InFlight): void {
    flight.phase = 'delivered';
    log('next → %s', flight.inv.requestId);
    res.send(200, flight.nextHead, flight.inv.payload);
  }

  /** The runtime asked for its next event after answering `id`: the invoke's Duration ends now. */
  #endInvoke(id: string): void {
    this.#endingId = null;
    if (this.#current?.inv.requestId === id) this.#current = null;
    this.#events.onInvokeEnd?.(id);
  }

  // ── POST /runtime/invocation/{id}/response | /error ─────────────────────────────────────────────────────────

  #post(req: Http1Request, res: Http1Response, requestId: string, action: 'response' | 'error'): void {
    const current = this.#current;
    // 1. Validate the request (id, then headers) before looking at the state.
    if (requestId === '' || current?.inv.requestId !== requestId) {
      reply(req, res, 400, RUNTIME_API_ERROR.InvalidRequestID, 'Invalid request ID');
      return;
    }
    let purpose: BodyPurpose = action;
    if (action === 'response') {
      const mode = req.headers[RUNTIME_HEADER.FunctionResponseMode];
      if (mode !== undefined) {
        if (mode !== STREAMING_RESPONSE_MODE) {
          reply(
            req,
            res,
            400,
            RUNTIME_API_ERROR.InvalidFunctionResponseMode,
            `Invalid function response mode: ${mode.slice(0, 100)}`,
          );
          return;
        }
        purpose = 'stream';
      }
    }
    // 2. The state: one result per invocation, and only after it was delivered.
    if (current.phase !== 'delivered') {
      const from = current.phase === 'queued' ? 'Ready' : 'ResponseSent';
      const to = action === 'error' ? 'InvocationErrorResponse' : 'InvocationResponse';
      reply(req, res, 403, RUNTIME_API_ERROR.InvalidStateTransition, `State transition from ${from} to ${to} failed`);
      return;
    }
    // 3. A buffered body declared too large is refused before it is sent (or read).
    const limit = purpose === 'stream' ? MAX_STREAMED_RESPONSE_BYTES : this.#maxResponseBytes;
    if (purpose !== 'stream' && declaredLength(req) > limit) {
      current.phase = 'answering';
      this.#tooLarge(req, res, limit);
      this.#settle(current, { kind: 'too-large' });
      return;
    }
    // 4. Transition, then read.
    current.phase = 'answering';
    const onChunk = purpose === 'stream' ? current.inv.onChunk : undefined;
    const contentType = req.headers['content-type'] ?? STREAM_CONTENT_TYPE;
    this.#read(
      new BodyReader<Target>(
        req,
        res,
        purpose,
        current,
        limit,
        this.#sink,
        onChunk !== undefined ? (chunk) => onChunk(chunk, contentType) : undefined,
      ),
    );
  }

  // ── POST /runtime/init/error ───────────────────────────────────────────────────────────────────────────────

  #initError(req: Http1Request, res: Http1Response): void {
    if (this.#init !== 'initializing') {
      this.#initStateError(req, res);
      return;
    }
    this.#read(new BodyReader<Target>(req, res, 'init-error', null, this.#maxResponseBytes, this.#sink));
  }

  #initStateError(req: Http1Request, res: Http1Response): void {
    const from = this.#init === 'ready' ? 'Ready' : 'InitError';
    reply(req, res, 403, RUNTIME_API_ERROR.InvalidStateTransition, `State transition from ${from} to InitError failed`);
  }

  #reportInitError(req: Http1Request, body: Buffer): void {
    this.#init = 'failed';
    const header = req.headers[RUNTIME_HEADER.FunctionErrorType];
    const errorType = typeof header === 'string' && header !== '' ? header : INIT_ERROR_DEFAULT_TYPE;
    log('init error %s', errorType);
    this.#events.onInitError?.({ errorType, body: errorCauseStripped(req, body) });
  }

  // ── bodies ─────────────────────────────────────────────────────────────────────────────────────────────────

  #read(reader: BodyReader<Target>): void {
    this.#readers.add(reader);
    reader.start();
  }

  #bodyComplete(reader: BodyReader<Target>): void {
    this.#readers.delete(reader);
    const { req, res } = reader;
    const flight = reader.target;
    if (flight === null) {
      if (this.#init !== 'initializing') {
        this.#initStateError(req, res);
        return;
      }
      res.send(202, ACCEPTED_HEAD, ACCEPTED_BODY);
      this.#reportInitError(req, reader.body());
      return;
    }
    if (this.#current !== flight || flight.phase !== 'answering') {
      // Aborted while the body was arriving.
      reply(req, res, 400, RUNTIME_API_ERROR.InvalidRequestID, 'Invalid request ID');
      return;
    }
    // The runtime may have pipelined its next /next behind this result: then the 202 leaves with the next event.
    res.coalesce = true;
    res.send(202, ACCEPTED_HEAD, ACCEPTED_BODY);
    this.#settle(flight, outcomeOf(reader));
  }

  #bodyOverLimit(reader: BodyReader<Target>): void {
    this.#readers.delete(reader);
    const { req, res, limit } = reader;
    this.#tooLarge(req, res, limit);
    const flight = reader.target;
    if (flight === null) {
      // The init failed either way; the platform gets the first `limit` bytes.
      if (this.#init === 'initializing') this.#reportInitError(req, reader.body());
      reader.release();
      return;
    }
    reader.release();
    if (reader.purpose !== 'stream') {
      this.#settle(flight, { kind: 'too-large' });
      return;
    }
    const message = `Response payload size exceeded maximum allowed payload size (${limit} bytes).`;
    this.#settle(flight, {
      kind: 'error',
      errorType: PLATFORM_ERROR.ResponseSizeTooLarge,
      body: errorJson(PLATFORM_ERROR.ResponseSizeTooLarge, message),
    });
  }

  #bodyCut(reader: BodyReader<Target>, onWire: boolean): void {
    this.#readers.delete(reader);
    const { req, res } = reader;
    if (onWire) {
      res.keepAlive = false;
      reply(req, res, 400, RUNTIME_API_ERROR.TruncatedHTTPRequest, 'The request body ended before it was complete');
    }
    const flight = reader.target;
    if (flight === null || this.#current !== flight || flight.phase !== 'answering') return;
    log('%s: %s body cut short', flight.inv.requestId, reader.purpose);
    if (reader.purpose === 'stream') {
      // The caller already has part of the stream: it ends with an error.
      this.#settle(flight, {
        kind: 'error',
        errorType: PLATFORM_ERROR.TruncatedResponse,
        body: errorJson(PLATFORM_ERROR.TruncatedResponse, 'The response stream was cut short'),
      });
      return;
    }
    // A buffered result that never fully arrived was not given: the runtime may post it again, or it died and the
    // platform reports its exit.
    flight.phase = 'delivered';
  }

  #tooLarge(req: Http1Request, res: Http1Response, limit: number): void {
    reply(
      req,
      res,
      413,
      RUNTIME_API_ERROR.RequestEntityTooLarge,
      `Exceeded maximum allowed payload size (${limit} bytes).`,
    );
  }

  #settle(flight: InFlight, outcome: InvocationOutcome): void {
    flight.phase = 'answered';
    this.#endingId = flight.inv.requestId;
    log('%s → %s', flight.inv.requestId, outcome.kind);
    flight.resolve(outcome);
    // A /next that came (on another connection) while this result was arriving: the invoke ends now.
    const parked = this.#parked;
    if (parked !== null && !parked.destroyed) this.#endInvoke(flight.inv.requestId);
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────────

/** The path of a request target, without a query; an absolute-form target (`http://host/…`) is reduced too. */
function pathOf(url: string): string {
  let path = url;
  if (path.charCodeAt(0) !== 47 /* '/' */) {
    const scheme = path.indexOf('://');
    const slash = scheme === -1 ? -1 : path.indexOf('/', scheme + 3);
    path = slash === -1 ? '' : path.slice(slash);
  }
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** The `{id}` of `/…/invocation/{id}/{action}`, given the index of the last slash ('' when empty or malformed). */
function requestIdOf(path: string, slash: number): string {
  const id = path.slice(RUNTIME_PATH.invocationPrefix.length, slash);
  if (!id.includes('%')) return id;
  try {
    return decodeURIComponent(id);
  } catch {
    return '';
  }
}

function declaredLength(req: Http1Request): number {
  const value = req.headers['content-length'];
  return value === undefined ? -1 : Number(value);
}

/** Every error reply: JSON `{"errorMessage","errorType"}` with `Content-Type: application/json`. */
function reply(req: Http1Request, res: Http1Response, status: number, errorType: string, errorMessage: string): void {
  if (res.answered || res.destroyed) return;
  log('%s %s → %d %s', req.method, req.url, status, errorType);
  // The body is not wanted. A client still waiting for `100 Continue` does not send it (so the connection cannot
  // carry another request), and a huge one is not worth draining: close. Otherwise the connection reads and drops
  // the rest of it after the reply and stays usable.
  if (!req.complete && (req.awaitingContinue || declaredLength(req) > DRAIN_LIMIT)) res.keepAlive = false;
  const body = errorJson(errorType, errorMessage);
  res.send(status, `content-type: application/json\r\ncontent-length: ${body.length}\r\n`, body);
}

function methodNotAllowed(req: Http1Request, res: Http1Response): void {
  reply(req, res, 405, 'MethodNotAllowed', `Method ${req.method.slice(0, 20)} is not allowed here`);
}

/** What the caller gets for a complete `/response` or `/error` body. */
function outcomeOf(reader: BodyReader<Target>): InvocationOutcome {
  const req = reader.req;
  switch (reader.purpose) {
    case 'stream': {
      const errorType = req.trailers[RUNTIME_HEADER.FunctionErrorType];
      if (errorType !== undefined && errorType !== '') {
        // Mid-stream failure: the error JSON comes base64-encoded in a trailer.
        const encoded = req.trailers[RUNTIME_HEADER.FunctionErrorBody] ?? '';
        const body = Buffer.from(encoded, 'base64');
        return { kind: 'error', errorType, body: body.length > 0 ? body : errorJson(errorType, '') };
      }
      return {
        kind: 'response',
        body: reader.body(),
        contentType: req.headers['content-type'] ?? STREAM_CONTENT_TYPE,
        streamed: true,
      };
    }
    case 'error': {
      // The official client sends no error-type header.
      const header = req.headers[RUNTIME_HEADER.FunctionErrorType];
      const errorType = typeof header === 'string' && header !== '' ? header : ERROR_DEFAULT_TYPE;
      return { kind: 'error', errorType, body: errorCauseStripped(req, reader.body()) };
    }
    default:
      return { kind: 'response', body: reader.body(), contentType: req.headers['content-type'], streamed: false };
  }
}

function errorJson(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorMessage, errorType }));
}

/**
 * `Content-Type: application/vnd.aws.lambda.error.cause+json`: the body is `{errorMessage, errorType, stackTrace,
 * errorCause}` and the caller sees it without `errorCause`. Anything else (and any body that is not a JSON object)
 * passes through byte for byte.
 */
function errorCauseStripped(req: Http1Request, body: Buffer): Buffer {
  const contentType = req.headers['content-type'];
  if (contentType === undefined || !contentType.toLowerCase().startsWith(ERROR_CAUSE_CONTENT_TYPE)) return body;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'errorCause' in parsed) {
      const rest: Record<string, unknown> = { ...parsed };
      delete rest.errorCause;
      return Buffer.from(JSON.stringify(rest));
    }
  } catch {
    // Not JSON: passed through as it is.
  }
  return body;
}

/**
 * The `/next` reply header lines of `inv` (`name: value\r\n`, lowercase names as node:http sent them; values are
 * written as latin1 bytes). Throws a PlatformError if a platform-made value cannot be a header.
 */
function nextHeadOf(inv: Invocation): string {
  try {
    let head =
      // Always: the official native client segfaults without it.
      `content-type: application/json\r\ncontent-length: ${inv.payload.length}\r\n` +
      `${RUNTIME_HEADER.AwsRequestId}: ${headerValue(inv.requestId)}\r\n` +
      `${RUNTIME_HEADER.DeadlineMs}: ${inv.deadlineMs}\r\n` +
      `${RUNTIME_HEADER.InvokedFunctionArn}: ${headerValue(inv.invokedFunctionArn)}\r\n` +
      // Always: some clients crash without it.
      `${RUNTIME_HEADER.TraceId}: ${headerValue(inv.traceId)}\r\n`;
    if (inv.clientContext !== undefined) {
      head += `${RUNTIME_HEADER.ClientContext}: ${jsonHeaderValue(inv.clientContext)}\r\n`;
    }
    if (inv.cognitoIdentity !== undefined) {
      head += `${RUNTIME_HEADER.CognitoIdentity}: ${jsonHeaderValue(inv.cognitoIdentity)}\r\n`;
    }
    if (inv.tenantId !== undefined) head += `${RUNTIME_HEADER.TenantId}: ${headerValue(inv.tenantId)}\r\n`;
    return head;
  } catch (err) {
    throw new PlatformError('ERR_INTERNAL', `invocation ${inv.requestId} cannot be sent to the runtime`, {
      cause: err,
    });
  }
}

/** `value` if it can be a header value (tab, visible ASCII, latin1 bytes: node:http's rule); throws otherwise. */
function headerValue(value: string): string {
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value))
    throw new TypeError(`invalid character in header value: ${JSON.stringify(value)}`);
  return value;
}

/**
 * JSON text from a caller, as a header value: UTF-8 bytes on the wire (Node writes header strings as latin1, one
 * byte per char), line breaks (whitespace outside JSON strings) as spaces, other control characters dropped.
 */
function jsonHeaderValue(text: string): string {
  if (!/[^\t\x20-\x7e]/.test(text)) return text;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const clean = text.replace(/[\r\n]/g, ' ').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
  return Buffer.from(clean, 'utf8').toString('latin1');
}
