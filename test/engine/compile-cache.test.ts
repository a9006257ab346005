/**
 * TypeScript handlers on Lambkin start from JavaScript the platform compiled when it extracted the code
 * (protocol/typescript-cache.ts): the runtime reads that read-only cache first and needs no compiler.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { compileCacheKey, compileCacheSubdir } from '../../src/protocol/typescript-cache.ts';
import { engineDirs } from '../../src/platform/invoke/engine.ts';
import { ROLE, startApi } from '../api/harness.ts';
import { rawZip } from '../helpers/raw-zip.ts';

test('compile cache: a nodejs24.x TypeScript handler runs from the JavaScript the platform compiled, mounted read-only', async (t) => {
  const h = await startApi(t);
  const source = [
    'enum Where { Compiled = "by the runtime" }',
    'import { accessSync, constants } from "node:fs";',
    'export const handler = async () => {',
    '  let writable = true;',
    '  try { accessSync(process.env.LAMBKIN_COMPILE_CACHE ?? "/nowhere", constants.W_OK); } catch { writable = false; }',
    '  return { where: Where.Compiled, cache: process.env.LAMBKIN_COMPILE_CACHE, writable };',
    '};',
    '',
  ].join('\n');
  const zip = rawZip([{ name: 'index.ts', data: source }]);
  await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'ts-cache',
      Runtime: 'nodejs24.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip },
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: 'ts-cache' });

  // The platform compiled index.ts before the first invoke. Change that compiled file (swc inlines the enum's
  // value, hence every occurrence): if the runtime ran it, it read the platform's cache instead of compiling.
  const sha = createHash('sha256').update(zip).digest('hex');
  const entry = join(
    engineDirs(join(h.dir, 'data')).cacheDir,
    'ts',
    sha,
    compileCacheSubdir(process.version),
    compileCacheKey('file:///var/task/index.ts', source),
  );
  const compiled = await readFile(entry, 'utf8');
  assert.match(compiled, /by the runtime/);
  await writeFile(entry, compiled.replaceAll('by the runtime', 'ahead of time by the platform'));

  const r = await h.sdk.send(new InvokeCommand({ FunctionName: 'ts-cache' }));
  assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
  assert.deepEqual(JSON.parse(Buffer.from(r.Payload ?? []).toString()), {
    where: 'ahead of time by the platform',
    cache: '/var/lambkin/compile-cache',
    writable: false,
  });
});
