/**
 * @module runtime
 * The Lambkin runtime's main loop: load the handler (init), then forever take an event from the Runtime API,
 * run the handler, post its result or its error.
 *
 * Behaviour follows AWS's Node runtime client of the function's runtime version: `nodejs24.x` (and custom
 * runtimes, unless LAMBKIN_NODE_COMPAT=3) behave as client 4.x — async handlers only, no process hooks;
 * `nodejs20.x`/`nodejs22.x` behave as client 3.x — callbacks and `context.done/succeed/fail` too, and uncaught
 * errors are reported before the process exits (129 / 128).
 */
import { RUNTIME_HEADER } from '../protocol/runtime-api.ts';
import { patchConsole, type LogState } from './console-patch.ts';
import { createContext, type LambdaContext } from './context.ts';
import { RuntimeError, toErrorBody } from './errors.ts';
import { loadHandler, type Handler } from './handler-loader.ts';
import { RuntimeApiClient } from './runtime-api-client.ts';
import { highWaterMarkOf, installAwsLambdaGlobal, openResponseStream, STREAMING_SYMBOL } from './streaming.ts';

const env = process.env;
const legacy = /nodejs(1\d|20|22)\.x$/.test(env.AWS_EXECUTION_ENV ?? '') || env.LAMBKIN_NODE_COMPAT === '3';

function main(): void {
  const address = env.AWS_LAMBDA_RUNTIME_API;
  if (address === undefined || address === '') {
    process.stderr.write(
      'lambkin runtime: AWS_LAMBDA_RUNTIME_API is not set: this program runs inside a Lambda execution environment\n',
    );
    process.exit(1);
  }
  const client = new RuntimeApiClient(address);
  const state: LogState = { requestId: undefined };
  const log = patchConsole(state, env);
  let current: string | undefined;
  if (legacy) {
    process.on('uncaughtException', (err) => {
      void reportFatal(client, log, current, err, 'Uncaught Exception', 129);
    });
    process.on('unhandledRejection', (reason) => {
      const err = new RuntimeError(
        'Runtime.UnhandledPromiseRejection',
        reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      );
      void reportFatal(client, log, current, err, 'Unhandled Promise Rejection', 128);
    });
  }

  installAwsLambdaGlobal();
  void (async () => {
    let handler: Handler;
    try {
      handler = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env._HANDLER ?? '');
      if (!legacy && handler.length >= 3 && !isStreaming(handler)) {
        throw new RuntimeError(
          'Runtime.CallbackHandlerDeprecated',
          'Callback-based function handlers are not supported in this runtime version (as on AWS nodejs24.x); use an async handler that returns its result.',
        );
      }
    } catch (err) {
      const body = toErrorBody(err);
      log('ERROR', `Init Error \t${JSON.stringify(body)}`);
      await client.initError(body.errorType, JSON.stringify(body)).catch(() => undefined);
      process.exit(1);
    }
    for (;;) {
      const next = await client.next();
      const { requestId } = next;
      current = requestId;
      state.requestId = requestId;
      const trace = next.headers[RUNTIME_HEADER.TraceId];
      if (typeof trace === 'string') env._X_AMZN_TRACE_ID = trace;
      else delete env._X_AMZN_TRACE_ID;
      const context = createContext(requestId, next.headers, env);
      if (isStreaming(handler)) {
        await runStreaming(client, handler, next.body, context, log);
        continue;
      }
      let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
      try {
        const event: unknown = next.body.length === 0 ? {} : JSON.parse(next.body.toString('utf8'));
        outcome = legacy
          ? await runLegacy(handler, event, context)
          : { ok: true, result: await handler(event, context) };
      } catch (err) {
        outcome = { ok: false, error: err };
      }
      if (outcome.ok) {
        let payload: string;
        try {
          payload = JSON.stringify(outcome.result === undefined ? null : outcome.result);
        } catch (err) {
          outcome = {
            ok: false,
            error: new RuntimeError('Runtime.JSONStringifyError', 'Unable to stringify response body', { cause: err }),
          };
          payload = '';
        }
        if (outcome.ok) {
          await client.respond(requestId, payload);
          continue;
        }
      }
      const body = toErrorBody(outcome.error);
      log('ERROR', `Invoke Error \t${JSON.stringify(body)}`);
      await client.error(requestId, JSON.stringify(body));
    }
  })();
}

