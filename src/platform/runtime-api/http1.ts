/**
 * @module platform/runtime-api/http1
 * The HTTP/1.1 server under the Runtime API: just enough of RFC 9112 for runtimes, on `node:net` (TCP or a Unix
 * socket). It replaces `node:http`, whose machinery (parser callbacks, streams, per-request objects, timers) took most
 * of the server thread's JavaScript time in a warm invoke, and which writes every reply on its own: on loopback each
 * write is a syscall that also wakes the other process.
 *
 * One {@link Connection} per socket holds an incremental request parser and the replies still to be written:
 *
 * - A request is handed to the server (`onRequest(req, res)`) as soon as its head is parsed. Its body then goes to
 *   the {@link BodyHandler} the server attached (`req.reader`), or is read and dropped if the server answered without
 *   it (up to {@link DRAIN_LIMIT}; a reply that closes the connection stops reading at once).
 * - Replies leave strictly in request order, however the server answers them (a `GET /next` long-polls while the
 *   requests pipelined behind it are already answered).
 * - Output waits while a received chunk is being parsed, so every reply one read produces leaves in one write (one
 *   buffer, or one `writev` for large bodies).
 * - Coalescing (the hot path): a runtime that pipelines its next `GET /next` behind its result does not need the
 *   result's `202` first. A reply marked `coalesce` (that `202`) is held while the request right behind it on the
 *   same connection is a long poll still waiting (`res.longPoll`: a parked `GET /next`); when `invoke()` answers the
 *   long poll, both leave in one write, so a warm invoke costs the server one read and one write. Without a pipelined
 *   request behind it, the `202` leaves at once. The hold is bounded ({@link HOLD_MS}): a runtime may still wait for
 *   the `202` for reasons of its own (Lambkin's nodejs22.x mode posts an unhandled rejection, then exits once it is
 *   accepted), and an idle environment may get no event for minutes. A connection that ends or is destroyed writes
 *   what it holds first.
 *
 * Parsing is strict where node:http's is (CRLF line ends, token header names, no control characters, no obsolete line
 * folding, one Content-Length, never with Transfer-Encoding, only `chunked` transfer coding) and lenient where
 * runtimes need it (no Host header, absolute-form targets, HTTP/1.0, empty lines between requests). Malformed input
 * gets a JSON `400` (`431` for a head over 256 KiB) and the connection is closed; no input can throw.
 *
 * Backpressure: reading stops while the client does not read its replies (a socket write returned false) or while
 * {@link MAX_QUEUED} replies are pending on the connection, and resumes when that clears. Bodies are handed to their
 * reader synchronously as they arrive.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { debuglog } from 'node:util';

const log = debuglog('lambkin:rapi');

/** Request headers (and trailers): lowercase names, values as latin1 text, as node:http gives them. */
export type HeaderMap = Record<string, string | undefined>;

/** Where a request body goes, set by the server as `req.reader`: `data` as bytes come, then `end` or `cut` (once). */
export interface BodyHandler {
  /** The next piece of the body, in order (a view of the received bytes; kept as is). */
  data(chunk: Buffer): void;
  /** The body is complete; trailers, if any, are on `req.trailers`. */
  end(): void;
  /**
   * The body will never complete. `onWire`: the socket can still carry a reply (the client half-closed mid-body, or
   * its chunked framing broke); otherwise the connection is gone.
   */
  cut(onWire: boolean): void;
}

/**
 * Largest request head (request line and headers), and largest trailer block. Runtimes send
 * `Lambda-Runtime-Function-XRay-Error-Cause` (up to 64 KiB) with errors; node:http's default (16 KiB) refused those.
 */
const MAX_HEADER_BYTES = 256 * 1024;
/** Body bytes read and dropped, after a reply that did not want them, before the connection is closed instead. */
export const DRAIN_LIMIT = 64 * 1024 * 1024;
/** Longest chunk-size line (size and extensions). */
const MAX_CHUNK_LINE = 4096;
/** Replies pending on one connection before it stops reading pipelined requests. */
const MAX_QUEUED = 16;
/** Output up to this size is copied into one buffer; larger output is written with one `writev`. */
const COPY_LIMIT = 64 * 1024;
/**
 * Longest a `coalesce` reply waits for the long poll behind it. Back-to-back invokes (a queue, a busy caller) hand
 * out the next event well within it; otherwise the reply leaves alone, this late.
 */
