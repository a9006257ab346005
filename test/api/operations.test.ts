/**
 * Every operation through the real AWS SDK for JavaScript (v3), plus hostile uploads and throttling.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteLayerVersionCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  paginateListFunctions,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { hostileCorpus } from '../helpers/raw-zip.ts';
import { ROLE, startApi } from './harness.ts';

const decode = (p: Uint8Array | undefined) => Buffer.from(p ?? new Uint8Array()).toString('utf8');

async function waitActive(sdk: LambdaClient, name: string): Promise<void> {
  await waitUntilFunctionActiveV2({ client: sdk, maxWaitTime: 30, minDelay: 1 }, { FunctionName: name });
}

test('sdk: layers, functions, versions, aliases, tags, concurrency, account settings', async (t) => {
  const h = await startApi(t);
  const { sdk } = h;
  const runtimeZip = await readFile(await h.zip('sh-runtime'));
  const echoZip = await readFile(await h.zip('functions/echo'));
  const counterZip = await readFile(await h.zip('functions/counter'));

  // Layers: versions start at 1 and are never reused.
  const l1 = await sdk.send(
    new PublishLayerVersionCommand({
      LayerName: 'rt',
      Content: { ZipFile: runtimeZip },
      CompatibleRuntimes: ['provided.al2023'],
      Description: 'shell',
      LicenseInfo: 'MIT',
    }),
  );
  const l2 = await sdk.send(new PublishLayerVersionCommand({ LayerName: 'rt', Content: { ZipFile: runtimeZip } }));
  assert.equal(l1.Version, 1);
  assert.equal(l2.Version, 2);
  await sdk.send(new DeleteLayerVersionCommand({ LayerName: 'rt', VersionNumber: 2 }));
  const l3 = await sdk.send(new PublishLayerVersionCommand({ LayerName: 'rt', Content: { ZipFile: runtimeZip } }));
  assert.equal(l3.Version, 3, 'numbers are never reused');
  const got = await sdk.send(new GetLayerVersionCommand({ LayerName: 'rt', VersionNumber: 1 }));
  assert.equal(got.Description, 'shell');
  assert.equal(got.LicenseInfo, 'MIT');
  assert.deepEqual(got.CompatibleRuntimes, ['provided.al2023']);
  const byArn = await sdk.send(new GetLayerVersionByArnCommand({ Arn: l1.LayerVersionArn }));
  assert.equal(byArn.Version, 1);
  const versions = await sdk.send(new ListLayerVersionsCommand({ LayerName: 'rt' }));
  assert.deepEqual(
    versions.LayerVersions?.map((v) => v.Version),
    [3, 1],
  );
  const filtered = await sdk.send(new ListLayersCommand({ CompatibleRuntime: 'provided.al2023' }));
  assert.equal(filtered.Layers?.[0]?.LatestMatchingVersion?.Version, 1);
  const content = await fetch(String(got.Content?.Location));
  assert.deepEqual(Buffer.from(await content.arrayBuffer()), runtimeZip, 'Content.Location serves the zip back');

  // Functions.
  const created = await sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'fn',
      Runtime: 'provided.al2023',
      Role: ROLE,
      Handler: 'function.handler',
      Code: { ZipFile: echoZip },
      Layers: [String(l1.LayerVersionArn)],
      MemorySize: 256,
      Timeout: 10,
      Environment: { Variables: { AA: '1' } },
      Description: 'first',
      Tags: { team: 'lambs' },
    }),
  );
  assert.equal(created.State, 'Pending');
  await waitActive(sdk, 'fn');
  const fn = await sdk.send(new GetFunctionCommand({ FunctionName: 'fn' }));
  assert.equal(fn.Configuration?.State, 'Active');
  assert.deepEqual(fn.Tags, { team: 'lambs' });
  const code = await fetch(String(fn.Code?.Location));
  assert.deepEqual(Buffer.from(await code.arrayBuffer()), echoZip, 'Code.Location serves the zip back');
  assert.equal(
    fn.Configuration?.CodeSha256,
    (await import('node:crypto')).createHash('sha256').update(echoZip).digest('base64'),
  );
  assert.equal(fn.Configuration?.CodeSize, echoZip.length);

  const r1 = await sdk.send(new InvokeCommand({ FunctionName: 'fn', Payload: Buffer.from('{"n":1}') }));
  assert.equal(decode(r1.Payload), '{"n":1}');
  assert.equal(r1.ExecutedVersion, '$LATEST');

  // Versions and aliases.
  const v1 = await sdk.send(new PublishVersionCommand({ FunctionName: 'fn', Description: 'v1' }));
  assert.equal(v1.Version, '1');
  assert.equal(v1.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:fn:1');
  const again = await sdk.send(new PublishVersionCommand({ FunctionName: 'fn' }));
  assert.equal(again.Version, '1', 'nothing changed: the latest version is returned');
  const stale = sdk.send(
    new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: counterZip, RevisionId: 'stale' }),
  );
  await assert.rejects(stale, { name: 'PreconditionFailedException' });
  await sdk.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: counterZip }));
  await waitUntilFunctionUpdatedV2({ client: sdk, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'fn' });
  const v2 = await sdk.send(new PublishVersionCommand({ FunctionName: 'fn' }));
  assert.equal(v2.Version, '2');
  const listed = await sdk.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn' }));
  assert.deepEqual(
    listed.Versions?.map((v) => v.Version),
    ['$LATEST', '1', '2'],
  );
  assert.equal(listed.Versions?.[0]?.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST');

  await sdk.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
  const viaAlias = await sdk.send(
    new InvokeCommand({ FunctionName: 'fn', Qualifier: 'live', Payload: Buffer.from('"old"') }),
  );
  assert.equal(decode(viaAlias.Payload), '"old"', 'alias → version 1 runs the echo code');
  assert.equal(viaAlias.ExecutedVersion, '1');
  const viaLatest = await sdk.send(new InvokeCommand({ FunctionName: 'fn:$LATEST', Payload: Buffer.from('{}') }));
  assert.match(decode(viaLatest.Payload), /"count":1/, '$LATEST runs the new code');
  await sdk.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '2' }));
  assert.equal((await sdk.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).FunctionVersion, '2');
  assert.equal((await sdk.send(new ListAliasesCommand({ FunctionName: 'fn' }))).Aliases?.length, 1);
  await assert.rejects(sdk.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '2' })), {
    name: 'ResourceConflictException',
  });
  await sdk.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
  await sdk.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
  await assert.rejects(sdk.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '1' })), {
    name: 'ResourceNotFoundException',
  });

  // Configuration: Environment and Layers are replaced wholesale.
  const updated = await sdk.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Layers: [], Environment: { Variables: { BB: '2' } } }),
  );
  assert.equal(updated.Layers, undefined);
  assert.deepEqual(updated.Environment?.Variables, { BB: '2' });
  await waitUntilFunctionUpdatedV2({ client: sdk, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'fn' });

  // Tags.
  const arn = String(created.FunctionArn);
  await sdk.send(new TagResourceCommand({ Resource: arn, Tags: { env: 'dev' } }));
  await sdk.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['team'] }));
  assert.deepEqual((await sdk.send(new ListTagsCommand({ Resource: arn }))).Tags, { env: 'dev' });

  // Concurrency and account settings.
  assert.deepEqual(
    (await sdk.send(new GetFunctionConcurrencyCommand({ FunctionName: 'fn' }))).ReservedConcurrentExecutions,
    undefined,
  );
  await sdk.send(new PutFunctionConcurrencyCommand({ FunctionName: 'fn', ReservedConcurrentExecutions: 0 }));
  await assert.rejects(
    sdk.send(new InvokeCommand({ FunctionName: 'fn' })),
    (err: Error & { Reason?: string; $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'TooManyRequestsException');
      assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      assert.equal(err.$metadata?.httpStatusCode, 429);
      return true;
    },
  );
  await assert.rejects(
    sdk.send(new PutFunctionConcurrencyCommand({ FunctionName: 'fn', ReservedConcurrentExecutions: 950 })),
    /below its minimum value of \[100\]/,
  );
  const account = await sdk.send(new GetAccountSettingsCommand({}));
  assert.equal(account.AccountLimit?.ConcurrentExecutions, 1000);
  assert.equal(account.AccountLimit?.UnreservedConcurrentExecutions, 1000);
  assert.equal(account.AccountUsage?.FunctionCount, 1);
  await sdk.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'fn' }));

  await sdk.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
  await assert.rejects(sdk.send(new GetFunctionCommand({ FunctionName: 'fn' })), { name: 'ResourceNotFoundException' });
});

test('sdk: invoke types, function errors, log tail, client context, pagination', async (t) => {
  const h = await startApi(t);
  const { sdk } = h;
  const layer = await sdk.send(
    new PublishLayerVersionCommand({
      LayerName: 'rt',
      Content: { ZipFile: await readFile(await h.zip('sh-runtime')) },
    }),
  );
  const create = (
    name: string,
    zip: Buffer,
    extra: Partial<ConstructorParameters<typeof CreateFunctionCommand>[0]> = {},
  ) =>
    sdk.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'provided',
        Role: ROLE,
        Handler: 'function.handler',
        Code: { ZipFile: zip },
        Layers: [String(layer.LayerVersionArn)],
        ...extra,
      }),
    );
  const echo = await readFile(await h.zip('functions/echo'));
  await create('echo', echo);
  await create('slow', await readFile(await h.zip('functions/sleep')), { Timeout: 1 });
  await waitActive(sdk, 'echo');
  await waitActive(sdk, 'slow');

  const dry = await sdk.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
  assert.equal(dry.StatusCode, 204);
  const tail = await sdk.send(
    new InvokeCommand({
      FunctionName: 'echo',
      LogType: 'Tail',
      Payload: Buffer.from('{"x":1}'),
      ClientContext: Buffer.from('{"custom":{"a":1}}').toString('base64'),
    }),
  );
  assert.match(Buffer.from(String(tail.LogResult), 'base64').toString(), /REPORT RequestId/);
  const timeout = await sdk.send(new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from('5') }));
  assert.equal(timeout.FunctionError, 'Unhandled');
  assert.equal(JSON.parse(decode(timeout.Payload)).errorType, 'Sandbox.Timedout');

  await assert.rejects(sdk.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.alloc(6_291_457, 0x20) })), {
    name: 'RequestEntityTooLargeException',
  });
  await assert.rejects(sdk.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'nope' })), {
    name: 'ResourceNotFoundException',
  });

  // Event: 202 at once, run in the background.
  const event = await sdk.send(
    new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: Buffer.from('{"async":"yes"}') }),
  );
  assert.equal(event.StatusCode, 202);
  let seen = false;
  for (let i = 0; i < 100 && !seen; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const events = [];
    for (const s of await h.lambkin.logs.listStreams('/aws/lambda/echo'))
      events.push(...(await h.lambkin.logs.readEvents('/aws/lambda/echo', s.logStreamName)));
    seen = events.some((e) => e.message.includes('echo handler got: {"async":"yes"}'));
  }
  assert.ok(seen, 'the Event invocation ran');

  // Pagination over 55 functions (pages of at most 50).
  for (let i = 0; i < 53; i++) await create(`page-${String(i).padStart(2, '0')}`, echo);
  const names: string[] = [];
  let pages = 0;
  for await (const page of paginateListFunctions({ client: sdk, pageSize: 20 }, {})) {
    pages++;
    names.push(...(page.Functions ?? []).map((f) => String(f.FunctionName)));
  }
  assert.equal(names.length, 55);
  assert.equal(pages, 3);
  assert.equal((await sdk.send(new ListFunctionsCommand({}))).Functions?.length, 50);
});

test('uploads: every hostile zip is refused with InvalidParameterValueException and nothing is stored', async (t) => {
  const h = await startApi(t);
  for (const [name, bytes] of Object.entries(hostileCorpus())) {
    await assert.rejects(
      h.sdk.send(new PublishLayerVersionCommand({ LayerName: `bad-${name}`, Content: { ZipFile: bytes } })),
      (err: Error) => err.name === 'InvalidParameterValueException',
      name,
    );
    await assert.rejects(
      h.sdk.send(
        new CreateFunctionCommand({
          FunctionName: `bad-${name}`,
          Runtime: 'provided',
          Role: ROLE,
          Handler: 'f.h',
          Code: { ZipFile: bytes },
        }),
      ),
      (err: Error) => err.name === 'InvalidParameterValueException',
      name,
    );
  }
  assert.deepEqual((await h.sdk.send(new ListLayersCommand({}))).Layers, []);
  assert.deepEqual((await h.sdk.send(new ListFunctionsCommand({}))).Functions, []);
  const { readdir } = await import('node:fs/promises');
  const blobs = await readdir(`${h.dir}/data/blobs`).catch(() => []);
  assert.deepEqual(
    blobs.filter((b) => b !== 'tmp'),
    [],
    'no blob was kept',
  );
});
