/**
 * `lambkin serve` as a real process: state survives `kill -9`, queued Event invocations resume after a restart,
 * and neither a crash nor a clean shutdown leaves an execution environment behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PublishLayerVersionCommand,
  PutFunctionConcurrencyCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { processesWith } from '../engine/harness.ts';
import { zipDirectory } from '../helpers/zip-dir.ts';
import { FIXTURES } from '../engine/harness.ts';
import { ROLE } from './harness.ts';

const BIN = resolve(import.meta.dirname, '../../bin/lambkin.js');

async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m?.[1] !== undefined) res(m[1]);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('exit', (code) => {
      rej(new Error(`lambkin serve exited (${String(code)}): ${out}`));
    });
  });
  return { child, url };
}

function client(url: string): LambdaClient {
  return new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      res();
      return;
    }
    child.once('exit', () => {
      res();
    });
    child.kill(signal);
  });
}

test('persistence: acknowledged changes survive kill -9; queued events resume; no environment outlives the server', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-persist-'));
  await chmod(dir, 0o755);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const runtimeZip = await readFile(await zipDirectory(join(FIXTURES, 'sh-runtime'), join(dir, 'rt.zip')));
  const echoZip = await readFile(await zipDirectory(join(FIXTURES, 'functions/echo'), join(dir, 'echo.zip')));

  const first = await serve(dataDir);
  t.after(() => first.child.kill('SIGKILL'));
  let sdk = client(first.url);
  const layer = await sdk.send(new PublishLayerVersionCommand({ LayerName: 'rt', Content: { ZipFile: runtimeZip } }));
  await sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'keep',
      Runtime: 'provided',
      Role: ROLE,
      Handler: 'function.handler',
      Code: { ZipFile: echoZip },
      Layers: [String(layer.LayerVersionArn)],
    }),
  );
  await waitUntilFunctionActiveV2({ client: sdk, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'keep' });
  const warm = await sdk.send(new InvokeCommand({ FunctionName: 'keep', Payload: Buffer.from('{"before":"crash"}') }));
  assert.equal(Buffer.from(warm.Payload ?? []).toString(), '{"before":"crash"}');
  assert.ok((await processesWith('AWS_LAMBDA_FUNCTION_NAME=keep')).length > 0, 'a warm environment is alive');
  // An Event invocation that cannot run yet (reserved concurrency 0): it stays queued.
  await sdk.send(new PutFunctionConcurrencyCommand({ FunctionName: 'keep', ReservedConcurrentExecutions: 0 }));
  const queued = await sdk.send(
    new InvokeCommand({
      FunctionName: 'keep',
      InvocationType: 'Event',
      Payload: Buffer.from('{"queued":"across a crash"}'),
    }),
  );
  assert.equal(queued.StatusCode, 202);
  // Killed the moment CreateFunction is acknowledged (while it is still Pending): the function must exist after
  // the restart and become Active there.
  const fresh = await sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'fresh',
      Runtime: 'provided',
      Role: ROLE,
      Handler: 'function.handler',
      Code: { ZipFile: echoZip },
      Layers: [String(layer.LayerVersionArn)],
    }),
  );
  first.child.kill('SIGKILL');
  assert.equal(fresh.State, 'Pending');
  sdk.destroy();

  await killed(first.child, 'SIGKILL');
  for (let i = 0; i < 50 && (await processesWith('AWS_LAMBDA_FUNCTION_NAME=keep')).length > 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await processesWith('AWS_LAMBDA_FUNCTION_NAME=keep'), [], 'environments die with a killed server');

  const second = await serve(dataDir);
  t.after(() => second.child.kill('SIGKILL'));
  sdk = client(second.url);
  t.after(() => {
    sdk.destroy();
  });
  const fn = await sdk.send(new GetFunctionCommand({ FunctionName: 'keep' }));
  assert.equal(fn.Configuration?.Layers?.[0]?.Arn, layer.LayerVersionArn);
  assert.equal(fn.Concurrency?.ReservedConcurrentExecutions, 0);
  await waitUntilFunctionActiveV2({ client: sdk, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'fresh' });
  const freshRun = await sdk.send(new InvokeCommand({ FunctionName: 'fresh', Payload: Buffer.from('{"fresh":1}') }));
  assert.equal(Buffer.from(freshRun.Payload ?? []).toString(), '{"fresh":1}');
  await sdk.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'keep' }));
  const after = await sdk.send(
    new InvokeCommand({ FunctionName: 'keep', Payload: Buffer.from('{"after":"restart"}') }),
  );
  assert.equal(Buffer.from(after.Payload ?? []).toString(), '{"after":"restart"}');
  // The queued event runs now that it may.
  let ran = false;
  for (let i = 0; i < 100 && !ran; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const { readdir } = await import('node:fs/promises');
    const groupDir = join(dataDir, 'logs', encodeURIComponent('/aws/lambda/keep'));
    for (const file of await readdir(groupDir)) {
      if ((await readFile(join(groupDir, file), 'utf8')).includes('across a crash')) ran = true;
    }
  }
  assert.ok(ran, 'the queued Event invocation ran after the restart');

  await killed(second.child, 'SIGTERM');
  assert.deepEqual(await processesWith('AWS_LAMBDA_FUNCTION_NAME=keep'), [], 'a clean shutdown leaves no environment');
});

test('serve: when bubblewrap cannot run, lambkin serve says why and how to fix it, and exits non-zero', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-nobwrap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const result = await new Promise<{ code: number | null; out: string }>((res) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(dir, 'data')], {
      env: { ...process.env, LAMBKIN_BWRAP: '/nonexistent/bwrap', NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('exit', (code) => {
      res({ code, out });
    });
  });
  assert.equal(result.code, 1);
  assert.match(result.out, /the bwrap sandbox cannot run here: bubblewrap \(bwrap\) is not installed/);
  assert.match(result.out, /fix: install it: sudo apt-get install bubblewrap/);
  assert.match(result.out, /lambkin serve --sandbox process/);
  assert.doesNotMatch(result.out, /at .*\.ts:\d+/, 'no stack trace');
});

test('cli: on a Node older than 22.18, lambkin refuses to start with a one-line explanation', async (t) => {
  const { execFileSync } = await import('node:child_process');
  let version = '';
  try {
    version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    t.skip('no system node at /usr/bin/node to try');
    return;
  }
  if (!/^v(1\d|20|21)\./.test(version)) {
    t.skip(`the system node is ${version}, not older than 22`);
    return;
  }
  const out = await new Promise<{ code: number | null; stderr: string }>((res) => {
    const child = spawn('/usr/bin/node', [BIN, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => {
      res({ code, stderr });
    });
  });
  assert.equal(out.code, 1);
  assert.equal(out.stderr.trim().split('\n').length, 1);
  assert.match(out.stderr, /Lambkin needs Node 22\.18 or newer/);
});
