/**
 * The Runtime API server against real clients: node:http (with and without keep-alive), raw sockets, the real
 * `curl` binary (shell runtimes) and real child processes (a re-spawned runtime). LAMBDA-FACTS §1, row by row.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isPlatformError } from '../errors.ts';
import { RuntimeApiServer, type RuntimeApiEvents } from './server.ts';
import type { ChunkConsumer, Invocation, InvocationOutcome } from './types.ts';

const BASE = '/2018-06-01/runtime';
const NEXT = `${BASE}/invocation/next`;
const INIT_ERROR = `${BASE}/init/error`;
const responsePath = (id: string) => `${BASE}/invocation/${id}/response`;
const errorPath = (id: string) => `${BASE}/invocation/${id}/error`;
const LIMIT = 6_291_556;
const TRACE = 'Root=1-5e1b4151-5ac6c58dc39b1f6e6b1d0b1a;Parent=1234567890abcdef;Sampled=0';

function inv(id: string, extra: Partial<Invocation> = {}): Invocation {
  return {
    requestId: id,
    payload: Buffer.from('{"a":1}'),
    deadlineMs: 1_700_000_000_000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    traceId: TRACE,
    ...extra,
  };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  localPort: number | undefined;
}

interface CallOptions {
  body?: Buffer | string;
  headers?: OutgoingHttpHeaders;
  agent?: Agent;
}

function target(api: RuntimeApiServer): { host?: string; port?: number; socketPath?: string } {
  if (api.address.startsWith('/')) return { socketPath: api.address };
  const colon = api.address.lastIndexOf(':');
  return { host: api.address.slice(0, colon), port: Number(api.address.slice(colon + 1)) };
}

/** One request with node:http; a fresh connection unless `agent` is given. */
function call(api: RuntimeApiServer, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { ...target(api), method, path, headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        const localPort = res.socket.localPort;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Asserts the Runtime API error shape: status, JSON `{errorMessage, errorType}`, `Content-Type: application/json`. */
function assertError(reply: Reply, status: number, errorType: string, errorMessage?: string): void {
  assert.equal(reply.status, status, reply.body.toString());
  assert.equal(reply.headers['content-type'], 'application/json');
  const body = JSON.parse(reply.body.toString()) as { errorType: unknown; errorMessage: unknown };
  assert.deepEqual(Object.keys(body).sort(), ['errorMessage', 'errorType']);
  assert.equal(body.errorType, errorType);
  if (errorMessage !== undefined) assert.equal(body.errorMessage, errorMessage);
}

function assertAccepted(reply: Reply): void {
  assert.equal(reply.status, 202, reply.body.toString());
  assert.equal(reply.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(reply.body.toString()), { status: 'OK' });
}

async function start(t: TestContext, events: RuntimeApiEvents = {}): Promise<RuntimeApiServer> {
  const api = await RuntimeApiServer.start({ host: '127.0.0.1', port: 0, events });
  t.after(() => api.close());
  return api;
}

/** invoke() plus the runtime's /next: the invocation is delivered and waiting for its result. */
async function delivered(
  api: RuntimeApiServer,
  id: string,
  extra: Partial<Invocation> = {},
): Promise<{ outcome: Promise<InvocationOutcome>; next: Reply }> {
  const outcome = api.invoke(inv(id, extra));
  const next = await call(api, 'GET', NEXT);
  assert.equal(next.status, 200);
  return { outcome, next };
}

/** A chunk consumer that keeps the chunks as text in `into` and is never full. */
function collect(into: string[]): ChunkConsumer {
  return (chunk) => {
    into.push(chunk.toString());
    return undefined;
  };
}

function keepAlive(t: TestContext): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => {
    agent.destroy();
  });
  return agent;
}

