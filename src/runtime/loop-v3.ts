/**
 * @module runtime/loop-v3
 * The invoke loop of AWS's Node runtime client 3.x (nodejs20.x, nodejs22.x; custom runtimes with
 * `LAMBKIN_NODE_COMPAT=3`).
 *
 * - `handler(event, context, callback)`: a returned promise, `callback(err, result)` or `context.done/succeed/fail`
 *   settle the invoke; the first call wins.
 * - `context.callbackWaitsForEmptyEventLoop` (default true): a `callback` result is posted only when the event loop
 *   has drained (`beforeExit`); false posts at once. A streaming handler's next invocation waits the same way.
 * - The loop draining before any result: a non-async handler's invoke succeeds with `null`; an async one fails with
 *   `Runtime.NodeJsExit` (a promise that never settled).
 * - Uncaught exceptions and unhandled rejections are logged and posted (to `/init/error` during init, else to the
 *   current invoke's `/error`), then the process exits 129 / 128. Init errors take the same path (`Uncaught
 *   Exception`, exit 129), as the official client's top-level await does.
 */
import { createLegacyContext, type CallbackMembers } from './context.ts';
import { errorJson, formatError, RuntimeError, safeString, xrayCause } from './errors.ts';
import { loadHandler, type LoadedHandler } from './handler-loader.ts';
import { beginInvocation, isPromiseLike, parseEvent, serializeResult, type RuntimeDeps } from './invocation.ts';
import type { NextInvocation } from './runtime-api-client.ts';
import { openResponseStream } from './streaming.ts';

/** The official client's message for a promise the handler never settled. */
export const NODEJS_EXIT_MESSAGE =
  'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes';

class UnhandledPromiseRejection extends RuntimeError {
  reason: unknown;
  promise: unknown;
  constructor(reason: unknown, promise: unknown) {
    super('Runtime.UnhandledPromiseRejection', safeString(reason));
    this.reason = reason;
    this.promise = promise;
  }
}

export async function runV3(deps: RuntimeDeps): Promise<void> {
  const { api, logger } = deps;
  /** The invocation the process hooks report to; undefined during init. */
  let current: string | undefined;
  let dying = false;
  const die = (err: unknown, exitCode: number): void => {
    if (dying) return;
    dying = true;
    const posted =
      current === undefined
        ? api.initError(formatError(err).errorType, errorJson(err))
        : api.error(current, errorJson(err), xrayCause(err));
    void posted.catch(() => 0).finally(() => process.exit(exitCode));
  };
  process.on('uncaughtException', (err) => {
    logger.logError('Uncaught Exception', err);
    die(err, 129);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const err = new UnhandledPromiseRejection(reason, promise);
    logger.logError('Unhandled Promise Rejection', err);
    die(err, 128);
  });
  // The official client's BeforeExitListener: what to do when the event loop drains during an invocation.
  let onDrained: (() => void) | null = null;
  process.on('beforeExit', () => {
    const listener = onDrained;
    onDrained = null;
    listener?.();
  });

  let loaded: LoadedHandler;
  try {
    loaded = await loadHandler(deps.taskRoot, deps.handlerName, 3);
  } catch (err) {
    logger.logError('Uncaught Exception', err);
    die(err, 129);
    return;
  }
  const isAsync = loaded.handler.constructor.name === 'AsyncFunction';
  const drained = (listener: (() => void) | null): void => {
    onDrained = listener;
  };
  for (;;) {
    const inv = await api.next();
    beginInvocation(deps, inv);
    current = inv.requestId;
    await new Promise<void>((finish) => {
      if (loaded.streaming) void invokeStreaming(deps, loaded, inv, drained, finish);
      else invokeWithCallbacks(deps, loaded, inv, isAsync, drained, finish);
    });
  }
}

