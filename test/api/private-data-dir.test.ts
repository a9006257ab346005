/**
 * A data dir the sandbox user cannot reach (e.g. under root's 0700 home): code and layers are served from a
 * stand-in under /var/tmp, and functions run. Regression: the stand-ins' parent was created 0700 by the first
 * recursive mkdir, so every bootstrap failed with "Can't find source path … Permission denied".
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateFunctionCommand,
  InvokeCommand,
  PublishLayerVersionCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { ROLE, startApi } from './harness.ts';

test('private data dir: functions with layers run when the data dir is not reachable by the sandbox user', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'lambkin-home-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  await chmod(home, 0o700);
  const h = await startApi(t, { dataDir: join(home, '.lambkin') });
  const layer = await h.sdk.send(
    new PublishLayerVersionCommand({
      LayerName: 'sh-runtime',
      Content: { ZipFile: await readFile(await h.zip('sh-runtime')) },
    }),
  );
  await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'private',
      Runtime: 'provided.al2023',
      Role: ROLE,
      Handler: 'function.handler',
      Code: { ZipFile: await readFile(await h.zip('functions/echo')) },
      Layers: [String(layer.LayerVersionArn)],
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: 'private' });
  const r = await h.sdk.send(new InvokeCommand({ FunctionName: 'private', Payload: Buffer.from('{"a":1}') }));
  const body = Buffer.from(r.Payload ?? []).toString();
  assert.equal(r.FunctionError, undefined, body);
  assert.equal(body, '{"a":1}');
});
