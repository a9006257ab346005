/**
 * @module platform/runtime-api/body
 * Reading the bodies a runtime posts (`/response`, `/error`, `/init/error`) with a byte limit. A {@link BodyReader} is
 * the request's `reader` (see `http1.ts`): the connection hands it each piece of the body as it is parsed, then the
 * end or the cut, with no stream or closure per request.
 *
 * The reader only moves bytes; what a complete, oversize or cut-short body means is the {@link BodySink}'s call.
 */
import type { BodyHandler, Http1Request, Http1Response } from './http1.ts';

/** What a body is read for; the sink decides what each one means. */
export type BodyPurpose = 'response' | 'stream' | 'error' | 'init-error';

/** Reader states: `over` = passed the limit (the rest is discarded), `cut` = the connection ended first. */
export type BodyState = 'reading' | 'complete' | 'over' | 'cut';

/** Where a {@link BodyReader} reports. Called at most once per reader (one of the three). */
export interface BodySink<T> {
  /** The whole body arrived (`reader.body()`; trailers are on `reader.req.trailers`). */
  bodyComplete(reader: BodyReader<T>): void;
  /** The body passed `reader.limit`. The reader holds at most `limit` bytes and discards the rest. */
  bodyOverLimit(reader: BodyReader<T>): void;
  /**
   * The body was cut short. `onWire`: the socket is still there (the client half-closed mid-body, or its chunked
   * framing broke), so an error reply can still be written to `reader.res`.
   */
  bodyCut(reader: BodyReader<T>, onWire: boolean): void;
}

/** After a body passed its limit, this many more bytes are read and dropped before the connection is cut. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/**
 * Collects one request body up to `limit` bytes, or, for a `stream` body with an `onChunk`, hands each chunk to it as
 * it arrives and keeps none (a streamed response may reach 200 MB: its caller has it already); when `onChunk` returns
 * a promise, reading waits for it. Never holds more than `limit` bytes.
 */
export class BodyReader<T> implements BodyHandler {
  readonly req: Http1Request;
  readonly res: Http1Response;
  readonly purpose: BodyPurpose;
  /** What the body belongs to (the server's invocation record). */
  readonly target: T;
  readonly limit: number;
  readonly #sink: BodySink<T>;
  #onChunk: ((chunk: Buffer) => Promise<void> | undefined) | undefined;
  /** Set by `abandon()`: bytes are no longer kept nor forwarded. */
  #abandoned = false;
  #chunks: Buffer[] = [];
  #size = 0;
  #discarded = 0;
  #state: BodyState = 'reading';

  constructor(
    req: Http1Request,
    res: Http1Response,
    purpose: BodyPurpose,
    target: T,
    limit: number,
    sink: BodySink<T>,
    onChunk?: (chunk: Buffer) => Promise<void> | undefined,
  ) {
    this.req = req;
    this.res = res;
    this.purpose = purpose;
    this.target = target;
    this.limit = limit;
    this.#sink = sink;
    this.#onChunk = onChunk;
  }

  get state(): BodyState {
    return this.#state;
  }

  /** Starts reading; answers a pending `Expect: 100-continue` first, so the client sends the body at once. */
  start(): void {
    const req = this.req;
    req.reader = this;
    if (req.awaitingContinue) {
      req.awaitingContinue = false;
      this.res.writeContinue();
    }
  }

  /** The body read so far (the whole body once complete); empty when the chunks went to `onChunk`. */
  body(): Buffer {
    const chunks = this.#chunks;
    if (chunks.length <= 1) return chunks[0] ?? Buffer.alloc(0);
    return Buffer.concat(chunks, this.#size);
  }

  /** Drops the bytes held (after an oversize body, the sink no longer needs them). */
  release(): void {
    this.#chunks = [];
    this.#size = 0;
  }

  /**
   * The body no longer matters (its invocation was aborted): bytes are dropped from now on and `onChunk` is not
   * called again, but the request is still read to its end and answered by the sink.
   */
  abandon(): void {
    this.#abandoned = true;
    this.#onChunk = undefined;
    this.#chunks = [];
    this.#size = 0;
  }

  data(chunk: Buffer): void {
    if (this.#state !== 'reading') {
      if (this.#state === 'over') {
        this.#discarded += chunk.length;
        if (this.#discarded > DISCARD_LIMIT) this.res.destroy();
      }
      return;
    }
    if (this.#abandoned) return;
    const size = this.#size + chunk.length;
    if (size > this.limit) {
      const room = this.limit - this.#size;
      if (room > 0) this.#take(chunk.subarray(0, room));
      this.#size = this.limit;
      this.#discarded = chunk.length - room;
      this.#state = 'over';
      this.#sink.bodyOverLimit(this);
      return;
    }
    this.#size = size;
    this.#take(chunk);
  }

  #take(chunk: Buffer): void {
    if (this.#onChunk === undefined) {
      this.#chunks.push(chunk);
      return;
    }
    // A consumer that is full answers with a promise: nothing more is read from the runtime until it settles.
    const full = this.#onChunk(chunk);
    if (full !== undefined) this.res.holdBody(full);
  }

  end(): void {
    this.#detach();
    if (this.#state !== 'reading') return;
    this.#state = 'complete';
    this.#sink.bodyComplete(this);
  }

  cut(onWire: boolean): void {
    this.#detach();
    if (this.#state !== 'reading') return;
    this.#state = 'cut';
    this.#sink.bodyCut(this, onWire);
  }

  #detach(): void {
    if (this.req.reader === this) this.req.reader = null;
  }
}
