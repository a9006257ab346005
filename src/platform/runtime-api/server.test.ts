import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RuntimeApiServer, type RuntimeApiEvents } from './server.ts';
import type { Invocation } from './types.ts';

const NEXT = '/2018-06-01/runtime/invocation/next';
const inv = (id: string, extra: Partial<Invocation> = {}): Invocation => ({
  requestId: id,
  payload: Buffer.from('{"a":1}'),
  deadlineMs: 1_700_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
  traceId: 'Root=1-5e1b4151-5ac6c58dc39b1f6e6b1d0b1a;Parent=1234567890abcdef;Sampled=0',
  ...extra,
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(
  api: RuntimeApiServer,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<Reply> {
  const [host, port] = api.address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function start(t: TestContext, events: RuntimeApiEvents = {}): Promise<RuntimeApiServer> {
  const api = await RuntimeApiServer.start({ host: '127.0.0.1', port: 0, events });
  t.after(() => api.close());
  return api;
}

test('next: every header, Content-Type always, payload bytes untouched', async (t) => {
  const api = await start(t);
  const payload = Buffer.from([0, 1, 2, 255, 254, 10]);
  const outcome = api.invoke(
    inv('id-1', { payload, clientContext: '{"custom":1}', cognitoIdentity: '{"cognitoIdentityId":"x"}' }),
  );
  const next = await call(api, 'GET', NEXT);
  assert.equal(next.status, 200);
  assert.deepEqual(next.body, payload);
  assert.equal(next.headers['content-type'], 'application/json');
  assert.equal(next.headers['lambda-runtime-aws-request-id'], 'id-1');
  assert.equal(next.headers['lambda-runtime-deadline-ms'], '1700000000000');
  assert.equal(next.headers['lambda-runtime-invoked-function-arn'], 'arn:aws:lambda:us-east-1:000000000000:function:f');
  assert.match(String(next.headers['lambda-runtime-trace-id']), /^Root=1-/);
  assert.equal(next.headers['lambda-runtime-client-context'], '{"custom":1}');
  assert.equal(next.headers['lambda-runtime-cognito-identity'], '{"cognitoIdentityId":"x"}');
  const posted = await call(api, 'POST', '/2018-06-01/runtime/invocation/id-1/response', 'result', {
    'content-type': 'application/x-www-form-urlencoded',
  });
  assert.equal(posted.status, 202);
  assert.deepEqual(JSON.parse(posted.body.toString()), { status: 'OK' });
  const result = await outcome;
  assert.equal(result.kind, 'response');
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'result');
});

test('security: foreign, empty and stale request ids are refused with 400 before any state change', async (t) => {
  const api = await start(t);
  const none = await call(api, 'POST', '/2018-06-01/runtime/invocation/nobody/response', 'x');
  assert.equal(none.status, 400);
  assert.deepEqual(JSON.parse(none.body.toString()), {
    errorMessage: 'Invalid request ID',
    errorType: 'InvalidRequestID',
  });
  const outcome = api.invoke(inv('real'));
  await call(api, 'GET', NEXT);
  assert.equal((await call(api, 'POST', '/2018-06-01/runtime/invocation/other/response', 'x')).status, 400);
  assert.equal((await call(api, 'POST', '/2018-06-01/runtime/invocation//error', 'x')).status, 400);
  assert.equal((await call(api, 'POST', '/2018-06-01/runtime/invocation/real/error', 'not json at all')).status, 202);
  const second = await call(api, 'POST', '/2018-06-01/runtime/invocation/real/response', 'late');
  assert.equal(second.status, 403);
  assert.equal(JSON.parse(second.body.toString()).errorType, 'InvalidStateTransition');
  const result = await outcome;
  assert.deepEqual(result.kind === 'error' ? [result.errorType, result.body.toString()] : [], [
    'Unhandled',
    'not json at all',
  ]);
});

test("security: a post for another environment's request id is refused", async (t) => {
  const a = await start(t);
  const b = await start(t);
  const outcomeA = a.invoke(inv('for-a'));
  await call(a, 'GET', NEXT);
  assert.equal((await call(b, 'POST', '/2018-06-01/runtime/invocation/for-a/response', 'hijack')).status, 400);
  await call(a, 'POST', '/2018-06-01/runtime/invocation/for-a/response', 'mine');
  const result = await outcomeA;
  assert.equal(result.kind === 'response' ? result.body.toString() : '', 'mine');
});

test('error: type header kept, absent → Unhandled, error-cause content type stripped of errorCause', async (t) => {
  const api = await start(t);
  let o = api.invoke(inv('e1'));
  await call(api, 'GET', NEXT);
  await call(api, 'POST', '/2018-06-01/runtime/invocation/e1/error', '{"errorType":"X"}', {
    'lambda-runtime-function-error-type': 'Function.Custom',
  });
  let r = await o;
  assert.equal(r.kind === 'error' ? r.errorType : '', 'Function.Custom');
  o = api.invoke(inv('e2'));
  await call(api, 'GET', NEXT);
  await call(
    api,
    'POST',
    '/2018-06-01/runtime/invocation/e2/error',
    '{"errorMessage":"m","errorType":"T","stackTrace":[],"errorCause":{"x":1}}',
    {
      'content-type': 'application/vnd.aws.lambda.error.cause+json',
    },
  );
  r = await o;
  assert.deepEqual(r.kind === 'error' ? JSON.parse(r.body.toString()) : null, {
    errorMessage: 'm',
    errorType: 'T',
    stackTrace: [],
  });
});

test('limits: exactly 6,291,556 bytes accepted, one more refused with 413 (with and without Content-Length)', async (t) => {
  const api = await start(t);
  let o = api.invoke(inv('big'));
  await call(api, 'GET', NEXT);
  assert.equal(
    (await call(api, 'POST', '/2018-06-01/runtime/invocation/big/response', Buffer.alloc(6_291_556, 0x61))).status,
    202,
  );
  const ok = await o;
  assert.equal(ok.kind === 'response' ? ok.body.length : 0, 6_291_556);
  o = api.invoke(inv('bigger'));
  await call(api, 'GET', NEXT);
  const refused = await call(
    api,
    'POST',
    '/2018-06-01/runtime/invocation/bigger/response',
    Buffer.alloc(6_291_557, 0x61),
  );
  assert.equal(refused.status, 413);
  assert.deepEqual(JSON.parse(refused.body.toString()), {
    errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).',
    errorType: 'RequestEntityTooLarge',
  });
  assert.deepEqual(await o, { kind: 'too-large' });
  // Chunked (no Content-Length).
  o = api.invoke(inv('chunked'));
  await call(api, 'GET', NEXT);
  const [host, port] = api.address.split(':');
  const status = await new Promise<number>((resolve) => {
    const req = request(
      { host, port, method: 'POST', path: '/2018-06-01/runtime/invocation/chunked/response', agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => undefined);
    for (let i = 0; i < 7; i++) req.write(Buffer.alloc(1024 * 1024, 0x62));
    req.end();
  });
  assert.equal(status, 413);
  assert.deepEqual(await o, { kind: 'too-large' });
});

test('curl: a shell runtime posting a 2 MB file gets 100 Continue, then 202; one connection per call works', async (t) => {
  const api = await start(t);
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-rapi-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'body');
  await writeFile(file, Buffer.alloc(2 * 1024 * 1024, 0x63));
  const o = api.invoke(inv('curl-1'));
  const curl = (args: string[]) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile('curl', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(err.message));
        else resolve({ stdout, stderr });
      });
    });
  const next = await curl(['-sS', '-D', '-', `http://${api.address}${NEXT}`]);
  assert.match(next.stdout, /lambda-runtime-aws-request-id: curl-1/i);
  const post = await curl([
    '-sS',
    '-v',
    '-X',
    'POST',
    `http://${api.address}/2018-06-01/runtime/invocation/curl-1/response`,
    '--data-binary',
    `@${file}`,
  ]);
  assert.match(post.stderr, /Expect: 100-continue/);
  assert.match(post.stderr, /HTTP\/1.1 100 Continue/);
  assert.match(post.stderr, /HTTP\/1.1 202/);
  const r = await o;
  assert.equal(r.kind === 'response' ? r.body.length : 0, 2 * 1024 * 1024);
});