function invokeWithCallbacks(
  deps: RuntimeDeps,
  loaded: LoadedHandler,
  inv: NextInvocation,
  isAsync: boolean,
  drained: (listener: (() => void) | null) => void,
  finish: () => void,
): void {
  const { api, logger } = deps;
  const id = inv.requestId;
  const postError = (err: unknown): void => {
    logger.logError('Invoke Error', err);
    void api
      .error(id, errorJson(err), xrayCause(err))
      .catch(() => 0)
      .finally(finish);
  };
  let completeCalled = false;
  const complete = (result: unknown): void => {
    if (completeCalled) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    completeCalled = true;
    const body = serializeResult(result);
    // Client 3.x throws a plain Error here; where it is caught decides what is reported (as on AWS).
    if (body === undefined) throw new Error('Unable to stringify response body');
    void api
      .respond(id, body)
      .catch(() => 0)
      .finally(finish);
  };
  let waitForEmptyEventLoop = true;
  const callback = (err: unknown, result?: unknown): void => {
    drained(null);
    if (err !== undefined && err !== null) postError(err);
    else if (!waitForEmptyEventLoop) complete(result);
    else
      drained(() => {
        setImmediate(() => {
          complete(result);
        });
      });
  };
  const done = (err?: unknown, result?: unknown): void => {
    drained(null);
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const members: CallbackMembers = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitForEmptyEventLoop = value;
    },
    succeed: (result?: unknown) => {
      done(null, result);
    },
    fail: (err?: unknown) => {
      if (err === undefined || err === null) done('handled');
      else done(err, null);
    },
    done,
  };
  // Only the first of callback/succeed/fail/done counts.
  let settled = false;
  const once =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      if (settled) return;
      fn(...args);
      settled = true;
    };
  members.succeed = once(members.succeed);
  members.fail = once(members.fail);
  members.done = once(members.done);
  const onlyCallback = once(callback);

  drained(() => {
    completeCalled = true;
    if (isAsync) {
      const err = new RuntimeError('Runtime.NodeJsExit', NODEJS_EXIT_MESSAGE);
      logger.logError('Invoke Error', err);
      void api
        .error(id, errorJson(err), xrayCause(err))
        .catch(() => 0)
        .finally(finish);
    } else {
      void api
        .respond(id, 'null')
        .catch(() => 0)
        .finally(finish);
    }
  });
  try {
    const event = parseEvent(inv.body);
    const context = createLegacyContext(members, id, inv.headers, deps.env);
    const returned = loaded.handler(event, context, onlyCallback);
    if (isPromiseLike(returned)) {
      Promise.resolve(returned).then(members.succeed, members.fail).catch(members.fail);
    }
  } catch (err) {
    onlyCallback(err);
  }
}

async function invokeStreaming(
  deps: RuntimeDeps,
  loaded: LoadedHandler,
  inv: NextInvocation,
  drained: (listener: (() => void) | null) => void,
  finish: () => void,
): Promise<void> {
  const { stream, done, fail } = openResponseStream(deps.api.target, inv.requestId, loaded.highWaterMark);
  let waitForEmptyEventLoop = true;
  const scheduleNext = (): void => {
    drained(null);
    if (!waitForEmptyEventLoop) finish();
    else
      drained(() => {
        setImmediate(finish);
      });
  };
  const failWith = async (err: unknown): Promise<void> => {
    deps.logger.logError('Invoke Error', err);
    await fail(err);
    scheduleNext();
  };
  drained(finish);
  try {
    const base = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value: boolean) {
        waitForEmptyEventLoop = value;
      },
    };
    const context = createLegacyContext(base, inv.requestId, inv.headers, deps.env);
    const returned = loaded.handler(parseEvent(inv.body), stream, context);
    if (!isPromiseLike(returned)) {
      await failWith('Streaming does not support non-async handlers.');
      return;
    }
    const result = await returned;
    if (result !== undefined) console.warn('Streaming handlers ignore return values.');
    await done;
    if (!stream.writableFinished) {
      await failWith('Response stream is not finished.');
      return;
    }
    scheduleNext();
  } catch (err) {
    await failWith(err);
  }
}