/** Writes raw bytes on a fresh connection (half-closing after them when `end`) and collects all it gets back. */
function raw(api: RuntimeApiServer, bytes: string | Buffer, end = false): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ ...target(api) } as { host: string; port: number });
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      if (end) socket.end(bytes);
      else socket.write(bytes);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`curl failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

async function tempFile(t: TestContext, name: string, data: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-rapi-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  await writeFile(file, data);
  return file;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits (a bounded while) for `condition`; the caller asserts it afterwards. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2500 && !condition(); i++) await pause(2);
}

/** Counts the requests `api` has routed, from the `lambkin:runtime-api:request` diagnostics channel. */
function requestCounter(t: TestContext, api: RuntimeApiServer): { seen: () => number } {
  let seen = 0;
  const listener = (message: unknown) => {
    if ((message as { address: string }).address === api.address) seen += 1;
  };
  subscribe('lambkin:runtime-api:request', listener);
  t.after(() => unsubscribe('lambkin:runtime-api:request', listener));
  return { seen: () => seen };
}

// ── GET /next ────────────────────────────────────────────────────────────────────────────────────────────────

test('next: always sends Content-Type application/json, Content-Length, request id, deadline, ARN and trace id', async (t) => {
  const api = await start(t);
  const { outcome, next } = await delivered(api, 'id-1');
  assert.equal(next.headers['content-type'], 'application/json');
  assert.equal(next.headers['content-length'], '7');
  assert.equal(next.headers['lambda-runtime-aws-request-id'], 'id-1');
  assert.equal(next.headers['lambda-runtime-deadline-ms'], '1700000000000');
  assert.equal(next.headers['lambda-runtime-invoked-function-arn'], 'arn:aws:lambda:us-east-1:000000000000:function:f');
  assert.equal(next.headers['lambda-runtime-trace-id'], TRACE);
  assert.equal(next.headers['lambda-runtime-client-context'], undefined);
  assert.equal(next.headers['lambda-runtime-cognito-identity'], undefined);
  api.abort('done');
  await outcome;
});

test('next: an empty payload still comes with Content-Type application/json', async (t) => {
  const api = await start(t);
  const { outcome, next } = await delivered(api, 'empty', { payload: Buffer.alloc(0) });
  assert.equal(next.headers['content-type'], 'application/json');
  assert.equal(next.headers['content-length'], '0');
  assert.equal(next.body.length, 0);
  api.abort('done');
  await outcome;
});

test('next: client context and cognito identity headers when present, UTF-8 bytes and no line breaks', async (t) => {
  const api = await start(t);
  const clientContext = '{\n  "custom": {"city": "Zürich €"}\n}';
  const cognitoIdentity = '{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"us-east-1:pool"}';
  const { outcome, next } = await delivered(api, 'ctx', { clientContext, cognitoIdentity });
  const context = Buffer.from(String(next.headers['lambda-runtime-client-context']), 'latin1').toString('utf8');
  assert.deepEqual(JSON.parse(context), { custom: { city: 'Zürich €' } });
  assert.equal(next.headers['lambda-runtime-cognito-identity'], cognitoIdentity);
  api.abort('done');
  await outcome;
});

test('next: payload bytes are passed untouched (binary, 1 MiB)', async (t) => {
  const api = await start(t);
  const payload = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;
  const { outcome, next } = await delivered(api, 'bin', { payload });
  assert.ok(next.body.equals(payload));
  api.abort('done');
  await outcome;
});

test('next: long-polls until invoke(), then delivers; onReady once and `ready` after the first /next', async (t) => {
  let readyCalls = 0;
  const api = await start(t, { onReady: () => (readyCalls += 1) });
  const counter = requestCounter(t, api);
  assert.equal(api.ready, false);
  const pending = call(api, 'GET', NEXT);
  let answered = false;
  void pending.then(() => (answered = true));
  await until(() => counter.seen() === 1);
  await pause(30);
  assert.equal(answered, false, '/next must block while there is no event');
  assert.equal(api.ready, true);
  assert.equal(readyCalls, 1);
  const outcome = api.invoke(inv('late'));
  const next = await pending;
  assert.equal(next.headers['lambda-runtime-aws-request-id'], 'late');
  assertAccepted(await call(api, 'POST', responsePath('late'), { body: 'ok' }));
  await outcome;
  const again = call(api, 'GET', NEXT);
  await nextTurn();
  assert.equal(readyCalls, 1);
  await api.close();
  await assert.rejects(again);
});

test('next: asked again before a result, the same event is delivered again (same id and deadline)', async (t) => {
  const api = await start(t);
  const { outcome, next } = await delivered(api, 'twice');
  const again = await call(api, 'GET', NEXT);
  assert.equal(again.headers['lambda-runtime-aws-request-id'], 'twice');
  assert.equal(again.headers['lambda-runtime-deadline-ms'], next.headers['lambda-runtime-deadline-ms']);
  assert.deepEqual(again.body, next.body);
  assertAccepted(await call(api, 'POST', responsePath('twice'), { body: 'x' }));
  assert.equal((await outcome).kind, 'response');
});

test('next: the outcome resolves when the result is complete; the following /next fires onInvokeEnd', async (t) => {
  const ends: string[] = [];
  const api = await start(t, { onInvokeEnd: (id) => ends.push(id) });
  const { outcome } = await delivered(api, 'r1');
  assertAccepted(await call(api, 'POST', responsePath('r1'), { body: 'result' }));
  const result = await outcome;
  assert.deepEqual(result, { kind: 'response', body: Buffer.from('result'), contentType: undefined, streamed: false });
  assert.deepEqual(ends, [], 'the invoke lasts until the runtime asks for the next event');
  // The platform may queue the next invocation before the runtime asks: it is handed out only at that /next.
  const second = api.invoke(inv('r2'));
  const next = await call(api, 'GET', NEXT);
  assert.deepEqual(ends, ['r1']);
  assert.equal(next.headers['lambda-runtime-aws-request-id'], 'r2');
  api.abort('done');
  await second;
});

test('next: a newer /next replaces an older one still waiting; a dead one is skipped', async (t) => {
  const api = await start(t);
  const counter = requestCounter(t, api);
  const older = call(api, 'GET', NEXT);
  await until(() => counter.seen() === 1);
  const newer = call(api, 'GET', NEXT);
  await assert.rejects(older);
  const outcome = api.invoke(inv('n1'));
  assert.equal((await newer).headers['lambda-runtime-aws-request-id'], 'n1');
  assertAccepted(await call(api, 'POST', responsePath('n1'), { body: '1' }));
  await outcome;
  // A runtime that died while waiting: its /next is gone, the re-spawned one gets the event.
  const dying = request({ ...target(api), path: NEXT, agent: false });
  dying.on('error', () => undefined);
  dying.end();
  await until(() => counter.seen() === 4);
  dying.destroy();
  // (Had the server not seen the close yet, the event would go to the dead socket and the fresh /next would get it
  // again as a re-delivery: the runtime is served either way.)
  await pause(20);
  const second = api.invoke(inv('n2'));
  const fresh = await call(api, 'GET', NEXT);
  assert.equal(fresh.headers['lambda-runtime-aws-request-id'], 'n2');
  api.abort('done');
  await second;
});

// ── POST /response, /error: the status-code table ──────────────────────────────────────────────────────────

test('response: 202 {"status":"OK"} for any content type and an empty body', async (t) => {
  const api = await start(t);
  for (const [i, contentType] of ['application/x-www-form-urlencoded', 'text/plain', undefined].entries()) {
    const { outcome } = await delivered(api, `ct${i}`);
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    assertAccepted(await call(api, 'POST', responsePath(`ct${i}`), { headers }));
    assert.deepEqual(await outcome, { kind: 'response', body: Buffer.alloc(0), contentType, streamed: false });
  }
});

test('response: foreign request id → 400 InvalidRequestID; the right one still works', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'mine');
  assertError(
    await call(api, 'POST', responsePath('other'), { body: 'x' }),
    400,
    'InvalidRequestID',
    'Invalid request ID',
  );
  assertError(await call(api, 'POST', errorPath('other'), { body: 'x' }), 400, 'InvalidRequestID');
  assertAccepted(await call(api, 'POST', responsePath('mine'), { body: 'ok' }));
  assert.equal((await outcome).kind, 'response');
});

test('response: nothing in flight → 400 InvalidRequestID', async (t) => {
  const api = await start(t);
  assertError(await call(api, 'POST', responsePath('nobody'), { body: 'x' }), 400, 'InvalidRequestID');
  assertError(await call(api, 'POST', errorPath('nobody'), { body: 'x' }), 400, 'InvalidRequestID');
});

test('response: empty request id (/invocation//error, //response, /invocation/error) → 400, server keeps working', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'e');
  for (const path of [errorPath(''), responsePath(''), `${BASE}/invocation/error`, `${BASE}/invocation/%ZZ/error`]) {
    assertError(await call(api, 'POST', path, { body: '{}' }), 400, 'InvalidRequestID');
  }
  assertAccepted(await call(api, 'POST', responsePath('e'), { body: 'fine' }));
  assert.equal((await outcome).kind, 'response');
});

test("security: a post for another environment's request id is refused", async (t) => {
  const a = await start(t);
  const b = await start(t);
  const { outcome } = await delivered(a, 'for-a');
  assertError(await call(b, 'POST', responsePath('for-a'), { body: 'hijack' }), 400, 'InvalidRequestID');
  assertAccepted(await call(a, 'POST', responsePath('for-a'), { body: 'mine' }));
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'mine');
});

test('response: a second /response or /error for the same id → 403 InvalidStateTransition', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'once');
  assertAccepted(await call(api, 'POST', responsePath('once'), { body: 'first' }));
  assertError(await call(api, 'POST', responsePath('once'), { body: 'second' }), 403, 'InvalidStateTransition');
  assertError(await call(api, 'POST', errorPath('once'), { body: '{}' }), 403, 'InvalidStateTransition');
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'first');
});

test('response: a result for an event not delivered yet → 403 InvalidStateTransition', async (t) => {
  const api = await start(t);
  const outcome = api.invoke(inv('queued'));
  assertError(await call(api, 'POST', responsePath('queued'), { body: 'early' }), 403, 'InvalidStateTransition');
  api.abort('done');
  assert.deepEqual(await outcome, { kind: 'aborted', reason: 'done' });
});

test('response: the request id is checked before the state (old id after the next /next → 400, not 403)', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'old');
  assertAccepted(await call(api, 'POST', responsePath('old'), { body: '1' }));
  await outcome;
  const counter = requestCounter(t, api);
  const waiting = call(api, 'GET', NEXT);
  await until(() => counter.seen() === 1);
  assertError(await call(api, 'POST', responsePath('old'), { body: '2' }), 400, 'InvalidRequestID');
  await api.close();
  await assert.rejects(waiting);
});

test('response: a streaming mode other than exactly "streaming" → 400 InvalidFunctionResponseMode', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'mode');
  for (const mode of ['Streaming', 'buffered', '']) {
    const reply = await call(api, 'POST', responsePath('mode'), {
      body: 'x',
      headers: { 'lambda-runtime-function-response-mode': mode },
    });
    assertError(reply, 400, 'InvalidFunctionResponseMode');
  }
  // Nothing changed: the invocation still takes its result.
  assertAccepted(await call(api, 'POST', responsePath('mode'), { body: 'ok' }));
  assert.equal((await outcome).kind, 'response');
});

test('robustness: unknown paths → 404 JSON, wrong methods → 405 JSON', async (t) => {
  const api = await start(t);
  assertError(await call(api, 'GET', '/nope'), 404, 'NotFound');
  assertError(await call(api, 'GET', `${BASE}/invocation/abc/whatever`), 404, 'NotFound');
  assertError(await call(api, 'GET', '/2020-01-01/extension/event/next'), 404, 'NotFound');
  assertError(await call(api, 'POST', NEXT, { body: 'x' }), 405, 'MethodNotAllowed');
  assertError(await call(api, 'PUT', NEXT), 405, 'MethodNotAllowed');
  assertError(await call(api, 'GET', responsePath('x')), 405, 'MethodNotAllowed');
  assertError(await call(api, 'DELETE', errorPath('x')), 405, 'MethodNotAllowed');
  assertError(await call(api, 'GET', INIT_ERROR), 405, 'MethodNotAllowed');
});

// ── /error ───────────────────────────────────────────────────────────────────────────────────────────────────

test('error: the error-type header is kept; absent → Unhandled (the official client sends none)', async (t) => {
  const api = await start(t);
  let { outcome } = await delivered(api, 'e1');
  const body = '{"errorType":"TypeError","errorMessage":"x","trace":[]}';
  assertAccepted(
    await call(api, 'POST', errorPath('e1'), {
      body,
      headers: { 'lambda-runtime-function-error-type': 'Function.Custom', 'content-type': 'application/json' },
    }),
  );
  assert.deepEqual(await outcome, { kind: 'error', errorType: 'Function.Custom', body: Buffer.from(body) });
  ({ outcome } = await delivered(api, 'e2'));
  assertAccepted(await call(api, 'POST', errorPath('e2'), { body, headers: { 'content-type': 'application/json' } }));
  assert.deepEqual(await outcome, { kind: 'error', errorType: 'Unhandled', body: Buffer.from(body) });
});

test('error: Content-Type error.cause+json → the caller gets the body without errorCause', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'cause');
  assertAccepted(
    await call(api, 'POST', errorPath('cause'), {
      body: '{"errorMessage":"m","errorType":"T","stackTrace":["a"],"errorCause":{"paths":["x"]}}',
      headers: { 'content-type': 'application/vnd.aws.lambda.error.cause+json' },
    }),
  );
  const result = await outcome;
  assert.equal(result.kind, 'error');
  assert.deepEqual(JSON.parse(result.kind === 'error' ? result.body.toString() : ''), {
    errorMessage: 'm',
    errorType: 'T',
    stackTrace: ['a'],
  });
});

test('error: invalid JSON and empty bodies are passed through byte for byte (with any content type)', async (t) => {
  const api = await start(t);
  const cases: [string, Buffer, string | undefined][] = [
    ['bad-json', Buffer.from('{"errorMessage": oops'), 'application/json'],
    ['bad-cause', Buffer.from('not json at all'), 'application/vnd.aws.lambda.error.cause+json'],
    ['binary', Buffer.from([0, 0xff, 0x10, 0x80]), 'application/x-www-form-urlencoded'],
    ['empty', Buffer.alloc(0), undefined],
  ];
  for (const [id, body, contentType] of cases) {
    const { outcome } = await delivered(api, id);
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    assertAccepted(await call(api, 'POST', errorPath(id), { body, headers }));
    assert.deepEqual(await outcome, { kind: 'error', errorType: 'Unhandled', body }, id);
  }
});

test('error: a 60 KiB X-Ray error cause header is accepted', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'xray');
  const cause = JSON.stringify({ exceptions: [{ message: 'x'.repeat(60 * 1024) }] });
  assertAccepted(
    await call(api, 'POST', errorPath('xray'), {
      body: '{}',
      headers: { 'lambda-runtime-function-xray-error-cause': cause },
    }),
  );
  assert.equal((await outcome).kind, 'error');
});

// ── size limit, Expect: 100-continue ─────────────────────────────────────────────────────────────────────────

test('limits: exactly 6,291,556 bytes accepted; one more → 413 RequestEntityTooLarge and too-large (Content-Length)', async (t) => {
  const api = await start(t);
  let { outcome } = await delivered(api, 'exact');
  assertAccepted(await call(api, 'POST', responsePath('exact'), { body: Buffer.alloc(LIMIT, 0x61) }));
  const ok = await outcome;
  assert.equal(ok.kind === 'response' ? ok.body.length : 0, LIMIT);
  ({ outcome } = await delivered(api, 'over'));
  assertError(
    await call(api, 'POST', responsePath('over'), { body: Buffer.alloc(LIMIT + 1, 0x61) }),
    413,
    'RequestEntityTooLarge',
    'Exceeded maximum allowed payload size (6291556 bytes).',
  );
  assert.deepEqual(await outcome, { kind: 'too-large' });
  // A later post for it is a second result.
  assertError(await call(api, 'POST', responsePath('over'), { body: 'small' }), 403, 'InvalidStateTransition');
});

/** Posts `total` bytes chunked (no Content-Length) in 1 MiB pieces; `endAfter` = false leaves the upload open. */
function postChunked(
  api: RuntimeApiServer,
  path: string,
  total: number,
  endAfter = true,
): { reply: Promise<Reply>; end: () => void } {
  const req = request({ ...target(api), method: 'POST', path, agent: false });
  const reply = new Promise<Reply>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: 0 });
      });
    });
    req.on('error', reject);
  });
  for (let sent = 0; sent < total; sent += 1024 * 1024) req.write(Buffer.alloc(Math.min(1024 * 1024, total - sent)));
  if (endAfter) req.end();
  return {
    reply,
    end: () => {
      req.end();
    },
  };
}

test('limits: chunked (no Content-Length): exactly 6,291,556 accepted; one more → 413 before the upload ends', async (t) => {
  const api = await start(t);
  let { outcome } = await delivered(api, 'chunked-exact');
  assertAccepted(await postChunked(api, responsePath('chunked-exact'), LIMIT).reply);
  const ok = await outcome;
  assert.equal(ok.kind === 'response' ? ok.body.length : 0, LIMIT);
  ({ outcome } = await delivered(api, 'chunked-over'));
  // The upload stays open: the 413 (and the outcome) come as soon as the limit is passed, not at its end.
  const upload = postChunked(api, responsePath('chunked-over'), LIMIT + 1, false);
  t.after(upload.end);
  assertError(await upload.reply, 413, 'RequestEntityTooLarge');
  assert.deepEqual(await outcome, { kind: 'too-large' });
});

test('limits: after a 413 with Content-Length, the keep-alive connection still serves the runtime', async (t) => {
  const api = await start(t);
  const agent = keepAlive(t);
  const outcome = api.invoke(inv('ka-413'));
  const next = await call(api, 'GET', NEXT, { agent });
  const reply = await call(api, 'POST', responsePath('ka-413'), { body: Buffer.alloc(LIMIT + 1), agent });
  assertError(reply, 413, 'RequestEntityTooLarge');
  assert.deepEqual(await outcome, { kind: 'too-large' });
  const second = api.invoke(inv('ka-after'));
  const again = await call(api, 'GET', NEXT, { agent });
  assert.equal(again.headers['lambda-runtime-aws-request-id'], 'ka-after');
  assert.equal(again.localPort, next.localPort, 'same socket');
  api.abort('done');
  await second;
});

test('expect: 100-continue is answered at once, before the body is sent (node client)', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'expect');
  const body = Buffer.alloc(2 * 1024 * 1024, 0x65);
  const req = request({
    ...target(api),
    method: 'POST',
    path: responsePath('expect'),
    agent: false,
    headers: { expect: '100-continue', 'content-length': body.length },
  });
  req.on('continue', () => {
    req.end(body);
  });
  req.flushHeaders();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  assert.equal(res.statusCode, 202);
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.length : 0, body.length);
});

test('expect: Content-Length over the limit with 100-continue → 413 at once, no body sent', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'expect-big');
  const req = request({
    ...target(api),
    method: 'POST',
    path: responsePath('expect-big'),
    agent: false,
    headers: { expect: '100-continue', 'content-length': LIMIT + 1 },
  });
  let continued = false;
  req.on('continue', () => (continued = true));
  req.on('error', () => undefined);
  req.flushHeaders();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  assert.equal(res.statusCode, 413);
  assert.equal(res.headers.connection, 'close');
  assert.equal(continued, false);
  req.destroy();
  assert.deepEqual(await outcome, { kind: 'too-large' });
});

test('curl: posting a file over 1 MiB sends Expect: 100-continue and gets 100 Continue, then 202', async (t) => {
  const api = await start(t);
  const file = await tempFile(t, 'body', Buffer.alloc(2 * 1024 * 1024, 0x63));
  const { outcome } = await delivered(api, 'curl-2m');
  const post = await curl([
    '-v',
    '-X',
    'POST',
    `http://${api.address}${responsePath('curl-2m')}`,
    '--data-binary',
    `@${file}`,
  ]);
  assert.match(post.stderr, /> Expect: 100-continue/);
  assert.match(post.stderr, /< HTTP\/1.1 100 Continue/);
  assert.match(post.stderr, /< HTTP\/1.1 202/);
  assert.deepEqual(JSON.parse(post.stdout), { status: 'OK' });
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.length : 0, 2 * 1024 * 1024);
  assert.equal(result.kind === 'response' ? result.contentType : '', 'application/x-www-form-urlencoded');
});

