/**
 * @module platform/logs/capture
 * Reads everything an environment writes to stdout and stderr, splits it into log events (one per line; lines
 * over 256 KB are split, as CloudWatch does), and sends each event to the environment's log stream and to the
 * tail of the invocation in flight. Reading pauses while the log file is backed up, so the pipe (and in the end
 * the writer inside the sandbox) waits instead of the platform's memory growing.
 */
import type { Readable } from 'node:stream';
import type { LogStreamWriter } from './log-store.ts';

const MAX_EVENT_BYTES = 256 * 1024;
/** `X-Amz-Log-Result` carries the last 4 KB of the invocation's log. */
export const TAIL_BYTES = 4096;

/** Bounded collector of an invocation's log text (keeps a little more than the 4 KB tail). */
export class LogTail {
  #chunks: string[] = [];
  #length = 0;

  add(line: string): void {
    this.#chunks.push(line + '\n');
    this.#length += line.length + 1;
    while (this.#length > TAIL_BYTES * 2 && this.#chunks.length > 1) {
      const dropped = this.#chunks.shift() ?? '';
      this.#length -= dropped.length;
    }
  }

  /** The last 4,096 bytes of the text, as UTF-8. */
  text(): string {
    const buf = Buffer.from(this.#chunks.join(''), 'utf8');
    return buf.subarray(Math.max(0, buf.length - TAIL_BYTES)).toString('utf8');
  }
}

export class LogCapture {
  readonly #writer: LogStreamWriter;
  readonly #sources: Readable[] = [];
  #tail: LogTail | null = null;
  #paused = false;

  constructor(writer: LogStreamWriter) {
    this.#writer = writer;
  }

  /** Starts reading one output stream of the sandbox. */
  attach(source: Readable): void {
    this.#sources.push(source);
    let pending = '';
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      pending += chunk;
      let start = 0;
      for (let nl = pending.indexOf('\n', start); nl !== -1; nl = pending.indexOf('\n', start)) {
        this.#emit(pending.slice(start, nl));
        start = nl + 1;
      }
      pending = start === 0 ? pending : pending.slice(start);
      while (pending.length >= MAX_EVENT_BYTES) {
        this.#emit(pending.slice(0, MAX_EVENT_BYTES));
        pending = pending.slice(MAX_EVENT_BYTES);
      }
    });
    source.on('end', () => {
      if (pending !== '') this.#emit(pending);
      pending = '';
    });
    source.on('error', () => {
      // The sandbox went away; nothing more to read.
    });
  }

  /** Writes a platform line (START, END, REPORT, …) to the stream and the current tail. */
  platformLine(line: string): void {
    this.#emit(line);
  }

  /** Routes output to `tail` until the next call (null: output belongs to no invocation). */
  setTail(tail: LogTail | null): void {
    this.#tail = tail;
  }

  /**
   * Lets output that the runtime wrote before it called the Runtime API again reach the log first, to keep
   * START … output … END in order. The runtime's pipe writes come before its socket write, so the poll that
   * reported the socket reported the pipes too; their reads (each delivers its lines synchronously) run in that same
   * poll phase, and the check phase (`setImmediate`) comes after all of them. Called from a check or timer callback
   * instead, the next check phase still comes after a poll.
   */
  settle(): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  #emit(line: string): void {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.#tail?.add(line);
    if (!this.#writer.write(line) && !this.#paused) {
      this.#paused = true;
      for (const s of this.#sources) s.pause();
      this.#writer.onDrain(() => {
        this.#paused = false;
        for (const s of this.#sources) s.resume();
      });
    }
  }
}
