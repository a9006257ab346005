/**
 * The runtime's side of the Runtime API wire, seen by a bare recording HTTP server (the platform's server hides
 * these details): what `/next` may omit, and exactly what the runtime posts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { workspace } from './harness.ts';

interface Recorded {
  port: number | undefined;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Serves `events` to successive `/next` calls (then holds the next one) and records every request. */
async function recordingServer(
  t: TestContext,
  events: { headers: Record<string, string>; body: string }[],
): Promise<{ address: string; requests: Recorded[]; posted: Promise<undefined> }> {
  const requests: Recorded[] = [];
  const { promise: posted, resolve: allPosted } = Promise.withResolvers<undefined>();
  let served = 0;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({
        port: req.socket.remotePort,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      });
      if (req.url === '/2018-06-01/runtime/invocation/next') {
        const event = events[served++];
        if (event === undefined) {
          held.push(res);
          allPosted(undefined);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', ...event.headers });
        res.end(event.body);
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"status":"OK"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    server.close();
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests, posted };
}

test('client: no trace header, odd request ids; results and errors posted as the official client posts them', async (t) => {
  const ws = await workspace();
  const id = 'a/b c';
  const { address, requests, posted } = await recordingServer(t, [
    // A minimal /next: no trace id, no content type beyond JSON, a request id that needs escaping in a path.
    {
      headers: {
        'lambda-runtime-aws-request-id': id,
        'lambda-runtime-deadline-ms': String(Date.now() + 5000),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:fn',
      },
      body: '"ok"',
    },
    {
      headers: {
        'lambda-runtime-aws-request-id': 'second',
        'lambda-runtime-deadline-ms': String(Date.now() + 5000),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:fn',
        'lambda-runtime-trace-id': 'Root=1-x',
      },
      body: '"fail"',
    },
  ]);
  const child = spawn(join(ws.runtime, 'bootstrap'), [], {
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: join(ws.functions, 'client-wire'),
      AWS_LAMBDA_RUNTIME_API: address,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  await posted;
  const [next1, response, next2, error, next3] = requests;
  assert.equal(requests.length, 5, JSON.stringify(requests.map((r) => `${r.method} ${r.url}`)));
  assert.equal(next1?.method, 'GET');
  assert.equal(next3?.url, '/2018-06-01/runtime/invocation/next');
  assert.equal(response?.url, `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`);
  assert.equal(response?.headers['content-type'], 'application/json');
  assert.equal(response?.body, '{"trace":null,"echo":"ok"}');
  assert.equal(new Set(requests.map((r) => r.port)).size, 1, 'one kept-alive connection');
  assert.equal(next2?.headers.connection, undefined);
  assert.equal(error?.url, '/2018-06-01/runtime/invocation/second/error');
  assert.equal(error?.headers['content-type'], 'application/json');
  assert.equal(error?.headers['lambda-runtime-function-error-type'], undefined, 'no error-type header');
  const cause = JSON.parse(String(error?.headers['lambda-runtime-function-xray-error-cause'])) as {
    exceptions: { type: string; message: string }[];
  };
  assert.deepEqual([cause.exceptions[0]?.type, cause.exceptions[0]?.message], ['TypeError', 'asked to fail']);
  const errorBody = JSON.parse(error?.body ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(errorBody), ['errorType', 'errorMessage', 'trace']);
  assert.deepEqual([errorBody.errorType, errorBody.errorMessage], ['TypeError', 'asked to fail']);
});

/** One request as a raw server sees it: its head and its body. */
interface RawRequest {
  head: string;
  body: string;
}

/** Splits what a connection sent into whole requests (Content-Length framing, as the runtime sends them). */
function takeRequests(buffer: string): { requests: RawRequest[]; rest: string } {
  const requests: RawRequest[] = [];
  let rest = buffer;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (rest.length < end + 4 + length) break;
    requests.push({ head, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return { requests, rest };
}

test(
  'client: the next GET /next is pipelined behind each result, and survives a server that closes after the 202',
  // A runtime that waited for each 202 before asking for the next event would never get it from this server.
  { timeout: 15_000 },
  async (t) => {
    const ws = await workspace();
    const event = (id: string, body: string) =>
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: ${id}\r\n` +
      `Lambda-Runtime-Deadline-Ms: ${String(Date.now() + 5000)}\r\n` +
      `Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:fn\r\n` +
      `Content-Length: ${String(Buffer.byteLength(body))}\r\n\r\n${body}`;
    const accepted = (close: boolean) =>
      `HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n${close ? 'Connection: close\r\n' : ''}Content-Length: 2\r\n\r\n{}`;
    const seen: string[] = [];
    const posted: string[] = [];
    const { promise: done, resolve: finish } = Promise.withResolvers<undefined>();
    let connections = 0;
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      const connection = ++connections;
      let buffer = '';
      let step = 0;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        const { requests, rest } = takeRequests(buffer + chunk);
        buffer = rest;
        for (const r of requests) seen.push(`${String(connection)} ${r.head.split(' ').slice(0, 2).join(' ')}`);
        for (const r of requests) if (r.head.startsWith('POST')) posted.push(r.body);
        // Connection 1: event p1; after its result (and the GET pipelined behind it), a 202 that closes.
        // Connection 2: event p2; after its result, the 202 and nothing more (the runtime then waits for p3).
        const gets = seen.filter((s) => s === `${String(connection)} GET /2018-06-01/runtime/invocation/next`).length;
        if (step === 0 && gets >= 1) {
          step = 1;
          socket.write(event(connection === 1 ? 'p1' : 'p2', connection === 1 ? '"one"' : '"two"'));
        } else if (step === 1 && gets >= 2) {
          step = 2;
          if (connection === 1) socket.end(accepted(true));
          else {
            socket.write(accepted(false));
            finish(undefined);
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    const child = spawn(join(ws.runtime, 'bootstrap'), [], {
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        _HANDLER: 'index.handler',
        LAMBDA_TASK_ROOT: join(ws.functions, 'client-wire'),
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${String((server.address() as AddressInfo).port)}`,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    await done;
    // Each result's GET /next arrived before its 202 was written: the runtime did not wait for it.
    assert.deepEqual(seen, [
      '1 GET /2018-06-01/runtime/invocation/next',
      '1 POST /2018-06-01/runtime/invocation/p1/response',
      '1 GET /2018-06-01/runtime/invocation/next',
      '2 GET /2018-06-01/runtime/invocation/next',
      '2 POST /2018-06-01/runtime/invocation/p2/response',
      '2 GET /2018-06-01/runtime/invocation/next',
    ]);
    assert.deepEqual(posted, ['{"trace":null,"echo":"one"}', '{"trace":null,"echo":"two"}']);
  },
);
