import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createSandboxDriver } from './index.ts';
import type { SandboxHandle, SandboxSpec } from './types.ts';

const RUNNER = resolve(import.meta.dirname, '../../../../test/fixtures/sandbox/run-bootstrap.ts');

async function taskWith(t: TestContext, script: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-sbx-'));
  await chmod(dir, 0o755);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const task = join(dir, 'task');
  await mkdir(task, { mode: 0o755 });
  await writeFile(join(task, 'bootstrap'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  await chmod(task, 0o755);
  return dir;
}

function spec(dir: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    id: 'test',
    optDir: null,
    taskDir: join(dir, 'task'),
    runtimeDir: null,
    entrypoint: '/var/task/bootstrap',
    env: { PATH: '/usr/bin:/bin' },
    memoryMb: 128,
    tmpMb: 64,
    maxProcesses: 64,
    network: 'host',
    ...extra,
  };
}

async function output(handle: SandboxHandle): Promise<string> {
  let out = '';
  handle.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  handle.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  await handle.exited;
  return out;
}

test('bwrap: no host privilege — uid 993, root-only files unreadable, own pid namespace, read-only task', async (t) => {
  const dir = await taskWith(
    t,
    'id -u; cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable || echo shadow-denied; echo pid=$$; ls /proc | grep -c "^[0-9]"; touch /var/task/x 2>/dev/null || echo task-ro; env | sort',
  );
  const driver = createSandboxDriver('bwrap', { stateDir: join(dir, 'state') });
  t.after(() => driver.dispose());
  assert.equal((await driver.check()).ok, true);
  const out = await output(await driver.start(spec(dir, { env: { PATH: '/usr/bin:/bin', ONLY: 'this' } })));
  const lines = out.trim().split('\n');
  assert.equal(lines[0], '993');
  assert.equal(lines[1], 'shadow-denied');
  assert.match(lines[2] ?? '', /^pid=[12]$/);
  assert.ok(Number(lines[3]) < 10, `only the sandbox's own processes are visible (${lines[3] ?? ''})`);
  assert.equal(lines[4], 'task-ro');
  assert.deepEqual(lines.slice(5), ['ONLY=this', 'PATH=/usr/bin:/bin', 'PWD=/var/task']);
});

test('bwrap: works for an unprivileged user (user namespaces, no cgroups: memory sampled)', async (t) => {
  const dir = await taskWith(
    t,
    'id -u; echo private > /tmp/f && cat /tmp/f; x=$(head -c 20000000 /dev/zero | tr "\\0" a); echo ${#x}',
  );
  const state = join(dir, 'state');
  await mkdir(state, { mode: 0o755 });
  await chown(state, 65534, 65534);
  const out = await new Promise<string>((res, rej) => {
    execFile(
      process.execPath,
      [RUNNER, 'bwrap', state, join(dir, 'task')],
      { uid: 65534, gid: 65534, env: { PATH: '/usr/bin:/bin' } },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`${err.message}\n${stderr}`));
        else res(stdout);
      },
    );
  });
  const result = JSON.parse(out) as {
    check: { ok: boolean; features: { memoryLimit: boolean } };
    exit: { code: number };
    stdout: string;
    uid: number;
  };
  assert.equal(result.uid, 65534, 'the test really ran unprivileged');
  assert.equal(result.check.ok, true);
  assert.equal(result.check.features.memoryLimit, false, 'no cgroup delegation for nobody');
  assert.equal(result.exit.code, 0, result.stdout);
  assert.deepEqual(result.stdout.trim().split('\n'), ['993', 'private', '20000000']);
});

test('bwrap: isolated network reaches only its Runtime API (Unix socket → 127.0.0.1:9001)', async (t) => {
  const dir = await taskWith(t, '');
  const socket = join(dir, 'rapi.sock');
  const rapi = createServer((_req, res) => res.end('runtime-api'));
  await new Promise<void>((r) => rapi.listen(socket, r));
  await chmod(socket, 0o777);
  const host = createServer((_req, res) => res.end('host-service'));
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  t.after(() => {
    rapi.close();
    host.close();
  });
  const { port } = host.address() as AddressInfo;
  await writeFile(
    join(dir, 'task', 'bootstrap'),
    `#!/bin/sh\ncurl -sS http://127.0.0.1:9001/next; echo; curl -sS -m 1 http://127.0.0.1:${port}/ 2>/dev/null || echo host-unreachable\n`,
    { mode: 0o755 },
  );
  const driver = createSandboxDriver('bwrap', { stateDir: join(dir, 'state') });
  t.after(() => driver.dispose());
  const out = await output(await driver.start(spec(dir, { network: 'isolated', runtimeApiSocket: socket })));
  assert.deepEqual(out.trim().split('\n'), ['runtime-api', 'host-unreachable']);
});

test('process driver: runs without isolation, paths rewritten, private TMPDIR', async (t) => {
  const dir = await taskWith(t, 'echo "$LAMBDA_TASK_ROOT|$PWD"; test -n "$TMPDIR" && touch "$TMPDIR/x" && echo tmp-ok');
  const driver = createSandboxDriver('process', { stateDir: join(dir, 'state') });
  t.after(() => driver.dispose());
  const check = await driver.check();
  assert.equal(check.features.filesystem, false);
  const out = await output(
    await driver.start(spec(dir, { env: { PATH: '/usr/bin:/bin', LAMBDA_TASK_ROOT: '/var/task' } })),
  );
  assert.deepEqual(out.trim().split('\n'), [`${join(dir, 'task')}|${join(dir, 'task')}`, 'tmp-ok']);
});