test('keep-alive: 100 invocations over one socket; /next long-polls until an event arrives', async (t) => {
  const ends: string[] = [];
  const api = await start(t, { onInvokeEnd: (id) => ends.push(id) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => {
    agent.destroy();
  });
  let sockets = 0;
  agent.on('free', () => undefined);
  for (let i = 0; i < 100; i++) {
    const pending = call(api, 'GET', NEXT, undefined, {}, agent);
    await new Promise((r) => setImmediate(r));
    const o = api.invoke(inv(`k${i}`));
    const next = await pending;
    assert.equal(next.headers['lambda-runtime-aws-request-id'], `k${i}`);
    await call(api, 'POST', `/2018-06-01/runtime/invocation/k${i}/response`, String(i), {}, agent);
    const r = await o;
    assert.equal(r.kind === 'response' ? r.body.toString() : '', String(i));
    sockets = Object.values(agent.freeSockets).flat().length;
  }
  assert.equal(sockets, 1);
  assert.equal(ends.length, 99, 'each /next after a result ends the previous invocation');
});

test('init: /init/error before the first /next; after it → 403; /next after init/error → 403', async (t) => {
  const errors: string[] = [];
  const api = await start(t, { onInitError: (e) => errors.push(`${e.errorType}:${e.body.toString()}`) });
  const r = await call(api, 'POST', '/2018-06-01/runtime/init/error', '{"errorMessage":"boom"}');
  assert.equal(r.status, 202);
  assert.deepEqual(errors, ['Runtime.Unknown:{"errorMessage":"boom"}']);
  assert.equal((await call(api, 'GET', NEXT)).status, 403);
  const other = await start(t);
  const o = other.invoke(inv('i'));
  await call(other, 'GET', NEXT);
  assert.equal((await call(other, 'POST', '/2018-06-01/runtime/init/error', '{}')).status, 403);
  other.abort('test over');
  assert.deepEqual(await o, { kind: 'aborted', reason: 'test over' });
});

test('streaming: chunks reach onChunk in order; error trailers become the error outcome; bad mode → 400', async (t) => {
  const api = await start(t);
  const chunks: string[] = [];
  const o = api.invoke(inv('s1', { onChunk: (c) => chunks.push(c.toString()) }));
  await call(api, 'GET', NEXT);
  const [host, port] = api.address.split(':');
  const post = (id: string, trailers?: Record<string, string>, mode = 'streaming') =>
    new Promise<number>((resolve) => {
      const req = request(
        {
          host,
          port,
          method: 'POST',
          path: `/2018-06-01/runtime/invocation/${id}/response`,
          agent: false,
          headers: {
            'lambda-runtime-function-response-mode': mode,
            'content-type': 'text/plain',
            trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.write('one,');
      req.write('two');
      if (trailers) req.addTrailers(trailers);
      req.end();
    });
  assert.equal(await post('s1'), 202);
  const r = await o;
  assert.deepEqual(r.kind === 'response' ? [r.body.toString(), r.streamed, r.contentType] : [], [
    'one,two',
    true,
    'text/plain',
  ]);
  assert.deepEqual(chunks, ['one,', 'two']);
  const o2 = api.invoke(inv('s2'));
  await call(api, 'GET', NEXT);
  const errBody = Buffer.from('{"errorType":"Boom","errorMessage":"mid-stream"}').toString('base64');
  await post('s2', { 'Lambda-Runtime-Function-Error-Type': 'Boom', 'Lambda-Runtime-Function-Error-Body': errBody });
  const r2 = await o2;
  assert.deepEqual(r2.kind === 'error' ? [r2.errorType, JSON.parse(r2.body.toString()).errorMessage] : [], [
    'Boom',
    'mid-stream',
  ]);
  const o3 = api.invoke(inv('s3'));
  await call(api, 'GET', NEXT);
  assert.equal(await post('s3', undefined, 'Streaming'), 400);
  api.abort('done');
  await o3;
});

test('robustness: unknown paths 404, wrong methods 405, garbage does not crash, close() ends a long-poll', async (t) => {
  const api = await start(t);
  assert.equal((await call(api, 'GET', '/nope')).status, 404);
  assert.equal((await call(api, 'POST', NEXT)).status, 405);
  const [host, port] = api.address.split(':');
  const { connect } = await import('node:net');
  await new Promise<void>((resolve) => {
    const s = connect(Number(port), host, () => {
      s.write('\x00\x01garbage\r\n\r\n');
    });
    s.on('data', (d: Buffer) => {
      assert.match(d.toString(), /^HTTP\/1.1 400/);
    });
    s.on('close', () => {
      resolve();
    });
    s.on('error', () => {
      resolve();
    });
  });
  const polling = call(api, 'GET', NEXT).catch((err: unknown) => err);
  await new Promise((r) => setTimeout(r, 20));
  await api.close();
  assert.ok((await polling) instanceof Error);
});