test('curl: a file of exactly 6,291,556 bytes is accepted; one byte more → 413 without 100 Continue', async (t) => {
  const api = await start(t);
  const exact = await tempFile(t, 'exact', Buffer.alloc(LIMIT, 0x64));
  const over = await tempFile(t, 'over', Buffer.alloc(LIMIT + 1, 0x64));
  let { outcome } = await delivered(api, 'curl-exact');
  let post = await curl(['-v', `http://${api.address}${responsePath('curl-exact')}`, '--data-binary', `@${exact}`]);
  assert.match(post.stderr, /< HTTP\/1.1 100 Continue/);
  assert.match(post.stderr, /< HTTP\/1.1 202/);
  const ok = await outcome;
  assert.equal(ok.kind === 'response' ? ok.body.length : 0, LIMIT);
  ({ outcome } = await delivered(api, 'curl-over'));
  post = await curl(['-v', `http://${api.address}${responsePath('curl-over')}`, '--data-binary', `@${over}`]);
  assert.match(post.stderr, /> Expect: 100-continue/);
  assert.doesNotMatch(post.stderr, /100 Continue/);
  assert.match(post.stderr, /< HTTP\/1.1 413/);
  assert.equal(JSON.parse(post.stdout).errorType, 'RequestEntityTooLarge');
  assert.deepEqual(await outcome, { kind: 'too-large' });
});

