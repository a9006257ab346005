/**
 * @module platform/logs/service
 * The CloudWatch Logs read operations over the LogStore: DescribeLogGroups, DescribeLogStreams, GetLogEvents and
 * FilterLogEvents. Commands arrive validated (see `api.ts`); results are in the AWS wire shape (the Logs API's
 * member names are camelCase already). Reads go through each stream's index, so a page touches only the segments
 * it returns, and FilterLogEvents stops after a scan budget with a token, as CloudWatch does on large groups.
 */
import { LogsApiError } from './api-errors.ts';
import type { FilterPattern } from './filter-pattern.ts';
import type { LogStore } from './log-store.ts';
import type { IndexedEvent, StreamIndex } from './stream-index.ts';
import { decodePageToken, encodePageToken, eventId, parseStreamToken, sequenceToken, streamToken } from './tokens.ts';

/** GetLogEvents and FilterLogEvents return at most 1 MB (event size = UTF-8 message bytes + 26, as PutLogEvents counts). */
const MAX_RESPONSE_BYTES = 1_048_576;
const EVENT_OVERHEAD = 26;
/** FilterLogEvents reads at most this many bytes of messages per call, then returns what it has and a token. */
const FILTER_SCAN_BYTES = 32 * 1024 * 1024;

export interface LogsServiceDeps {
  logs: LogStore;
  region: string;
  accountId: string;
}

export interface DescribeLogGroupsCommand {
  logGroupNamePrefix?: string | undefined;
  logGroupNamePattern?: string | undefined;
  logGroupIdentifiers?: string[] | undefined;
  logGroupClass?: string | undefined;
  limit: number;
  nextToken?: string | undefined;
}

export interface DescribeLogStreamsCommand {
  logGroupName: string;
  logStreamNamePrefix?: string | undefined;
  orderBy: 'LogStreamName' | 'LastEventTime';
  descending: boolean;
  limit: number;
  nextToken?: string | undefined;
}

export interface GetLogEventsCommand {
  logGroupName: string;
  logStreamName: string;
  startTime?: number | undefined;
  endTime?: number | undefined;
  limit: number;
  nextToken?: string | undefined;
  startFromHead: boolean;
}

export interface FilterLogEventsCommand {
  logGroupName: string;
  logStreamNames?: string[] | undefined;
  logStreamNamePrefix?: string | undefined;
  startTime?: number | undefined;
  endTime?: number | undefined;
  filterPattern: FilterPattern;
  limit: number;
  nextToken?: string | undefined;
}

export interface LogGroupShape {
  logGroupName: string;
  creationTime: number;
  metricFilterCount: number;
  arn: string;
  storedBytes: number;
  logGroupClass: 'STANDARD';
  logGroupArn: string;
}

export interface LogStreamShape {
  logStreamName: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  uploadSequenceToken: string;
  arn: string;
  storedBytes: number;
}

export interface OutputLogEventShape {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface FilteredLogEventShape extends OutputLogEventShape {
  logStreamName: string;
  eventId: string;
}

const GROUP_NOT_FOUND = 'The specified log group does not exist.';
const STREAM_NOT_FOUND = 'The specified log stream does not exist.';

export class LogsService {
  readonly #logs: LogStore;
  readonly #region: string;
  readonly #accountId: string;

  constructor(deps: LogsServiceDeps) {
    this.#logs = deps.logs;
    this.#region = deps.region;
    this.#accountId = deps.accountId;
  }

  /** A log group named by name or by ARN (`logGroupIdentifier`): its name, or null when the ARN is elsewhere. */
  groupNameOf(identifier: string): string | null {
    if (!identifier.startsWith('arn:')) return identifier;
    const prefix = `arn:aws:logs:${this.#region}:${this.#accountId}:log-group:`;
    if (!identifier.startsWith(prefix)) return null;
    const rest = identifier.slice(prefix.length);
    return rest.endsWith(':*') ? rest.slice(0, -2) : rest;
  }

