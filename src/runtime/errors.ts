/**
 * @module runtime/errors
 * Errors as AWS's Node runtime client reports them. The body posted to `/error` and `/init/error` is
 * `{errorType, errorMessage, trace}` (`trace`, not `stackTrace`); the console line is `<label> \t{json}` with the
 * error's own enumerable properties. Nothing here ever throws, whatever was thrown: circular objects, non-Errors,
 * getters that throw, objects without a prototype, huge messages.
 */

/** Longest `errorMessage` (and longest `trace` line) kept; the rest is cut with a note. */
export const MAX_MESSAGE_CHARS = 256 * 1024;
/** Most `trace` lines kept (`Error.stackTraceLimit = Infinity` on deep recursion can make thousands). */
export const MAX_TRACE_LINES = 1000;
/** Largest X-Ray cause header the Runtime API accepts. */
const MAX_XRAY_CAUSE = 64 * 1024;

const UNREADABLE_ERROR =
  'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack';

export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** An error the runtime itself raises, with a Lambda error type as its name (`Runtime.HandlerNotFound`, …). */
export class RuntimeError extends Error {
  constructor(errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

/** Wraps a load error as the official client does: the message is `String(original)`, e.g. `SyntaxError: …`. */
export function wrapError(errorType: string, original: unknown, keepStack: boolean): RuntimeError {
  const err = new RuntimeError(errorType, safeString(original));
  if (keepStack && original instanceof Error && typeof original.stack === 'string') err.stack = original.stack;
  return err;
}

/**
 * The body the runtime posts for `value`: `{errorType: err.name, errorMessage: err.message, trace: stack lines}`
 * for an Error, `{errorType: typeof v, errorMessage: String(v), trace: []}` for anything else.
 */
export function formatError(value: unknown): ErrorBody {
  try {
    if (value instanceof Error) {
      const stack: unknown = value.stack;
      return {
        errorType: cap(clean(text(value.name))),
        errorMessage: cap(clean(text(value.message))),
        trace: typeof stack === 'string' ? traceLines(clean(stack)) : [],
      };
    }
    return { errorType: typeof value, errorMessage: cap(String(value)), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: UNREADABLE_ERROR, trace: [] };
  }
}

/** `JSON.stringify(formatError(value))`; always valid JSON. */
export function errorJson(value: unknown): string {
  return JSON.stringify(formatError(value));
}

/** `value` as an Error, for logging (the official client logs non-Errors as `new Error(String(v))`). */
export function intoError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(safeString(value));
}

/**
 * The text-log form of an error: a TAB, then the error as JSON with `errorType`, `errorMessage`, `code`, its own
 * enumerable properties and `stack` as lines (nested errors alike). Falls back to the posted body's JSON.
 */
export function toFormatted(error: Error): string {
  try {
    return `\t${JSON.stringify(error, (_key, value: unknown) => withEnumerableProperties(value))}`;
  } catch {
    return `\t${errorJson(error)}`;
  }
}

function withEnumerableProperties(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const ret: Record<string, unknown> = {
    errorType: value.name,
    errorMessage: value.message,
    code: (value as { code?: unknown }).code,
  };
  Object.assign(ret, value);
  if (typeof value.stack === 'string') ret.stack = value.stack.split('\n');
  return ret;
}

/**
 * The `Lambda-Runtime-Function-XRay-Error-Cause` header value for `error`, or undefined when it cannot be sent
 * (over 64 KiB). Non-ASCII characters are escaped so the value is always a valid header.
 */
export function xrayCause(error: unknown): string | undefined {
  try {
    const e = (typeof error === 'object' && error !== null ? error : {}) as {
      name?: unknown;
      message?: unknown;
      stack?: unknown;
    };
    const stack = typeof e.stack === 'string' ? parseStack(e.stack) : [];
    const cause = {
      working_directory: process.cwd(),
      exceptions: [
        {
          type: typeof e.name === 'string' ? clean(e.name) : undefined,
          message: typeof e.message === 'string' ? clean(e.message) : undefined,
          stack,
        },
      ],
      paths: [...new Set(stack.map((frame) => frame.path))],
    };
    // Every character outside printable ASCII is escaped.
    const text = JSON.stringify(cause).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    return text.length <= MAX_XRAY_CAUSE ? text : undefined;
  } catch {
    return undefined;
  }
}

function parseStack(stack: string): { path: string; line: number; label: string }[] {
  const lines = clean(stack).split('\n').slice(1, MAX_TRACE_LINES);
  return lines.map((line) => {
    const trimmed = line
      .trim()
      .replace(/[()]/g, '')
      .replace(/^\S*\s/, '');
    const lastSpace = trimmed.lastIndexOf(' ');
    const label = lastSpace >= 0 ? trimmed.slice(0, lastSpace) : 'anonymous';
    const parts = (lastSpace >= 0 ? trimmed.slice(lastSpace + 1) : trimmed).split(':');
    return { path: parts[0] ?? '', line: parseInt(parts[1] ?? '', 10), label };
  });
}

/** AWS replaces DEL (0x7f) in error texts. */
function clean(text: string): string {
  return text.includes('\x7f') ? text.replaceAll('\x7f', '%7F') : text;
}

function cap(text: string): string {
  return text.length > MAX_MESSAGE_CHARS
    ? `${text.slice(0, MAX_MESSAGE_CHARS)}… [truncated ${text.length - MAX_MESSAGE_CHARS} characters]`
    : text;
}

function traceLines(stack: string): string[] {
  const lines = stack.split('\n');
  const kept = lines.length > MAX_TRACE_LINES ? lines.slice(0, MAX_TRACE_LINES) : lines;
  const out = kept.map(cap);
  if (lines.length > MAX_TRACE_LINES) out.push(`… [${lines.length - MAX_TRACE_LINES} more lines]`);
  return out;
}

/** Error fields are strings by type, not always at run time. */
function text(value: unknown): string {
  return String(value);
}

/** `String(value)`, or a fixed text when even that throws (an object without a prototype, a throwing toString). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