// ── connections ──────────────────────────────────────────────────────────────────────────────────────────────

test('keep-alive: 100 sequential invocations over one socket', async (t) => {
  const ends: string[] = [];
  const api = await start(t, { onInvokeEnd: (id) => ends.push(id) });
  const agent = keepAlive(t);
  const ports = new Set<number | undefined>();
  let pending = call(api, 'GET', NEXT, { agent });
  for (let i = 0; i < 100; i++) {
    const outcome = api.invoke(inv(`k${i}`, { payload: Buffer.from(String(i)) }));
    const next = await pending;
    ports.add(next.localPort);
    assert.equal(next.headers['lambda-runtime-aws-request-id'], `k${i}`);
    assert.equal(next.body.toString(), String(i));
    assertAccepted(await call(api, 'POST', responsePath(`k${i}`), { body: `r${i}`, agent }));
    const result = await outcome;
    assert.equal(result.kind === 'response' ? result.body.toString() : '', `r${i}`);
    pending = call(api, 'GET', NEXT, { agent });
    await nextTurn();
  }
  assert.equal(ports.size, 1, 'one socket for everything');
  await until(() => ends.length === 100);
  assert.equal(ends.length, 100, 'each /next after a result ends the previous invocation');
  await api.close();
  await assert.rejects(pending);
});

test('curl: a shell runtime with one connection per call runs several invocations', async (t) => {
  const api = await start(t);
  for (let i = 0; i < 3; i++) {
    const outcome = api.invoke(inv(`sh${i}`, { payload: Buffer.from(`{"n":${i}}`) }));
    const next = await curl(['-D', '-', `http://${api.address}${NEXT}`]);
    assert.match(next.stdout, new RegExp(`lambda-runtime-aws-request-id: sh${i}\\r\\n`, 'i'));
    assert.match(next.stdout, /content-type: application\/json\r\n/i);
    assert.ok(next.stdout.endsWith(`{"n":${i}}`));
    const post = await curl([`http://${api.address}${responsePath(`sh${i}`)}`, '-d', `echo ${i}`]);
    assert.deepEqual(JSON.parse(post.stdout), { status: 'OK' });
    const result = await outcome;
    assert.equal(result.kind === 'response' ? result.body.toString() : '', `echo ${i}`);
  }
});

/** A tiny runtime in a real child process: /next, post the payload back upper-cased, exit. */
const CHILD_RUNTIME = `
const http = require('node:http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true });
http.get({ host, port, path: '${NEXT}', agent }, (res) => {
  const id = res.headers['lambda-runtime-aws-request-id'];
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    const req = http.request({ host, port, method: 'POST', path: '${BASE}/invocation/' + id + '/response', agent }, (r) => {
      r.resume();
      r.on('end', () => process.exit(r.statusCode === 202 ? 0 : 1));
    });
    req.end(body.toUpperCase());
  });
});
`;

test('respawn: a runtime process that exits is replaced by a new process on new connections', async (t) => {
  const api = await start(t);
  for (const id of ['p1', 'p2', 'p3']) {
    const outcome = api.invoke(inv(id, { payload: Buffer.from(`hello ${id}`) }));
    const child = spawn(process.execPath, ['-e', CHILD_RUNTIME], {
      env: { ...process.env, AWS_LAMBDA_RUNTIME_API: api.address },
      stdio: 'ignore',
    });
    t.after(() => child.kill());
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    const result = await outcome;
    assert.equal(result.kind === 'response' ? result.body.toString() : '', `HELLO ${id.toUpperCase()}`);
  }
});

test('socket mode: listens on a Unix socket path, which is the address', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-rapi-sock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'rapi.sock');
  const api = await RuntimeApiServer.start({ socketPath });
  t.after(() => api.close());
  assert.equal(api.address, socketPath);
  const { outcome, next } = await delivered(api, 'unix');
  assert.equal(next.headers['lambda-runtime-aws-request-id'], 'unix');
  assertAccepted(await call(api, 'POST', responsePath('unix'), { body: 'via socket' }));
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'via socket');
  const viaCurl = api.invoke(inv('unix-curl'));
  const curlNext = await curl(['--unix-socket', socketPath, '-D', '-', `http://localhost${NEXT}`]);
  assert.match(curlNext.stdout, /lambda-runtime-aws-request-id: unix-curl/i);
  api.abort('done');
  await viaCurl;
});

// ── abort, invoke() contract ─────────────────────────────────────────────────────────────────────────────────

test('abort(): mid-invocation → {kind:aborted}; later posts for its id → 400; the next invocation works', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'slow');
  api.abort('timeout');
  assert.deepEqual(await outcome, { kind: 'aborted', reason: 'timeout' });
  assertError(await call(api, 'POST', responsePath('slow'), { body: 'late' }), 400, 'InvalidRequestID');
  assertError(await call(api, 'POST', errorPath('slow'), { body: '{}' }), 400, 'InvalidRequestID');
  const { outcome: second } = await delivered(api, 'after');
  assertAccepted(await call(api, 'POST', responsePath('after'), { body: 'ok' }));
  assert.equal((await second).kind, 'response');
});

test('abort(): before the event was delivered, and while the result body is arriving', async (t) => {
  const api = await start(t);
  const queued = api.invoke(inv('never-delivered'));
  api.abort('shutdown');
  assert.deepEqual(await queued, { kind: 'aborted', reason: 'shutdown' });
  const { outcome } = await delivered(api, 'mid-body');
  const counter = requestCounter(t, api);
  const upload = request({ ...target(api), method: 'POST', path: responsePath('mid-body'), agent: false });
  const reply = once(upload, 'response') as Promise<[IncomingMessage]>;
  upload.write('partial ');
  await until(() => counter.seen() === 1);
  api.abort('timeout');
  assert.deepEqual(await outcome, { kind: 'aborted', reason: 'timeout' });
  upload.end('rest');
  const [res] = await reply;
  res.resume();
  assert.equal(res.statusCode, 400);
});

test('invoke(): throws while an invocation is in flight, for bad header values, and after close()', async (t) => {
  const api = await start(t);
  const first = api.invoke(inv('one'));
  assert.throws(
    () => api.invoke(inv('two')),
    (err: unknown) => isPlatformError(err, 'ERR_INTERNAL'),
  );
  api.abort('done');
  await first;
  assert.throws(
    () => api.invoke(inv('bad\r\nid')),
    (err: unknown) => isPlatformError(err, 'ERR_INTERNAL'),
  );
  await api.close();
  await api.close();
  assert.throws(
    () => api.invoke(inv('three')),
    (err: unknown) => isPlatformError(err, 'ERR_DISPOSED'),
  );
});