  async describeLogGroups(cmd: DescribeLogGroupsCommand): Promise<{ logGroups: LogGroupShape[]; nextToken?: string }> {
    let names = await this.#logs.listGroups();
    if (cmd.logGroupNamePrefix !== undefined) {
      const prefix = cmd.logGroupNamePrefix;
      names = names.filter((n) => n.startsWith(prefix));
    }
    if (cmd.logGroupNamePattern !== undefined) {
      const pattern = cmd.logGroupNamePattern.toLowerCase();
      names = names.filter((n) => n.toLowerCase().includes(pattern));
    }
    if (cmd.logGroupIdentifiers !== undefined) {
      const wanted = new Set(cmd.logGroupIdentifiers.map((id) => this.groupNameOf(id)));
      names = names.filter((n) => wanted.has(n));
    }
    if (cmd.logGroupClass !== undefined && cmd.logGroupClass !== 'STANDARD') names = [];
    if (cmd.nextToken !== undefined) {
      const after = decodePageToken(cmd.nextToken, 'g', (v) => (typeof v.a === 'string' ? v.a : null));
      names = names.filter((n) => n > after);
    }
    const page = names.slice(0, cmd.limit);
    const logGroups: LogGroupShape[] = [];
    for (const name of page) {
      const creationTime = await this.#logs.groupCreationTime(name);
      if (creationTime === null) continue;
      const arn = this.#groupArn(name);
      logGroups.push({
        logGroupName: name,
        creationTime,
        metricFilterCount: 0,
        arn: `${arn}:*`,
        storedBytes: await this.#logs.groupStoredBytes(name),
        logGroupClass: 'STANDARD',
        logGroupArn: arn,
      });
    }
    const last = page.at(-1);
    return names.length > page.length && last !== undefined
      ? { logGroups, nextToken: encodePageToken('g', { a: last }) }
      : { logGroups };
  }

  async describeLogStreams(
    cmd: DescribeLogStreamsCommand,
  ): Promise<{ logStreams: LogStreamShape[]; nextToken?: string }> {
    const group = cmd.logGroupName;
    let names = await this.#logs.streamNames(group);
    if (names === null) throw new LogsApiError('ResourceNotFoundException', GROUP_NOT_FOUND);
    if (cmd.logStreamNamePrefix !== undefined) {
      const prefix = cmd.logStreamNamePrefix;
      names = names.filter((n) => n.startsWith(prefix));
    }
    const sign = cmd.descending ? -1 : 1;
    let page: LogStreamShape[];
    let more: boolean;
    let token: string | undefined;
    if (cmd.orderBy === 'LogStreamName') {
      // Only the streams on the page are read.
      if (cmd.descending) names.reverse();
      if (cmd.nextToken !== undefined) {
        const after = decodePageToken(cmd.nextToken, 'sn', (v) => (typeof v.a === 'string' ? v.a : null));
        names = names.filter((n) => sign * compare(n, after) > 0);
      }
      page = [];
      for (const name of names.slice(0, cmd.limit)) {
        const shape = await this.#streamShape(group, name);
        if (shape !== null) page.push(shape);
      }
      more = names.length > cmd.limit;
      const last = page.at(-1);
      if (more && last !== undefined) token = encodePageToken('sn', { a: last.logStreamName });
    } else {
      const all: LogStreamShape[] = [];
      for (const name of names) {
        const shape = await this.#streamShape(group, name);
        if (shape !== null) all.push(shape);
      }
      const key = (s: LogStreamShape) => s.lastEventTimestamp ?? 0;
      const order = (a: LogStreamShape, b: LogStreamShape) =>
        sign * (key(a) - key(b) || compare(a.logStreamName, b.logStreamName));
      all.sort(order);
      let rest = all;
      if (cmd.nextToken !== undefined) {
        const after = decodePageToken(cmd.nextToken, 'st', (v) =>
          typeof v.t === 'number' && typeof v.a === 'string' ? { t: v.t, a: v.a } : null,
        );
        rest = all.filter((s) => sign * (key(s) - after.t || compare(s.logStreamName, after.a)) > 0);
      }
      page = rest.slice(0, cmd.limit);
      more = rest.length > page.length;
      const last = page.at(-1);
      if (more && last !== undefined) token = encodePageToken('st', { t: key(last), a: last.logStreamName });
    }
    return token !== undefined ? { logStreams: page, nextToken: token } : { logStreams: page };
  }

