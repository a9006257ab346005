/**
 * InvokeWithResponseStream through the real AWS SDK: chunks reach the caller while the function is still running,
 * a buffered response is one chunk, errors (mid-stream or not) end the stream in `InvokeComplete`, `Tail` brings the
 * log there, and errors before the stream begins are ordinary API errors.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  CreateFunctionCommand,
  InvokeWithResponseStreamCommand,
  waitUntilFunctionActiveV2,
  type InvokeWithResponseStreamCommandOutput,
} from '@aws-sdk/client-lambda';
import { rawZip } from '../helpers/raw-zip.ts';
import { ROLE, startApi } from './harness.ts';

// Streams one chunk, then waits for the test's go-ahead (a local HTTP call) before the rest: the test only gives
// it after the first chunk reached the SDK, so a platform that buffers the stream never finishes this handler.
const HANDLER = `
export const gated = awslambda.streamifyResponse(async (event, stream) => {
  stream.setContentType('text/plain');
  stream.write('first ');
  await fetch('http://127.0.0.1:' + event.port + '/go');
  stream.write('second');
  stream.end();
});
export const fails = awslambda.streamifyResponse(async (event, stream) => {
  stream.write('partial');
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new TypeError('mid-stream');
});
export const buffered = async (event) => {
  console.log('buffered handler ran');
  return { buffered: true, event };
};
export const throws = async () => {
  throw new RangeError('not streamed');
};
export const hangs = awslambda.streamifyResponse(async (event, stream) => {
  stream.write('before the timeout');
  await new Promise(() => {});
});
`;

interface Read {
  chunks: string[];
  complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } | undefined;
  events: string[];
}

async function read(out: InvokeWithResponseStreamCommandOutput, onChunk?: (text: string) => void): Promise<Read> {
  const r: Read = { chunks: [], complete: undefined, events: [] };
  for await (const event of out.EventStream ?? []) {
    if (event.PayloadChunk !== undefined) {
      const text = Buffer.from(event.PayloadChunk.Payload ?? []).toString();
      r.chunks.push(text);
      r.events.push('PayloadChunk');
      onChunk?.(text);
    } else if (event.InvokeComplete !== undefined) {
      r.complete = event.InvokeComplete;
      r.events.push('InvokeComplete');
    }
  }
  return r;
}

test('InvokeWithResponseStream: chunks stream as they are written, buffered results and errors end in InvokeComplete', async (t) => {
  const h = await startApi(t);
  await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'streams',
      Runtime: 'nodejs24.x',
      Role: ROLE,
      Handler: 'index.gated',
      Code: { ZipFile: rawZip([{ name: 'index.mjs', data: HANDLER }]) },
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: 'streams' });

  // The go-ahead server: answers /go only once the first chunk was seen by the caller.
  let release: () => void = () => undefined;
  const firstChunkSeen = new Promise<void>((resolve) => (release = resolve));
  const gate = createServer((_req, res) => {
    void firstChunkSeen.then(() => res.end('go'));
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  t.after(() => gate.close());
  const port = (gate.address() as AddressInfo).port;

  const streamed = await h.sdk.send(
    new InvokeWithResponseStreamCommand({ FunctionName: 'streams', Payload: JSON.stringify({ port }) }),
  );
  assert.equal(streamed.StatusCode, 200);
  assert.equal(streamed.ExecutedVersion, '$LATEST');
  assert.equal(streamed.ResponseStreamContentType, 'text/plain');
  const gated = await read(streamed, (text) => {
    if (text === 'first ') release();
  });
  assert.deepEqual(gated.chunks.join(''), 'first second');
  assert.equal(gated.chunks[0], 'first ', 'the first chunk arrived on its own, before the function went on');
  assert.deepEqual(gated.complete, {});
  assert.equal(gated.events.at(-1), 'InvokeComplete');

  const invoke = async (handler: string, extra: { LogType?: 'Tail' } = {}) => {
    const name = `streams-${handler}`;
    await h.sdk.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: `index.${handler}`,
        Timeout: 1,
        Code: { ZipFile: rawZip([{ name: 'index.mjs', data: HANDLER }]) },
      }),
    );
    await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
    const out = await h.sdk.send(
      new InvokeWithResponseStreamCommand({ FunctionName: name, Payload: '{"n":1}', ...extra }),
    );
    return { out, ...(await read(out)) };
  };

  const buffered = await invoke('buffered', { LogType: 'Tail' });
  assert.deepEqual(buffered.events, ['PayloadChunk', 'InvokeComplete']);
  assert.deepEqual(JSON.parse(buffered.chunks[0] ?? ''), { buffered: true, event: { n: 1 } });
  assert.equal(buffered.out.ResponseStreamContentType, 'application/json');
  assert.equal(buffered.complete?.ErrorCode, undefined);
  const log = Buffer.from(buffered.complete?.LogResult ?? '', 'base64').toString();
  assert.match(log, /^START RequestId: /m);
  assert.match(log, /buffered handler ran/);
  assert.match(log, /^REPORT RequestId: /m);

  const fails = await invoke('fails');
  assert.deepEqual(fails.chunks, ['partial']);
  assert.deepEqual(fails.complete, { ErrorCode: 'TypeError', ErrorDetails: 'mid-stream' });

  const throws = await invoke('throws');
  assert.deepEqual(throws.events, ['InvokeComplete'], 'an error is not a payload chunk');
  assert.deepEqual(throws.complete, { ErrorCode: 'RangeError', ErrorDetails: 'not streamed' });

  const timedOut = await invoke('hangs');
  assert.deepEqual(timedOut.chunks, ['before the timeout']);
  assert.equal(timedOut.complete?.ErrorCode, 'Sandbox.Timedout');
  assert.match(timedOut.complete?.ErrorDetails ?? '', /Task timed out after 1\.00 seconds/);

  // A caller that goes away mid-stream: the server carries on (the function's stream is read to its end).
  const aborted = new AbortController();
  const gone = await h.sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'streams-hangs' }), {
    abortSignal: aborted.signal,
  });
  for await (const event of gone.EventStream ?? []) {
    if (event.PayloadChunk !== undefined) break;
  }
  aborted.abort();
  const again = await read(
    await h.sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'streams-buffered', Payload: '{"n":2}' })),
  );
  assert.deepEqual(JSON.parse(again.chunks[0] ?? ''), { buffered: true, event: { n: 2 } });

  // Before the stream begins, errors are ordinary API errors; DryRun only checks.
  await assert.rejects(
    h.sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'nope' })),
    (err: Error) => err.name === 'ResourceNotFoundException',
  );
  await assert.rejects(
    h.sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'streams', Payload: '{not json' })),
    (err: Error) => err.name === 'InvalidRequestContentException',
  );
  const dry = await h.sdk.send(
    new InvokeWithResponseStreamCommand({ FunctionName: 'streams', InvocationType: 'DryRun' }),
  );
  assert.equal(dry.StatusCode, 204);
  const event = await fetch(`${h.url}/2021-11-15/functions/streams/response-streaming-invocations`, {
    method: 'POST',
    headers: { 'x-amz-invocation-type': 'Event' },
    body: '{}',
  });
  assert.equal(event.status, 400);
  assert.equal(((await event.json()) as { Type?: string; message?: string }).message?.includes('invocationType'), true);
});