const HOLD_MS = 2;

const CR = 13;
const LF = 10;
const SEMICOLON = 0x3b;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const NO_HEADERS: HeaderMap = Object.freeze(Object.create(null) as HeaderMap);

const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TOKEN = METHOD;
/** A request target: visible ASCII (and obs-text), no spaces. */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
/** Control characters other than tab, CR and LF are refused anywhere in a head. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** A CR not followed by LF, or an LF not preceded by CR. */
const BARE_LINE_END = /\r(?!\n)|(?<!\r)\n/;
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};
/** Headers node:http keeps only the first of (the others are joined with ", "). */
const SINGLE_VALUED = new Set(['content-type', 'host', 'user-agent', 'authorization', 'expect']);

/** `Date: …\r\n`, rebuilt at most once a second. */
let dateSecond = -1;
let dateLine = '';
function dateHeader(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** One request as parsed. The body is not here: it goes to `reader` as it arrives. */
export class Http1Request {
  readonly method: string;
  /** The request target as sent: origin form (`/path?query`) or absolute form (`http://host/path`). */
  readonly url: string;
  readonly headers: HeaderMap;
  /** HTTP/1.0 (keep-alive only when asked for). */
  readonly http10: boolean;
  /** The connection may carry another request after this one (HTTP/1.1 without `Connection: close`). */
  readonly keepAlive: boolean;
  /** Trailers of a chunked body, once it is complete. */
  trailers: HeaderMap = NO_HEADERS;
  /** The whole body arrived. */
  complete = false;
  /** `Expect: 100-continue` and no `100 Continue` sent yet (the client waits for it before sending the body). */
  awaitingContinue: boolean;
  /** Where the body goes; without one it is read and dropped. */
  reader: BodyHandler | null = null;

  constructor(method: string, url: string, headers: HeaderMap, http10: boolean, keepAlive: boolean, expect: boolean) {
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.http10 = http10;
    this.keepAlive = keepAlive;
    this.awaitingContinue = expect;
  }
}

/** The reply to one request (or to malformed input: then `req` is null). Send it once, at any time. */
export class Http1Response {
  readonly req: Http1Request | null;
  readonly #conn: Connection;
  /** Whether the connection stays open after this reply. Set it to false before `send` to close it. */
  keepAlive: boolean;
  /** This reply may wait for the long poll right behind it, to leave with it in one write (see the module doc). */
  coalesce = false;
  /** Set while this request waits for something to answer it with (a parked `GET /next`). */
  longPoll = false;
  /** The final reply was given (it may still be queued behind earlier ones). */
  answered = false;
  /** For the connection: bytes of this reply not written yet (a `100 Continue`, then the reply). */
  out: (string | Buffer)[] = [];

  constructor(conn: Connection, req: Http1Request | null) {
    this.#conn = conn;
    this.req = req;
    this.keepAlive = req?.keepAlive ?? false;
  }

  /** The connection is gone or ending: nothing sent now would reach the client. */
  get destroyed(): boolean {
    return this.#conn.closing;
  }

  /**
   * Sends the reply: status line, `headerLines` (each `name: value\r\n`, written as latin1 bytes), `Date`,
   * `Connection` when needed, then `body` (left out for HEAD). Ignored once answered or when the connection is gone.
   * A reply that does not keep the connection alive ends it: nothing more is read, not even the rest of the body.
   */
  send(status: number, headerLines: string, body: Buffer): void {
    if (this.answered || this.#conn.closing) return;
    this.answered = true;
    let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\n${headerLines}${dateHeader()}`;
    if (!this.keepAlive) head += 'Connection: close\r\n\r\n';
    else if (this.req?.http10 === true) head += 'Connection: keep-alive\r\n\r\n';
    else head += '\r\n';
    this.out.push(head);
    if (body.length > 0 && this.req?.method !== 'HEAD') this.out.push(body);
    this.#conn.answered(this);
  }

  /**
   * Reads no more of this connection (the rest of the body included) until `until` settles: the reader of a streamed
   * body can pass its own consumer's backpressure back to the sender.
   */
  holdBody(until: Promise<unknown>): void {
    this.#conn.hold(until);
  }

  /** `100 Continue`: the client may send the body now. */
  writeContinue(): void {
    if (this.answered || this.#conn.closing) return;
    this.out.push('HTTP/1.1 100 Continue\r\n\r\n');
    this.#conn.flush();
  }

  /** Ends the connection: replies already given are written (held ones included), the others are dropped. */
  destroy(): void {
    this.#conn.finish();
  }
}

type RequestListener = (req: Http1Request, res: Http1Response) => void;

/** A listening HTTP/1.1 server. */
export class Http1Server {
  readonly #net: Server;
  readonly #connections = new Set<Connection>();

  constructor(onRequest: RequestListener) {
    const forget = (conn: Connection) => {
      this.#connections.delete(conn);
    };
    // allowHalfOpen: a client that half-closes mid-body still gets its 400 on the wire.
    this.#net = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#connections.add(new Connection(socket, onRequest, forget));
    });
    // After listen (e.g. EMFILE on accept): logged, never an uncaught exception in the platform.
    this.#net.on('error', (err: Error) => {
      log('server error: %s', err.message);
    });
  }

  /** Listens on `socketPath` (a Unix socket), or on `host:port`. */
  listen(options: { socketPath?: string | undefined; host: string; port: number }): Promise<void> {
    const server = this.#net;
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (options.socketPath !== undefined) server.listen(options.socketPath, listening);
      else server.listen(options.port, options.host, listening);
    });
  }

  address(): AddressInfo | string | null {
    return this.#net.address();
  }

  /** Stops listening and destroys every connection (a long-polling one included); resolves once all are closed. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#net.close(() => {
        resolve();
      });
      for (const conn of this.#connections) conn.destroy();
    });
  }
}

type ParseState = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'stopped';

/** One client connection: the request parser and the replies still to be written, in request order. */
class Connection {
  readonly #socket: Socket;
  readonly #onRequest: RequestListener;
  readonly #forget: (conn: Connection) => void;
  /** Bytes received and not parsed yet (part of a head, a chunk-size line or trailers). */
  #input: Buffer = EMPTY;
  #state: ParseState = 'head';
  /** The exchange whose body is being read (it stays set if reading stops mid-body, for `cut`). */
  #current: Http1Response | null = null;
  /** Bytes left in a Content-Length body or in the current chunk. */
  #remaining = 0;
  /** Body bytes dropped (no reader). */
  #discarded = 0;
  /** Replies not fully written yet, oldest first. */
  readonly #queue: Http1Response[] = [];
  /** Inside `#read` (which loops until it is done: nothing calls it again meanwhile). */
  #reading = false;
  /** Inside `#parse`: output waits until the received bytes are parsed. */
  #parsing = false;
  #paused = false;
  /** The last write did not drain: reading waits for `drain`. */
  #writeBlocked = false;
  /** Holds from body readers whose consumer is full (`Http1Response.holdBody`): reading waits for them. */
  #holds = 0;
  /** End the connection once the replies given are written (held ones included). */
  #finishing = false;
  /** Ending or closed: nothing more is written. */
  #ended = false;
  /** The reply held for the long poll behind it (see the module doc), and the timer that bounds the hold. */
  #held: Http1Response | null = null;
  #holdTimer: NodeJS.Timeout | null = null;
  /** Set while the hold timer releases a held reply. */
  #holdExpired = false;

  constructor(socket: Socket, onRequest: RequestListener, forget: (conn: Connection) => void) {
    this.#socket = socket;
    this.#onRequest = onRequest;
    this.#forget = forget;
    socket.on('data', (chunk: Buffer) => {
      this.#onData(chunk);
    });
    socket.on('end', () => {
      this.#onEnd();
    });
    socket.on('drain', () => {
      this.#writeBlocked = false;
      this.#read();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      log('connection error: %s', err.code ?? err.message);
    });
    socket.on('close', () => {
      this.#onClose();
    });
  }

  /** Ending, ended or closed: replies are no longer sent. */
  get closing(): boolean {
    return this.#ended || this.#finishing;
  }

  /** Closes at once (server shutdown). */
  destroy(): void {
    this.#ended = true;
    this.#stop();
    this.#socket.destroy();
  }

  /** Ends the connection once the replies already given are written; unanswered ones are dropped. */
  finish(): void {
    this.#finishing = true;
    this.#stop();
    this.flush();
  }

  /** Reads nothing more until `until` settles (see `Http1Response.holdBody`). */
  hold(until: Promise<unknown>): void {
    this.#holds++;
    const release = () => {
      this.#holds--;
      this.#read();
    };
    until.then(release, release);
  }

  /** `res` was answered. */
  answered(res: Http1Response): void {
    // A closing reply: what follows on the wire (the rest of its body, pipelined requests) is not read.
    if (!res.keepAlive) this.#stop();
    this.flush();
  }

  // ── input ──────────────────────────────────────────────────────────────────────────────────────────────────

  #onData(chunk: Buffer): void {
    if (this.#state === 'stopped') return;
    this.#input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
    this.#read();
  }

  /** Parses what was received, then writes what became ready, then pauses or resumes the socket. */
  #read(): void {
    if (this.#reading || this.#ended) return;
    this.#reading = true;
    try {
      // Parsing stops at MAX_QUEUED pending replies; once those are written, it goes on with the bytes left.
      for (let blocked = true; blocked;) {
        this.#parsing = true;
        try {
          blocked = this.#parse();
        } catch (err) {
          // A bug (in this file or in a request handler), never the client's input: the connection goes, the
          // platform stays up and says so.
          blocked = false;
          this.destroy();
          process.emitWarning(`Runtime API connection failed: ${err instanceof Error ? err.stack : String(err)}`);
        } finally {
          this.#parsing = false;
        }
        this.flush();
        blocked &&= this.#canParse();
      }
    } finally {
      this.#reading = false;
    }
    if (!this.#open()) return;
    // Stopped connections still read (and drop) what comes, so that a client going away is noticed.
    const wanted = this.#wantsInput();
    if (wanted === this.#paused) {
      this.#paused = !wanted;
      if (wanted) this.#socket.resume();
      else this.#socket.pause();
    }
  }

  /** Not ending nor closed (a method: `#ended` changes under calls that TypeScript's narrowing does not see). */
  #open(): boolean {
    return !this.#ended;
  }

  /** Backpressure: no more input while the client does not read its replies, or too many are pending. */
  #wantsInput(): boolean {
    return !this.#writeBlocked && this.#holds === 0 && this.#queue.length < MAX_QUEUED;
  }

  #canParse(): boolean {
    return this.#state !== 'stopped' && this.#wantsInput();
  }

  /** Parses the input received; returns true when it stopped for backpressure with bytes left. */
  #parse(): boolean {
    const buf = this.#input;
    let at = 0;
    let blocked = false;
    while (at < buf.length) {
      if (!this.#canParse()) {
        blocked = this.#state !== 'stopped';
        break;
      }
      const next = this.#step(buf, at);
      if (next < 0) break;
      at = next;
    }
    if (this.#state === 'stopped') this.#input = EMPTY;
    else if (at > 0) this.#input = at >= buf.length ? EMPTY : buf.subarray(at);
    return blocked;
  }

  /** Parses from `at` in the current state; returns where parsing goes on, or -1 when more bytes are needed. */
  #step(buf: Buffer, at: number): number {
    switch (this.#state) {
      case 'head':
        return this.#head(buf, at);
      case 'length':
      case 'chunk-data': {
        const state = this.#state;
        const n = Math.min(this.#remaining, buf.length - at);
        this.#remaining -= n;
        this.#bodyData(buf.subarray(at, at + n));
        // (Unless the reader's answer stopped the connection meanwhile.)
        if (this.#remaining === 0 && this.#state === state) {
          if (state === 'length') this.#bodyEnd();
          else this.#state = 'chunk-end';
        }
        return at + n;
      }
      case 'chunk-size':
        return this.#chunkSize(buf, at);
      case 'chunk-end':
        if (buf.length - at < 2) return -1;
        if (buf[at] !== CR || buf[at + 1] !== LF) return this.#badBody('chunk data not followed by CRLF');
        this.#state = 'chunk-size';
        return at + 2;
      case 'trailers':
        return this.#trailers(buf, at);
      case 'stopped':
        return buf.length;
    }
  }

  #head(buf: Buffer, start: number): number {
    let at = start;
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    while (buf[at] === CR && buf[at + 1] === LF) at += 2;
    if (at >= buf.length) return at;
    const end = buf.indexOf(CRLFCRLF, at);
    if (end === -1 || end - at > MAX_HEADER_BYTES) {
      if (end === -1 && buf.length - at <= MAX_HEADER_BYTES) return -1;
      this.#malformed(431, 'request head over 256 KiB');
      return buf.length;
    }
    this.#request(buf.toString('latin1', at, end));
    return end + 4;
  }

  /** Parses one request head (without its final CRLFCRLF), hands it to the server and sets up its body. */
  #request(head: string): void {
    const lineEnd = head.indexOf('\r\n');
    const line = lineEnd === -1 ? head : head.slice(0, lineEnd);
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    const method = line.slice(0, sp1);
    const url = line.slice(sp1 + 1, sp2);
    const version = line.slice(sp2 + 1);
    if (sp1 <= 0 || sp2 === -1 || !METHOD.test(method) || !TARGET.test(url)) {
      this.#malformed(400, 'invalid request line');
      return;
    }
    if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
      this.#malformed(400, 'unsupported HTTP version');
      return;
    }
    if (CONTROL.test(head) || BARE_LINE_END.test(head)) {
      this.#malformed(400, 'invalid character in the request head');
      return;
    }
    const headers = Object.create(null) as HeaderMap;
    const error = lineEnd === -1 ? null : parseFields(head, lineEnd + 2, headers);
    if (error !== null) {
      this.#malformed(400, error);
      return;
    }
    // Framing (RFC 9112 §6.3): chunked, else Content-Length, else no body.
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    let length = 0;
    if (te !== undefined) {
      if (cl !== undefined || te.toLowerCase() !== 'chunked') {
        this.#malformed(400, 'unsupported Transfer-Encoding');
        return;
      }
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) {
        this.#malformed(400, 'invalid Content-Length');
        return;
      }
      length = Number(cl);
    }
    const http10 = version === 'HTTP/1.0';
    const connection = headers.connection;
    const keepAlive =
      connection === undefined ? !http10 : http10 ? hasToken(connection, 'keep-alive') : !hasToken(connection, 'close');
    const expect = headers.expect;
    const awaitingContinue = !http10 && expect !== undefined && CONTINUE.test(expect);
    const req = new Http1Request(method, url, headers, http10, keepAlive, awaitingContinue);
    const res = new Http1Response(this, req);
    this.#queue.push(res);
    this.#current = res;
    this.#discarded = 0;
    this.#onRequest(req, res);
    // The server may have answered with a closing reply: then the body is not read.
    if (this.#state === 'stopped') return;
    if (te !== undefined) this.#state = 'chunk-size';
    else if (length > 0) {
      this.#state = 'length';
      this.#remaining = length;
    } else this.#bodyEnd();
  }

  #chunkSize(buf: Buffer, at: number): number {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd === -1) return buf.length - at > MAX_CHUNK_LINE ? this.#badBody('chunk-size line too long') : -1;
    if (lineEnd - at > MAX_CHUNK_LINE) return this.#badBody('chunk-size line too long');
    let i = at;
    let size = 0;
    for (; i < lineEnd; i++) {
      const digit = hexDigit(buf[i] ?? 0);
      if (digit < 0) break;
      size = size * 16 + digit;
    }
    // At most 12 hex digits (256 TiB): exact in a double. Extensions (`;name=value`) are ignored.
    if (i === at || i - at > 12 || (i < lineEnd && buf[i] !== SEMICOLON)) return this.#badBody('invalid chunk size');
    this.#state = size === 0 ? 'trailers' : 'chunk-data';
    this.#remaining = size;
    return lineEnd + 2;
  }

  #trailers(buf: Buffer, at: number): number {
    if (buf.length - at < 2) return -1;
    if (buf[at] === CR && buf[at + 1] === LF) {
      this.#bodyEnd();
      return at + 2;
    }
    const end = buf.indexOf(CRLFCRLF, at);
    if (end === -1 || end - at > MAX_HEADER_BYTES) {
      return end === -1 && buf.length - at <= MAX_HEADER_BYTES ? -1 : this.#badBody('trailers over 256 KiB');
    }
    const text = buf.toString('latin1', at, end);
    const trailers = Object.create(null) as HeaderMap;
    if (CONTROL.test(text) || BARE_LINE_END.test(text) || parseFields(text, 0, trailers) !== null) {
      return this.#badBody('invalid trailers');
    }
    const req = this.#current?.req;
    if (req) req.trailers = trailers;
    this.#bodyEnd();
    return end + 4;
  }

  #bodyData(chunk: Buffer): void {
    const reader = this.#current?.req?.reader;
    if (reader) {
      reader.data(chunk);
      return;
    }
    this.#discarded += chunk.length;
    if (this.#discarded > DRAIN_LIMIT) this.finish();
  }

  #bodyEnd(): void {
    const res = this.#current;
    this.#current = null;
    const req = res?.req;
    if (!req) return;
    // No request is read after one that does not keep the connection alive.
    if (this.#state !== 'stopped') this.#state = req.keepAlive ? 'head' : 'stopped';
    req.complete = true;
    req.reader?.end();
  }

  /** The chunked framing of a body broke: the body is cut short, and the connection ends after the reply. */
  #badBody(reason: string): number {
    log('malformed body: %s', reason);
    const res = this.#current;
    res?.req?.reader?.cut(true);
    if (res !== null && !res.answered) {
      res.keepAlive = false;
      sendError(res, 400, reason);
    }
    this.finish();
    return -1;
  }

  /** A request that cannot be parsed: a JSON error after the replies before it, then the connection ends. */
  #malformed(status: 400 | 431, reason: string): void {
    log('malformed request: %s', reason);
    this.#stop();
    const res = new Http1Response(this, null);
    this.#queue.push(res);
    sendError(res, status, reason);
  }

  #stop(): void {
    this.#state = 'stopped';
    this.#input = EMPTY;
  }

  /** The client half-closed: no more requests. A body or head in progress is cut short. */
  #onEnd(): void {
    if (this.closing) return;
    const current = this.#current;
    if (current !== null) {
      current.req?.reader?.cut(true);
    } else if (this.#state === 'head' && !onlyLineEnds(this.#input)) {
      this.#malformed(400, 'the connection ended in the middle of a request head');
    }
    this.finish();
  }

  #onClose(): void {
    this.#ended = true;
    this.#state = 'stopped';
    this.#input = EMPTY;
    this.#queue.length = 0;
    this.#held = null;
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    const current = this.#current;
    this.#current = null;
    if (current?.req?.complete === false) current.req.reader?.cut(false);
    this.#forget(this);
  }

  // ── output ─────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Writes the replies ready at the head of the queue, in one write. A `coalesce` reply stays while the request
   * behind it is a long poll still waiting, for at most {@link HOLD_MS}, unless the connection is finishing.
   */
  flush(): void {
    if (this.#parsing || this.#ended) return;
    const queue = this.#queue;
    let chunks: (string | Buffer)[] | null = null;
    let end = this.#finishing;
    for (let res = queue[0]; res !== undefined; res = queue[0]) {
      if (res.answered && res.coalesce && !end && !this.#holdExpired) {
        const behind = queue[1];
        if (behind !== undefined && behind.longPoll && !behind.answered) {
          this.#hold(res);
          break;
        }
      }
      if (res.out.length > 0) {
        if (chunks === null) chunks = res.out;
        else for (const c of res.out) chunks.push(c);
        res.out = [];
      }
      if (!res.answered) break;
      queue.shift();
      if (!res.keepAlive) {
        end = true;
        break;
      }
    }
    if (chunks !== null) this.#write(chunks);
    if (end) {
      this.#ended = true;
      this.#stop();
      queue.length = 0;
      this.#socket.destroySoon();
    } else if (this.#paused && this.#wantsInput() && !this.#reading) {
      this.#read();
    }
  }

  /** Starts (once per held reply) the timer that releases `res` if the long poll behind it is not answered soon. */
  #hold(res: Http1Response): void {
    if (this.#held === res) return;
    this.#held = res;
    // One timer per connection, re-armed for each hold; a late tick after the hold ended finds nothing to release.
    if (this.#holdTimer === null) {
      this.#holdTimer = setTimeout(() => {
        this.#held = null;
        this.#holdExpired = true;
        this.flush();
        this.#holdExpired = false;
      }, HOLD_MS);
      this.#holdTimer.unref();
    } else {
      this.#holdTimer.refresh();
    }
  }

  #write(chunks: (string | Buffer)[]): void {
    const socket = this.#socket;
    let total = 0;
    for (const c of chunks) total += c.length; // strings are latin1: one byte per character
    let flushed: boolean;
    if (chunks.length === 1) {
      const c = chunks[0] as string | Buffer;
      flushed = typeof c === 'string' ? socket.write(c, 'latin1') : socket.write(c);
    } else if (total > COPY_LIMIT) {
      // Large bodies are not copied: cork, then one `writev` on uncork.
      socket.cork();
      flushed = true;
      for (const c of chunks)
        flushed = (typeof c === 'string' ? socket.write(c, 'latin1') : socket.write(c)) && flushed;
      socket.uncork();
    } else {
      const buf = Buffer.allocUnsafe(total);
      let pos = 0;
      for (const c of chunks) pos += typeof c === 'string' ? buf.write(c, pos, 'latin1') : c.copy(buf, pos);
      flushed = socket.write(buf);
    }
    if (!flushed) this.#writeBlocked = true;
  }
}

