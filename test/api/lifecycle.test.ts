/**
 * Function states and waiters, recovery of unfinished changes after a restart, Invoke's headers and status codes,
 * Event retries, weighted aliases, code downloads and pagination. The API runs in-process on 127.0.0.1:0 with a
 * TestInvoker (see harness.ts: it answers from the payload and can hold `prepare`) so states and outcomes are
 * deterministic; the engine end to end is covered by tutorial.test.ts and operations.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  paginateListAliases,
  paginateListFunctions,
  paginateListLayers,
  paginateListLayerVersions,
  paginateListVersionsByFunction,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import type { TestInvoker } from './harness.ts';
import { ROLE, startBareApi, tinyZip } from './harness.ts';

function gate(invoker: TestInvoker): () => void {
  let open = () => {};
  invoker.gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return open;
}

const createFn = (sdk: LambdaClient, name: string, tag = name) =>
  sdk.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'provided.al2023',
      Role: ROLE,
      Handler: 'function.handler',
      Code: { ZipFile: tinyZip(tag) },
    }),
  );

const payload = (p: Uint8Array | undefined) =>
  JSON.parse(Buffer.from(p ?? []).toString('utf8')) as Record<string, unknown>;

test('states: Pending → Active and InProgress → Successful, with 409s meanwhile and the aws CLI waiters', async (t) => {
  const h = await startBareApi(t);
  const open = gate(h.invoker);
  const created = await createFn(h.sdk, 'f');
  assert.equal(created.State, 'Pending');
  assert.equal(created.StateReasonCode, 'Creating');
  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'f' })), {
    name: 'ResourceConflictException',
    message:
      'The operation cannot be performed at this time. The function is currently in the following state: Pending',
  });
  await assert.rejects(h.sdk.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'f', MemorySize: 256 })), {
    name: 'ResourceConflictException',
    message:
      'The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:f',
  });
  const waiting = h.aws(['lambda', 'wait', 'function-active-v2', '--function-name', 'f']);
  setTimeout(open, 300);
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.stderr);
  const active = await h.sdk.send(new GetFunctionConfigurationCommand({ FunctionName: 'f' }));
  assert.equal(active.State, 'Active');
  assert.equal(active.StateReasonCode, undefined);

  const open2 = gate(h.invoker);
  const updated = await h.sdk.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'f', MemorySize: 256 }));
  assert.equal(updated.LastUpdateStatus, 'InProgress');
  assert.notEqual(updated.RevisionId, active.RevisionId);
  // An Active function still runs while its update is prepared.
  assert.equal((await h.sdk.send(new InvokeCommand({ FunctionName: 'f' }))).StatusCode, 200);
  await assert.rejects(h.sdk.send(new PublishVersionCommand({ FunctionName: 'f' })), {
    name: 'ResourceConflictException',
  });
  const waitingUpdate = h.aws(['lambda', 'wait', 'function-updated-v2', '--function-name', 'f']);
  setTimeout(open2, 300);
  assert.equal((await waitingUpdate).code, 0);
  const done = await h.sdk.send(new GetFunctionConfigurationCommand({ FunctionName: 'f' }));
  assert.equal(done.LastUpdateStatus, 'Successful');
  assert.equal(done.MemorySize, 256);
  // The engine was told to retire environments of the old configuration, keeping the new one.
  const last = h.invoker.retired.at(-1);
  assert.equal(last?.[0], 'f');
  assert.equal(last[1], h.invoker.prepared.at(-1));

  // Create with Publish: the version follows $LATEST from Pending to Active.
  const open3 = gate(h.invoker);
  const published = await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'p',
      Runtime: 'provided',
      Role: ROLE,
      Handler: 'h.h',
      Code: { ZipFile: tinyZip('p') },
      Publish: true,
    }),
  );
  assert.equal(published.Version, '1');
  assert.equal(published.State, 'Pending');
  open3();
  await waitUntilFunctionActiveV2(
    { client: h.sdk, maxWaitTime: 10, minDelay: 1 },
    { FunctionName: 'p', Qualifier: '1' },
  );
});

test('recovery: a change acknowledged just before a stop is finished on the next start', async (t) => {
  const first = await startBareApi(t);
  gate(first.invoker); // never opens: the server stops while the function is still Pending
  await createFn(first.sdk, 'late');
  await first.sdk.send(new PublishLayerVersionCommand({ LayerName: 'kept', Content: { ZipFile: tinyZip('k') } }));
  await first.stop();

  const second = await startBareApi(t, { dataDir: `${first.dir}/data` });
  await waitUntilFunctionActiveV2({ client: second.sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'late' });
  const layer = await second.sdk.send(new GetLayerVersionCommand({ LayerName: 'kept', VersionNumber: 1 }));
  assert.equal(layer.Version, 1);
});

test('invoke: status codes and headers for every invocation type, throttling and oversize payloads', async (t) => {
  const h = await startBareApi(t);
  await createFn(h.sdk, 'f');
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'f' });

  const ok = await h.sdk.send(
    new InvokeCommand({
      FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      Payload: Buffer.from('{"a":1}'),
      LogType: 'Tail',
      ClientContext: Buffer.from('{"custom":{"k":"v"}}').toString('base64'),
    }),
  );
  assert.equal(ok.StatusCode, 200);
  assert.equal(ok.ExecutedVersion, '$LATEST');
  assert.equal(ok.FunctionError, undefined);
  assert.deepEqual(payload(ok.Payload), { version: '$LATEST', event: { a: 1 }, clientContext: '{"custom":{"k":"v"}}' });
  assert.match(
    Buffer.from(String(ok.LogResult), 'base64').toString(),
    /^START RequestId: [0-9a-f-]{36} Version: \$LATEST/,
  );
  const call = h.invoker.calls.at(-1);
  assert.equal(call?.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:f');

  const failed = await h.sdk.send(new InvokeCommand({ FunctionName: 'f', Payload: Buffer.from('{"fail":true}') }));
  assert.equal(failed.StatusCode, 200);
  assert.equal(failed.FunctionError, 'Unhandled');
  assert.equal(payload(failed.Payload).errorMessage, 'asked to fail');

  assert.equal((await h.sdk.send(new InvokeCommand({ FunctionName: 'f', InvocationType: 'DryRun' }))).StatusCode, 204);

  // Throttled: 429 with Reason and Retry-After, read from the raw response too.
  const throttled = await fetch(`${h.url}/2015-03-31/functions/f/invocations`, {
    method: 'POST',
    body: '{"throttle":"ReservedFunctionConcurrentInvocationLimitExceeded"}',
  });
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
  assert.equal(throttled.headers.get('retry-after'), '1');
  assert.deepEqual(await throttled.json(), {
    Type: 'User',
    message: 'Rate Exceeded.',
    Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
  });

  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'f', Payload: Buffer.from('not json') })), {
    name: 'InvalidRequestContentException',
  });
  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'f', Payload: Buffer.alloc(6_291_457, 0x20) })), {
    name: 'RequestEntityTooLargeException',
    message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
  });
  await assert.rejects(
    h.sdk.send(
      new InvokeCommand({ FunctionName: 'f', InvocationType: 'Event', Payload: Buffer.alloc(1_048_577, 0x20) }),
    ),
    {
      name: 'RequestEntityTooLargeException',
      message: '1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)',
    },
  );
  await assert.rejects(h.sdk.send(new InvokeCommand({ FunctionName: 'f', Qualifier: '9' })), {
    name: 'ResourceNotFoundException',
    message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:9',
  });

  // Event: 202 at once; the function runs in the background under the request id the caller got; a function
  // error is retried twice (3 attempts in all; the harness shortens the delays).
  const before = h.invoker.calls.length;
  const res = await fetch(`${h.url}/2015-03-31/functions/f/invocations`, {
    method: 'POST',
    headers: { 'x-amz-invocation-type': 'Event' },
    body: '{"fail":true}',
  });
  assert.equal(res.status, 202);
  const requestId = res.headers.get('x-amzn-requestid');
  for (let i = 0; i < 200 && h.invoker.calls.length < before + 3; i++) await new Promise((r) => setTimeout(r, 10));
  const attempts = h.invoker.calls.slice(before);
  assert.equal(attempts.length, 3);
  assert.ok(attempts.every((c) => c.requestId === requestId));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(h.invoker.calls.length, before + 3, 'no fourth attempt');
  assert.equal(h.api.queue.pending, 0);
});

test('aliases: weighted routing sends each version its share and reports the version that ran', async (t) => {
  const h = await startBareApi(t);
  await createFn(h.sdk, 'f', 'one');
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'f' });
  await h.sdk.send(new PublishVersionCommand({ FunctionName: 'f' }));
  await h.sdk.send(new UpdateFunctionCodeCommand({ FunctionName: 'f', ZipFile: tinyZip('two') }));
  await waitUntilFunctionUpdatedV2({ client: h.sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'f' });
  assert.equal((await h.sdk.send(new PublishVersionCommand({ FunctionName: 'f' }))).Version, '2');
  await h.sdk.send(
    new CreateAliasCommand({
      FunctionName: 'f',
      Name: 'live',
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
    }),
  );
  const seen = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const r = await h.sdk.send(new InvokeCommand({ FunctionName: 'f:live', Payload: Buffer.from('{}') }));
    const ran = String(payload(r.Payload).version);
    assert.equal(r.ExecutedVersion, ran);
    seen.set(ran, (seen.get(ran) ?? 0) + 1);
  }
  assert.ok((seen.get('1') ?? 0) > 5 && (seen.get('2') ?? 0) > 5, JSON.stringify([...seen]));
  assert.equal(h.invoker.calls.at(-1)?.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:f:live');
  await assert.rejects(h.sdk.send(new DeleteFunctionCommand({ FunctionName: 'f', Qualifier: '2' })), {
    name: 'ResourceConflictException',
  });
  await assert.rejects(h.sdk.send(new DeleteFunctionCommand({ FunctionName: 'f', Qualifier: '$LATEST' })), {
    name: 'InvalidParameterValueException',
  });
  await h.sdk.send(new DeleteFunctionCommand({ FunctionName: 'f' }));
  assert.deepEqual(h.invoker.retired.at(-1), ['f', '']);
});

test('downloads: Code.Location and Content.Location serve the zip until the URL is altered', async (t) => {
  const h = await startBareApi(t);
  const zip = tinyZip('dl');
  await createFn(h.sdk, 'f', 'dl');
  const fn = await h.sdk.send(new GetFunctionCommand({ FunctionName: 'f' }));
  const location = String(fn.Code?.Location);
  assert.match(
    location,
    new RegExp(`^${h.url}/_lambkin/code/[^/]+/[0-9a-f]{64}\\?Expires=\\d+&Signature=[0-9a-f]{64}$`),
  );
  const got = await fetch(location);
  assert.equal(got.status, 200);
  assert.ok(got.headers.get('x-amzn-requestid'));
  const bytes = Buffer.from(await got.arrayBuffer());
  assert.deepEqual(bytes, zip);
  assert.equal(fn.Configuration?.CodeSha256, createHash('sha256').update(zip).digest('base64'));
  const tampered = await fetch(
    location.replace(/Signature=./, (m) => (m.endsWith('0') ? 'Signature=1' : 'Signature=0')),
  );
  assert.equal(tampered.status, 403);
  assert.equal(tampered.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  const layer = await h.sdk.send(new PublishLayerVersionCommand({ LayerName: 'l', Content: { ZipFile: zip } }));
  assert.deepEqual(Buffer.from(await (await fetch(String(layer.Content?.Location))).arrayBuffer()), zip);
});

test('pagination: every List operation pages with Marker/MaxItems', async (t) => {
  const h = await startBareApi(t);
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    await h.sdk.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: tinyZip(name) } }));
  }
  for (let i = 0; i < 5; i++) {
    await h.sdk.send(new PublishLayerVersionCommand({ LayerName: 'a', Content: { ZipFile: tinyZip(`a${i}`) } }));
  }
  for (const name of ['f1', 'f2', 'f3']) await createFn(h.sdk, name);
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'f1' });
  for (let i = 0; i < 3; i++) {
    await h.sdk.send(new UpdateFunctionCodeCommand({ FunctionName: 'f1', ZipFile: tinyZip(`v${i}`), Publish: true }));
    await waitUntilFunctionUpdatedV2({ client: h.sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'f1' });
  }
  for (const alias of ['x', 'y', 'z']) {
    await h.sdk.send(new CreateAliasCommand({ FunctionName: 'f1', Name: alias, FunctionVersion: '1' }));
  }
  const collect = async <T>(pages: AsyncIterable<T>, pick: (page: T) => unknown[] | undefined) => {
    const items: unknown[] = [];
    let n = 0;
    for await (const page of pages) {
      n++;
      items.push(...(pick(page) ?? []));
    }
    return { items, pages: n };
  };
  const layers = await collect(paginateListLayers({ client: h.sdk, pageSize: 2 }, {}), (p) =>
    p.Layers?.map((l) => l.LayerName),
  );
  assert.deepEqual(layers, { items: ['a', 'b', 'c', 'd', 'e'], pages: 3 });
  const versions = await collect(paginateListLayerVersions({ client: h.sdk, pageSize: 4 }, { LayerName: 'a' }), (p) =>
    p.LayerVersions?.map((v) => v.Version),
  );
  assert.deepEqual(versions, { items: [6, 5, 4, 3, 2, 1], pages: 2 });
  const fnVersions = await collect(
    paginateListVersionsByFunction({ client: h.sdk, pageSize: 3 }, { FunctionName: 'f1' }),
    (p) => p.Versions?.map((v) => v.Version),
  );
  assert.deepEqual(fnVersions, { items: ['$LATEST', '1', '2', '3'], pages: 2 });
  const aliases = await collect(paginateListAliases({ client: h.sdk, pageSize: 2 }, { FunctionName: 'f1' }), (p) =>
    p.Aliases?.map((a) => a.Name),
  );
  assert.deepEqual(aliases, { items: ['x', 'y', 'z'], pages: 2 });
  const all = await collect(paginateListFunctions({ client: h.sdk, pageSize: 2 }, { FunctionVersion: 'ALL' }), (p) =>
    p.Functions?.map((f) => `${String(f.FunctionName)}:${String(f.Version)}`),
  );
  assert.deepEqual(all.items, ['f1:$LATEST', 'f1:1', 'f1:2', 'f1:3', 'f2:$LATEST', 'f3:$LATEST']);
  // The aws CLI pages on its own (v1, --max-items / --page-size).
  const cli = await h.aws(['lambda', 'list-layers', '--page-size', '2']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal((cli.json().Layers as unknown[]).length, 5);
});
