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
import type { Invocation, InvocationOutcome } from './types.ts';

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

test('streaming: each chunk reaches onChunk as it arrives, in order; the outcome is the whole body, streamed', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const { outcome } = await delivered(api, 's1', { onChunk: (c) => seen.push(c.toString()) });
  const s = stream(api, 's1', 'text/plain');
  s.write('one,');
  await until(() => seen.length === 1);
  s.write('two,');
  await until(() => seen.length === 2);
  s.write('three');
  await until(() => seen.length === 3);
  assert.deepEqual(seen, ['one,', 'two,', 'three']);
  let settled = false;
  void outcome.then(() => (settled = true));
  await nextTurn();
  assert.equal(settled, false, 'the invocation is still streaming');
  s.end();
  assertAccepted(await s.reply);
  assert.deepEqual(await outcome, {
    kind: 'response',
    body: Buffer.from('one,two,three'),
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
  const { outcome } = await delivered(api, 's-err', { onChunk: (c) => seen.push(c.toString()) });
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

test('streaming: a stream cut short (client gone mid-body) → Runtime.TruncatedResponse', async (t) => {
  const api = await start(t);
  const seen: string[] = [];
  const { outcome } = await delivered(api, 's-cut', { onChunk: (c) => seen.push(c.toString()) });
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
  const { outcome } = await delivered(api, 's-abort', { onChunk: (c) => seen.push(c.toString()) });
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
