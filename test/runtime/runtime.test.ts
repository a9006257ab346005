/**
 * The Lambkin runtime as users get it: built into a managed-runtime directory (bootstrap + bundle), mounted at
 * /var/runtime with Node 24 at /var/lang, running handler fixtures in real bwrap sandboxes.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { buildRuntimeDir } from '../../src/cli/commands/runtime-build.ts';
import { startEngine, type Harness } from '../engine/harness.ts';

const FUNCTIONS = resolve(import.meta.dirname, '../fixtures/functions');
let built: Promise<string> | null = null;

function runtimeDir(): Promise<string> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-runtime-'));
    await chmod(dir, 0o755);
    process.on('exit', () => {
      void rm(dir, { recursive: true, force: true });
    });
    await buildRuntimeDir(join(dir, 'runtime'));
    return join(dir, 'runtime');
  })();
  return built;
}

async function engine(t: TestContext): Promise<Harness> {
  return startEngine(t, { managedRuntimeDir: await runtimeDir(), langDir: dirname(dirname(process.execPath)) });
}

const run = async (
  h: Harness,
  fixture: string,
  handler: string,
  payload: unknown,
  runtime = 'nodejs24.x',
  tail = false,
  logFormat: 'Text' | 'JSON' = 'Text',
) =>
  h.invoke(
    h.spec({
      name: `${fixture}-${handler.replace(/\W/g, '-')}-${runtime.replace(/\W/g, '')}`.slice(0, 64),
      code: join(FUNCTIONS, fixture),
      layers: [],
      handler,
      runtime,
      logFormat,
      ...(logFormat === 'JSON' ? { applicationLogLevel: 'INFO' } : {}),
    }),
    payload,
    tail,
  );

const json = (b: Buffer): unknown => JSON.parse(b.toString());

test('runtime: TypeScript with enums, namespaces, parameter properties and extensionless/.js imports', async (t) => {
  const h = await engine(t);
  const r = await run(h, 'ts-enum', 'index.handler', { name: 'lamb' });
  assert.equal(r.functionError, undefined, r.payload.toString());
  assert.deepEqual(json(r.payload), { color: 'green', greeting: 'HELLO LAMB', version: 2 });
  const failed = await run(h, 'ts-enum', 'index.handler', { fail: true });
  assert.equal(failed.functionError, 'Unhandled');
  const body = json(failed.payload) as { errorType: string; errorMessage: string; trace: string[] };
  assert.equal(body.errorType, 'Error');
  assert.equal(body.errorMessage, 'failed on purpose');
  assert.match(body.trace[1] ?? '', /\/var\/task\/index\.ts:26:\d+/, 'the stack points at the .ts line');
});

test('runtime: ESM, CommonJS callbacks (nodejs22.x), nested handler paths', async (t) => {
  const h = await engine(t);
  assert.deepEqual(json((await run(h, 'esm-async', 'index.handler', { a: 1 })).payload), { esm: true, got: { a: 1 } });
  assert.deepEqual(json((await run(h, 'cjs-callback', 'index.handler', { b: 2 }, 'nodejs22.x')).payload), {
    cjs: true,
    got: { b: 2 },
    remaining: true,
  });
  assert.deepEqual(json((await run(h, 'cjs-callback', 'index.viaSucceed', 3, 'nodejs22.x')).payload), { succeeded: 3 });
  assert.equal((await run(h, 'nested', 'dir/sub/file.deep.handler', {})).payload.toString(), '"nested ok"');
});

test('runtime: init errors reach the caller with the Lambda error types', async (t) => {
  const h = await engine(t);
  const cases: [string, string, string, RegExp][] = [
    ['missing-handler', 'index.handler', 'Runtime.HandlerNotFound', /index\.handler is undefined or not exported/],
    ['missing-handler', 'index.other.deeper', 'Runtime.HandlerNotFound', /is undefined or not exported/],
    ['missing-handler', 'nohandler', 'Runtime.MalformedHandlerName', /Bad handler/],
    ['missing-handler', '../index.handler', 'Runtime.MalformedHandlerName', /is not a valid handler name/],
    ['missing-handler', 'nofile.handler', 'Runtime.ImportModuleError', /Cannot find module 'nofile'/],
    ['syntax-error', 'index.handler', 'Runtime.UserCodeSyntaxError', /SyntaxError/],
    ['import-error', 'index.handler', 'Error', /Cannot find package 'this-package-does-not-exist'/],
    ['import-error', 'cjs.handler', 'Runtime.ImportModuleError', /Cannot find module 'this-package-does-not-exist'/],
    ['callback-on-24', 'index.handler', 'Runtime.CallbackHandlerDeprecated', /removed support for callback-based/],
  ];
  for (const [fixture, handler, type, message] of cases) {
    const r = await run(h, fixture, handler, {});
    assert.equal(r.functionError, 'Unhandled', `${fixture} ${handler}`);
    const body = json(r.payload) as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, type, `${fixture} ${handler}: ${r.payload.toString()}`);
    assert.match(body.errorMessage, message);
  }
});

test('runtime: thrown values of every kind are serialised, never crashing the runtime', async (t) => {
  const h = await engine(t);
  assert.deepEqual(
    (json((await run(h, 'throws', 'index.error', {})).payload) as { errorType: string }).errorType,
    'TypeError',
  );
  assert.deepEqual(json((await run(h, 'throws', 'index.string', {})).payload), {
    errorType: 'string',
    errorMessage: 'just a string',
    trace: [],
  });
  const circular = json((await run(h, 'throws', 'index.circular', {})).payload) as { errorType: string };
  assert.equal(circular.errorType, 'object');
  const unserializable = json((await run(h, 'throws', 'index.unserializable', {})).payload) as {
    errorType: string;
    errorMessage: string;
  };
  assert.deepEqual(
    [unserializable.errorType, unserializable.errorMessage],
    ['Runtime.JSONStringifyError', 'Unable to stringify response body'],
  );
});

test('runtime: the context object and _X_AMZN_TRACE_ID; Node 24 from /var/lang', async (t) => {
  const h = await engine(t);
  const r = await run(h, 'context-dump', 'index.handler', {});
  const ctx = json(r.payload) as Record<string, unknown>;
  assert.equal(ctx.awsRequestId, r.requestId);
  assert.equal(
    ctx.invokedFunctionArn,
    'arn:aws:lambda:us-east-1:000000000000:function:context-dump-index-handler-nodejs24x',
  );
  assert.equal(ctx.functionName, 'context-dump-index-handler-nodejs24x');
  assert.equal(ctx.functionVersion, '$LATEST');
  assert.equal(ctx.memoryLimitInMB, '128');
  assert.equal(ctx.logGroupName, '/aws/lambda/context-dump-index-handler-nodejs24x');
  assert.match(String(ctx.logStreamName), /\[\$LATEST\][0-9a-f]{32}$/);
  assert.ok(Number(ctx.remaining) > 0 && Number(ctx.remaining) <= 3000);
  assert.match(String(ctx.trace), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  assert.match(String(ctx.node), /^v24\./);
  assert.equal(ctx.executionEnv, 'AWS_Lambda_nodejs24.x');
});

test('runtime: console output in the AWS text format, one event per call', async (t) => {
  const h = await engine(t);
  const r = await run(h, 'logging', 'index.handler', {}, 'nodejs24.x', true);
  const tail = r.logTail ?? '';
  const id = r.requestId;
  assert.match(
    tail,
    new RegExp(`\\n\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${id}\\tINFO\\tline one\\rline two\\n`),
  );
  assert.match(tail, new RegExp(`\\t${id}\\tWARN\\tcareful \\{ n: 1 \\}\\n`));
  assert.match(tail, new RegExp(`\\t${id}\\tERROR\\tError: logged error\\r    at `));
});

test('runtime: back-to-back warm invokes each keep their own output between their START and END', async (t) => {
  const h = await engine(t);
  const ids = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
  const seen: string[] = [];
  for (let i = 0; i < 150; i++) {
    const r = await run(h, 'logging', 'index.handler', {}, 'nodejs24.x', true);
    const tail = r.logTail ?? '';
    assert.match(tail, new RegExp(`\\t${r.requestId}\\tINFO\\tline one`), `invoke ${i} has its own output`);
    assert.deepEqual(new Set(tail.match(ids)), new Set([r.requestId]), `invoke ${i} has no other invoke's output`);
    seen.push(r.requestId);
  }
  // In the stream: START, then only lines of that request, then END and REPORT, for every invoke in turn.
  let current: string | null = null;
  const order: string[] = [];
  for (const l of await h.logLines('logging-index-handler-nodejs24x')) {
    const start = /^START RequestId: (\S+)/.exec(l);
    if (start !== null) {
      assert.equal(current, null, `START inside ${current ?? ''}`);
      current = start[1] ?? null;
      order.push(current ?? '');
      continue;
    }
    for (const id of l.match(ids) ?? []) assert.equal(id, current, `a line of ${id} outside its invoke: ${l}`);
    if (l.startsWith('REPORT ')) current = null;
  }
  assert.deepEqual(order, seen);
});

test('runtime: response streaming — chunks, HTTP-integration prelude, error trailers mid-stream', async (t) => {
  const h = await engine(t);
  const plain = await run(h, 'streaming', 'index.handler', {});
  assert.equal(plain.functionError, undefined, plain.payload.toString());
  assert.equal(plain.payload.toString(), 'hello stream');
  assert.equal(plain.contentType, 'text/plain');
  const http = await run(h, 'streaming', 'index.http', {});
  assert.equal(http.contentType, 'application/vnd.awslambda.http-integration-response');
  const nul = http.payload.indexOf(Buffer.alloc(8));
  assert.deepEqual(JSON.parse(http.payload.subarray(0, nul).toString()), {
    statusCode: 201,
    headers: { 'x-lamb': 'kin' },
    cookies: ['a=1'],
  });
  assert.equal(http.payload.subarray(nul + 8).toString(), 'body');
  const failed = await run(h, 'streaming', 'index.fails', {});
  assert.equal(failed.functionError, 'Unhandled');
  assert.deepEqual(
    [
      (json(failed.payload) as { errorType: string }).errorType,
      (json(failed.payload) as { errorMessage: string }).errorMessage,
    ],
    ['Error', 'mid-stream'],
  );
});

test('runtime: uncaught errors — reported then exit 129/128 on nodejs22.x, a plain crash on nodejs24.x', async (t) => {
  const h = await engine(t);
  const legacy = json((await run(h, 'crashes', 'index.uncaught', {}, 'nodejs22.x')).payload) as {
    errorType: string;
    errorMessage: string;
  };
  assert.deepEqual([legacy.errorType, legacy.errorMessage], ['Error', 'async boom']);
  const rejection = json((await run(h, 'crashes', 'index.rejection', {}, 'nodejs22.x')).payload) as {
    errorType: string;
    errorMessage: string;
  };
  assert.equal(rejection.errorType, 'Runtime.UnhandledPromiseRejection');
  assert.match(rejection.errorMessage, /nobody caught me/);
  const modern = json((await run(h, 'crashes', 'index.uncaught', {}, 'nodejs24.x')).payload) as {
    errorType: string;
    errorMessage: string;
  };
  assert.equal(modern.errorType, 'Runtime.ExitError');
  assert.match(modern.errorMessage, /exit status 1$/);
});

test('runtime: JSON log format with the application log level (LoggingConfig)', async (t) => {
  const h = await engine(t);
  const r = await run(h, 'crashes', 'index.logs', {}, 'nodejs24.x', true, 'JSON');
  assert.equal(r.payload.toString(), '"json logged"');
  const records = (r.logTail ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    records.map((x) => x.level),
    ['INFO', 'ERROR'],
  );
  assert.equal(records[0]?.message, 'info kept');
  assert.equal(records[0]?.requestId, r.requestId);
  assert.match(String(records[0]?.timestamp), /^\d{4}-\d\d-\d\dT/);
  // One Error argument: the message is the error itself, described (as AWS's client does).
  const logged = records[1]?.message as Record<string, unknown>;
  assert.equal(logged.errorType, 'TypeError');
  assert.equal(logged.errorMessage, 'typed');
});

test('runtime: a handler typed with @types/aws-lambda runs as written', async (t) => {
  const h = await engine(t);
  const r = await run(h, 'typed', 'index.handler', { rawPath: '/lamb' });
  assert.deepEqual(json(r.payload), {
    statusCode: 200,
    body: JSON.stringify({ path: '/lamb', fn: 'typed-index-handler-nodejs24x' }),
  });
});

test('runtime: callbackWaitsForEmptyEventLoop — true waits for pending timers, false answers at once (nodejs22.x)', async (t) => {
  const h = await engine(t);
  const waited = await run(h, 'cjs-callback', 'index.waits', { wait: true }, 'nodejs22.x', true);
  assert.equal(waited.payload.toString(), '"answered"');
  assert.match(waited.logTail ?? '', /timer fired[\s\S]*END RequestId/, 'the timer ran before the invocation ended');
  const spec = h.spec({
    name: 'no-wait',
    code: join(FUNCTIONS, 'cjs-callback'),
    layers: [],
    handler: 'index.waits',
    runtime: 'nodejs22.x',
  });
  const quick = await h.invoke(spec, { wait: false }, true);
  assert.equal(quick.payload.toString(), '"answered"');
  assert.doesNotMatch(quick.logTail ?? '', /timer fired/, 'answered (and ended) before the timer fired');
});

test('runtime: package.json "type": "module" makes .js ESM; .cts is CommonJS TypeScript; tsconfig paths are ignored', async (t) => {
  const h = await engine(t);
  assert.deepEqual(json((await run(h, 'package-type-module', 'index.handler', {})).payload), { esm: true });
  assert.deepEqual(json((await run(h, 'ts-commonjs', 'index.handler', {})).payload), { cjs: true, answer: 42 });
});