// ── /init/error ──────────────────────────────────────────────────────────────────────────────────────────────

test('init: /init/error before the first /next → 202 and onInitError; type missing → Runtime.Unknown', async (t) => {
  const errors: { errorType: string; body: string }[] = [];
  const api = await start(t, { onInitError: (e) => errors.push({ errorType: e.errorType, body: e.body.toString() }) });
  assertAccepted(await call(api, 'POST', INIT_ERROR, { body: '{"errorMessage":"boom"}' }));
  assert.deepEqual(errors, [{ errorType: 'Runtime.Unknown', body: '{"errorMessage":"boom"}' }]);
  assert.equal(api.ready, false);
  const other = await start(t, {
    onInitError: (e) => errors.push({ errorType: e.errorType, body: e.body.toString() }),
  });
  assertAccepted(
    await call(other, 'POST', INIT_ERROR, {
      body: 'not json',
      headers: { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError' },
    }),
  );
  assert.deepEqual(errors[1], { errorType: 'Runtime.ImportModuleError', body: 'not json' });
});

test('init: /next after /init/error → 403; a second /init/error → 403', async (t) => {
  let ready = 0;
  const api = await start(t, { onReady: () => (ready += 1) });
  assertAccepted(await call(api, 'POST', INIT_ERROR, { body: '{}' }));
  assertError(await call(api, 'GET', NEXT), 403, 'InvalidStateTransition');
  assertError(await call(api, 'POST', INIT_ERROR, { body: '{}' }), 403, 'InvalidStateTransition');
  assert.equal(ready, 0);
});

test('init: /init/error after the first /next → 403 InvalidStateTransition, no onInitError', async (t) => {
  let initErrors = 0;
  const api = await start(t, { onInitError: () => (initErrors += 1) });
  const { outcome } = await delivered(api, 'i');
  assertError(await call(api, 'POST', INIT_ERROR, { body: '{}' }), 403, 'InvalidStateTransition');
  assert.equal(initErrors, 0);
  api.abort('test over');
  assert.deepEqual(await outcome, { kind: 'aborted', reason: 'test over' });
});

// ── streaming ────────────────────────────────────────────────────────────────────────────────────────────────

interface Stream {
  write(chunk: string): void;
  end(trailers?: Record<string, string>): void;
  destroy(): void;
  halfClose(): void;
  reply: Promise<Reply>;
}

/** A streamed POST /response as the official client sends it. */
function stream(api: RuntimeApiServer, id: string, contentType?: string): Stream {
  const headers: OutgoingHttpHeaders = {
    'lambda-runtime-function-response-mode': 'streaming',
    'transfer-encoding': 'chunked',
    trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
  };
  if (contentType !== undefined) headers['content-type'] = contentType;
  const req = request({ ...target(api), method: 'POST', path: responsePath(id), agent: false, headers });
  req.on('error', () => undefined);
  const reply = new Promise<Reply>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: 0 });
      });
    });
  });
  return {
    write: (chunk) => {
      req.write(chunk);
    },
    end: (trailers) => {
      if (trailers) req.addTrailers(trailers);
      req.end();
    },
    destroy: () => {
      req.destroy();
    },
    halfClose: () => {
      req.socket?.end();
    },
    reply,
  };
}

test('streaming: each chunk reaches onChunk as it arrives, in order, with the content type, and is not kept in the outcome', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const types = new Set<string>();
  const { outcome } = await delivered(api, 's1', {
    onChunk: (c, contentType) => {
      seen.push(c.toString());
      types.add(contentType);
      return undefined;
    },
  });
  const s = stream(api, 's1', 'text/plain');
  s.write('one,');
  await until(() => seen.length === 1);
  s.write('two,');
  await until(() => seen.length === 2);
  s.write('three');
  await until(() => seen.length === 3);
  assert.deepEqual(seen, ['one,', 'two,', 'three']);
  assert.deepEqual([...types], ['text/plain']);
  let settled = false;
  void outcome.then(() => (settled = true));
  await nextTurn();
  assert.equal(settled, false, 'the invocation is still streaming');
  s.end();
  assertAccepted(await s.reply);
  // The caller has every chunk already: a stream of up to 200 MB is not held twice.
  assert.deepEqual(await outcome, {
    kind: 'response',
    body: Buffer.alloc(0),
    contentType: 'text/plain',
    streamed: true,
  });
});

test('streaming: no Content-Type → application/octet-stream; HTTP-integration bytes pass untouched', async (t) => {
  const api = await start(t);
  let { outcome } = await delivered(api, 's-default');
  let s = stream(api, 's-default');
  s.write('x');
  s.end();
  assertAccepted(await s.reply);
  let result = await outcome;
  assert.equal(result.kind === 'response' ? result.contentType : '', 'application/octet-stream');
  ({ outcome } = await delivered(api, 's-http'));
  const prelude = '{"statusCode":201,"headers":{"x":"y"}}';
  s = stream(api, 's-http', 'application/vnd.awslambda.http-integration-response');
  s.write(prelude);
  s.write('\0\0\0\0\0\0\0\0');
  s.write('payload');
  s.end();
  assertAccepted(await s.reply);
  result = await outcome;
  assert.deepEqual(result.kind === 'response' ? result.body : null, Buffer.from(`${prelude}\0\0\0\0\0\0\0\0payload`));
});

test('streaming: error trailers → {kind:error} with the type and the decoded error JSON', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const { outcome } = await delivered(api, 's-err', { onChunk: collect(seen) });
  const s = stream(api, 's-err');
  s.write('partial');
  const errorBody = { errorType: 'Boom', errorMessage: 'mid-stream', trace: [] };
  s.end({
    'Lambda-Runtime-Function-Error-Type': 'Function.Boom',
    'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(errorBody)).toString('base64'),
  });
  assertAccepted(await s.reply);
  const result = await outcome;
  assert.equal(result.kind, 'error');
  assert.equal(result.kind === 'error' ? result.errorType : '', 'Function.Boom');
  assert.deepEqual(JSON.parse(result.kind === 'error' ? result.body.toString() : ''), errorBody);
  assert.deepEqual(seen, ['partial']);
});

test('streaming: a consumer that is full holds the stream: nothing more is read until its promise settles', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  let release: () => void = () => undefined;
  const { outcome } = await delivered(api, 's-held', {
    onChunk: (c) => {
      seen.push(c.toString());
      return seen.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : undefined;
    },
  });
  const s = stream(api, 's-held');
  s.write('one,');
  await until(() => seen.length === 1);
  s.write('two,');
  s.write('three');
  s.end();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(seen, ['one,'], 'while the consumer is full, the rest stays unread');
  release();
  assertAccepted(await s.reply);
  assert.deepEqual(seen, ['one,', 'two,', 'three']);
  assert.equal((await outcome).kind, 'response');
});

test('streaming: past 200 MB the caller has exactly 200 MB, then Function.ResponseSizeTooLarge; the runtime gets 413', async (t) => {
  const api = await start(t);
  let received = 0;
  const { outcome } = await delivered(api, 's-big', {
    onChunk: (c) => {
      received += c.length;
      return undefined;
    },
  });
  const s = stream(api, 's-big');
  const block = 'a'.repeat(1024 * 1024);
  for (let i = 0; i < 200; i++) s.write(block);
  s.write('and a few more bytes');
  s.end();
  const result = await outcome;
  assert.equal(result.kind === 'error' ? result.errorType : result.kind, 'Function.ResponseSizeTooLarge');
  const error = JSON.parse(result.kind === 'error' ? result.body.toString() : '{}') as { errorMessage?: string };
  assert.match(error.errorMessage ?? '', /exceeded maximum allowed payload size \(209715200 bytes\)/);
  assert.equal(received, 200 * 1024 * 1024);
  assert.equal((await s.reply).status, 413);
});

