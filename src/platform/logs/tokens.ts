/**
 * @module platform/logs/tokens
 * Opaque pagination tokens and event ids. Every token names a stable position (a name, or a byte offset in an
 * append-only stream file), never a page number, so paging stays correct while new streams and events arrive.
 */
import { createHash } from 'node:crypto';
import { LogsApiError } from './api-errors.ts';

const INVALID_TOKEN = 'The specified nextToken is invalid.';

/** A page token: base64url of a small JSON object with a kind tag. */
export function encodePageToken(kind: string, payload: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...payload }), 'utf8').toString('base64url');
}

/** Decodes a token made by `encodePageToken(kind, …)`; anything else is InvalidParameterException. */
export function decodePageToken<T>(
  token: string,
  kind: string,
  check: (value: Record<string, unknown>) => T | null,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new LogsApiError('InvalidParameterException', INVALID_TOKEN);
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { k?: unknown }).k !== kind) {
    throw new LogsApiError('InvalidParameterException', INVALID_TOKEN);
  }
  const value = check(parsed as Record<string, unknown>);
  if (value === null) throw new LogsApiError('InvalidParameterException', INVALID_TOKEN);
  return value;
}

/** GetLogEvents tokens look like AWS's: `f/` or `b/` and 56 digits (here: a byte offset in the stream). */
export function streamToken(direction: 'f' | 'b', offset: number): string {
  return `${direction}/${String(offset).padStart(56, '0')}`;
}

export function parseStreamToken(token: string): { direction: 'f' | 'b'; offset: number } {
  const m = /^([fb])\/(\d{56})(?:\/s)?$/.exec(token);
  const offset = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isSafeInteger(offset)) throw new LogsApiError('InvalidParameterException', INVALID_TOKEN);
  return { direction: m[1] === 'f' ? 'f' : 'b', offset };
}

const streamHashes = new Map<string, string>();

/**
 * A FilterLogEvents event id: 56 digits, like AWS's, made of the timestamp, a hash of the stream name and the
 * event's byte offset. The same event always gets the same id (`aws logs tail --follow` de-duplicates by it).
 */
export function eventId(timestamp: number, stream: string, offset: number): string {
  let hash = streamHashes.get(stream);
  if (hash === undefined) {
    hash = createHash('sha256').update(stream).digest().readBigUInt64BE(0).toString().padStart(20, '0');
    if (streamHashes.size > 10_000) streamHashes.clear();
    streamHashes.set(stream, hash);
  }
  return `${String(timestamp).padStart(16, '0')}${hash}${String(offset).padStart(20, '0')}`;
}

/** `<56 digits>`: AWS's sequence token shape, here derived from the stream's size. */
export function sequenceToken(size: number): string {
  return String(size).padStart(56, '0');
}
