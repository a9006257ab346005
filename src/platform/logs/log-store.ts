/**
 * @module platform/logs/log-store
 * Function logs, organised as CloudWatch Logs is: groups (`/aws/lambda/<fn>`) hold streams (one per execution
 * environment), streams hold events `{ timestamp, message }`. Events are appended to one JSON-lines file per stream
 * under `<root>/<group>/<stream>.jsonl` (names URI-encoded), so they survive restarts and are cheap to tail.
 * Writers apply backpressure instead of buffering without bound: a runaway writer cannot exhaust memory.
 */
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogEvent {
  timestamp: number;
  message: string;
}

export interface LogStreamInfo {
  logStreamName: string;
  creationTime: number;
  lastEventTimestamp: number;
  storedBytes: number;
}

/** Emitted as `'event'` with (group, stream, event) for every appended event (live tails). */
export type LogListener = (group: string, stream: string, event: LogEvent) => void;

const HIGH_WATER_MARK = 256 * 1024;

export class LogStreamWriter {
  readonly group: string;
  readonly stream: string;
  readonly #out: WriteStream;
  readonly #emitter: EventEmitter;
  #closed = false;

  constructor(group: string, stream: string, file: string, emitter: EventEmitter) {
    this.group = group;
    this.stream = stream;
    this.#emitter = emitter;
    this.#out = createWriteStream(file, { flags: 'a', highWaterMark: HIGH_WATER_MARK });
    this.#out.on('error', () => {
      // A full disk must not crash the server; the events are lost, the function keeps running.
    });
  }

  /** Appends one event. Returns false when the caller should pause until `onDrain` fires. */
  write(message: string, timestamp = Date.now()): boolean {
    if (this.#closed) return true;
    const event = { timestamp, message };
    this.#emitter.emit('event', this.group, this.stream, event);
    return this.#out.write(JSON.stringify(event) + '\n');
  }

  onDrain(listener: () => void): void {
    this.#out.once('drain', listener);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      this.#out.end(() => {
        resolve();
      });
    });
  }
}

export class LogStore {
  readonly #root: string;
  readonly #emitter = new EventEmitter();

  constructor(rootDir: string) {
    this.#root = rootDir;
    this.#emitter.setMaxListeners(0);
  }

  async openStream(group: string, stream: string): Promise<LogStreamWriter> {
    const dir = join(this.#root, encodeURIComponent(group));
    await mkdir(dir, { recursive: true });
    return new LogStreamWriter(group, stream, join(dir, `${encodeURIComponent(stream)}.jsonl`), this.#emitter);
  }

  /** Subscribes to every event written from now on; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  async listGroups(): Promise<string[]> {
    const names = await readdir(this.#root).catch(() => []);
    return names.map((n) => decodeURIComponent(n)).sort();
  }

  async listStreams(group: string): Promise<LogStreamInfo[]> {
    const dir = join(this.#root, encodeURIComponent(group));
    const files = await readdir(dir).catch(() => []);
    const out: LogStreamInfo[] = [];
    for (const file of files) {
      if (!file.endsWith('.jsonl')) continue;
      const st = await stat(join(dir, file)).catch(() => null);
      if (st === null) continue;
      out.push({
        logStreamName: decodeURIComponent(file.slice(0, -'.jsonl'.length)),
        creationTime: Math.floor(st.birthtimeMs || st.ctimeMs),
        lastEventTimestamp: Math.floor(st.mtimeMs),
        storedBytes: st.size,
      });
    }
    return out.sort((a, b) => a.creationTime - b.creationTime);
  }

  async readEvents(group: string, stream: string): Promise<LogEvent[]> {
    const file = join(this.#root, encodeURIComponent(group), `${encodeURIComponent(stream)}.jsonl`);
    const text = await readFile(file, 'utf8').catch(() => '');
    const events: LogEvent[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const parsed = JSON.parse(line) as LogEvent;
        events.push(parsed);
      } catch {
        // A line cut by kill -9 mid-write is skipped.
      }
    }
    return events;
  }
}
