/**
 * @module platform/logs/stream-index
 * A sparse, in-memory index over one stream's JSON-lines file, so that reads by time or position touch only the
 * bytes they need. The file is cut into segments of about 64 KB (at line boundaries); each segment remembers its
 * byte range, event count and smallest/largest timestamp. The index is built once per process by one streaming
 * pass and then extended incrementally: the file is append-only, so a refresh reads only what was appended since.
 *
 * Positions (byte offsets of line starts) are stable forever, which makes them good cursors for the API's opaque
 * tokens and event ids.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';

const SEGMENT_BYTES = 64 * 1024;
const SCAN_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;

interface Segment {
  start: number;
  end: number;
  count: number;
  minTs: number;
  maxTs: number;
}

/** One stored event and where it sits in the file. */
export interface IndexedEvent {
  timestamp: number;
  message: string;
  /** Byte offset of the event's line (its stable identity within the stream). */
  offset: number;
  /** Byte offset just past the line. */
  end: number;
}

export interface StreamSummary {
  /** Number of readable events. */
  count: number;
  firstEventTimestamp: number | undefined;
  lastEventTimestamp: number | undefined;
  /** Bytes of complete lines (the readable end of the stream). */
  size: number;
  /** File times, in epoch ms. */
  birthtimeMs: number;
  mtimeMs: number;
}

/** A time window: `startTime` inclusive, `endTime` exclusive (as CloudWatch Logs defines both). */
export interface TimeRange {
  startTime?: number | undefined;
  endTime?: number | undefined;
}

export class StreamIndex {
  readonly file: string;
  #segments: Segment[] = [];
  #indexed = 0;
  #count = 0;
  #birthtimeMs = 0;
  #mtimeMs = 0;
  #refreshing: Promise<void> | null = null;

  constructor(file: string) {
    this.file = file;
  }

  /** Brings the index up to date with the file (reads only the bytes appended since the last refresh). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const st = await stat(this.file).catch(() => null);
    if (st === null) {
      this.#reset();
      return;
    }
    this.#birthtimeMs = st.birthtimeMs;
    this.#mtimeMs = st.mtimeMs;
    if (st.size < this.#indexed) this.#reset(); // replaced or truncated: start over
    if (st.size === this.#indexed) return;
    const fh = await open(this.file, 'r');
    try {
      await this.#scan(fh, st.size);
    } finally {
      await fh.close();
    }
  }

  #reset(): void {
    this.#segments = [];
    this.#indexed = 0;
    this.#count = 0;
  }

  /** Indexes complete lines between the indexed end and `size`. */
  async #scan(fh: FileHandle, size: number): Promise<void> {
    let pos = this.#indexed;
    let carry: Buffer = Buffer.alloc(0);
    while (pos < size) {
      const want = Math.min(SCAN_CHUNK, size - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const data = carry.length === 0 ? buf.subarray(0, bytesRead) : Buffer.concat([carry, buf.subarray(0, bytesRead)]);
      let lineStart = 0;
      for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, lineStart)) {
        this.#add(data.subarray(lineStart, nl), this.#indexed, this.#indexed + nl - lineStart + 1);
        this.#indexed += nl - lineStart + 1;
        lineStart = nl + 1;
      }
      carry = Buffer.from(data.subarray(lineStart));
    }
  }

  /** Adds one line (without its newline) that spans [start, end) to the current segment. */
  #add(line: Buffer, start: number, end: number): void {
    let last = this.#segments.at(-1);
    if (last === undefined || last.end - last.start >= SEGMENT_BYTES) {
      last = { start, end: start, count: 0, minTs: Infinity, maxTs: -Infinity };
      this.#segments.push(last);
    }
    last.end = end;
    const ts = timestampOf(line);
    if (ts === null) return; // a line cut by kill -9 mid-write: skipped, but its bytes stay in the range
    last.count++;
    this.#count++;
    if (ts < last.minTs) last.minTs = ts;
    if (ts > last.maxTs) last.maxTs = ts;
  }

  summary(): StreamSummary {
    const first = this.#segments.find((s) => s.count > 0);
    const last = this.#segments.findLast((s) => s.count > 0);
    return {
      count: this.#count,
      firstEventTimestamp: first?.minTs,
      lastEventTimestamp: last?.maxTs,
      size: this.#indexed,
      birthtimeMs: this.#birthtimeMs,
      mtimeMs: this.#mtimeMs,
    };
  }

  /** The readable end of the stream (call `refresh` first). */
  get size(): number {
    return this.#indexed;
  }

  /**
   * Events at or after byte `position`, in file order, within `range`. Whole segments outside the range are
   * skipped without being read. The caller stops iterating when it has enough; at most one segment is buffered.
   */
  async *forward(position: number, range: TimeRange = {}): AsyncGenerator<IndexedEvent, void, undefined> {
    const segments = this.#segments;
    for (let i = Math.max(0, segmentAt(segments, position)); i < segments.length; i++) {
      const seg = segments[i];
      if (seg === undefined || seg.end <= position || !overlaps(seg, range)) continue;
      for (const event of await readLines(this.file, Math.max(position, seg.start), seg.end)) {
        if (inRange(event.timestamp, range)) yield event;
      }
    }
  }

  /** Events strictly before byte `position`, newest first, within `range`. */
  async *backward(position: number, range: TimeRange = {}): AsyncGenerator<IndexedEvent, void, undefined> {
    const segments = this.#segments;
    const end = Math.min(position, this.#indexed);
    if (end <= 0) return;
    for (let i = segmentAt(segments, end - 1); i >= 0; i--) {
      const seg = segments[i];
      if (seg === undefined || !overlaps(seg, range)) continue;
      const events = await readLines(this.file, seg.start, Math.min(end, seg.end));
      for (let j = events.length - 1; j >= 0; j--) {
        const event = events[j];
        if (event !== undefined && inRange(event.timestamp, range)) yield event;
      }
    }
  }
}

