/**
 * The tutorial's four commands with the real aws CLI against a live server, and what a user sees around them.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROLE, startApi } from './harness.ts';

test('tutorial: publish-layer-version, create-function, update-function-configuration --layers, invoke', async (t) => {
  const h = await startApi(t);
  const layerZip = await h.zip('sh-runtime');
  const fnZip = await h.zip('functions/echo');

  const layer = await h.aws([
    'lambda',
    'publish-layer-version',
    '--layer-name',
    'sh-runtime',
    '--zip-file',
    `fileb://${layerZip}`,
  ]);
  assert.equal(layer.code, 0, layer.stderr);
  const layerOut = layer.json();
  assert.equal(layerOut.LayerVersionArn, 'arn:aws:lambda:us-east-1:000000000000:layer:sh-runtime:1');
  assert.equal(layerOut.Version, 1);
  assert.match(String((layerOut.Content as { CodeSha256: string }).CodeSha256), /^[A-Za-z0-9+/]{43}=$/);

  const create = await h.aws([
    'lambda',
    'create-function',
    '--function-name',
    'hello',
    '--zip-file',
    `fileb://${fnZip}`,
    '--handler',
    'function.handler',
    '--runtime',
    'provided',
    '--role',
    ROLE,
  ]);
  assert.equal(create.code, 0, create.stderr);
  assert.equal(create.json().State, 'Pending');
  assert.equal(create.json().FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:hello');

  const wait = await h.aws(['lambda', 'wait', 'function-active-v2', '--function-name', 'hello']);
  assert.equal(wait.code, 0, wait.stderr);

  const update = await h.aws([
    'lambda',
    'update-function-configuration',
    '--function-name',
    'hello',
    '--layers',
    String(layerOut.LayerVersionArn),
  ]);
  assert.equal(update.code, 0, update.stderr);
  assert.deepEqual(update.json().Layers, [
    { Arn: layerOut.LayerVersionArn, CodeSize: (layerOut.Content as { CodeSize: number }).CodeSize },
  ]);
  assert.equal((await h.aws(['lambda', 'wait', 'function-updated-v2', '--function-name', 'hello'])).code, 0);

  const invoke = await h.aws([
    'lambda',
    'invoke',
    '--function-name',
    'hello',
    '--payload',
    '{"from":"me"}',
    '--log-type',
    'Tail',
    'out.json',
  ]);
  assert.equal(invoke.code, 0, invoke.stderr);
  const meta = invoke.json();
  assert.equal(meta.StatusCode, 200);
  assert.equal(meta.ExecutedVersion, '$LATEST');
  assert.equal(meta.FunctionError, undefined);
  assert.equal(await readFile(join(h.dir, 'out.json'), 'utf8'), '{"from":"me"}');
  const tail = Buffer.from(String(meta.LogResult), 'base64').toString('utf8');
  assert.match(tail, /START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
  assert.match(tail, /echo handler got: \{"from":"me"\}/);
  assert.match(
    tail,
    /REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/,
  );

  // The same through the aws CLI v2 (Debian's awscli), which needs raw-in-base64-out for a JSON payload.
  const v2 = await h.aws(
    [
      'lambda',
      'invoke',
      '--function-name',
      'hello',
      '--cli-binary-format',
      'raw-in-base64-out',
      '--payload',
      '{"v":2}',
      'out2.json',
    ],
    '/usr/bin/aws',
  );
  assert.equal(v2.code, 0, v2.stderr);
  assert.equal(await readFile(join(h.dir, 'out2.json'), 'utf8'), '{"v":2}');
});

test('errors: the aws CLI prints the same kind of message it prints against AWS', async (t) => {
  const h = await startApi(t);
  const fnZip = await h.zip('functions/echo');
  const base = [
    'lambda',
    'create-function',
    '--zip-file',
    `fileb://${fnZip}`,
    '--handler',
    'function.handler',
    '--runtime',
    'provided',
    '--role',
    ROLE,
  ];
  assert.equal((await h.aws([...base, '--function-name', 'dup'])).code, 0);

  const cases: [string[], RegExp][] = [
    [
      [...base, '--function-name', 'dup'],
      /An error occurred \(ResourceConflictException\) when calling the CreateFunction operation: Function already exist: dup/,
    ],
    [
      // Within the model's range (≤ 32768) but above Lambda's limit: the service refuses it.
      [...base, '--function-name', 'big', '--memory-size', '20000'],
      /\(InvalidParameterValueException\) when calling the CreateFunction operation: 'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240/,
    ],
    [
      [...base, '--function-name', 'slow', '--timeout', '901'],
      /\(ValidationException\).*: 1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900/,
    ],
    [
      // Model constraints are reported together, as Lambda's front end does.
      [...base, '--function-name', 'both', '--timeout', '901', '--memory-size', '40000'],
      /\(ValidationException\).*: 2 validation errors detected: Value '901' at 'timeout' .*; Value '40000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 32768/,
    ],
    [
      [
        'lambda',
        'create-function',
        '--function-name',
        'noruntime',
        '--zip-file',
        `fileb://${fnZip}`,
        '--handler',
        'function.handler',
        '--role',
        ROLE,
      ],
      /\(InvalidParameterValueException\) when calling the CreateFunction operation: Runtime and Handler are mandatory parameters for functions created with deployment packages\./,
    ],
    [
      [...base, '--function-name', 'rt', '--runtime', 'python3.12'],
      /\(InvalidParameterValueException\) when calling the CreateFunction operation: Value python3.12 at 'runtime' failed to satisfy constraint/,
    ],
    [
      [...base, '--function-name', 'env', '--environment', 'Variables={AWS_REGION=x,_HANDLER=y}'],
      /\(InvalidParameterValueException\).*contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, _HANDLER/,
    ],
    [
      [...base, '--function-name', 'lay', '--layers', 'arn:aws:lambda:us-east-1:000000000000:layer:nope:1'],
      /\(InvalidParameterValueException\).*Layer version arn:aws:lambda:us-east-1:000000000000:layer:nope:1 does not exist\./,
    ],
    [
      ['lambda', 'get-function', '--function-name', 'missing'],
      /\(ResourceNotFoundException\) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing/,
    ],
    [
      ['lambda', 'invoke', '--function-name', 'dup', '--payload', 'not json', '/dev/null'],
      /\(InvalidRequestContentException\) when calling the Invoke operation: Could not parse request body into json/,
    ],
    [
      ['lambda', 'get-layer-version', '--layer-name', 'nope', '--version-number', '1'],
      /\(ResourceNotFoundException\).*The resource you requested does not exist\./,
    ],
  ];
  for (const [args, expected] of cases) {
    const r = await h.aws(args);
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, /Traceback|at .*\.ts:\d+/);
  }
  // Nothing was stored by the refused requests.
  const list = await h.aws(['lambda', 'list-functions']);
  assert.deepEqual(
    (list.json().Functions as { FunctionName: string }[]).map((f) => f.FunctionName),
    ['dup'],
  );
});
