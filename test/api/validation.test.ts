/**
 * Validation exactly as Lambda answers it — one case per rule, through the real AWS SDK — and the wire format of
 * errors for anything a client may send (wrong JSON types, unknown paths, broken bodies): always an AWS-shaped
 * 4xx, never a 5xx or a stack trace. The API runs in-process on 127.0.0.1:0 with a TestInvoker (answers from the
 * payload; see harness.ts) because none of this reaches a function.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  GetFunctionCommand,
  ListFunctionsCommand,
  ListLayersCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  TagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { rawZip } from '../helpers/raw-zip.ts';
import { ROLE, startBareApi, tinyZip } from './harness.ts';

/** `n` entries of 1,000,000 zero bytes each: small on the wire, `n` MB unzipped, no entry looks like a bomb. */
function bulkyZip(n: number, prefix = 'f'): Buffer {
  const data = Buffer.alloc(1_000_000);
  return rawZip(Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}.bin`, data, deflate: true })));
}

async function rejects(p: Promise<unknown>, name: string, message: RegExp, status?: number): Promise<void> {
  await assert.rejects(p, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name, err.message);
    assert.match(err.message, message);
    if (status !== undefined) assert.equal(err.$metadata?.httpStatusCode, status);
    return true;
  });
}

function creator(sdk: LambdaClient) {
  let n = 0;
  return (extra: Partial<CreateFunctionCommandInput> = {}) =>
    sdk.send(
      new CreateFunctionCommand({
        FunctionName: `fn-${n++}`,
        Runtime: 'provided.al2023',
        Role: ROLE,
        Handler: 'function.handler',
        Code: { ZipFile: tinyZip() },
        ...extra,
      }),
    );
}

test('validation: every CreateFunction / UpdateFunctionConfiguration rule answers as Lambda does', async (t) => {
  const h = await startBareApi(t);
  const { sdk } = h;
  const create = creator(sdk);
  const layer = await sdk.send(new PublishLayerVersionCommand({ LayerName: 'l', Content: { ZipFile: tinyZip('l') } }));
  const layer2 = await sdk.send(
    new PublishLayerVersionCommand({ LayerName: 'l', Content: { ZipFile: tinyZip('l2') } }),
  );
  const arn = String(layer.LayerVersionArn);

  await rejects(
    create({ FunctionName: 'bad name!' }),
    'ValidationException',
    /at 'functionName' failed to satisfy/,
    400,
  );
  await rejects(create({ FunctionName: 'x'.repeat(65) }), 'ValidationException', /at 'functionName'/);
  await rejects(
    create({ MemorySize: 64 }),
    'ValidationException',
    /^1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128$/,
  );
  await rejects(
    create({ MemorySize: 10241 }),
    'InvalidParameterValueException',
    /^'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240$/,
    400,
  );
  await rejects(create({ Timeout: 0 }), 'ValidationException', /Value '0' at 'timeout'.*greater than or equal to 1/);
  await rejects(create({ Timeout: 901 }), 'ValidationException', /Value '901' at 'timeout'.*less than or equal to 900/);
  await rejects(
    create({ Timeout: 901, MemorySize: 100, Description: 'd'.repeat(257) }),
    'ValidationException',
    /^3 validation errors detected: .*'description'.*; .*'timeout'.*; .*'memorySize'/,
  );
  await rejects(
    create({ EphemeralStorage: { Size: 256 } }),
    'ValidationException',
    /at 'ephemeralStorage.size'.*greater than or equal to 512/,
  );
  await rejects(create({ Handler: 'has space' }), 'ValidationException', /at 'handler'.*pattern: \[\^\\s\]\+/);
  await rejects(
    create({ Handler: 'h'.repeat(129) }),
    'ValidationException',
    /at 'handler'.*length less than or equal to 128/,
  );
  await rejects(create({ Role: 'not-a-role' }), 'ValidationException', /Value 'not-a-role' at 'role'/);
  await rejects(
    create({ Runtime: 'python3.12' }),
    'InvalidParameterValueException',
    /^Value python3.12 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[provided, provided.al2, provided.al2023, nodejs20.x, nodejs22.x, nodejs24.x\] or be a valid ARN$/,
  );
  await rejects(
    create({ Runtime: undefined }),
    'InvalidParameterValueException',
    /^Runtime and Handler are mandatory parameters for functions created with deployment packages\.$/,
  );
  await rejects(
    create({ Environment: { Variables: { AWS_REGION: 'x', LAMBDA_TASK_ROOT: 'y', OK: 'z' } } }),
    'InvalidParameterValueException',
    /^Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification\. Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT$/,
  );
  await rejects(
    create({ Environment: { Variables: { BIG: 'v'.repeat(4100) } } }),
    'InvalidParameterValueException',
    /exceeded the 4KB limit\. String measured: \{"BIG":"vvv/,
  );
  await rejects(
    create({ Environment: { Variables: { '1bad': 'x' } } }),
    'ValidationException',
    /'environment.variables'/,
  );
  await rejects(
    create({ Layers: Array.from({ length: 6 }, (_, i) => `${arn.slice(0, -2)}${i}:1`) }),
    'InvalidParameterValueException',
    /^Cannot reference more than 5 layers\.$/,
  );
  await rejects(
    create({ Layers: [`${arn.slice(0, -1)}9`] }),
    'InvalidParameterValueException',
    /^Layer version arn:aws:lambda:us-east-1:000000000000:layer:l:9 does not exist\.$/,
  );
  await rejects(
    create({ Layers: [arn.replace('us-east-1', 'eu-west-1')] }),
    'InvalidParameterValueException',
    /layer:l:1 does not exist\./,
    400,
  );
  await rejects(
    create({ Layers: [arn, String(layer2.LayerVersionArn)] }),
    'InvalidParameterValueException',
    /^Two different versions of the same layer are not allowed to be referenced in the same function\./,
  );
  await rejects(create({ Layers: ['not-an-arn'] }), 'ValidationException', /at 'layers'.*pattern/);
  await rejects(create({ Architectures: ['sparc' as 'arm64'] }), 'ValidationException', /at 'architectures'/);
  await rejects(
    create({ LoggingConfig: { ApplicationLogLevel: 'DEBUG' } }),
    'InvalidParameterValueException',
    /LogFormat must be JSON/,
  );
  await rejects(create({ Code: { S3Bucket: 'b', S3Key: 'k' } }), 'InvalidParameterValueException', /ZipFile/);
  await rejects(
    create({ Code: { ZipFile: new Uint8Array() } }),
    'InvalidParameterValueException',
    /^Uploaded file must be a non-empty zip$/,
  );
  await rejects(
    create({ Code: { ZipFile: Buffer.from('not a zip at all') } }),
    'InvalidParameterValueException',
    /^Could not unzip uploaded file.*Please check your file, then try to upload again\.$/,
  );

  // The same rules on UpdateFunctionConfiguration, against an existing function.
  await create({ FunctionName: 'target' });
  await waitUntilFunctionActiveV2({ client: sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'target' });
  const update = (extra: Partial<ConstructorParameters<typeof UpdateFunctionConfigurationCommand>[0]>) =>
    sdk.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'target', ...extra }));
  await rejects(update({ MemorySize: 20000 }), 'InvalidParameterValueException', /less than or equal to 10240/);
  await rejects(update({ Timeout: 1000 }), 'ValidationException', /'timeout'/);
  await rejects(
    update({ Environment: { Variables: { _HANDLER: 'x' } } }),
    'InvalidParameterValueException',
    /_HANDLER$/,
  );
  await rejects(update({ Layers: [arn, arn] }), 'InvalidParameterValueException', /same layer/);
  await rejects(update({ RevisionId: 'stale' }), 'PreconditionFailedException', /Revision Id/, 412);
  await rejects(
    sdk.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'missing' })),
    'ResourceNotFoundException',
    /^Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing$/,
    404,
  );
  await rejects(
    create({ FunctionName: 'target' }),
    'ResourceConflictException',
    /^Function already exist: target$/,
    409,
  );

  // Nothing refused was stored.
  const names = (await sdk.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName);
  assert.deepEqual(names, ['target']);
});

test('validation: the unzipped budget of function + layers (262,144,000 bytes) and the 50 MB zipped limit', async (t) => {
  const h = await startBareApi(t);
  const { sdk } = h;
  const create = creator(sdk);
  const big = await sdk.send(new PublishLayerVersionCommand({ LayerName: 'big', Content: { ZipFile: bulkyZip(150) } }));
  // 262,144,000 − 150,000,000 left for the code.
  const code = bulkyZip(120);
  await rejects(
    create({ Code: { ZipFile: code }, Layers: [String(big.LayerVersionArn)] }),
    'InvalidParameterValueException',
    /^Unzipped size must be smaller than 112144000 bytes$/,
  );
  await create({ FunctionName: 'fat', Code: { ZipFile: code } });
  await waitUntilFunctionActiveV2({ client: sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'fat' });
  await rejects(
    sdk.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fat', Layers: [String(big.LayerVersionArn)] })),
    'InvalidParameterValueException',
    /^Layers consume more than the available size of 262144000 bytes$/,
  );
  // 50 MB + 1 byte of zip: refused before anything is unpacked, as Lambda refuses the request.
  await rejects(
    create({ Code: { ZipFile: randomBytes(52_428_801) } }),
    'RequestEntityTooLargeException',
    /^Request must be smaller than 69905067 bytes for the CreateFunction operation$/,
    413,
  );
  assert.deepEqual(
    (await sdk.send(new ListLayersCommand({}))).Layers?.map((l) => l.LayerName),
    ['big'],
  );
});

test('validation: versions, aliases, concurrency and tags', async (t) => {
  const h = await startBareApi(t);
  const { sdk } = h;
  await creator(sdk)({ FunctionName: 'f' });
  await waitUntilFunctionActiveV2({ client: sdk, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'f' });
  await sdk.send(new PublishVersionCommand({ FunctionName: 'f' }));
  await rejects(
    sdk.send(new PublishVersionCommand({ FunctionName: 'f', CodeSha256: 'nope' })),
    'PreconditionFailedException',
    /CodeSHA256/,
  );
  await rejects(
    sdk.send(new CreateAliasCommand({ FunctionName: 'f', Name: '123', FunctionVersion: '1' })),
    'ValidationException',
    /at 'name'/,
  );
  await rejects(
    sdk.send(new CreateAliasCommand({ FunctionName: 'f', Name: 'a', FunctionVersion: '7' })),
    'ResourceNotFoundException',
    /function:f:7$/,
  );
  await rejects(
    sdk.send(
      new CreateAliasCommand({
        FunctionName: 'f',
        Name: 'w',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '1': 1.5 } },
      }),
    ),
    'ValidationException',
    /less than or equal to 1/,
  );
  await sdk.send(new CreateAliasCommand({ FunctionName: 'f', Name: 'live', FunctionVersion: '1' }));
  await rejects(
    sdk.send(new CreateAliasCommand({ FunctionName: 'f', Name: 'live', FunctionVersion: '1' })),
    'ResourceConflictException',
    /Alias already exists/,
  );
  await rejects(
    sdk.send(new UpdateAliasCommand({ FunctionName: 'f', Name: 'live', RevisionId: 'old' })),
    'PreconditionFailedException',
    /Revision Id/,
  );
  await rejects(
    sdk.send(new PutFunctionConcurrencyCommand({ FunctionName: 'f', ReservedConcurrentExecutions: -1 })),
    'ValidationException',
    /reservedConcurrentExecutions/,
  );
  await rejects(
    sdk.send(new PutFunctionConcurrencyCommand({ FunctionName: 'f', ReservedConcurrentExecutions: 901 })),
    'InvalidParameterValueException',
    /below its minimum value of \[100\]\.$/,
  );
  await rejects(
    sdk.send(
      new TagResourceCommand({ Resource: 'arn:aws:lambda:us-east-1:000000000000:function:f:1', Tags: { a: 'b' } }),
    ),
    'InvalidParameterValueException',
    /unqualified/,
  );
  await rejects(
    sdk.send(
      new TagResourceCommand({ Resource: 'arn:aws:lambda:us-east-1:000000000000:function:nope', Tags: { a: 'b' } }),
    ),
    'ResourceNotFoundException',
    /function:nope$/,
  );
  await rejects(
    sdk.send(new GetFunctionCommand({ FunctionName: 'f:1', Qualifier: '2' })),
    'InvalidParameterValueException',
    /^The derived qualifier from the function name does not match the specified qualifier\.$/,
  );
});

test('wire format: wrong JSON types, broken bodies and unknown paths get AWS-shaped 4xx answers, never a 5xx', async (t) => {
  const h = await startBareApi(t);
  await creator(h.sdk)({ FunctionName: 'f' });
  const raw = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${h.url}${path}`, { method, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  };
  const shaped = (r: { status: number; headers: Headers; text: string }, what: string) => {
    assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.text}`);
    assert.match(r.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/, what);
    const type = r.headers.get('x-amzn-errortype') ?? '';
    assert.match(type, /^[A-Za-z]+Exception$/, what);
    const body = JSON.parse(r.text) as Record<string, unknown>;
    assert.equal(body.Type, 'User', what);
    assert.equal(typeof (body.message ?? body.Message), 'string', what);
    assert.doesNotMatch(r.text, /\.ts:\d+|at [A-Za-z#]+ \(/, `${what}: no stack trace`);
    return type;
  };

  const unknown = await raw('GET', '/2015-03-31/nothing-here');
  assert.equal(shaped(unknown, 'unknown path'), 'UnknownOperationException');
  assert.equal(unknown.status, 404);
  assert.equal(shaped(await raw('PATCH', '/2015-03-31/functions'), 'wrong method'), 'UnknownOperationException');
  const broken = await raw('POST', '/2015-03-31/functions', '{"FunctionName": ');
  assert.equal(shaped(broken, 'broken JSON'), 'InvalidRequestContentException');
  assert.match(
    String((JSON.parse(broken.text) as { message?: unknown }).message),
    /^Could not parse request body into json: /,
  );
  assert.equal(
    shaped(await raw('POST', '/2015-03-31/functions', '[1,2]'), 'JSON array body'),
    'InvalidRequestContentException',
  );
  assert.equal(
    shaped(await raw('GET', '/2015-03-31/functions/%E0%A4%A'), 'bad percent-encoding'),
    'ValidationException',
  );
  assert.equal(shaped(await raw('GET', '/2015-03-31/functions?MaxItems=abc'), 'bad MaxItems'), 'ValidationException');

  // Every member of every JSON operation, given values of every wrong type.
  const wrong: unknown[] = [null, 7, -1.5, true, 'text', [], ['x'], {}, { nested: { deeper: [] } }];
  const operations: [string, string, string[]][] = [
    [
      'POST',
      '/2015-03-31/functions',
      [
        'FunctionName',
        'Runtime',
        'Role',
        'Handler',
        'Code',
        'Description',
        'Timeout',
        'MemorySize',
        'Publish',
        'Environment',
        'Layers',
        'Architectures',
        'EphemeralStorage',
        'LoggingConfig',
        'TracingConfig',
        'PackageType',
        'Tags',
      ],
    ],
    [
      'PUT',
      '/2015-03-31/functions/f/configuration',
      [
        'Runtime',
        'Role',
        'Handler',
        'Description',
        'Timeout',
        'MemorySize',
        'Environment',
        'Layers',
        'EphemeralStorage',
        'LoggingConfig',
        'TracingConfig',
        'RevisionId',
      ],
    ],
    [
      'PUT',
      '/2015-03-31/functions/f/code',
      ['ZipFile', 'Publish', 'DryRun', 'RevisionId', 'Architectures', 'S3Bucket'],
    ],
    [
      'POST',
      '/2018-10-31/layers/l/versions',
      ['Content', 'Description', 'CompatibleRuntimes', 'CompatibleArchitectures', 'LicenseInfo'],
    ],
    ['POST', '/2015-03-31/functions/f/versions', ['Description', 'CodeSha256', 'RevisionId']],
    ['POST', '/2015-03-31/functions/f/aliases', ['Name', 'FunctionVersion', 'Description', 'RoutingConfig']],
    ['PUT', '/2015-03-31/functions/f/aliases/a', ['FunctionVersion', 'Description', 'RoutingConfig', 'RevisionId']],
    ['PUT', '/2017-10-31/functions/f/concurrency', ['ReservedConcurrentExecutions']],
    ['POST', '/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:f', ['Tags']],
  ];
  const valid: Record<string, unknown> = {
    FunctionName: 'g',
    Runtime: 'provided',
    Role: ROLE,
    Handler: 'h.h',
    Code: { ZipFile: tinyZip().toString('base64') },
  };
  let cases = 0;
  for (const [method, path, members] of operations) {
    for (const member of members) {
      for (const value of wrong) {
        const body = JSON.stringify({ ...(path === '/2015-03-31/functions' ? valid : {}), [member]: value });
        const r = await raw(method, path, body);
        cases++;
        if (r.status < 400) continue; // some wrong-looking values are fine (e.g. null = absent)
        shaped(r, `${method} ${path} ${member}=${JSON.stringify(value)}`);
      }
      // Nested members of the wrong type too.
      for (const value of wrong) {
        const r = await raw(
          method,
          path,
          JSON.stringify({
            [member]: {
              Variables: value,
              Size: value,
              ZipFile: value,
              Mode: value,
              LogFormat: value,
              AdditionalVersionWeights: value,
            },
          }),
        );
        cases++;
        if (r.status >= 400) shaped(r, `${method} ${path} ${member}.*=${JSON.stringify(value)}`);
      }
    }
  }
  assert.ok(cases > 900, `${cases} requests`);
  // The server is still healthy.
  assert.ok(((await h.sdk.send(new ListFunctionsCommand({}))).Functions?.length ?? 0) >= 1);
});
