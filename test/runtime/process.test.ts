/**
 * The Lambkin runtime end to end: the real runtime process (built bundle through its bootstrap, or the sources)
 * against the real Runtime API server on 127.0.0.1:0, handler fixtures from test/fixtures/functions. Each test checks
 * what was posted (bodies, error types) and what the runtime printed (log lines, exit status).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InvocationOutcome } from '../../src/platform/runtime-api/types.ts';
import { json, startRuntime, TRACE_ID, workspace } from './harness.ts';

type Body = Record<string, unknown> & { errorType?: string; errorMessage?: string; trace?: string[] };
const body = (o: InvocationOutcome): Body => json(o) as Body;
const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

function expectKind<K extends InvocationOutcome['kind']>(
  o: InvocationOutcome,
  kind: K,
): asserts o is Extract<InvocationOutcome, { kind: K }> {
  const detail = 'body' in o ? o.body.toString().slice(0, 500) : JSON.stringify(o);
  assert.equal(o.kind, kind, detail);
}

test('process: ESM async handler — JSON result, the same process for every invocation, quiet stdout', async (t) => {
  const rt = await startRuntime(t, { fixture: 'esm-async', handler: 'index.handler' });
  const first = await rt.invoke({ a: [1, 2, { b: null }] });
  expectKind(first, 'response');
  assert.equal(first.body.toString(), '{"esm":true,"got":{"a":[1,2,{"b":null}]}}');
  assert.equal(first.contentType, 'application/json');
  assert.equal(first.streamed, false);
  const second = await rt.invoke('text');
  expectKind(second, 'response');
  assert.equal(second.body.toString(), '{"esm":true,"got":"text"}');
  assert.equal(rt.child.exitCode, null);
  assert.equal(rt.stdout(), '');
  assert.equal(rt.stderr(), '');
});

test('process: TypeScript with enums, namespaces, parameter properties; extensionless and .js imports; .ts lines in traces', async (t) => {
  for (const entry of ['bundle', 'source'] as const) {
    const rt = await startRuntime(t, { fixture: 'ts-enum', handler: 'index.handler', entry });
    const ok = await rt.invoke({ name: 'lamb' });
    assert.equal(rt.stderr(), '', `${entry}: no warnings in the function's logs`);
    expectKind(ok, 'response');
    assert.deepEqual(json(ok), { color: 'green', greeting: 'HELLO LAMB', version: 2 }, entry);
    const failed = await rt.invoke({ fail: true });
    expectKind(failed, 'error');
    const b = body(failed);
    assert.deepEqual([b.errorType, b.errorMessage], ['Error', 'failed on purpose']);
    assert.match(b.trace?.[1] ?? '', /ts-enum\/index\.ts:26:\d+\)?$/, `${entry}: the stack points at the .ts line`);
    assert.match(rt.stdout(), new RegExp(`^${ISO}\t${failed.requestId}\tERROR\tInvoke Error \t\\{"errorType":"Error"`));
  }
});

test('process: CommonJS TypeScript (.cts) and package.json "type": "module" (.js as ESM)', async (t) => {
  const cts = await startRuntime(t, { fixture: 'ts-commonjs', handler: 'index.handler' });
  assert.deepEqual(json(await cts.invoke({})), { cjs: true, answer: 42 });
  const esm = await startRuntime(t, { fixture: 'package-type-module', handler: 'index.handler' });
  assert.deepEqual(json(await esm.invoke({})), { esm: true });
});

test('process: nested handler paths (dir/sub/file.prop.fn)', async (t) => {
  const rt = await startRuntime(t, { fixture: 'nested-path', handler: 'dir/sub/file.handler' });
  assert.deepEqual(json(await rt.invoke({ x: 1 })), { nested: true, event: { x: 1 } });
  const deep = await startRuntime(t, { fixture: 'nested-path', handler: 'dir/sub/file.deep.inner.handler' });
  assert.equal((await deep.invoke({})).kind, 'response');
});

test('process: init errors — posted to /init/error with the type header, logged, then exit 1 (nodejs24.x)', async (t) => {
  const ws = await workspace();
  const cases: [string, string, string, RegExp | string][] = [
    ['missing-handler', 'index.handler', 'Runtime.HandlerNotFound', 'index.handler is undefined or not exported'],
    [
      'missing-handler',
      'index.other.deeper',
      'Runtime.HandlerNotFound',
      'index.other.deeper is undefined or not exported',
    ],
    ['not-a-function', 'index.handler', 'Runtime.HandlerNotFound', 'index.handler is not a function'],
    ['not-a-function', 'index.zero', 'Runtime.HandlerNotFound', 'index.zero is undefined or not exported'],
    ['missing-handler', 'nohandler', 'Runtime.MalformedHandlerName', 'Bad handler'],
    ['missing-handler', '../index.handler', 'Runtime.MalformedHandlerName', /^'\.\.\/index\.handler' is not a valid/],
    [
      'missing-handler',
      'nofile.handler',
      'Runtime.ImportModuleError',
      `Error: Cannot find module 'nofile'\nRequire stack:\n- ${ws.runtime}/index.mjs`,
    ],
    ['syntax-error', 'index.handler', 'Runtime.UserCodeSyntaxError', /^SyntaxError: /],
    ['import-error', 'index.handler', 'Error', /^Cannot find package 'this-package-does-not-exist' imported from /],
    [
      'import-error',
      'cjs.handler',
      'Runtime.ImportModuleError',
      /^Error: Cannot find module 'this-package-does-not-exist'/,
    ],
    ['top-level-throw', 'index.handler', 'ConfigError', 'DATABASE_URL is not set'],
    [
      'callback-on-24',
      'index.handler',
      'Runtime.CallbackHandlerDeprecated',
      /^ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node\.js 24\./,
    ],
  ];
  for (const [fixture, handler, type, message] of cases) {
    const rt = await startRuntime(t, { fixture, handler });
    const posted = await rt.initError;
    const label = `${fixture} ${handler}`;
    assert.equal(posted.errorType, type, label);
    const b = JSON.parse(posted.body.toString()) as Body;
    assert.deepEqual(Object.keys(b), ['errorType', 'errorMessage', 'trace'], label);
    assert.equal(b.errorType, type, label);
    if (typeof message === 'string') assert.equal(b.errorMessage, message, label);
    else assert.match(String(b.errorMessage), message, label);
    assert.deepEqual(await rt.exited, { code: 1, signal: null }, label);
    assert.match(
      rt.stdout(),
      new RegExp(`^${ISO}\t-\tERROR\tInit Error \t\\{"errorType":"${type.replace('.', '\\.')}"`),
      label,
    );
    assert.match(rt.stderr(), /Node\.js v\d+/, label);
  }
});

test('process: init errors on nodejs22.x — logged as an Uncaught Exception, request id undefined, exit 129', async (t) => {
  const rt = await startRuntime(t, { fixture: 'missing-handler', handler: 'index.handler', runtime: 'nodejs22.x' });
  assert.equal((await rt.initError).errorType, 'Runtime.HandlerNotFound');
  assert.deepEqual(await rt.exited, { code: 129, signal: null });
  assert.match(
    rt.stdout(),
    new RegExp(`^${ISO}\tundefined\tERROR\tUncaught Exception \t\\{"errorType":"Runtime\\.HandlerNotFound"`),
  );
  const callbacks = await startRuntime(t, {
    fixture: 'callback-on-24',
    handler: 'index.handler',
    runtime: 'nodejs22.x',
  });
  assert.equal((await callbacks.invoke({})).kind, 'response', 'callback handlers are fine before nodejs24.x');
});

test('process: thrown values of every kind are posted as {errorType, errorMessage, trace} and logged', async (t) => {
  const rt = await startRuntime(t, { fixture: 'throw-non-error', handler: 'index.string' });
  const outcome = await rt.invoke({});
  expectKind(outcome, 'error');
  assert.deepEqual(body(outcome), { errorType: 'string', errorMessage: 'just a string', trace: [] });
  assert.match(
    rt.stdout(),
    new RegExp(
      `^${ISO}\t${outcome.requestId}\tERROR\tInvoke Error \t\\{"errorType":"Error","errorMessage":"just a string","stack":\\["Error: just a string"`,
    ),
  );
  const expected: Record<string, Body> = {
    object: { errorType: 'object', errorMessage: '[object Object]', trace: [] },
    circular: { errorType: 'object', errorMessage: '[object Object]', trace: [] },
    nullish: { errorType: 'object', errorMessage: 'null', trace: [] },
    noPrototype: {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    },
  };
  for (const [handler, want] of Object.entries(expected)) {
    const each = await startRuntime(t, { fixture: 'throw-non-error', handler: `index.${handler}` });
    const o = await each.invoke({});
    expectKind(o, 'error');
    assert.deepEqual(body(o), want, handler);
  }
  const props = await startRuntime(t, { fixture: 'throw-non-error', handler: 'index.errorWithProps' });
  const p = await props.invoke({});
  expectKind(p, 'error');
  assert.deepEqual([body(p).errorType, body(p).errorMessage], ['RangeError', 'out of range']);
  assert.match(
    props.stdout(),
    /Invoke Error \t\{"errorType":"RangeError","errorMessage":"out of range","code":"E_RANGE","details":\{"limit":10\},"stack":\[/,
  );
  const huge = await startRuntime(t, { fixture: 'throw-non-error', handler: 'index.huge' });
  const h = await huge.invoke({});
  expectKind(h, 'error');
  assert.ok(h.body.length < 700_000, `a 1 MB message is cut (${h.body.length} bytes)`);
  assert.match(String(body(h).errorMessage), /^x+… \[truncated \d+ characters\]$/);
});

test('process: results that JSON cannot express — Runtime.JSONStringifyError (24.x), a plain Error (22.x)', async (t) => {
  for (const [runtime, type] of [
    ['nodejs24.x', 'Runtime.JSONStringifyError'],
    ['nodejs22.x', 'Error'],
  ] as const) {
    for (const handler of ['index.unserializable', 'index.bigint']) {
      const rt = await startRuntime(t, { fixture: 'throw-non-error', handler, runtime });
      const o = await rt.invoke({});
      expectKind(o, 'error');
      assert.deepEqual([body(o).errorType, body(o).errorMessage], [type, 'Unable to stringify response body'], handler);
    }
  }
});

test('process: nodejs24.x — an unhandled rejection or uncaught exception is Node’s own crash: exit 1, nothing posted', async (t) => {
  for (const handler of ['index.rejection', 'index.uncaught']) {
    const rt = await startRuntime(t, { fixture: 'unhandled-rejection', handler });
    const o = await rt.invoke({});
    assert.deepEqual(o.kind === 'aborted' ? o.reason : o.kind, 'exit', handler);
    assert.deepEqual(await rt.exited, { code: 1, signal: null }, handler);
    assert.match(rt.stderr(), handler === 'index.rejection' ? /nobody caught me/ : /async boom/);
  }
});

test('process: nodejs22.x — unhandled rejection posted as Runtime.UnhandledPromiseRejection then exit 128; uncaught exception exit 129', async (t) => {
  const rejection = await startRuntime(t, {
    fixture: 'unhandled-rejection',
    handler: 'index.rejection',
    runtime: 'nodejs22.x',
  });
  const r = await rejection.invoke({});
  expectKind(r, 'error');
  assert.deepEqual(
    [body(r).errorType, body(r).errorMessage],
    ['Runtime.UnhandledPromiseRejection', 'Error: nobody caught me'],
  );
  assert.deepEqual(await rejection.exited, { code: 128, signal: null });
  assert.match(
    rejection.stdout(),
    /\tERROR\tUnhandled Promise Rejection \t\{"errorType":"Runtime\.UnhandledPromiseRejection"/,
  );
  const uncaught = await startRuntime(t, {
    fixture: 'unhandled-rejection',
    handler: 'index.uncaught',
    runtime: 'nodejs22.x',
  });
  const u = await uncaught.invoke({});
  expectKind(u, 'error');
  assert.deepEqual([body(u).errorType, body(u).errorMessage], ['TypeError', 'async boom']);
  assert.deepEqual(await uncaught.exited, { code: 129, signal: null });
  assert.match(uncaught.stdout(), /\tERROR\tUncaught Exception \t\{"errorType":"TypeError"/);
});

test('process: a handler that never settles — the platform times it out; with nothing left to do Node exits (24.x) or NodeJsExit (22.x)', async (t) => {
  const busy = await startRuntime(t, { fixture: 'timeout', handler: 'index.handler' });
  const o = await busy.invoke({}, { timeoutMs: 500 });
  assert.deepEqual(o.kind === 'aborted' ? o.reason : o.kind, 'timeout');
  assert.equal(busy.child.exitCode, null, 'still running: the platform kills it');
  const idle = await startRuntime(t, { fixture: 'timeout', handler: 'index.hang' });
  const i = await idle.invoke({});
  assert.deepEqual(i.kind === 'aborted' ? i.reason : i.kind, 'exit');
  assert.deepEqual(await idle.exited, { code: 0, signal: null });
  const legacy = await startRuntime(t, { fixture: 'timeout', handler: 'index.hang', runtime: 'nodejs22.x' });
  const l = await legacy.invoke({});
  expectKind(l, 'error');
  assert.equal(body(l).errorType, 'Runtime.NodeJsExit');
  const sync = await startRuntime(t, { fixture: 'timeout', handler: 'index.sync', runtime: 'nodejs22.x' });
  const s = await sync.invoke({});
  expectKind(s, 'response');
  assert.equal(s.body.toString(), 'null', 'a non-async handler that never calls back succeeds with null');
});

test('process: nodejs22.x callbacks — callback, context.succeed, first call wins, callbackWaitsForEmptyEventLoop', async (t) => {
  const rt = await startRuntime(t, { fixture: 'cjs-callback', handler: 'index.handler', runtime: 'nodejs22.x' });
  assert.deepEqual(json(await rt.invoke({ b: 2 })), { cjs: true, got: { b: 2 }, remaining: true });
  const succeed = await startRuntime(t, {
    fixture: 'cjs-callback',
    handler: 'index.viaSucceed',
    runtime: 'nodejs22.x',
  });
  assert.deepEqual(json(await succeed.invoke(3)), { succeeded: 3 });
  const waits = await startRuntime(t, { fixture: 'cjs-callback', handler: 'index.waits', runtime: 'nodejs22.x' });
  const waited = await waits.invoke({ wait: true });
  assert.equal(waited.kind === 'response' ? waited.body.toString() : waited.kind, '"answered"');
  assert.match(waits.stdout(), /\tINFO\ttimer fired\n$/, 'the result waited for the timer');
  const quick = await startRuntime(t, { fixture: 'cjs-callback', handler: 'index.waits', runtime: 'nodejs22.x' });
  const answered = await quick.invoke({ wait: false });
  assert.equal(answered.kind === 'response' ? answered.body.toString() : answered.kind, '"answered"');
  assert.equal(quick.stdout(), '', 'answered before the timer fired');
  const custom = await startRuntime(t, {
    fixture: 'cjs-callback',
    handler: 'index.viaSucceed',
    runtime: 'provided',
    env: { LAMBKIN_NODE_COMPAT: '3' },
  });
  assert.deepEqual(json(await custom.invoke(4)), { succeeded: 4 }, 'LAMBKIN_NODE_COMPAT=3 on a custom runtime');
});

test('process: the context object and _X_AMZN_TRACE_ID per invocation', async (t) => {
  const rt = await startRuntime(t, { fixture: 'context-dump', handler: 'index.handler' });
  const o = await rt.invoke(
    {},
    { clientContext: '{"custom":{"k":"v"}}', cognitoIdentity: '{"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"}' },
  );
  const ctx = json(o) as Record<string, unknown>;
  assert.deepEqual(ctx.keys, [
    'clientContext',
    'identity',
    'invokedFunctionArn',
    'awsRequestId',
    'tenantId',
    'xRayTraceId',
    'getRemainingTimeInMillis',
    'functionName',
    'functionVersion',
    'memoryLimitInMB',
    'logGroupName',
    'logStreamName',
  ]);
  assert.equal(ctx.awsRequestId, o.requestId);
  assert.equal(ctx.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:fn');
  assert.deepEqual(
    [ctx.functionName, ctx.functionVersion, ctx.memoryLimitInMB, ctx.logGroupName],
    ['fn', '$LATEST', '256', '/aws/lambda/fn'],
  );
  assert.equal(ctx.logStreamName, '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef');
  assert.ok(Number(ctx.remaining) > 8000 && Number(ctx.remaining) <= 10_000);
  assert.deepEqual(ctx.clientContext, { custom: { k: 'v' } });
  assert.deepEqual(ctx.identity, { cognitoIdentityId: 'i', cognitoIdentityPoolId: 'p' });
  assert.equal(ctx.hasXRayTraceId, true);
  assert.equal(ctx.trace, TRACE_ID);
  const untraced = json(await rt.invoke({}, { traceId: null })) as Record<string, unknown>;
  assert.equal(untraced.trace, undefined, '_X_AMZN_TRACE_ID is deleted when the invocation has no trace id');
  const legacy = await startRuntime(t, { fixture: 'context-dump', handler: 'index.handler', runtime: 'nodejs22.x' });
  const old = json(await legacy.invoke({})) as Record<string, unknown>;
  assert.deepEqual((old.keys as string[]).slice(0, 5), [
    'callbackWaitsForEmptyEventLoop',
    'succeed',
    'fail',
    'done',
    'functionVersion',
  ]);
  assert.equal(old.callbackWaitsForEmptyEventLoop, true);
  assert.equal(old.executionEnv, 'AWS_Lambda_nodejs22.x');
});

test('process: console in the AWS text format — one record per call, \\n kept as \\r, every level', async (t) => {
  const rt = await startRuntime(t, { fixture: 'logging', handler: 'index.handler' });
  const o = await rt.invoke({});
  assert.equal(o.kind === 'response' ? o.body.toString() : o.kind, '"logged"');
  const id = o.requestId;
  const lines = rt.lines().map((l) => l.replace(new RegExp(`^${ISO}\t`), '<time>\t'));
  assert.equal(lines.length, 8, rt.stdout());
  assert.equal(lines[0], `<time>\t${id}\tINFO\tline one\rline two`);
  assert.equal(lines[1], `<time>\t${id}\tWARN\tcareful { n: 1 }`);
  assert.match(lines[2] ?? '', new RegExp(`^<time>\t${id}\tERROR\tError: logged error\r    at `));
  assert.equal(lines[3], `<time>\t${id}\tINFO\t{ structured: true, list: [ 1, 2 ] }`);
  assert.equal(lines[4], `<time>\t${id}\tDEBUG\tdebug detail`);
  assert.equal(lines[5], `<time>\t${id}\tTRACE\ttrace level`);
  assert.equal(lines[6], `<time>\t${id}\tFATAL\tfatal level`);
  assert.equal(lines[7], `<time>\t${id}\tINFO\tundefined`);
  const init = await startRuntime(t, { fixture: 'init-logging', handler: 'index.handler' });
  const first = await init.invoke({});
  const initLines = init.lines();
  assert.match(initLines[0] ?? '', new RegExp(`^${ISO}\t-\tINFO\tat init$`), 'before the first invocation: -');
  assert.match(initLines[1] ?? '', /\t-\tERROR\tinit Error: init-time error\r {4}at /);
  assert.match(initLines[2] ?? '', new RegExp(`\t${first.requestId}\tINFO\tin handler$`));
  const legacy = await startRuntime(t, { fixture: 'init-logging', handler: 'index.handler', runtime: 'nodejs22.x' });
  await legacy.invoke({});
  assert.match(legacy.lines()[0] ?? '', /\tundefined\tINFO\tat init$/, 'nodejs22.x: undefined');
});

test('process: JSON logs (AWS_LAMBDA_LOG_FORMAT=JSON) with AWS_LAMBDA_LOG_LEVEL filtering', async (t) => {
  const rt = await startRuntime(t, {
    fixture: 'logging',
    handler: 'index.handler',
    env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'INFO' },
  });
  const o = await rt.invoke({});
  const records = rt.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    records.map((r) => r.level),
    ['INFO', 'WARN', 'ERROR', 'INFO', 'FATAL', 'INFO'],
    'DEBUG and TRACE dropped at INFO',
  );
  for (const r of records) {
    assert.equal(r.requestId, o.requestId);
    assert.match(String(r.timestamp), new RegExp(`^${ISO}$`));
  }
  assert.deepEqual(Object.keys(records[0] ?? {}), ['timestamp', 'level', 'requestId', 'message']);
  assert.equal(records[0]?.message, 'line one\nline two');
  assert.equal(records[1]?.message, 'careful { n: 1 }');
  const error = records[2]?.message as Record<string, unknown>;
  assert.deepEqual([error.errorType, error.errorMessage], ['Error', 'logged error']);
  assert.ok(Array.isArray(error.stackTrace));
  assert.deepEqual(records[3]?.message, { structured: true, list: [1, 2] });
  assert.equal('message' in (records[5] ?? {}), false, 'console.log() has no message');
  const invokeError = await startRuntime(t, {
    fixture: 'throw-non-error',
    handler: 'index.errorWithProps',
    env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' },
  });
  await invokeError.invoke({});
  const record = JSON.parse(invokeError.lines()[0] ?? '{}') as { level: string; message: Record<string, unknown> };
  assert.equal(record.level, 'ERROR');
  assert.deepEqual(
    [record.message.errorType, record.message.errorMessage, record.message.code],
    ['RangeError', 'out of range', 'E_RANGE'],
  );
});

test('process: response streaming — chunked POST, HTTP-integration prelude, pipeline, error trailers', async (t) => {
  const rt = await startRuntime(t, { fixture: 'streaming', handler: 'index.handler' });
  const chunks: string[] = [];
  const plain = await rt.invoke(
    {},
    {
      onChunk: (c) => {
        chunks.push(c.toString());
        return undefined;
      },
    },
  );
  expectKind(plain, 'response');
  assert.equal(chunks.join(''), 'hello stream');
  assert.equal(plain.body.length, 0, 'the chunks went to onChunk, not into the outcome');
  assert.equal(plain.contentType, 'text/plain');
  assert.equal(plain.streamed, true);
  assert.ok(chunks.length >= 2, `arrived in chunks: ${JSON.stringify(chunks)}`);
  const run = async (handler: string): Promise<InvocationOutcome & { stdout: string }> => {
    const each = await startRuntime(t, { fixture: 'streaming', handler: `index.${handler}` });
    return { ...(await each.invoke({ e: 1 })), stdout: each.stdout() };
  };
  const http = await run('http');
  expectKind(http, 'response');
  assert.equal(http.contentType, 'application/vnd.awslambda.http-integration-response');
  const nul = http.body.indexOf(Buffer.alloc(8));
  assert.deepEqual(JSON.parse(http.body.subarray(0, nul).toString()), {
    statusCode: 201,
    headers: { 'x-lamb': 'kin' },
    cookies: ['a=1'],
  });
  assert.equal(http.body.subarray(nul + 8).toString(), 'body');
  const piped = await run('piped');
  assert.equal(piped.kind === 'response' ? piped.body.toString() : piped.kind, 'abc{"e":1}');
  const objects = await run('objects');
  assert.equal(objects.kind === 'response' ? objects.body.toString() : objects.kind, '{"json":true}');
  const failed = await run('fails');
  expectKind(failed, 'error');
  assert.deepEqual([body(failed).errorType, body(failed).errorMessage], ['Error', 'mid-stream']);
  assert.match(failed.stdout, /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"mid-stream"/);
  const late = await run('lateContentType');
  expectKind(late, 'error');
  assert.deepEqual(
    [body(late).errorType, body(late).errorMessage],
    ['Runtime.InvalidStreamingOperation', 'Cannot set content-type, too late.'],
  );
  const notAsync = await run('notAsync');
  expectKind(notAsync, 'error');
  assert.equal(body(notAsync).errorMessage, 'Streaming does not support non-async handlers.');
  const returns = await run('returnsValue');
  assert.equal(returns.kind === 'response' ? returns.body.toString() : returns.kind, 'done');
  assert.match(returns.stdout, /\tWARN\tStreaming handlers ignore return values\.\n$/);
});

test('process: large responses — ~5 MB is returned; over 6 MB is refused and the runtime goes on', async (t) => {
  const rt = await startRuntime(t, { fixture: 'large-response', handler: 'index.handler' });
  const big = await rt.invoke({ size: 5_000_000 });
  expectKind(big, 'response');
  assert.ok(big.body.length > 5_000_000 && big.body.length < 6_291_556);
  const tooBig = await rt.invoke({ size: 7_000_000 });
  assert.equal(tooBig.kind, 'too-large');
  const after = await rt.invoke({ size: 10 });
  assert.equal(after.kind === 'response' ? after.body.toString() : after.kind, '{"size":10,"data":"xxxxxxxxxx"}');
});

test('process: the bootstrap says why it cannot start without node (exit 127)', async (t) => {
  const rt = await startRuntime(t, { fixture: 'esm-async', handler: 'index.handler', env: { PATH: '/nonexistent' } });
  assert.deepEqual(await rt.exited, { code: 127, signal: null });
  assert.match(
    rt.stderr(),
    /^lambkin runtime: no node found: build the layer with 'lambkin runtime build --with-node'/,
  );
});

test('process: a node older than 22.18 on PATH is refused in one line (exit 127)', async (t) => {
  let version = '';
  try {
    version = execFileSync('/usr/bin/node', ['--version']).toString().trim();
  } catch {
    t.skip('no /usr/bin/node on this machine');
    return;
  }
  const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) {
    t.skip(`/usr/bin/node is ${version}`);
    return;
  }
  const rt = await startRuntime(t, { fixture: 'esm-async', handler: 'index.handler', env: { PATH: '/usr/bin:/bin' } });
  assert.deepEqual(await rt.exited, { code: 127, signal: null });
  assert.equal(
    rt.stderr(),
    `lambkin runtime: node ${version} is too old: it needs Node 22.18 or newer (or build the layer with 'lambkin runtime build --with-node')\n`,
  );
});

test('process: the bootstrap gives node the function’s heap limits (as AWS), unless NODE_OPTIONS sets them', async (t) => {
  const rt = await startRuntime(t, { fixture: 'esm-async', handler: 'index.handler' });
  await rt.ready;
  const args = execFileSync('ps', ['-o', 'args=', '-p', String(rt.child.pid)]).toString();
  assert.match(args, /--max-semi-space-size=12 --max-old-space-size=231 /);
  const own = await startRuntime(t, {
    fixture: 'esm-async',
    handler: 'index.handler',
    env: { NODE_OPTIONS: '--max-old-space-size=100' },
  });
  await own.ready;
  assert.doesNotMatch(execFileSync('ps', ['-o', 'args=', '-p', String(own.child.pid)]).toString(), /max-semi/);
});

test('process: compiled TypeScript is read from (and, when writable, kept in) LAMBKIN_COMPILE_CACHE; a warm cache needs no compiler', async (t) => {
  const cache = await mkdtemp(join(tmpdir(), 'lambkin-cache-'));
  t.after(() => rm(cache, { recursive: true, force: true }));
  for (const round of ['cold', 'warm']) {
    const rt = await startRuntime(t, {
      fixture: 'ts-enum',
      handler: 'index.handler',
      env: { LAMBKIN_COMPILE_CACHE: cache },
    });
    assert.deepEqual(json(await rt.invoke({ name: round })), {
      color: 'green',
      greeting: `HELLO ${round.toUpperCase()}`,
      version: 2,
    });
    const failed = await rt.invoke({ fail: true });
    expectKind(failed, 'error');
    assert.match(body(failed).trace?.[1] ?? '', /ts-enum\/index\.ts:26:\d+\)?$/, `${round}: still the .ts line`);
  }
  const entries = await readdir(cache);
  assert.deepEqual(
    entries.sort().map((e) => e.replace(/^ts-v[\d.]+-\d+$/, 'ts')),
    ['ts'],
  );
  const tsDir = join(cache, entries.find((e) => e.startsWith('ts-')) ?? '');
  const files = await Promise.all((await readdir(tsDir)).map((f) => readFile(join(tsDir, f), 'utf8')));
  assert.equal(files.length, 3, 'index.ts and its two imports');
  const erasable = files.filter((f) => !f.includes('sourceMappingURL'));
  assert.equal(erasable.length, 2, 'erasable files are stripped in place, without a source map');
  const typed = await startRuntime(t, {
    fixture: 'typed',
    handler: 'index.handler',
    env: { LAMBKIN_COMPILE_CACHE: cache },
  });
  assert.deepEqual(json(await typed.invoke({ rawPath: '/p' })), { statusCode: 200, body: '{"path":"/p","fn":"fn"}' });
});
