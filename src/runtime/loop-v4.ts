/**
 * @module runtime/loop-v4
 * The invoke loop of AWS's Node runtime client 4.x (nodejs24.x, and Lambkin's custom-runtime default).
 *
 * - Handlers are async only: `result = await handler(event, context)`. A handler declaring 3 or more parameters that
 *   is not streaming fails init with `Runtime.CallbackHandlerDeprecated`.
 * - No process hooks: an uncaught exception or unhandled rejection is Node's own crash (exit 1, nothing posted); a
 *   promise that never settles while nothing else is pending ends the process with exit 0. The platform reports
 *   both as `Runtime.ExitError`.
 * - Init errors are logged (`Init Error`), posted to `/init/error`, then the process dies as Node does on an
 *   uncaught error (exit 1).
 */
import { createContext } from './context.ts';
import { errorJson, formatError, RuntimeError, xrayCause } from './errors.ts';
import { loadHandler, type LoadedHandler } from './handler-loader.ts';
import {
  beginInvocation,
  isPromiseLike,
  nextTurn,
  parseEvent,
  serializeResult,
  type RuntimeDeps,
} from './invocation.ts';
import type { NextInvocation } from './runtime-api-client.ts';
import { openResponseStream } from './streaming.ts';

const { inspect } = process.getBuiltinModule('node:util');

/** The official client's message (nodejs24.x). */
export const CALLBACK_HANDLER_DEPRECATED =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

export async function runV4(deps: RuntimeDeps): Promise<void> {
  let loaded: LoadedHandler;
  try {
    loaded = await loadHandler(deps.taskRoot, deps.handlerName, 4);
    if (!loaded.streaming && loaded.handler.length >= 3) {
      throw new RuntimeError('Runtime.CallbackHandlerDeprecated', CALLBACK_HANDLER_DEPRECATED);
    }
  } catch (err) {
    deps.logger.logError('Init Error', err);
    await deps.api.initError(formatError(err).errorType, errorJson(err)).catch((postErr: unknown) => {
      deps.logger.logError('Failed to post init error', postErr);
    });
    // The official client rethrows: Node prints the error on stderr and exits 1.
    process.stderr.write(`${inspect(err)}\n\nNode.js ${process.version}\n`);
    process.exit(1);
  }
  for (;;) {
    const inv = await deps.api.next();
    beginInvocation(deps, inv);
    if (loaded.streaming) await invokeStreaming(deps, loaded, inv);
    else await invokeBuffered(deps, loaded, inv);
  }
}

async function invokeBuffered(deps: RuntimeDeps, loaded: LoadedHandler, inv: NextInvocation): Promise<void> {
  try {
    const context = createContext(inv.requestId, inv.headers, deps.env);
    const result = await loaded.handler(parseEvent(inv.body), context);
    await nextTurn();
    const body = serializeResult(result);
    if (body === undefined) throw new RuntimeError('Runtime.JSONStringifyError', 'Unable to stringify response body');
    await deps.api.respond(inv.requestId, body);
  } catch (err) {
    await nextTurn();
    deps.logger.logError('Invoke Error', err);
    await deps.api.error(inv.requestId, errorJson(err), xrayCause(err));
  }
}

async function invokeStreaming(deps: RuntimeDeps, loaded: LoadedHandler, inv: NextInvocation): Promise<void> {
  const { stream, done, fail } = openResponseStream(deps.api.target, inv.requestId, loaded.highWaterMark);
  try {
    const context = createContext(inv.requestId, inv.headers, deps.env);
    const returned = loaded.handler(parseEvent(inv.body), stream, context);
    if (!isPromiseLike(returned)) throw new Error('Streaming does not support non-async handlers.');
    const result = await returned;
    if (result !== undefined) console.warn('Streaming handlers ignore return values.');
    // As on AWS, the handler must end the stream: until it does, the invocation runs on (and times out).
    await done;
    if (!stream.writableFinished) throw new Error('Response stream is not finished.');
  } catch (err) {
    await nextTurn();
    deps.logger.logError('Invoke Error', err);
    await fail(err);
  }
}
