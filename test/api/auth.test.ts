/**
 * `--auth strict`: SigV4 verified against configured credentials, with AWS's 403 errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GetAccountSettingsCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { awsEnv, runAws, startApi } from './harness.ts';

const KEYS = { LAMBKIN_ACCESS_KEY_ID: 'AKIALAMBKINTEST00001', LAMBKIN_SECRET_ACCESS_KEY: 'right-secret' };

test('auth strict: valid signatures pass, wrong secrets and unknown keys get 403 with the AWS error', async (t) => {
  const h = await startApi(t, { auth: 'strict' }, KEYS);
  const client = (accessKeyId: string, secretAccessKey: string) => {
    const c = new LambdaClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } });
    t.after(() => {
      c.destroy();
    });
    return c;
  };
  const good = client(KEYS.LAMBKIN_ACCESS_KEY_ID, KEYS.LAMBKIN_SECRET_ACCESS_KEY);
  assert.equal((await good.send(new GetAccountSettingsCommand({}))).AccountLimit?.ConcurrentExecutions, 1000);
  // A path with an encoded ARN (double-encoded in the canonical request) verifies too: the answer is a 404, not a 403.
  await assert.rejects(
    good.send(new GetFunctionCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:nope' })),
    {
      name: 'ResourceNotFoundException',
    },
  );
  await assert.rejects(
    client(KEYS.LAMBKIN_ACCESS_KEY_ID, 'wrong').send(new GetAccountSettingsCommand({})),
    (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'InvalidSignatureException');
      assert.equal(err.$metadata?.httpStatusCode, 403);
      return true;
    },
  );
  await assert.rejects(client('AKIAUNKNOWN000000000', 'x').send(new GetAccountSettingsCommand({})), {
    name: 'UnrecognizedClientException',
  });
  const unsigned = await fetch(`${h.url}/2016-08-19/account-settings`);
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.headers.get('x-amzn-errortype'), 'InvalidSignatureException');

  const env = {
    ...awsEnv(h.dir),
    AWS_ACCESS_KEY_ID: KEYS.LAMBKIN_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: KEYS.LAMBKIN_SECRET_ACCESS_KEY,
  };
  const ok = await runAws('aws', ['lambda', 'list-functions', '--endpoint-url', h.url], env, h.dir);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await runAws(
    'aws',
    ['lambda', 'list-functions', '--endpoint-url', h.url],
    { ...env, AWS_SECRET_ACCESS_KEY: 'nope' },
    h.dir,
  );
  assert.match(
    bad.stderr,
    /An error occurred \(InvalidSignatureException\) when calling the ListFunctions operation: The request signature we calculated does not match/,
  );
});

test('auth loopback: any well-formed signature is accepted', async (t) => {
  const h = await startApi(t);
  const c = new LambdaClient({
    endpoint: h.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'anything', secretAccessKey: 'at-all' },
  });
  t.after(() => {
    c.destroy();
  });
  assert.equal((await c.send(new GetAccountSettingsCommand({}))).AccountUsage?.FunctionCount, 0);
});
