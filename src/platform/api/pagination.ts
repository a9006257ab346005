/**
 * @module platform/api/pagination
 * `Marker`/`MaxItems` pagination as the List operations use it: the marker is opaque to clients (base64url of the
 * last key returned); no `NextMarker` means the last page.
 */
import type { Checker } from './validate.ts';

export interface Page<T> {
  items: T[];
  next: { NextMarker?: string };
}

/** Reads `MaxItems` (1…`max`, the model's bound) from the query; absent → `fallback`. */
export function maxItems(query: URLSearchParams, check: Checker, max: number, fallback = max): number {
  const raw = query.get('MaxItems');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) {
    check.fail('maxItems', raw, 'Member must be an integer');
    return fallback;
  }
  return check.int(n, 'maxItems', { min: 1, max }) ?? fallback;
}

export function encodeMarker(value: string): string {
  return Buffer.from(value).toString('base64url');
}

export function decodeMarker(marker: string | null): string | null {
  return marker === null || marker === '' ? null : Buffer.from(marker, 'base64url').toString('utf8');
}

/** Slices `items` (already in list order, keyed uniquely by `key`) after the marker's item. */
export function paginate<T>(
  items: readonly T[],
  marker: string | null,
  limit: number,
  key: (item: T) => string,
): Page<T> {
  let start = 0;
  const after = decodeMarker(marker);
  if (after !== null) {
    const i = items.findIndex((item) => key(item) === after);
    start = i === -1 ? items.length : i + 1;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < items.length && last !== undefined;
  return { items: page, next: more ? { NextMarker: encodeMarker(key(last)) } : {} };
}