/** A streaming handler writes the body itself; an error after the first byte becomes the stream's trailers. */
async function runStreaming(
  client: RuntimeApiClient,
  handler: Handler,
  body: Buffer,
  context: LambdaContext,
  log: (level: 'ERROR', message: string) => void,
): Promise<void> {
  const { stream, done } = openResponseStream(
    client.address,
    client.agent,
    context.awsRequestId,
    highWaterMarkOf(handler),
  );
  try {
    const event: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    await handler(event, stream, context);
    if (!stream.writableEnded) stream.end();
  } catch (err) {
    const errorBody = toErrorBody(err);
    log('ERROR', `Invoke Error \t${JSON.stringify(errorBody)}`);
    await stream.fail(errorBody);
  }
  await done;
}

/** Client 3.x semantics: a returned promise, `callback(err, result)` or `context.done/succeed/fail`; first wins. */
function runLegacy(
  handler: Handler,
  event: unknown,
  context: LambdaContext,
): Promise<{ ok: true; result: unknown } | { ok: false; error: unknown }> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error: unknown, result?: unknown): void => {
      if (error !== undefined && error !== null) resolve({ ok: false, error });
      else resolve({ ok: true, result });
    };
    const finish = (error: unknown, result?: unknown): void => {
      if (settled) return;
      settled = true;
      settle(error, result);
    };
    // callback(): with callbackWaitsForEmptyEventLoop (the default) the result is posted once the event loop has
    // nothing left to do but the runtime's own idle socket and output pipes.
    const callback = (error: unknown, result?: unknown): void => {
      if (settled) return;
      settled = true;
      if (context.callbackWaitsForEmptyEventLoop === false) {
        settle(error, result);
        return;
      }
      void untilEventLoopEmpty().then(() => {
        settle(error, result);
      });
    };
    context.callbackWaitsForEmptyEventLoop = true;
    context.done = finish;
    context.succeed = (result) => {
      finish(null, result);
    };
    context.fail = (error) => {
      finish(error ?? 'handled');
    };
    try {
      const returned = handler(event, context, callback);
      if (
        typeof returned === 'object' &&
        returned !== null &&
        typeof (returned as Promise<unknown>).then === 'function'
      ) {
        (returned as Promise<unknown>).then(
          (result) => {
            finish(null, result);
          },
          (error: unknown) => {
            finish(error ?? 'rejected');
          },
        );
      } else if (handler.length < 3 && returned !== undefined) {
        finish(null, returned);
      }
    } catch (error) {
      finish(error);
    }
  });
}

/** Resources that do not count as work left for the handler: the runtime's own pipes and pending checks. */
const RUNTIME_RESOURCES = new Set(['PipeWrap', 'TTYWrap', 'Immediate']);

async function untilEventLoopEmpty(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (process.getActiveResourcesInfo().every((type) => RUNTIME_RESOURCES.has(type))) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function reportFatal(
  client: RuntimeApiClient,
  log: (level: 'ERROR', message: string) => void,
  requestId: string | undefined,
  err: unknown,
  label: string,
  exitCode: number,
): Promise<never> {
  const body = toErrorBody(err);
  log('ERROR', `${label} \t${JSON.stringify(body)}`);
  if (requestId === undefined) await client.initError(body.errorType, JSON.stringify(body)).catch(() => undefined);
  else await client.error(requestId, JSON.stringify(body)).catch(() => undefined);
  process.exit(exitCode);
}

function isStreaming(handler: Handler): boolean {
  return (handler as unknown as Record<symbol, unknown>)[STREAMING_SYMBOL] === 'response';
}

main();
