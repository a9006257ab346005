/**
 * @module runtime/console-patch
 * `console.*` as AWS's Node runtime prints it, one log event per call.
 *
 * - Text: `<ISO time>\t<request id>\t<LEVEL>\t<util.format(...)>` with every `\n` turned into `\r`, then `\n`.
 * - JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`): `{"timestamp","level","requestId","message"}` (+ `tenantId`); one argument is
 *   kept as is (objects stay objects, Errors become `{errorType, errorMessage, stackTrace, …}`), several are
 *   `util.format`ted and the first Error among them adds `errorType`, `errorMessage`, `stackTrace`.
 * - `AWS_LAMBDA_LOG_LEVEL` drops lower levels in both formats (AWS sets it only with JSON).
 * - `console.log` is INFO; `trace`, `debug`, `info`, `warn`, `error`, `fatal` are their levels.
 *
 * Client 3.x (nodejs20.x/22.x) and 4.x (nodejs24.x) differ in small ways, kept here: before the first invoke the
 * request id is `undefined` (3.x) or `-` (4.x); 3.x never filters `fatal`; with several arguments 3.x looks for an
 * Error among all of them, 4.x among all but the first.
 *
 * Lines are written with synchronous writes to fd 1, whole, so they never interleave and none is lost at exit.
 */

import { intoError, toFormatted } from './errors.ts';

// CommonJS objects of builtins: they load faster than ES namespaces (see runtime-api-client.ts).
const { writeSync } = process.getBuiltinModule('node:fs');
const { format } = process.getBuiltinModule('node:util');

export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type Level = (typeof LEVELS)[number];
/** Which AWS runtime client's behaviour to follow: 3 = nodejs20.x/22.x, 4 = nodejs24.x. */
export type ClientVersion = 3 | 4;

export interface LogState {
  requestId: string | undefined;
  tenantId: string | undefined;
}

export interface LogOptions {
  json: boolean;
  /** Index into LEVELS of the lowest level written. */
  minLevel: number;
  client: ClientVersion;
}

export interface Logger {
  /** The runtime's own error lines: `Invoke Error`, `Init Error`, `Uncaught Exception`, …. */
  logError(label: string, error: unknown): void;
  /** A line at `level`, as `console.*` would write it. */
  log(level: Level, ...args: unknown[]): void;
}

export function logOptions(env: NodeJS.ProcessEnv, client: ClientVersion): LogOptions {
  const level = LEVELS.indexOf((env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase() as Level);
  return {
    json: env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON',
    minLevel: level === -1 ? 0 : level,
    client,
  };
}

/** One text record, without the final newline. */
export function formatTextLine(time: string, requestId: string | undefined, level: Level, args: unknown[]): string {
  return `${time}\t${String(requestId)}\t${level}\t${format(...args)}`.replaceAll('\n', '\r');
}

/** One JSON record, without the final newline. */
export function formatJsonLine(
  time: string,
  state: LogState,
  level: Level,
  args: unknown[],
  client: ClientVersion,
): string {
  const record: Record<string, unknown> = { timestamp: time, level, requestId: state.requestId };
  if (state.tenantId !== undefined && state.tenantId !== '') record.tenantId = state.tenantId;
  let line: string;
  if (args.length === 1) {
    record.message = args[0];
    try {
      line = JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = format(args[0]);
      line = JSON.stringify(record);
    }
  } else {
    record.message = format(...args);
    for (const arg of client === 3 ? args : args.slice(1)) {
      if (arg instanceof Error) {
        record.errorType = errorTypeOf(arg);
        record.errorMessage = arg.message;
        record.stackTrace = typeof arg.stack === 'string' ? arg.stack.split('\n') : [];
        break;
      }
    }
    line = JSON.stringify(record);
  }
  return line.replaceAll('\n', '\r');
}

function jsonErrorReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return Object.assign(
    {
      errorType: errorTypeOf(value),
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    },
    value,
  );
}

function errorTypeOf(error: Error): string {
  const ctor = (error as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' ? ctor.name : 'UnknownError';
}

/** Writes all of `text` to fd 1, retrying short writes and a full non-blocking pipe. */
export function writeOut(text: string): void {
  let buf = Buffer.from(text, 'utf8');
  for (let attempts = 0; buf.length > 0 && attempts < 1000;) {
    try {
      const n = writeSync(1, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EAGAIN') return; // a closed stdout must not take the runtime down
      attempts++;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** Replaces `console.*`; returns the runtime's own logger. `state` is read at every call (request id per invoke). */
export function patchConsole(state: LogState, options: LogOptions): Logger {
  const write = (level: Level, given: unknown[]): void => {
    // `console.log()` logs `undefined`, as the official client's `format(message, ...params)` does.
    const args = given.length === 0 ? [undefined] : given;
    const time = new Date().toISOString();
    writeOut(
      `${options.json ? formatJsonLine(time, state, level, args, options.client) : formatTextLine(time, state.requestId, level, args)}\n`,
    );
  };
  const enabled = (level: Level): boolean => LEVELS.indexOf(level) >= options.minLevel;
  const method = (level: Level, always = false): ((...args: unknown[]) => void) =>
    always || enabled(level)
      ? (...args: unknown[]) => {
          write(level, args);
        }
      : () => undefined;
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  target.trace = method('TRACE');
  target.debug = method('DEBUG');
  target.info = method('INFO');
  target.log = target.info;
  target.warn = method('WARN');
  target.error = method('ERROR');
  target.fatal = method('FATAL', options.client === 3);
  return {
    logError(label, error) {
      if (!enabled('ERROR')) return;
      const err = intoError(error);
      if (options.json) write('ERROR', [err]);
      else write('ERROR', [label, toFormatted(err)]);
    },
    log(level, ...args) {
      if (enabled(level)) write(level, args);
    },
  };
}