test('streaming: a stream cut short (client gone mid-body) → Runtime.TruncatedResponse', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const { outcome } = await delivered(api, 's-cut', { onChunk: collect(seen) });
  const s = stream(api, 's-cut');
  s.write('half');
  await until(() => seen.length === 1);
  s.destroy();
  const result = await outcome;
  assert.equal(result.kind === 'error' ? result.errorType : '', 'Runtime.TruncatedResponse');
  assert.equal(
    JSON.parse(result.kind === 'error' ? result.body.toString() : '{}').errorType,
    'Runtime.TruncatedResponse',
  );
  assertError(await call(api, 'POST', responsePath('s-cut'), { body: 'again' }), 403, 'InvalidStateTransition');
});

test('streaming: after abort() the rest of the stream no longer reaches onChunk, and the post gets 400', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const { outcome } = await delivered(api, 's-abort', { onChunk: collect(seen) });
  const s = stream(api, 's-abort');
  s.write('before');
  await until(() => seen.length === 1);
  api.abort('timeout');
  assert.deepEqual(await outcome, { kind: 'aborted', reason: 'timeout' });
  s.write('after');
  s.end();
  assertError(await s.reply, 400, 'InvalidRequestID');
  assert.deepEqual(seen, ['before']);
});

test('next: a /next on another connection while the result is still arriving ends the invoke with the result', async (t) => {
  const ends: string[] = [];
  const api = await start(t, { onInvokeEnd: (id) => ends.push(id) });
  const counter = requestCounter(t, api);
  const { outcome } = await delivered(api, 'overlap');
  const s = stream(api, 'overlap');
  s.write('part');
  await until(() => counter.seen() === 1);
  const waiting = call(api, 'GET', NEXT);
  await until(() => counter.seen() === 2);
  assert.deepEqual(ends, []);
  s.end();
  assertAccepted(await s.reply);
  assert.equal((await outcome).kind, 'response');
  assert.deepEqual(ends, ['overlap']);
  const second = api.invoke(inv('after-overlap'));
  assert.equal((await waiting).headers['lambda-runtime-aws-request-id'], 'after-overlap');
  api.abort('done');
  await second;
});

test('streaming: a half-closed upload gets 400 TruncatedHTTPRequest on the wire', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 's-half');
  const head =
    `POST ${responsePath('s-half')} HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n` +
    'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n';
  const [answer, result] = await Promise.all([raw(api, head, true), outcome]);
  assert.match(answer, /^HTTP\/1.1 400 /);
  assert.match(answer, /"errorType":"TruncatedHTTPRequest"/);
  assert.equal(result.kind === 'error' ? result.errorType : '', 'Runtime.TruncatedResponse');
});

test('response: a buffered body cut short is no result; the runtime may post again', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'b-cut');
  const upload = request({
    ...target(api),
    method: 'POST',
    path: responsePath('b-cut'),
    agent: false,
    headers: { 'content-length': 100 },
  });
  upload.on('error', () => undefined);
  upload.write('only part');
  await pause(20);
  upload.destroy();
  // The server learns of the cut asynchronously: until then a new post is a second result (403).
  let again = await call(api, 'POST', responsePath('b-cut'), { body: 'complete' });
  for (let i = 0; i < 100 && again.status === 403; i++) {
    await pause(10);
    again = await call(api, 'POST', responsePath('b-cut'), { body: 'complete' });
  }
  assertAccepted(again);
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'complete');
});

// ── robustness ───────────────────────────────────────────────────────────────────────────────────────────────

test('robustness: garbage, bad headers, oversized headers and half requests get JSON errors, never a crash', async (t) => {
  const api = await start(t);
  const garbage = await raw(api, '\x00\x01garbage\r\n\r\n');
  assert.match(garbage, /^HTTP\/1.1 400 /);
  assert.match(garbage, /content-type: application\/json/i);
  assert.match(garbage, /"errorType":"BadRequest"/);
  const badHeader = await raw(api, `GET ${NEXT} HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n`);
  assert.match(badHeader, /^HTTP\/1.1 400 /);
  const huge = await raw(api, `GET ${NEXT} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(300 * 1024)}\r\n\r\n`);
  assert.match(huge, /^HTTP\/1.1 431 /);
  const half = await raw(api, `POST ${responsePath('x')} HTTP/1.1\r\nHost: x\r\nContent-`, true);
  assert.match(half, /^HTTP\/1.1 400 /);
  const badLength = await raw(api, `POST ${responsePath('x')} HTTP/1.1\r\nContent-Length: -5\r\n\r\n`);
  assert.match(badLength, /^HTTP\/1.1 400 /);
  // Still serving.
  const { outcome } = await delivered(api, 'alive');
  assertAccepted(await call(api, 'POST', responsePath('alive'), { body: 'yes' }));
  assert.equal((await outcome).kind, 'response');
});

test('robustness: requests without Host, HTTP/1.0, a query string or an absolute URL are served', async (t) => {
  const api = await start(t);
  const outcome = api.invoke(inv('lenient'));
  const next = await raw(api, `GET ${NEXT}?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n`);
  assert.match(next, /^HTTP\/1.1 200 /);
  assert.match(next, /lambda-runtime-aws-request-id: lenient/i);
  const post = await raw(
    api,
    `POST http://${api.address}${responsePath('lenient')} HTTP/1.0\r\nContent-Length: 2\r\n\r\nok`,
  );
  assert.match(post, /^HTTP\/1.1 202 /);
  const result = await outcome;
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'ok');
});

test('close(): ends a long-polling /next and idle connections; idempotent', async (t) => {
  const api = await start(t);
  const polling = call(api, 'GET', NEXT);
  const idle = connect(target(api) as { host: string; port: number });
  idle.on('error', () => undefined);
  await once(idle, 'connect');
  await pause(20);
  const closed = once(idle, 'close');
  await Promise.all([api.close(), api.close()]);
  await assert.rejects(polling);
  await closed;
});

// ── the HTTP/1.1 layer: pipelining, the held 202, hostile input ───────────────────────────────────────────────

/** A raw connection kept open: what was received so far, each read as it came, and helpers to wait for more. */
interface RawSession {
  write(bytes: string | Buffer): void;
  end(): void;
  text(): string;
  /** Each `data` event's bytes, as received (a write of the server usually arrives as one). */
  reads: Buffer[];
  until(pattern: RegExp): Promise<void>;
  closed: Promise<void>;
}

async function rawSession(t: TestContext, api: RuntimeApiServer): Promise<RawSession> {
  const socket = connect(target(api) as { host: string; port: number });
  socket.setNoDelay(true);
  t.after(() => socket.destroy());
  const reads: Buffer[] = [];
  socket.on('data', (d: Buffer) => reads.push(d));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  const text = () => Buffer.concat(reads).toString('latin1');
  return {
    write: (bytes) => socket.write(bytes),
    end: () => socket.end(),
    text,
    reads,
    until: async (pattern) => {
      await until(() => pattern.test(text()));
      assert.match(text(), pattern);
    },
    closed,
  };
}

