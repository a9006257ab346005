/**
 * The runtime layer as users publish it: `lambkin runtime build --with-node` → PublishLayerVersion → a
 * provided.al2023 function with a TypeScript handler; and without --with-node, a clear word when node is missing.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  CreateFunctionCommand,
  InvokeCommand,
  PublishLayerVersionCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { runtimeBuild } from '../../src/cli/commands/runtime-build.ts';
import { zipDirectory } from '../helpers/zip-dir.ts';
import { ROLE, startApi } from '../api/harness.ts';

const FUNCTIONS = resolve(import.meta.dirname, '../fixtures/functions');

test('layer: the --with-node runtime layer runs a TypeScript handler on provided.al2023', async (t) => {
  const h = await startApi(t);
  const { out, bytes } = await runtimeBuild({ withNode: true, out: join(h.dir, 'lambkin-runtime.zip') });
  assert.ok(bytes < 52_428_800, `the layer fits Lambda's 50 MB direct upload (${bytes} bytes)`);
  const layer = await h.sdk.send(
    new PublishLayerVersionCommand({ LayerName: 'lambkin-runtime', Content: { ZipFile: await readFile(out) } }),
  );
  const code = await readFile(await zipDirectory(join(FUNCTIONS, 'ts-enum'), join(h.dir, 'fn.zip')));
  await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'ts',
      Runtime: 'provided.al2023',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: code },
      Layers: [String(layer.LayerVersionArn)],
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: 'ts' });
  const r = await h.sdk.send(new InvokeCommand({ FunctionName: 'ts', Payload: Buffer.from('{"name":"layer"}') }));
  assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
  assert.deepEqual(JSON.parse(Buffer.from(r.Payload ?? []).toString()), {
    color: 'green',
    greeting: 'HELLO LAYER',
    version: 2,
  });
});

test('layer: without a bundled node, the bootstrap says why it cannot start', async (t) => {
  const h = await startApi(t);
  const { out } = await runtimeBuild({ withNode: false, out: join(h.dir, 'lambkin-runtime.zip') });
  const layer = await h.sdk.send(
    new PublishLayerVersionCommand({ LayerName: 'lambkin-runtime', Content: { ZipFile: await readFile(out) } }),
  );
  const code = await readFile(await zipDirectory(join(FUNCTIONS, 'esm-async'), join(h.dir, 'fn.zip')));
  await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'nonode',
      Runtime: 'provided.al2023',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: code },
      Layers: [String(layer.LayerVersionArn)],
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: 'nonode' });
  const r = await h.sdk.send(new InvokeCommand({ FunctionName: 'nonode', LogType: 'Tail' }));
  const tail = Buffer.from(String(r.LogResult), 'base64').toString();
  // This machine's own node (on PATH inside the sandbox) is older than 22.18, or there is none at all.
  if (/lambkin runtime: (node v\d+\S* is too old|no node found)/.test(tail)) {
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(JSON.parse(Buffer.from(r.Payload ?? []).toString()).errorType, 'Runtime.ExitError');
  } else {
    // A new enough node on PATH runs the handler.
    assert.equal(r.FunctionError, undefined, tail);
  }
});