  async getLogEvents(cmd: GetLogEventsCommand): Promise<{
    events: OutputLogEventShape[];
    nextForwardToken: string;
    nextBackwardToken: string;
  }> {
    const index = await this.#stream(cmd.logGroupName, cmd.logStreamName);
    const range = { startTime: cmd.startTime, endTime: cmd.endTime };
    let direction: 'f' | 'b';
    let position: number;
    if (cmd.nextToken !== undefined) {
      ({ direction, offset: position } = parseStreamToken(cmd.nextToken));
      position = Math.min(position, index.size);
    } else if (cmd.startFromHead) {
      direction = 'f';
      position = 0;
    } else {
      direction = 'b';
      position = index.size;
    }
    const picked: IndexedEvent[] = [];
    let bytes = 0;
    const source = direction === 'f' ? index.forward(position, range) : index.backward(position, range);
    for await (const event of source) {
      const size = Buffer.byteLength(event.message, 'utf8') + EVENT_OVERHEAD;
      if (picked.length > 0 && bytes + size > MAX_RESPONSE_BYTES) break;
      picked.push(event);
      bytes += size;
      if (picked.length >= cmd.limit) break;
    }
    if (direction === 'b') picked.reverse();
    const first = picked[0];
    const last = picked.at(-1);
    // No events: both tokens stay where they were, so a client looping "until the token repeats" stops.
    return {
      events: picked.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.timestamp })),
      nextForwardToken: streamToken('f', last?.end ?? position),
      nextBackwardToken: streamToken('b', first?.offset ?? position),
    };
  }

  async filterLogEvents(cmd: FilterLogEventsCommand): Promise<{
    events: FilteredLogEventShape[];
    searchedLogStreams: { logStreamName: string; searchedCompletely: boolean }[];
    nextToken?: string;
  }> {
    const group = cmd.logGroupName;
    const names = await this.#logs.streamNames(group);
    if (names === null) throw new LogsApiError('ResourceNotFoundException', GROUP_NOT_FOUND);
    let selected = names;
    if (cmd.logStreamNames !== undefined) {
      const wanted = new Set(cmd.logStreamNames);
      selected = names.filter((n) => wanted.has(n));
    } else if (cmd.logStreamNamePrefix !== undefined) {
      const prefix = cmd.logStreamNamePrefix;
      selected = names.filter((n) => n.startsWith(prefix));
    }
    // The cursor is the key (timestamp, stream, offset) of the last event looked at; the next page starts after it.
    const cursor =
      cmd.nextToken === undefined
        ? null
        : decodePageToken(cmd.nextToken, 'e', (v) =>
            typeof v.t === 'number' && typeof v.s === 'string' && typeof v.o === 'number'
              ? { timestamp: v.t, stream: v.s, offset: v.o }
              : null,
          );
    const startTime = cursor === null ? cmd.startTime : Math.max(cmd.startTime ?? 0, cursor.timestamp);
    const range = { startTime, endTime: cmd.endTime };

    const heap = new EventHeap();
    const sources = new Map<string, AsyncGenerator<IndexedEvent, void, undefined>>();
    const pull = async (stream: string, source: AsyncGenerator<IndexedEvent, void, undefined>) => {
      for (;;) {
        const next = await source.next();
        if (next.done === true) return;
        const event = { ...next.value, stream };
        if (cursor !== null && compareKeys(event, cursor) <= 0) continue;
        heap.push(event);
        return;
      }
    };
    for (const stream of selected) {
      const index = await this.#logs.streamIndex(group, stream);
      if (index === null) continue;
      const source = index.forward(0, range);
      sources.set(stream, source);
      await pull(stream, source);
    }

    const events: FilteredLogEventShape[] = [];
    let bytes = 0;
    let scanned = 0;
    let lastSeen: HeapEvent | null = null;
    for (;;) {
      const head = heap.peek();
      if (head === undefined) break;
      const size = Buffer.byteLength(head.message, 'utf8') + EVENT_OVERHEAD;
      const matches = cmd.filterPattern.matches(head.message);
      if (matches && (events.length >= cmd.limit || (events.length > 0 && bytes + size > MAX_RESPONSE_BYTES))) break;
      if (scanned >= FILTER_SCAN_BYTES) break;
      heap.pop();
      lastSeen = head;
      scanned += size;
      if (matches) {
        bytes += size;
        events.push({
          logStreamName: head.stream,
          timestamp: head.timestamp,
          message: head.message,
          ingestionTime: head.timestamp,
          eventId: eventId(head.timestamp, head.stream, head.offset),
        });
      }
      const source = sources.get(head.stream);
      if (source !== undefined) await pull(head.stream, source);
    }
    const pending = new Set(heap.streams());
    for (const source of sources.values()) await source.return(undefined);
    const searchedLogStreams = [...sources.keys()].map((logStreamName) => ({
      logStreamName,
      searchedCompletely: !pending.has(logStreamName),
    }));
    // Every page consumes at least one event, so a token always moves forward.
    if (heap.size === 0 || lastSeen === null) return { events, searchedLogStreams };
    return { events, searchedLogStreams, nextToken: this.#cursorToken(lastSeen) };
  }

  #cursorToken(event: HeapEvent): string {
    return encodePageToken('e', { t: event.timestamp, s: event.stream, o: event.offset });
  }

  async #stream(group: string, stream: string): Promise<StreamIndex> {
    if ((await this.#logs.groupCreationTime(group)) === null) {
      throw new LogsApiError('ResourceNotFoundException', GROUP_NOT_FOUND);
    }
    const index = await this.#logs.streamIndex(group, stream);
    if (index === null) throw new LogsApiError('ResourceNotFoundException', STREAM_NOT_FOUND);
    return index;
  }

  async #streamShape(group: string, name: string): Promise<LogStreamShape | null> {
    const index = await this.#logs.streamIndex(group, name);
    if (index === null) return null;
    const s = index.summary();
    const creationTime = Math.floor(s.birthtimeMs > 0 ? s.birthtimeMs : (s.firstEventTimestamp ?? s.mtimeMs));
    const shape: LogStreamShape = {
      logStreamName: name,
      creationTime,
      uploadSequenceToken: sequenceToken(s.size),
      arn: `${this.#groupArn(group)}:log-stream:${name}`,
      // Deprecated for streams: AWS always reports 0.
      storedBytes: 0,
    };
    if (s.firstEventTimestamp !== undefined && s.lastEventTimestamp !== undefined) {
      shape.firstEventTimestamp = s.firstEventTimestamp;
      shape.lastEventTimestamp = s.lastEventTimestamp;
      shape.lastIngestionTime = Math.max(s.lastEventTimestamp, Math.floor(s.mtimeMs));
    }
    return shape;
  }

  #groupArn(group: string): string {
    return `arn:aws:logs:${this.#region}:${this.#accountId}:log-group:${group}`;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface HeapEvent extends IndexedEvent {
  stream: string;
}

