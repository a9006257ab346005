/**
 * The Lambkin runtime's pure parts: handler grammar, file search order, the error serializer, log line formats,
 * the context object, which AWS client version is followed.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clientVersion } from '../../src/runtime/client-version.ts';
import { formatJsonLine, formatTextLine, logOptions } from '../../src/runtime/console-patch.ts';
import { createContext, createLegacyContext, forwardTraceId } from '../../src/runtime/context.ts';
import {
  errorJson,
  formatError,
  intoError,
  MAX_MESSAGE_CHARS,
  MAX_TRACE_LINES,
  toFormatted,
  xrayCause,
} from '../../src/runtime/errors.ts';
import {
  classifyLoadError,
  EXTENSIONS,
  findIn,
  findModuleFile,
  parseHandler,
} from '../../src/runtime/handler-loader.ts';
import { formatOf, hash, hasModuleSyntax, typeScriptCandidates } from '../../src/runtime/typescript.ts';
import { cacheEntry, entryModuleSyntax } from '../../src/protocol/typescript-cache.ts';
import { parseRuntimeApi, ResponseParser } from '../../src/runtime/runtime-api-client.ts';
import { serializeResult } from '../../src/runtime/invocation.ts';

const thrown = (fn: () => unknown): { name: string; message: string } => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
};

test('handler grammar: the last segment splits at its first dot; the rest is the module root', () => {
  assert.deepEqual(parseHandler('index.handler'), {
    full: 'index.handler',
    moduleRoot: '',
    moduleName: 'index',
    handlerPath: 'handler',
  });
  assert.deepEqual(parseHandler('dir/sub/file.handler'), {
    full: 'dir/sub/file.handler',
    moduleRoot: 'dir/sub',
    moduleName: 'file',
    handlerPath: 'handler',
  });
  assert.deepEqual(parseHandler('src/app.api.v1.handler').handlerPath, 'api.v1.handler');
  assert.equal(parseHandler('a.b/c.d').moduleRoot, 'a.b', 'dots in directories are not splits');
  assert.equal(parseHandler('index.').handlerPath, '', 'a trailing dot names an empty property (not found later)');
});

test('handler grammar: no dot → Bad handler; `..` anywhere → MalformedHandlerName', () => {
  assert.deepEqual(
    { ...thrown(() => parseHandler('index')) },
    { name: 'Runtime.MalformedHandlerName' },
    'own enumerable props only',
  );
  assert.equal(thrown(() => parseHandler('index')).message, 'Bad handler');
  assert.equal(thrown(() => parseHandler('dir/handler')).message, 'Bad handler');
  const dots = thrown(() => parseHandler('../index.handler'));
  assert.equal(dots.name, 'Runtime.MalformedHandlerName');
  assert.equal(
    dots.message,
    "'../index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
  );
  assert.equal(thrown(() => parseHandler('index.a..b')).name, 'Runtime.MalformedHandlerName');
});

test('file search order: stem, .js, .mjs, .cjs, then .ts, .mts, .cts (JavaScript always first)', async (t) => {
  assert.deepEqual([...EXTENSIONS], ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-order-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const parsed = parseHandler('app.handler');
  assert.equal(findModuleFile(dir, parsed), null);
  for (const ext of ['.cts', '.mts', '.ts', '.cjs', '.mjs', '.js', '']) {
    await writeFile(join(dir, `app${ext}`), '');
    assert.equal(findModuleFile(dir, parsed), join(dir, `app${ext}`), `with app${ext} present`);
  }
  await mkdir(join(dir, 'nested/sub'), { recursive: true });
  await writeFile(join(dir, 'nested/sub/file.ts'), '');
  assert.equal(findModuleFile(dir, parseHandler('nested/sub/file.h')), join(dir, 'nested/sub/file.ts'));
  await mkdir(join(dir, 'folder'));
  assert.equal(findModuleFile(dir, parseHandler('folder.h')), null, 'a directory is not a module file');
});

test('property path: 4.x walks objects only and tries default; 3.x walks anything truthy', () => {
  const fn = Object.assign(() => 1, { inner: () => 2 });
  const ns = { a: { b: fn }, fn };
  assert.equal(findIn(ns, 'a.b', 4), fn);
  assert.equal(findIn(ns, 'fn.inner', 4), undefined);
  assert.equal(findIn(ns, 'fn.inner', 3), fn.inner);
  assert.equal(findIn(ns, 'missing.x', 3), undefined);
});

test('load errors: SyntaxError → UserCodeSyntaxError, CommonJS MODULE_NOT_FOUND → ImportModuleError, others as thrown', () => {
  const syntax = classifyLoadError(new SyntaxError('Unexpected token')) as Error;
  assert.equal(syntax.name, 'Runtime.UserCodeSyntaxError');
  assert.equal(syntax.message, 'SyntaxError: Unexpected token');
  const missing = Object.assign(new Error("Cannot find module 'x'"), { code: 'MODULE_NOT_FOUND' });
  const wrapped = classifyLoadError(missing) as Error;
  assert.equal(wrapped.name, 'Runtime.ImportModuleError');
  assert.equal(wrapped.message, "Error: Cannot find module 'x'");
  const esm = Object.assign(new Error("Cannot find package 'x'"), { code: 'ERR_MODULE_NOT_FOUND' });
  assert.equal(classifyLoadError(esm), esm);
});

test('TypeScript imports: .js means .ts, extensionless tries .ts/.mts/.cts and index files', () => {
  assert.deepEqual(typeScriptCandidates('file:///t/lib/util.js'), ['file:///t/lib/util.ts']);
  assert.deepEqual(typeScriptCandidates('file:///t/lib/util.mjs'), ['file:///t/lib/util.mts']);
  assert.deepEqual(typeScriptCandidates('file:///t/lib/util.cjs'), ['file:///t/lib/util.cts']);
  assert.deepEqual(typeScriptCandidates('file:///t/lib/util.ts'), []);
  assert.deepEqual(typeScriptCandidates('file:///t/lib'), [
    'file:///t/lib.ts',
    'file:///t/lib.mts',
    'file:///t/lib.cts',
    'file:///t/lib/index.ts',
    'file:///t/lib/index.mts',
    'file:///t/lib/index.cts',
  ]);
});

test('serializer: Errors as {errorType, errorMessage, trace}; non-Errors as typeof / String()', () => {
  const err = new TypeError('bad');
  const body = formatError(err);
  assert.equal(body.errorType, 'TypeError');
  assert.equal(body.errorMessage, 'bad');
  assert.equal(body.trace[0], 'TypeError: bad');
  assert.deepEqual(formatError('just a string'), { errorType: 'string', errorMessage: 'just a string', trace: [] });
  assert.deepEqual(formatError(42), { errorType: 'number', errorMessage: '42', trace: [] });
  assert.deepEqual(formatError(null), { errorType: 'object', errorMessage: 'null', trace: [] });
  assert.deepEqual(formatError(undefined), { errorType: 'undefined', errorMessage: 'undefined', trace: [] });
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  assert.deepEqual(formatError(circular), { errorType: 'object', errorMessage: '[object Object]', trace: [] });
  assert.deepEqual(formatError(Symbol('s')), { errorType: 'symbol', errorMessage: 'Symbol(s)', trace: [] });
});

test('serializer: never throws (no prototype, throwing getters, huge messages, DEL characters)', () => {
  const bare = formatError(Object.create(null));
  assert.equal(bare.errorType, 'handled');
  const evil = new Error('x');
  Object.defineProperty(evil, 'message', {
    get() {
      throw new Error('nope');
    },
  });
  assert.equal(formatError(evil).errorType, 'handled');
  const huge = formatError(new Error('y'.repeat(MAX_MESSAGE_CHARS * 4)));
  assert.ok(huge.errorMessage.length < MAX_MESSAGE_CHARS + 100);
  assert.match(huge.errorMessage, /… \[truncated \d+ characters\]$/);
  assert.ok(JSON.stringify(huge).length < 2 * MAX_MESSAGE_CHARS + 20_000);
  const deep = new Error('deep');
  deep.stack = ['Error: deep', ...Array.from({ length: 5000 }, (_, i) => `    at f${i} (x.js:1:1)`)].join('\n');
  assert.equal(formatError(deep).trace.length, MAX_TRACE_LINES + 1);
  assert.equal(formatError(new Error('a\x7fb')).errorMessage, 'a%7Fb');
  assert.doesNotThrow(() => JSON.parse(errorJson(Object.create(null))));
});

test('log form of errors: own enumerable properties, code, stack as lines; non-Errors wrapped', () => {
  const err = Object.assign(new RangeError('out'), { code: 'E_RANGE', details: { limit: 10 } });
  const parsed = JSON.parse(toFormatted(err).slice(1)) as Record<string, unknown>;
  assert.equal(toFormatted(err)[0], '\t');
  assert.deepEqual(Object.keys(parsed), ['errorType', 'errorMessage', 'code', 'details', 'stack']);
  assert.equal(parsed.errorType, 'RangeError');
  assert.ok(Array.isArray(parsed.stack));
  assert.equal(intoError('text').message, 'text');
  assert.equal(intoError(Object.create(null)).message, '[object Object]');
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  const circularProp = Object.assign(new Error('c'), { loop });
  assert.deepEqual(Object.keys(JSON.parse(toFormatted(circularProp).slice(1)) as object), [
    'errorType',
    'errorMessage',
    'trace',
  ]);
});

test('X-Ray cause: the official shape, ASCII only, bounded', () => {
  const cause = xrayCause(new Error('héllo'));
  assert.ok(cause !== undefined);
  assert.match(cause, /^[\x20-\x7e]*$/);
  const parsed = JSON.parse(cause) as { exceptions: { type: string; message: string }[]; working_directory: string };
  assert.deepEqual([parsed.exceptions[0]?.type, parsed.exceptions[0]?.message], ['Error', 'héllo']);
  assert.equal(xrayCause(new Error('z'.repeat(100_000))), undefined);
});

test('results: JSON.stringify, undefined → null, unserialisable → undefined', () => {
  assert.equal(serializeResult(undefined), 'null');
  assert.equal(serializeResult('text'), '"text"');
  assert.equal(serializeResult({ a: [1] }), '{"a":[1]}');
  assert.equal(
    serializeResult(() => 1),
    'null',
  );
  assert.equal(serializeResult(10n), undefined);
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.equal(serializeResult(loop), undefined);
});

test('text log lines: ISO time, request id, level, util.format, every \\n as \\r', () => {
  const time = '2026-01-01T00:00:00.000Z';
  assert.equal(formatTextLine(time, 'id-1', 'INFO', ['a\nb', { n: 1 }]), `${time}\tid-1\tINFO\ta\rb { n: 1 }`);
  assert.equal(formatTextLine(time, undefined, 'WARN', ['x %d', 5]), `${time}\tundefined\tWARN\tx 5`);
  assert.equal(formatTextLine(time, '-', 'ERROR', [undefined]), `${time}\t-\tERROR\tundefined`);
});

test('JSON log lines: one argument kept as is, several formatted, Errors described', () => {
  const time = '2026-01-01T00:00:00.000Z';
  const state = { requestId: 'id-1', tenantId: undefined };
  const one = (args: unknown[], v: 3 | 4 = 4) =>
    JSON.parse(formatJsonLine(time, state, 'INFO', args, v)) as Record<string, unknown>;
  assert.deepEqual(one(['hello']), { timestamp: time, level: 'INFO', requestId: 'id-1', message: 'hello' });
  assert.deepEqual(one([{ a: 1 }]).message, { a: 1 });
  const err = one([new TypeError('typed')]);
  assert.deepEqual(Object.keys(err.message as object), ['errorType', 'errorMessage', 'stackTrace']);
  assert.equal((err.message as { errorType: string }).errorType, 'TypeError');
  const typed = new TypeError('typed');
  const several = one(['failed:', typed]);
  assert.equal(several.message, `failed: ${String(typed.stack)}`);
  assert.equal(several.errorType, 'TypeError');
  assert.equal(several.errorMessage, 'typed');
  assert.ok(Array.isArray(several.stackTrace));
  assert.equal(one([new TypeError('first'), 'x'], 4).errorType, undefined, '4.x skips the first argument');
  assert.equal(one([new TypeError('first'), 'x'], 3).errorType, 'TypeError', '3.x looks at all arguments');
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.match(String(one([loop]).message), /<ref \*1> \{ self: \[Circular \*1\] \}/);
  assert.equal(one([10n]).message, '10n');
  assert.equal(
    JSON.parse(formatJsonLine(time, { requestId: undefined, tenantId: 't1' }, 'WARN', ['x'], 3)).tenantId,
    't1',
  );
  assert.ok(!formatJsonLine(time, state, 'INFO', ['a\nb'], 4).includes('\n'));
});

test('log options: JSON only for JSON, the level from AWS_LAMBDA_LOG_LEVEL (TRACE when unknown)', () => {
  assert.deepEqual(logOptions({}, 4), { json: false, minLevel: 0, client: 4 });
  assert.deepEqual(logOptions({ AWS_LAMBDA_LOG_FORMAT: 'json', AWS_LAMBDA_LOG_LEVEL: 'warn' }, 3), {
    json: true,
    minLevel: 3,
    client: 3,
  });
  assert.equal(logOptions({ AWS_LAMBDA_LOG_LEVEL: 'LOUD' }, 4).minLevel, 0);
});

test('client version: nodejs24.x and custom runtimes → 4.x; nodejs20.x/22.x or LAMBKIN_NODE_COMPAT=3 → 3.x', () => {
  assert.equal(clientVersion({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }), 4);
  assert.equal(clientVersion({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }), 3);
  assert.equal(clientVersion({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' }), 3);
  assert.equal(clientVersion({}), 4);
  assert.equal(clientVersion({ LAMBKIN_NODE_COMPAT: '3' }), 3);
  assert.equal(clientVersion({ LAMBKIN_NODE_COMPAT: '3', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }), 4);
});

test('context: members and their order as the official clients build them', () => {
  const headers = {
    'lambda-runtime-deadline-ms': String(Date.now() + 1000),
    'lambda-runtime-invoked-function-arn': 'arn:x',
    'lambda-runtime-trace-id': 'Root=1-a',
    'lambda-runtime-client-context': '{"custom":{"a":1}}',
  };
  const env = {
    AWS_LAMBDA_FUNCTION_NAME: 'fn',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_LOG_GROUP_NAME: 'g',
    AWS_LAMBDA_LOG_STREAM_NAME: 's',
  };
  const modern = createContext('id', headers, env);
  assert.deepEqual(Object.keys(modern), [
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
  assert.deepEqual(modern.clientContext, { custom: { a: 1 } });
  assert.equal(modern.xRayTraceId, 'Root=1-a');
  const remaining = modern.getRemainingTimeInMillis();
  assert.ok(remaining > 0 && remaining <= 1000);
  let flag = true;
  const legacy = createLegacyContext(
    {
      get callbackWaitsForEmptyEventLoop() {
        return flag;
      },
      set callbackWaitsForEmptyEventLoop(v: boolean) {
        flag = v;
      },
      succeed: () => undefined,
      fail: () => undefined,
      done: () => undefined,
    },
    'id',
    headers,
    env,
  );
  assert.deepEqual(Object.keys(legacy).slice(0, 6), [
    'callbackWaitsForEmptyEventLoop',
    'succeed',
    'fail',
    'done',
    'functionVersion',
    'functionName',
  ]);
  legacy.callbackWaitsForEmptyEventLoop = false;
  assert.equal(flag, false, 'the flag stays an accessor');
  assert.equal('xRayTraceId' in legacy, false);
  assert.equal(
    thrown(() => createContext('id', { 'lambda-runtime-client-context': '{' }, env)).name,
    'Runtime.PlatformError',
  );
});

test('context: remaining time goes negative after the deadline, as on AWS', () => {
  const ctx = createContext('id', { 'lambda-runtime-deadline-ms': String(Date.now() - 50) }, {});
  assert.ok(ctx.getRemainingTimeInMillis() <= -50);
});

test('_X_AMZN_TRACE_ID: set per invoke, deleted when the header is absent or empty', () => {
  const env: NodeJS.ProcessEnv = {};
  forwardTraceId({ 'lambda-runtime-trace-id': 'Root=1-x' }, env);
  assert.equal(env._X_AMZN_TRACE_ID, 'Root=1-x');
  forwardTraceId({}, env);
  assert.equal('_X_AMZN_TRACE_ID' in env, false);
  env._X_AMZN_TRACE_ID = 'stale';
  forwardTraceId({ 'lambda-runtime-trace-id': '' }, env);
  assert.equal('_X_AMZN_TRACE_ID' in env, false);
});

test('AWS_LAMBDA_RUNTIME_API: host:port, [ipv6]:port, or a Unix socket path', () => {
  assert.deepEqual(parseRuntimeApi('127.0.0.1:9001'), { host: '127.0.0.1', port: 9001, socketPath: undefined });
  assert.deepEqual(parseRuntimeApi('[::1]:9001'), { host: '::1', port: 9001, socketPath: undefined });
  assert.deepEqual(parseRuntimeApi('/run/rapi.sock'), { host: 'localhost', port: 0, socketPath: '/run/rapi.sock' });
  assert.throws(() => parseRuntimeApi('nohost'), /not host:port/);
});

test('HTTP replies: Content-Length, chunked with trailers, 1xx skipped, split anywhere, close-delimited', () => {
  const feed = (text: string, step: number) => {
    const parser = new ResponseParser();
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += step) {
      const reply = parser.push(bytes.subarray(i, i + step));
      if (reply !== null) return { reply, parser };
    }
    return { reply: null, parser };
  };
  for (const step of [1, 3, 1000]) {
    const plain = feed('HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: é1\r\nContent-Length: 5\r\n\r\nhello', step);
    assert.equal(plain.reply?.status, 200);
    assert.equal(plain.reply?.headers['lambda-runtime-aws-request-id'], 'é1', 'header values are UTF-8');
    assert.equal(plain.reply?.body.toString(), 'hello');
    assert.equal(plain.parser.keepAlive, true);
    const chunked = feed(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n',
      step,
    );
    assert.equal(chunked.reply?.status, 202);
    assert.equal(chunked.reply?.body.toString(), 'abcde');
    const closing = feed('HTTP/1.1 413 Too Large\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}', step);
    assert.equal(closing.reply?.status, 413);
    assert.equal(closing.parser.keepAlive, false);
  }
  // Pipelined replies in one read: each parser stops at its reply's end and hands over the rest.
  const both = new ResponseParser();
  const twoReplies =
    'HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}' +
    'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r2\r\nContent-Length: 4\r\n\r\nnext';
  assert.equal(both.push(Buffer.from(twoReplies))?.status, 202);
  const second = new ResponseParser();
  const after = second.push(both.rest());
  assert.equal(after?.headers['lambda-runtime-aws-request-id'], 'r2');
  assert.equal(after?.body.toString(), 'next');
  assert.equal(second.rest().length, 0);
  const chunkedThenMore = new ResponseParser();
  chunkedThenMore.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nHTTP/1.1'));
  assert.equal(chunkedThenMore.rest().toString(), 'HTTP/1.1');
  const trailersThenMore = new ResponseParser();
  trailersThenMore.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n\r\nHTTP'));
  assert.equal(trailersThenMore.rest().toString(), 'HTTP');
  const untilClose = new ResponseParser();
  assert.equal(untilClose.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\npart')), null);
  assert.equal(untilClose.push(Buffer.from('ial')), null);
  assert.equal(untilClose.end()?.body.toString(), 'partial');
  assert.throws(() => new ResponseParser().push(Buffer.from('SSH-2.0\r\n\r\n')), /malformed/);
});

test('TypeScript files: module format by extension, package.json type, then syntax; cache keys', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-ts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(formatOf(join(dir, 'a.mts'), 'module.exports = 1'), 'module');
  assert.equal(formatOf(join(dir, 'a.cts'), 'export {}'), 'commonjs');
  assert.equal(formatOf(join(dir, 'a.ts'), 'export const a = 1;'), 'module');
  assert.equal(formatOf(join(dir, 'a.ts'), 'exports.a = 1;'), 'commonjs');
  await mkdir(join(dir, 'esm/sub'), { recursive: true });
  await writeFile(join(dir, 'esm/package.json'), '{"type":"module"}');
  assert.equal(formatOf(join(dir, 'esm/sub/a.ts'), 'const a = 1;'), 'module');
  assert.equal(hasModuleSyntax('import x from "y";'), true);
  assert.equal(hasModuleSyntax('console.log(import.meta.url)'), true);
  assert.equal(hasModuleSyntax('await 1;'), true);
  assert.equal(hasModuleSyntax('const x = 1;'), false);
  assert.equal(hasModuleSyntax('const x = ;'), false, 'a syntax error is not module syntax');
  // A cache entry says once whether its code is module syntax, so a cold start need not parse it to find out.
  const esm = cacheEntry('export const a = 1;');
  const cjs = cacheEntry('exports.a = 1;');
  assert.equal(entryModuleSyntax(esm), true);
  assert.equal(entryModuleSyntax(cjs), false);
  assert.equal(entryModuleSyntax('exports.a = 1;'), undefined, 'an entry without the line (an older cache)');
  assert.equal(esm.split('\n')[0], 'export const a = 1;', 'the code keeps its lines');
  assert.equal(formatOf(join(dir, 'b.ts'), cacheEntry('const b = 1; export {};')), 'module');
  assert.equal(formatOf(join(dir, 'b.ts'), cjs), 'commonjs');
  assert.equal(formatOf(join(dir, 'esm/sub/b.ts'), cjs), 'module', "the package's type still comes first");
  assert.match(hash('a'), /^[0-9a-f]{16}$/);
  assert.notEqual(hash('file:///a.ts\0x'), hash('file:///b.ts\0x'));
});
