/**
 * @module platform/api/event-stream
 * AWS event-stream messages (`application/vnd.amazon.eventstream`), as InvokeWithResponseStream's body carries
 * them: a prelude (total length, headers length, CRC-32 of those 8 bytes), string headers, the payload, and a CRC-32
 * of everything before it. Only what Lambda sends is written: `event` messages with string headers.
 */
import { crc32 } from 'node:zlib';

const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
/** Header value type 7: a string (u16 length, then UTF-8 bytes). */
const STRING_TYPE = 7;

/** One event message: `:message-type event`, its `:event-type` and `:content-type`, and the payload. */
export function eventMessage(eventType: string, contentType: string, payload: Uint8Array): Buffer {
  return encodeMessage({ ':event-type': eventType, ':content-type': contentType, ':message-type': 'event' }, payload);
}

export function encodeMessage(headers: Record<string, string>, payload: Uint8Array): Buffer {
  const encoded = Object.entries(headers).map(([name, value]) => [Buffer.from(name), Buffer.from(value)] as const);
  let headersLength = 0;
  for (const [name, value] of encoded) headersLength += 1 + name.length + 1 + 2 + value.length;
  const total = PRELUDE_BYTES + headersLength + payload.length + CRC_BYTES;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headersLength, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  let at = PRELUDE_BYTES;
  for (const [name, value] of encoded) {
    at = out.writeUInt8(name.length, at);
    at += name.copy(out, at);
    at = out.writeUInt8(STRING_TYPE, at);
    at = out.writeUInt16BE(value.length, at);
    at += value.copy(out, at);
  }
  at += Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(out, at);
  out.writeUInt32BE(crc32(out.subarray(0, at)), at);
  return out;
}