/** Total order of events in a group: time, then stream name, then position in the stream. */
function compareKeys(
  a: { timestamp: number; stream: string; offset: number },
  b: { timestamp: number; stream: string; offset: number },
): number {
  return a.timestamp - b.timestamp || compare(a.stream, b.stream) || a.offset - b.offset;
}

/** A binary min-heap of stream heads (one event per stream), for the interleaved merge. */
class EventHeap {
  readonly #items: HeapEvent[] = [];

  get size(): number {
    return this.#items.length;
  }

  streams(): string[] {
    return this.#items.map((e) => e.stream);
  }

  peek(): HeapEvent | undefined {
    return this.#items[0];
  }

  push(event: HeapEvent): void {
    const items = this.#items;
    items.push(event);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (p === undefined || compareKeys(p, event) <= 0) break;
      items[i] = p;
      i = parent;
    }
    items[i] = event;
  }

  pop(): HeapEvent | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      let best = last;
      const left = items[l];
      if (left !== undefined && compareKeys(left, best) < 0) {
        smallest = l;
        best = left;
      }
      const right = items[r];
      if (right !== undefined && compareKeys(right, best) < 0) smallest = r;
      if (smallest === i) break;
      const child = items[smallest];
      if (child === undefined) break;
      items[i] = child;
      i = smallest;
    }
    items[i] = last;
    return top;
  }
}
