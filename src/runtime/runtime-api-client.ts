/**
 * @module runtime/runtime-api-client
 * The Runtime API from the runtime's side: `GET /next` (no timeout: it blocks while the environment waits or is
 * frozen), `POST /{id}/response`, `POST /{id}/error` (JSON, no error-type header, as the official client) and
 * `POST /init/error` (with `Lambda-Runtime-Function-Error-Type`).
 *
 * Every invoke pays for this client twice, so it speaks HTTP/1.1 itself over one kept-alive socket: one write per
 * request, a small response parser (Content-Length, chunked, or until close; 1xx skipped), header values read as
 * UTF-8 (a client context may hold any text). That costs a fraction of node:http, and node:http is then loaded only
 * by streaming handlers. `AWS_LAMBDA_RUNTIME_API` is `host:port`; an absolute path is taken as a Unix socket.
 *
 * A result and the next `GET /next` go out in one write (HTTP/1.1 pipelining; the Runtime API answers in order, on
 * AWS as on Lambkin), so the platform can hand over the next event without waiting for this process to read the
 * `202` first. The connection is opened at start, while the handler loads.
 */
import type { Socket } from 'node:net';
import { RUNTIME_HEADER, RUNTIME_PATH } from '../protocol/runtime-api.ts';

const net = process.getBuiltinModule('node:net');

export type Headers = Record<string, string>;

export interface NextInvocation {
  requestId: string;
  headers: Headers;
  body: Buffer;
}

export interface RuntimeApiTarget {
  host: string;
  port: number;
  socketPath: string | undefined;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

export function parseRuntimeApi(address: string): RuntimeApiTarget {
  if (address.startsWith('/')) return { host: 'localhost', port: 0, socketPath: address };
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`AWS_LAMBDA_RUNTIME_API is not host:port: '${address}'`);
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port, socketPath: undefined };
}

export class RuntimeApiClient {
  readonly target: RuntimeApiTarget;
  readonly #connection: Connection;
  readonly #hostHeader: string;
  readonly #nextRequest: string;
  /** The reply to a `GET /next` already sent behind the last result. */
  #prefetched: Promise<Reply> | null = null;

  constructor(address: string) {
    this.target = parseRuntimeApi(address);
    this.#connection = new Connection(this.target);
    this.#hostHeader = this.target.socketPath === undefined ? address : 'localhost';
    this.#nextRequest = `GET ${RUNTIME_PATH.next} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n\r\n`;
  }

  /**
   * Opens the connection now, while the handler loads: the TCP handshake and the platform's accept then cost the
   * first `/next` nothing. A failure here is not reported: the first request connects again and reports its own.
   */
  preconnect(): void {
    this.#connection.open();
  }

  /** The next event; rejects when the Runtime API is gone or refuses (the runtime must then exit). */
  async next(): Promise<NextInvocation> {
    const prefetched = this.#prefetched;
    this.#prefetched = null;
    const res = await (prefetched ?? this.#connection.request([{ head: this.#nextRequest, body: '' }])[0]);
    if (res === undefined || res.status !== 200) {
      const detail = res === undefined ? 'nothing' : `${res.status}: ${res.body.toString().slice(0, 200)}`;
      throw new Error(`the Runtime API answered GET /next with ${detail}`);
    }
    const id = res.headers[RUNTIME_HEADER.AwsRequestId];
    if (id === undefined || id === '') throw new Error('the Runtime API sent an event without a request id');
    return { requestId: id, headers: res.headers, body: res.body };
  }

  /**
   * Posts the result; resolves with the Runtime API's status (413 when it is too large: the platform reports it).
   * The next `GET /next` goes out in the same write (HTTP/1.1 pipelining: the server answers in order), so the
   * platform can hand over the next event without waiting for this runtime to read the `202` first.
   */
  async respond(requestId: string, body: string): Promise<number> {
    return (await this.#postThenNext(invocationPath(requestId, 'response'), body, '')).status;
  }

  /** As the official client: JSON body, an X-Ray cause when there is one, no error-type header. Pipelined too. */
  async error(requestId: string, body: string, xrayCause: string | undefined): Promise<number> {
    const extra = xrayCause === undefined ? '' : `Lambda-Runtime-Function-XRay-Error-Cause: ${xrayCause}\r\n`;
    return (await this.#postThenNext(invocationPath(requestId, 'error'), body, extra)).status;
  }

  async initError(errorType: string, body: string): Promise<number> {
    const extra = `Lambda-Runtime-Function-Error-Type: ${headerSafe(errorType)}\r\n`;
    const [reply] = this.#connection.request([{ head: this.#postHead(RUNTIME_PATH.initError, body, extra), body }]);
    return (await (reply as Promise<Reply>)).status;
  }

  #postThenNext(path: string, body: string, extraHeaders: string): Promise<Reply> {
    if (this.#prefetched !== null) {
      // A result without an event in between (a runtime bug): posted alone, the pending /next is kept.
      return this.#connection.request([{ head: this.#postHead(path, body, extraHeaders), body }])[0] as Promise<Reply>;
    }
    const [posted, next] = this.#connection.request([
      { head: this.#postHead(path, body, extraHeaders), body },
      { head: this.#nextRequest, body: '' },
    ]) as [Promise<Reply>, Promise<Reply>];
    // Awaited by the next next(); a failure meanwhile is that call's to report, not an unhandled rejection.
    next.catch(() => undefined);
    this.#prefetched = next;
    return posted;
  }

  #postHead(path: string, body: string, extraHeaders: string): string {
    return (
      `POST ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\nContent-Type: application/json\r\n` +
      `${extraHeaders}Content-Length: ${String(Buffer.byteLength(body))}\r\n\r\n`
    );
  }
}

function invocationPath(requestId: string, what: 'response' | 'error'): string {
  return `${RUNTIME_PATH.invocationPrefix}${encodeURIComponent(requestId)}/${what}`;
}

/** Header values must not break the request: control characters and non-Latin-1 become `?`. */
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Where replies are read; each read is copied out before the next can land (see `Connection.#connect`). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

interface Outgoing {
  head: string;
  body: string;
}

interface Pending extends Outgoing {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  /** Whether a retry on a fresh connection is still allowed (a kept-alive socket may have been closed meanwhile). */
  retry: boolean;
}

/**
 * One HTTP/1.1 connection. Requests written together go out in one write and are answered in order (pipelining);
 * at most one batch is in flight. The socket is unref'd while no reply is awaited, so it never keeps the event loop
 * alive by itself (client 3.x watches the loop drain).
 */
class Connection {
  readonly #target: RuntimeApiTarget;
  #socket: Socket | null = null;
  /** Requests sent and not yet answered, oldest first; the parser reads the first one's reply. */
  #pending: Pending[] = [];
  #parser: ResponseParser | null = null;
  /** Whether any byte of the first pending request's reply arrived on the current socket. */
  #received = false;

