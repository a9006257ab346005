/**
 * MemorySize as Lambda applies it: the runtime's own binary and libraries count against it. On the host they sit in
 * a page cache shared by every environment and charged to none, so the platform adds them to the cgroup's peak and
 * takes them off its limit once the runtime has started.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { rawZip } from '../helpers/raw-zip.ts';
import { ROLE, startApi } from './harness.ts';

test('memory: a Node function is charged for its runtime, as on Lambda (Max Memory Used, and the limit)', async (t) => {
  const h = await startApi(t);
  if (!h.lambkin.sandbox.features.memoryLimit) {
    t.skip('no memory cgroup here: memory is sampled resident memory, mapped files included');
    return;
  }
  const source =
    'export const handler = async (e) => { globalThis.kept = Buffer.alloc(e.mb * 1048576, 1); return e.mb; };\n';
  for (const name of ['small', 'big']) {
    await h.sdk.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: 'index.handler',
        MemorySize: 128,
        Code: { ZipFile: rawZip([{ name: 'index.mjs', data: source }]) },
      }),
    );
    await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
  }
  const invoke = async (name: string, mb: number) => {
    const r = await h.sdk.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify({ mb })), LogType: 'Tail' }),
    );
    const log = Buffer.from(r.LogResult ?? '', 'base64').toString();
    return {
      error: r.FunctionError,
      payload: Buffer.from(r.Payload ?? []).toString(),
      maxMemoryUsedMb: Number(/Max Memory Used: (\d+) MB/.exec(log)?.[1] ?? -1),
    };
  };

  // Node's binary and libraries alone are tens of MB (AWS reports ~67 MB for such a function at 128 MB); the
  // cgroup by itself saw ~11 MB, the function's own heap.
  const idle = await invoke('small', 0);
  assert.equal(idle.error, undefined, idle.payload);
  assert.ok(idle.maxMemoryUsedMb >= 30, `Max Memory Used ${String(idle.maxMemoryUsedMb)} MB counts the runtime`);
  const some = await invoke('small', 30);
  assert.equal(some.error, undefined, some.payload);
  assert.ok(
    some.maxMemoryUsedMb >= idle.maxMemoryUsedMb + 30 - 2,
    `${String(some.maxMemoryUsedMb)} MB after 30 MB more`,
  );

  // 100 MB of the function's own at 128 MB does not fit beside the runtime (it did when only the heap counted).
  const big = await invoke('big', 100);
  assert.equal(big.error, 'Unhandled', big.payload);
  assert.equal((JSON.parse(big.payload) as { errorType: string }).errorType, 'Runtime.OutOfMemory');
  assert.ok(big.maxMemoryUsedMb > 120, `Max Memory Used ${String(big.maxMemoryUsedMb)} MB ≈ Memory Size`);
});
