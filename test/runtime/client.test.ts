/**
 * The runtime's side of the Runtime API wire, seen by a bare recording HTTP server (the platform's server hides
 * these details): what `/next` may omit, and exactly what the runtime posts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