/** Index of the segment holding byte `position` (binary search), or -1 past the end. */
function segmentAt(segments: readonly Segment[], position: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const seg = segments[mid];
    if (seg === undefined) break;
    if (seg.end <= position) lo = mid + 1;
    else {
      found = mid;
      hi = mid - 1;
    }
  }
  return found;
}

function overlaps(seg: Segment, range: TimeRange): boolean {
  if (seg.count === 0) return false;
  if (range.startTime !== undefined && seg.maxTs < range.startTime) return false;
  if (range.endTime !== undefined && seg.minTs >= range.endTime) return false;
  return true;
}

function inRange(ts: number, range: TimeRange): boolean {
  return (
    (range.startTime === undefined || ts >= range.startTime) && (range.endTime === undefined || ts < range.endTime)
  );
}

/**
 * Reads and parses the complete lines in [from, to). The file is opened per read, not per iteration, so that a
 * merge over thousands of streams never holds thousands of descriptors.
 */
async function readLines(file: string, from: number, to: number): Promise<IndexedEvent[]> {
  if (to <= from) return [];
  const buf = Buffer.allocUnsafe(to - from);
  const fh = await open(file, 'r').catch(() => null);
  if (fh === null) return [];
  let bytesRead: number;
  try {
    ({ bytesRead } = await fh.read(buf, 0, buf.length, from));
  } finally {
    await fh.close();
  }
  const data = buf.subarray(0, bytesRead);
  const out: IndexedEvent[] = [];
  let lineStart = 0;
  for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, lineStart)) {
    const event = parseLine(data.subarray(lineStart, nl));
    if (event !== null) out.push({ ...event, offset: from + lineStart, end: from + nl + 1 });
    lineStart = nl + 1;
  }
  return out;
}

function parseLine(line: Buffer): { timestamp: number; message: string } | null {
  try {
    const parsed = JSON.parse(line.toString('utf8')) as { timestamp?: unknown; message?: unknown };
    if (typeof parsed.timestamp !== 'number' || typeof parsed.message !== 'string') return null;
    return { timestamp: parsed.timestamp, message: parsed.message };
  } catch {
    return null;
  }
}

const TS_PREFIX = Buffer.from('{"timestamp":');
const MESSAGE_KEY = Buffer.from(',"message":"');

/** The event's timestamp, read from the line's prefix (the writer puts it first) without parsing the message. */
function timestampOf(line: Buffer): number | null {
  if (line.length === 0) return null;
  if (line.subarray(0, TS_PREFIX.length).equals(TS_PREFIX) && line[line.length - 1] === 0x7d /* } */) {
    let ts = 0;
    let i = TS_PREFIX.length;
    for (; i < line.length; i++) {
      const c = line[i] ?? 0;
      if (c < 0x30 || c > 0x39) break;
      ts = ts * 10 + (c - 0x30);
    }
    if (i > TS_PREFIX.length && line.subarray(i, i + MESSAGE_KEY.length).equals(MESSAGE_KEY)) return ts;
  }
  return parseLine(line)?.timestamp ?? null;
}