  constructor(target: RuntimeApiTarget) {
    this.#target = target;
  }

  /** Sends `requests` in one write; one promise per request, each settled by its own reply. */
  request(requests: Outgoing[]): Promise<Reply>[] {
    if (this.#pending.length > 0) {
      return requests.map(() => Promise.reject(new Error('a Runtime API request is already in flight')));
    }
    // A kept-alive socket may have been closed by the server meanwhile; a request pipelined behind another may find
    // the connection closed after the first reply. Either is sent again (once) on a fresh connection.
    const reused = this.#socket !== null;
    const promises = requests.map(
      (r, i) =>
        new Promise<Reply>((resolve, reject) => {
          this.#pending.push({ ...r, resolve, reject, retry: reused || i > 0 });
        }),
    );
    this.#send();
    return promises;
  }

  /** Connects ahead of the first request (unref'd: an idle connection never keeps the process alive). */
  open(): void {
    if (this.#socket === null) this.#connect().unref();
  }

  #send(): void {
    this.#parser = new ResponseParser();
    this.#received = false;
    const socket = this.#socket ?? this.#connect();
    socket.ref();
    socket.cork();
    for (const r of this.#pending) {
      socket.write(r.head, 'latin1');
      if (r.body !== '') socket.write(r.body, 'utf8');
    }
    socket.uncork();
  }