const rawPost = (id: string, body: string, action = 'response') =>
  `POST ${BASE}/invocation/${id}/${action} HTTP/1.1\r\nHost: rapi\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const rawNext = `GET ${NEXT} HTTP/1.1\r\nHost: rapi\r\n\r\n`;

/** The status codes of the replies in `text`, in order (interim 100s included). */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** The bodies of the JSON error replies in `text`, parsed. */
function jsonErrors(text: string): { errorType: string; errorMessage: string }[] {
  const found: { errorType: string; errorMessage: string }[] = [];
  for (const m of text.matchAll(/HTTP\/1\.1 (4\d\d) [^\r]*\r\n([\s\S]*?)\r\n\r\n/g)) {
    const head = m[2] ?? '';
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
    assert.match(head, /content-type: application\/json/i);
    const start = (m.index ?? 0) + m[0].length;
    found.push(JSON.parse(text.slice(start, start + length)) as { errorType: string; errorMessage: string });
  }
  return found;
}

test('coalescing: a result with GET /next pipelined behind it → its 202 waits, then leaves in one write with the event', async (t) => {
  const ends: string[] = [];
  const api = await start(t, { onInvokeEnd: (id) => ends.push(id) });
  const s = await rawSession(t, api);
  const first = api.invoke(inv('c1'));
  s.write(rawNext);
  await s.until(/lambda-runtime-aws-request-id: c1[\s\S]*\{"a":1\}$/);
  const before = s.reads.length;
  // The result and the next /next in one write, as Lambkin's runtime sends them.
  s.write(rawPost('c1', '"one"') + rawNext);
  const result = await first;
  assert.deepEqual(result, {
    kind: 'response',
    body: Buffer.from('"one"'),
    contentType: 'application/json',
    streamed: false,
  });
  assert.deepEqual(ends, ['c1'], 'the pipelined /next ended the invoke');
  assert.equal(s.reads.length, before, 'no 202 yet');
  // The platform hands out the next event at once (a queued invoke): the 202 leaves with it.
  const second = api.invoke(inv('c2', { payload: Buffer.from('{"n":2}') }));
  await s.until(/\{"n":2\}$/);
  assert.equal(s.reads.length, before + 1, 'the 202 and the event arrived in one read');
  const got = (s.reads[before] ?? Buffer.alloc(0)).toString('latin1');
  assert.match(got, /^HTTP\/1\.1 202 Accepted\r\n[\s\S]*\r\n\r\n\{"status":"OK"\}\n/);
  assert.match(got, /\nHTTP\/1\.1 200 OK\r\n[\s\S]*lambda-runtime-aws-request-id: c2\r\n[\s\S]*\r\n\r\n\{"n":2\}$/);
  // Not pipelined: the 202 comes at once, with no invocation waiting.
  const before2 = s.reads.length;
  s.write(rawPost('c2', '"two"'));
  await s.until(/\{"n":2\}HTTP\/1\.1 202 Accepted\r\n[\s\S]*\{"status":"OK"\}\n$/);
  assert.equal((await second).kind, 'response');
  assert.equal(s.reads.length, before2 + 1);
});

test('coalescing: with no event coming, the held 202 (of /response or /error) leaves alone a moment later', async (t) => {
  const api = await start(t);
  const s = await rawSession(t, api);
  for (const [id, action] of [
    ['h1', 'error'],
    ['h2', 'response'],
  ] as const) {
    const outcome = api.invoke(inv(id));
    // (The second event goes to the /next pipelined behind the first result.)
    if (id === 'h1') s.write(rawNext);
    await s.until(new RegExp(`lambda-runtime-aws-request-id: ${id}`));
    const sent = performance.now();
    s.write(rawPost(id, '{"errorType":"E","errorMessage":"m"}', action) + rawNext);
    assert.equal((await outcome).kind, action);
    await s.until(/\{"status":"OK"\}\n$/);
    // A runtime may wait for it (Lambkin's nodejs22.x mode exits after posting an unhandled rejection).
    assert.ok(performance.now() - sent < 1000);
  }
  assert.deepEqual(statuses(s.text()), [200, 202, 200, 202]);
  // The parked /next still gets the next event.
  const third = api.invoke(inv('h3'));
  await s.until(/lambda-runtime-aws-request-id: h3/);
  api.abort('done');
  await third;
});

test('coalescing: a held 202 does not outlive the runtime going away, a newer /next, abort() or close()', async (t) => {
  const api = await start(t);
  // The runtime half-closes right behind its result: the 202 is written, the parked /next dropped, the connection ends.
  const s = await rawSession(t, api);
  const outcome = api.invoke(inv('g1'));
  s.write(rawNext);
  await s.until(/lambda-runtime-aws-request-id: g1/);
  s.write(rawPost('g1', '1') + rawNext);
  s.end();
  await outcome;
  await s.closed;
  assert.deepEqual(statuses(s.text()), [200, 202]);
  // A newer /next on another connection replaces a parked one whose 202 is held.
  const other = await rawSession(t, api);
  const next = api.invoke(inv('g2'));
  other.write(rawNext);
  await other.until(/lambda-runtime-aws-request-id: g2/);
  other.write(rawPost('g2', '2') + rawNext);
  await next;
  const newer = call(api, 'GET', NEXT);
  await other.closed;
  assert.deepEqual(statuses(other.text()), [200, 202]);
  api.abort('nothing to abort: the invocation is answered');
  const third = api.invoke(inv('g3'));
  assert.equal((await newer).headers['lambda-runtime-aws-request-id'], 'g3');
  // close() with a 202 held.
  const last = await rawSession(t, api);
  last.write(rawPost('g3', '3') + rawNext);
  await third;
  await api.close();
  await last.closed;
});

test('pipelining: replies leave in request order, also behind a long-polling /next', async (t) => {
  const api = await start(t);
  const s = await rawSession(t, api);
  s.write(
    `GET /nope HTTP/1.1\r\n\r\n` +
      rawPost('nobody', 'x') +
      rawNext +
      `PUT ${NEXT} HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc` +
      `GET /nope/again HTTP/1.1\r\n\r\n`,
  );
  await s.until(/InvalidRequestID/);
  await pause(30);
  assert.deepEqual(statuses(s.text()), [404, 400], 'the replies behind the waiting /next wait too');
  const outcome = api.invoke(inv('p1'));
  await s.until(/"errorType":"NotFound"[\s\S]*"errorType":"NotFound"/);
  assert.deepEqual(statuses(s.text()), [404, 400, 200, 405, 404]);
  assert.deepEqual(
    jsonErrors(s.text()).map((e) => e.errorType),
    ['NotFound', 'InvalidRequestID', 'MethodNotAllowed', 'NotFound'],
  );
  api.abort('done');
  await outcome;
});

test('pipelining: many requests in one write are all answered, in order, and the connection stays usable', async (t) => {
  const api = await start(t);
  const s = await rawSession(t, api);
  const n = 40;
  let batch = '';
  for (let i = 0; i < n; i++) batch += `GET /x${i} HTTP/1.1\r\n\r\n`;
  s.write(batch);
  await until(() => statuses(s.text()).length === n);
  const paths = jsonErrors(s.text()).map((e) => /path: (\S+)/.exec(e.errorMessage)?.[1]);
  assert.deepEqual(
    paths,
    Array.from({ length: n }, (_, i) => `/x${i}`),
  );
  const outcome = api.invoke(inv('after-batch'));
  s.write(rawNext);
  await s.until(/lambda-runtime-aws-request-id: after-batch/);
  api.abort('done');
  await outcome;
});

test('HTTP/1.0: keep-alive only when asked for; Connection: close ends the connection after the reply', async (t) => {
  const api = await start(t);
  const s = await rawSession(t, api);
  s.write('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await s.until(/NotFound/);
  assert.match(s.text(), /\r\nConnection: keep-alive\r\n/);
  s.write('GET /b HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n');
  await s.closed;
  assert.deepEqual(statuses(s.text()), [404, 404]);
  assert.match(s.text(), /\r\nConnection: close\r\n/);
  assert.doesNotMatch(s.text(), /ignored/);
});

test('hostile input: bad framing, huge heads, bad chunk sizes and bad Content-Length get JSON errors and a close', async (t) => {
  const api = await start(t);
  const cases: [string, string | Buffer, number, string][] = [
    ['negative Content-Length', `POST ${responsePath('x')} HTTP/1.1\r\nContent-Length: -5\r\n\r\n`, 400, 'BadRequest'],
    [
      'Content-Length with a sign',
      `POST ${responsePath('x')} HTTP/1.1\r\nContent-Length: +5\r\n\r\n`,
      400,
      'BadRequest',
    ],
    [
      'huge Content-Length',
      `POST ${responsePath('x')} HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n`,
      400,
      'BadRequest',
    ],
    [
      'duplicate Content-Length',
      `POST ${responsePath('x')} HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx`,
      400,
      'BadRequest',
    ],
    [
      'Content-Length and chunked',
      `POST ${responsePath('x')} HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`,
      400,
      'BadRequest',
    ],
    [
      'gzip transfer coding',
      `POST ${responsePath('x')} HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n`,
      400,
      'BadRequest',
    ],
    ['obsolete line folding', `GET ${NEXT} HTTP/1.1\r\nX: a\r\n b\r\n\r\n`, 400, 'BadRequest'],
    ['bare LF', `GET ${NEXT} HTTP/1.1\nHost: x\n\n\r\n\r\n`, 400, 'BadRequest'],
    ['control character', `GET ${NEXT} HTTP/1.1\r\nX: a\x01b\r\n\r\n`, 400, 'BadRequest'],
    ['NUL in the target', `GET /a\x00b HTTP/1.1\r\n\r\n`, 400, 'BadRequest'],
    ['unknown version', `GET ${NEXT} HTTP/2.0\r\n\r\n`, 400, 'BadRequest'],
    ['no version', `GET ${NEXT}\r\n\r\n`, 400, 'BadRequest'],
    ['header without colon', `GET ${NEXT} HTTP/1.1\r\nNoColon\r\n\r\n`, 400, 'BadRequest'],
    [
      'huge header line',
      `GET ${NEXT} HTTP/1.1\r\nX-Big: ${'a'.repeat(300 * 1024)}\r\n\r\n`,
      431,
      'RequestHeaderFieldsTooLarge',
    ],
    [
      'many headers',
      `GET ${NEXT} HTTP/1.1\r\n${'X-Many: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(8000)}\r\n`,
      431,
      'RequestHeaderFieldsTooLarge',
    ],
    ['huge request line', `GET /${'a'.repeat(300 * 1024)} HTTP/1.1\r\n\r\n`, 431, 'RequestHeaderFieldsTooLarge'],
    ['no end of head', `GET ${NEXT} HTTP/1.1\r\n${'b'.repeat(300 * 1024)}`, 431, 'RequestHeaderFieldsTooLarge'],
  ];
  for (const [name, bytes, status, errorType] of cases) {
    const answer = await raw(api, bytes);
    assert.deepEqual(statuses(answer), [status], name);
    assert.deepEqual(
      jsonErrors(answer).map((e) => e.errorType),
      [errorType],
      name,
    );
    assert.match(answer, /\r\nConnection: close\r\n/, name);
  }
  // Bad chunk framing on a body nobody reads (the path is unknown): the 404 first, then the connection ends.
  for (const chunk of ['zz\r\n', `${'f'.repeat(20)}\r\n`, '3\r\nabcXY', '3 \r\nabc\r\n', '1'.repeat(5000)]) {
    const answer = await raw(api, `POST /unknown HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
    assert.deepEqual(statuses(answer), [404], JSON.stringify(chunk));
  }
  // Still serving.
  const { outcome } = await delivered(api, 'alive');
  assertAccepted(await call(api, 'POST', responsePath('alive'), { body: 'yes' }));
  assert.equal((await outcome).kind, 'response');
});

test('hostile input: a bad chunk size in a streamed response → 400 TruncatedHTTPRequest, Runtime.TruncatedResponse', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const { outcome } = await delivered(api, 's-bad', { onChunk: collect(seen) });
  const answer = await raw(
    api,
    `POST ${responsePath('s-bad')} HTTP/1.1\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n` +
      'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nnot-hex\r\n',
  );
  assert.deepEqual(statuses(answer), [400]);
  assert.deepEqual(
    jsonErrors(answer).map((e) => e.errorType),
    ['TruncatedHTTPRequest'],
  );
  const result = await outcome;
  assert.equal(result.kind === 'error' ? result.errorType : '', 'Runtime.TruncatedResponse');
  assert.deepEqual(seen, ['hello']);
});

test('chunked: sizes in any case with extensions, trailers, and a body split at every byte', async (t) => {
  const api = await start(t);
  const { outcome } = await delivered(api, 'split');
  const request =
    `POST ${responsePath('split')} HTTP/1.1\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n` +
    'Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.X\r\n' +
    `Lambda-Runtime-Function-Error-Body: ${Buffer.from('{"e":1}').toString('base64')}\r\n\r\n`;
  const s = await rawSession(t, api);
  for (const byte of Buffer.from(request)) {
    s.write(Buffer.from([byte]));
    await nextTurn();
  }
  await s.until(/\{"status":"OK"\}\n$/);
  assert.deepEqual(await outcome, { kind: 'error', errorType: 'Function.X', body: Buffer.from('{"e":1}') });
});

/**
 * Like `raw`, for input that may leave the server waiting for more: after `idleMs` without a reply the client
 * half-closes (and the server must then end the connection).
 */
function rawIdle(api: RuntimeApiServer, bytes: Buffer, idleMs = 20): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ ...target(api) } as { host: string; port: number });
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => socket.end(), idleMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => socket.end(), idleMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

test('hostile input: random bytes and mangled requests never crash the server; errors are JSON', async (t) => {
  const api = await start(t);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const random = prng(20260601);
  const byte = () => Math.floor(random() * 256);
  const seeds = [
    rawNext,
    rawPost('f', '{"x":1}'),
    `POST ${responsePath('f')} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n4\r\nabcd\r\n0\r\nT: v\r\n\r\n`,
    `POST ${INIT_ERROR} HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}`,
  ];
  for (let i = 0; i < 300; i++) {
    let bytes: Buffer;
    if (i % 3 === 0) {
      bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, byte));
    } else {
      // A valid request with a few bytes flipped, cut, or repeated.
      bytes = Buffer.from(seeds[i % seeds.length] ?? '', 'latin1');
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) bytes[Math.floor(random() * bytes.length)] = byte();
      if (random() < 0.3) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      if (random() < 0.2) bytes = Buffer.concat([bytes, bytes]);
    }
    const answer = await rawIdle(api, bytes);
    if (answer === '') continue;
    assert.match(answer, /^HTTP\/1\.1 \d{3} /, `case ${i}`);
    for (const e of jsonErrors(answer)) assert.equal(typeof e.errorType, 'string', `case ${i}`);
  }
  assert.deepEqual(warnings, []);
  // Still serving (the state may be anything now: some mangled requests were valid ones).
  assertError(await call(api, 'GET', '/still-serving'), 404, 'NotFound');
});

test('coalescing: a large event behind a held 202 arrives whole', async (t) => {
  const api = await start(t);
  const s = await rawSession(t, api);
  const first = api.invoke(inv('big1'));
  s.write(rawNext);
  await s.until(/lambda-runtime-aws-request-id: big1/);
  s.write(rawPost('big1', '1') + rawNext);
  await first;
  const payload = Buffer.alloc(1024 * 1024 + 7);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) & 0xff;
  const second = api.invoke(inv('big2', { payload }));
  const all = () => Buffer.concat(s.reads);
  await until(() => all().length >= payload.length + 400 && all().subarray(-payload.length).equals(payload));
  assert.ok(all().subarray(-payload.length).equals(payload));
  assert.deepEqual(
    statuses(
      all()
        .subarray(0, all().length - payload.length)
        .toString('latin1'),
    ),
    [200, 202, 200],
  );
  api.abort('done');
  await second;
});

test('backpressure: a client that pipelines a lot and reads late gets every reply, in order', async (t) => {
  const api = await start(t);
  const socket = connect(target(api) as { host: string; port: number });
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  // Not read for a while: the server's writes back up, and it stops reading until they drain.
  socket.pause();
  const n = 60_000;
  const filler = 'x'.repeat(150);
  let batch = '';
  for (let i = 0; i < n; i++) batch += `GET /p${i}/${filler} HTTP/1.1\r\n\r\n`;
  socket.write(batch);
  await pause(100);
  assert.ok(socket.writableLength > 0, 'the server stopped reading');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.resume();
  const text = () => Buffer.concat(chunks).toString('latin1');
  await until(() => (text().match(/HTTP\/1\.1 404 /g) ?? []).length === n);
  const paths = [...text().matchAll(/path: \/p(\d+)\//g)].map((m) => Number(m[1]));
  assert.equal(paths.length, n);
  assert.ok(
    paths.every((p, i) => p === i),
    'in order',
  );
});