/**
 * Parses `name: value` lines from `start` (CRLF-separated, no final CRLF) into `into`; returns an error, or null.
 * Names are lowercased; repeated headers are joined with ", " (first one kept for {@link SINGLE_VALUED});
 * a repeated Content-Length is refused.
 */
function parseFields(text: string, start: number, into: HeaderMap): string | null {
  let at = start;
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon === -1 || colon >= end) return 'header line without a colon';
    const rawName = text.slice(at, colon);
    if (!TOKEN.test(rawName)) return 'invalid header name';
    const name = rawName.toLowerCase();
    const value = trimOws(text, colon + 1, end);
    at = end + 2;
    const previous = into[name];
    if (previous === undefined) into[name] = value;
    else if (name === 'content-length') return 'repeated Content-Length';
    else if (!SINGLE_VALUED.has(name)) into[name] = `${previous}, ${value}`;
  }
  return null;
}

/** `text[start, end)` without leading and trailing spaces and tabs. */
function trimOws(text: string, start: number, end: number): string {
  let s = start;
  let e = end;
  while (s < e && (text.charCodeAt(s) === 32 || text.charCodeAt(s) === 9)) s++;
  while (e > s && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9)) e--;
  return text.slice(s, e);
}

/** Whether a comma-separated header value holds `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
  for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

function onlyLineEnds(buf: Buffer): boolean {
  for (const c of buf) if (c !== CR && c !== LF) return false;
  return true;
}

function sendError(res: Http1Response, status: 400 | 431, reason: string): void {
  const body = Buffer.from(
    JSON.stringify({
      errorMessage: `Malformed HTTP request (${reason})`,
      errorType: status === 431 ? 'RequestHeaderFieldsTooLarge' : 'BadRequest',
    }),
  );
  res.send(status, `content-type: application/json\r\ncontent-length: ${body.length}\r\n`, body);
}