  #connect(): Socket {
    const t = this.#target;
    // Replies are read into one buffer and handed over as they arrive (`onread`): no readable-stream machinery on
    // this path. The parser keeps what it needs, so each read's bytes are copied out of the shared buffer.
    const onread = {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Uint8Array): boolean => {
        this.#data(socket, Buffer.from(buf.subarray(0, n)));
        return true;
      },
    };
    const socket =
      t.socketPath === undefined
        ? net.connect({ host: t.host, port: t.port, onread })
        : net.connect({ path: t.socketPath, onread });
    socket.setNoDelay(true);
    socket.on('error', (err) => {
      this.#closed(socket, err);
    });
    socket.on('close', () => {
      this.#closed(socket, new Error('the Runtime API closed the connection'));
    });
    this.#socket = socket;
    return socket;
  }

  #data(socket: Socket, chunk: Buffer | undefined): void {
    if (socket !== this.#socket) return;
    this.#received = true;
    let bytes = chunk;
    while (bytes !== undefined && bytes.length > 0) {
      const parser = this.#parser;
      const pending = this.#pending[0];
      if (parser === null || pending === undefined) return;
      const reply = parser.push(bytes);
      if (reply === null) return;
      bytes = parser.rest();
      this.#received = bytes.length > 0;
      this.#pending.shift();
      const keepAlive = parser.keepAlive;
      this.#parser = this.#pending.length > 0 && keepAlive ? new ResponseParser() : null;
      if (this.#pending.length === 0 && keepAlive) socket.unref();
      if (!keepAlive) {
        // The server closes after this reply: the requests behind it go out again on a fresh connection.
        this.#socket = null;
        socket.destroy();
        pending.resolve(reply);
        if (this.#pending.length > 0) this.#send();
        return;
      }
      pending.resolve(reply);
    }
  }

  #closed(socket: Socket, err: Error): void {
    if (socket !== this.#socket) return;
    this.#socket = null;
    socket.destroy();
    const first = this.#pending[0];
    if (first === undefined) return;
    // A body that runs until the connection closes is complete now.
    const reply = this.#parser?.end() ?? null;
    if (reply !== null) {
      this.#pending.shift();
      first.resolve(reply);
      if (this.#pending.length > 0) this.#send();
      return;
    }
    if (first.retry && !this.#received) {
      for (const p of this.#pending) p.retry = false;
      this.#send();
      return;
    }
    const failed = this.#pending;
    this.#pending = [];
    this.#parser = null;
    for (const p of failed) p.reject(err);
  }
}

/** Incremental HTTP/1.1 response parser (status line, headers, Content-Length / chunked / close-delimited body). */
export class ResponseParser {
  #buffer: Buffer = Buffer.alloc(0);
  #status = 0;
  #headers: Headers = {};
  #mode: 'head' | 'length' | 'chunked' | 'close' = 'head';
  #remaining = 0;
  #chunks: Buffer[] = [];
  keepAlive = true;

  /** Feeds bytes; returns the reply once it is complete (the bytes after it: {@link rest}). */
  push(chunk: Buffer): Reply | null {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#mode === 'head') {
        const end = this.#buffer.indexOf(CRLFCRLF);
        if (end === -1) return null;
        const head = this.#buffer.toString('utf8', 0, end);
        this.#buffer = this.#buffer.subarray(end + 4);
        if (!this.#head(head)) continue; // 1xx: the real response follows
        if ((this.#mode as string) === 'length' && this.#remaining === 0) return this.#reply();
        continue;
      }
      if (this.#mode === 'length') {
        if (this.#buffer.length < this.#remaining) return null;
        this.#chunks.push(this.#buffer.subarray(0, this.#remaining));
        this.#buffer = this.#buffer.subarray(this.#remaining);
        return this.#reply();
      }
      if (this.#mode === 'close') {
        this.#chunks.push(this.#buffer);
        this.#buffer = Buffer.alloc(0);
        return null;
      }
      // chunked: <hex size>[;ext]\r\n<data>\r\n … 0\r\n[trailers]\r\n
      if (this.#remaining > 0) {
        if (this.#buffer.length < this.#remaining + 2) return null;
        this.#chunks.push(this.#buffer.subarray(0, this.#remaining));
        this.#buffer = this.#buffer.subarray(this.#remaining + 2);
        this.#remaining = 0;
        continue;
      }
      const lineEnd = this.#buffer.indexOf('\r\n');
      if (lineEnd === -1) return null;
      const size = parseInt(this.#buffer.toString('latin1', 0, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('the Runtime API sent a malformed chunked body');
      if (size === 0) {
        // The last chunk, then trailer lines (maybe none) and an empty line.
        const rest = this.#buffer.subarray(lineEnd + 2);
        if (rest.length >= 2 && rest[0] === 0x0d && rest[1] === 0x0a) {
          this.#buffer = rest.subarray(2);
          return this.#reply();
        }
        const end = rest.indexOf(CRLFCRLF);
        if (end === -1) return null;
        this.#buffer = rest.subarray(end + 4);
        return this.#reply();
      }
      this.#buffer = this.#buffer.subarray(lineEnd + 2);
      this.#remaining = size;
    }
  }

  /** The bytes after a complete reply: the start of the next one (pipelined requests). */
  rest(): Buffer {
    return this.#buffer;
  }

  /** The connection closed: a close-delimited body is complete; anything else was cut short (null). */
  end(): Reply | null {
    return this.#mode === 'close' ? this.#reply() : null;
  }

  /** Parses a head; false for an interim (1xx) response. */
  #head(head: string): boolean {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (status === null)
      throw new Error(`the Runtime API sent a malformed response: ${(lines[0] ?? '').slice(0, 100)}`);
    const code = Number(status[2]);
    if (code >= 100 && code < 200) return false;
    this.#status = code;
    const headers: Headers = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
    }
    this.#headers = headers;
    const connection = headers.connection?.toLowerCase();
    this.keepAlive = status[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked') === true) {
      this.#mode = 'chunked';
      this.#remaining = 0;
    } else if (headers['content-length'] !== undefined) {
      this.#mode = 'length';
      this.#remaining = Number(headers['content-length']);
    } else if (code === 204 || code === 304) {
      this.#mode = 'length';
      this.#remaining = 0;
    } else {
      this.#mode = 'close';
      this.keepAlive = false;
    }
    return true;
  }

  #reply(): Reply {
    const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    return { status: this.#status, headers: this.#headers, body };
  }
}
