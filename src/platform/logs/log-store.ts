/**
 * @module platform/logs/log-store
 * Function logs, organised as CloudWatch Logs is: groups (`/aws/lambda/<fn>`) hold streams (one per execution
 * environment), streams hold events `{ timestamp, message }`. Events are appended to one JSON-lines file per stream
 * under `<root>/<group>/<stream>.jsonl` (names URI-encoded), so they survive restarts and are cheap to tail.
 * Writers apply backpressure instead of buffering without bound: a runaway writer cannot exhaust memory (the lines
 * of one event-loop turn are appended in one synchronous write when the turn ends).
 * Timestamps within a stream never go backwards (as in CloudWatch, where a stream is ordered by time), which lets
 * readers merge streams and page through them by position. Reads by range go through a per-stream `StreamIndex`.
 */
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamIndex } from './stream-index.ts';

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
  readonly #file: string;
  readonly #emitter: EventEmitter;
  #fd: number | null = null;
  #closed = false;
  #lastTimestamp = 0;
  /** Lines of this event-loop turn, written together when it ends. */
  #pending: string[] = [];
  #pendingBytes = 0;
  #drainListeners: (() => void)[] = [];
  readonly #flush = (): void => {
    this.#writePending();
  };

  constructor(group: string, stream: string, file: string, emitter: EventEmitter) {
    this.group = group;
    this.stream = stream;
    this.#file = file;
    this.#emitter = emitter;
    // The stream exists (an empty file) from its environment's start, as on CloudWatch.
    try {
      this.#fd = openSync(file, 'a');
    } catch {
      // Tried again at the first write.
    }
  }

  /** Appends one event. Returns false when the caller should pause until `onDrain` fires. */
  write(message: string, timestamp = Date.now()): boolean {
    if (this.#closed) return true;
    // A clock stepping back must not reorder the stream.
    if (timestamp < this.#lastTimestamp) timestamp = this.#lastTimestamp;
    this.#lastTimestamp = timestamp;
    const event = { timestamp, message };
    this.#emitter.emit('event', this.group, this.stream, event);
    // The lines of one turn of the event loop (START, END and REPORT of an invoke come in bursts) go to the file in
    // one write when the turn ends.
    if (this.#pending.length === 0) setImmediate(this.#flush);
    const line = JSON.stringify(event) + '\n';
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    return this.#pendingBytes < HIGH_WATER_MARK;
  }

  onDrain(listener: () => void): void {
    this.#drainListeners.push(listener);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#writePending();
    this.#closed = true;
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    return Promise.resolve();
  }

  /**
   * One synchronous append on the main thread. An append of a few hundred bytes to a file in the page cache takes
   * microseconds, where a write through the thread pool costs two thread wake-ups on every warm invoke.
   */
  #writePending(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? (this.#pending[0] ?? '') : this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      this.#fd ??= openSync(this.#file, 'a');
      writeSync(this.#fd, text);
    } catch {
      // A full disk must not crash the server; the events are lost, the function keeps running.
    }
    const listeners = this.#drainListeners;
    if (listeners.length === 0) return;
    this.#drainListeners = [];
    for (const listener of listeners) listener();
  }
}

export class LogStore {
  readonly #root: string;
  readonly #emitter = new EventEmitter();
  readonly #indexes = new Map<string, StreamIndex>();
  /** Group directories known to exist. */
  readonly #groupDirs = new Set<string>();

  constructor(rootDir: string) {
    this.#root = rootDir;
    this.#emitter.setMaxListeners(0);
  }

  openStream(group: string, stream: string): Promise<LogStreamWriter> {
    const dir = join(this.#root, encodeURIComponent(group));
    try {
      // Made synchronously (a local mkdir takes microseconds; a thread-pool round trip on a function's first cold
      // start costs more), remembered per process; a group deleted meanwhile is made again.
      if (!this.#groupDirs.has(dir) || !existsSync(dir)) {
        mkdirSync(dir, { recursive: true });
        this.#groupDirs.add(dir);
      }
      return Promise.resolve(
        new LogStreamWriter(group, stream, join(dir, `${encodeURIComponent(stream)}.jsonl`), this.#emitter),
      );
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
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

  /** The names of a group's streams, sorted; null when the group does not exist. */
  async streamNames(group: string): Promise<string[] | null> {
    const files = await readdir(this.#groupDir(group)).catch(() => null);
    if (files === null) return null;
    return files
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => decodeURIComponent(f.slice(0, -'.jsonl'.length)))
      .sort();
  }

  /** When the group was created (its directory's birth time, else its oldest change); null if it does not exist. */
  async groupCreationTime(group: string): Promise<number | null> {
    const st = await stat(this.#groupDir(group)).catch(() => null);
    if (st === null || !st.isDirectory()) return null;
    return Math.floor(st.birthtimeMs || st.ctimeMs);
  }

  /** Total bytes of a group's stream files. */
  async groupStoredBytes(group: string): Promise<number> {
    const dir = this.#groupDir(group);
    const files = await readdir(dir).catch(() => []);
    let total = 0;
    for (const file of files) {
      if (!file.endsWith('.jsonl')) continue;
      total += (await stat(join(dir, file)).catch(() => null))?.size ?? 0;
    }
    return total;
  }

  /**
   * The stream's index, brought up to date (only newly appended bytes are read); null when the stream does not
   * exist. Indexes are kept for the life of the store.
   */
  async streamIndex(group: string, stream: string): Promise<StreamIndex | null> {
    const file = join(this.#groupDir(group), `${encodeURIComponent(stream)}.jsonl`);
    let index = this.#indexes.get(file);
    if (index === undefined) {
      const st = await stat(file).catch(() => null);
      if (st === null || !st.isFile()) return null;
      index = new StreamIndex(file);
      this.#indexes.set(file, index);
    }
    await index.refresh();
    return index;
  }

  #groupDir(group: string): string {
    // '.' and '..' are valid group names but must not name the store's own or parent directory.
    const name = group === '.' || group === '..' ? group.replaceAll('.', '%2E') : encodeURIComponent(group);
    return join(this.#root, name);
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
