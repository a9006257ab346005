/**
 * Sandbox drivers against the real thing: real bwrap, real cgroups (when this host has them), real processes, small
 * shell scripts as entrypoints. Run as root, the tests also cover the unprivileged path by running a small driver
 * script as `nobody` (uid 65534).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isPlatformError } from '../../errors.ts';
import { CgroupPool, detectCgroups } from './cgroups.ts';
import { createSandboxDriver, type DriverOptions, type SandboxDriverName } from './index.ts';
import type { SandboxDriver, SandboxExit, SandboxHandle, SandboxSpec } from './types.ts';

const AS_ROOT = process.getuid?.() === 0;
const INDEX = join(import.meta.dirname, 'index.ts');
const MB = 1024 * 1024;

interface Fixture {
  dir: string;
  task: string;
  opt: string;
  state: string;
}

/** A temp dir (reachable by the sandbox user) with task/bootstrap = `script`, opt/ and state/. */
async function fixture(t: TestContext, script: string, files: Record<string, string> = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-sbx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const f = { dir, task: join(dir, 'task'), opt: join(dir, 'opt'), state: join(dir, 'state') };
  for (const d of [f.task, f.opt, join(f.opt, 'bin')]) {
    await mkdir(d);
    await chmod(d, 0o755);
  }
  await writeFile(join(f.task, 'bootstrap'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o755 });
  return f;
}

function spec(f: Fixture, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    id: `test-${randomUUID().slice(0, 8)}`,
    optDir: null,
    taskDir: f.task,
    runtimeDir: null,
    entrypoint: '/var/task/bootstrap',
    env: { PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin' },
    memoryMb: 128,
    tmpMb: 64,
    maxProcesses: 64,
    network: 'host',
    ...extra,
  };
}

function driver(t: TestContext, name: SandboxDriverName, options: DriverOptions): SandboxDriver {
  const d = createSandboxDriver(name, options);
  t.after(() => d.dispose());
  return d;
}

async function start(t: TestContext, d: SandboxDriver, s: SandboxSpec): Promise<Watched> {
  const handle = await d.start(s);
  t.after(() => handle.kill(0));
  return watch(handle);
}

interface Watched {
  handle: SandboxHandle;
  output(): string;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  done(): Promise<{ exit: SandboxExit; out: string }>;
}

function watch(handle: SandboxHandle): Watched {
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: string): void => {
    out += d;
    for (const w of waiters) w();
  };
  handle.stdout.setEncoding('utf8').on('data', onData);
  handle.stderr.setEncoding('utf8').on('data', onData);
  return {
    handle,
    output: () => out,
    waitFor: (text, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (out.includes(text)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${JSON.stringify(text)}; output so far:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    done: async () => {
      const exit = await handle.exited;
      return { exit, out };
    },
  };
}

/** Host pids of processes whose environment or command line holds `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const env = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (env.includes(marker) || cmd.includes(marker)) found.push(Number(name));
  }
  return found;
}

interface ProcId {
  pid: number;
  start: string;
}

/** The marked processes and their parents (a pid namespace's init may not carry the marker), by pid and start time. */
async function snapshot(marker: string): Promise<ProcId[]> {
  const stat = async (pid: number): Promise<{ ppid: number; start: string; state: string } | null> => {
    const text = await readFile(`/proc/${String(pid)}/stat`, 'utf8').catch(() => '');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return text === '' ? null : { state: rest[0] ?? '', ppid: Number(rest[1]), start: rest[19] ?? '' };
  };
  const out = new Map<number, ProcId>();
  for (const pid of await processesWith(marker)) {
    const s = await stat(pid);
    if (s === null) continue;
    out.set(pid, { pid, start: s.start });
    const parent = await stat(s.ppid);
    if (parent !== null && s.ppid !== process.pid && s.ppid > 1) out.set(s.ppid, { pid: s.ppid, start: parent.start });
  }
  return [...out.values()];
}

/** Those of `procs` that still exist (zombies included). */
async function stillThere(procs: ProcId[]): Promise<string[]> {
  const left: string[] = [];
  for (const { pid, start } of procs) {
    const text = await readFile(`/proc/${String(pid)}/stat`, 'utf8').catch(() => '');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (text !== '' && rest[19] === start)
      left.push(`${String(pid)} (${rest[0] ?? '?'}) ${text.slice(0, text.indexOf(')') + 1)}`);
  }
  return left;
}

async function hostUid(pid: number): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

async function memoryCgroupOf(pid: number): Promise<string | null> {
  const text = await readFile(`/proc/${String(pid)}/cgroup`, 'utf8').catch(() => '');
  const v1 = /^\d+:memory:(.*)$/m.exec(text)?.[1];
  if (v1 !== undefined) return join('/sys/fs/cgroup/memory', v1);
  const v2 = /^0::(.*)$/m.exec(text)?.[1];
  return v2 !== undefined && existsSync('/sys/fs/cgroup/cgroup.controllers') ? join('/sys/fs/cgroup', v2) : null;
}

function listen(server: Server, ...args: [string] | [number, string]): Promise<void> {
  return new Promise((resolve) => {
    if (args.length === 1) server.listen(args[0], resolve);
    else server.listen(args[0], args[1], resolve);
  });
}

const probePool = new CgroupPool({ spare: 0 });
const cgroups = await probePool.status();
await probePool.dispose();
const noCgroups = cgroups.ok ? false : `no writable memory cgroup here (${cgroups.reason})`;

// --- bwrap ---------------------------------------------------------------------------------------------------------

test('bwrap: check() runs a real sandbox and reports what it enforces', async (t) => {
  const f = await fixture(t, '');
  const check = await driver(t, 'bwrap', { stateDir: f.state }).check();
  assert.equal(check.ok, true, check.reason);
  assert.equal(check.features.filesystem, true);
  assert.equal(check.features.pidsLimit, true);
  assert.equal(check.features.memoryLimit, cgroups.ok);
  assert.ok((check.notes ?? []).length > 0);
});

test('bwrap: missing binary → check() says how to install it, start() rejects with ERR_SANDBOX_START', async (t) => {
  const f = await fixture(t, '');
  const d = driver(t, 'bwrap', { stateDir: f.state, bwrap: join(f.dir, 'no-such-bwrap') });
  const check = await d.check();
  assert.equal(check.ok, false);
  assert.match(check.fix ?? '', /apt-get install bubblewrap/);
  await assert.rejects(d.start(spec(f)), (err) => isPlatformError(err, 'ERR_SANDBOX_START'));
});

test('bwrap: when bwrap cannot create namespaces, check() says so and how to fix it', async (t) => {
  const f = await fixture(t, '', {
    'fake-bwrap':
      '#!/bin/sh\necho "bwrap: No permissions to creating new namespace, likely because the kernel does not ' +
      'allow non-privileged user namespaces." >&2\nexit 1\n',
  });
  const check = await driver(t, 'bwrap', { stateDir: f.state, bwrap: join(f.dir, 'fake-bwrap') }).check();
  assert.equal(check.ok, false);
  assert.match(
    check.reason ?? '',
    /^bwrap cannot create a sandbox here: bwrap: No permissions to creating new namespace/,
  );
  assert.match(check.fix ?? '', /namespaces/);
});

test('bwrap: the entrypoint gets exactly spec.env, cwd /var/task, its own pid namespace and no host directories', async (t) => {
  const f = await fixture(t, '');
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const env = { PATH: '/usr/bin:/bin', ONLY: 'this', SPACED: 'a b\nc' };
  // Both ways to start: a pre-started launcher (after a pause, one waits) and a fresh spawn (pool disabled).
  const cold = driver(t, 'bwrap', { stateDir: f.state, warmLaunchers: 0 });
  await d.check();
  await new Promise((r) => setTimeout(r, 300));
  await writeFile(join(f.task, 'env0'), '#!/bin/sh\nexec /usr/bin/env -0\n', { mode: 0o755 });
  for (const which of [d, cold]) {
    const { exit, out } = await (await start(t, which, spec(f, { entrypoint: '/var/task/env0', env }))).done();
    assert.deepEqual(exit, { code: 0, signal: null, oomKilled: false });
    // bwrap adds PWD (= the working directory), as a shell would; nothing else comes from the host.
    assert.deepEqual(
      out
        .split('\0')
        .filter((e) => e !== '')
        .sort(),
      ['ONLY=this', 'PATH=/usr/bin:/bin', 'PWD=/var/task', 'SPACED=a b\nc'],
    );
  }

  await writeFile(
    join(f.task, 'bootstrap'),
    '#!/bin/sh\npwd; echo pid=$$; ls /proc | grep -c "^[0-9]"; ls /; hostname; cat /proc/1/cmdline | tr "\\0" " "; echo\n',
  );
  const { out: info } = await (await start(t, d, spec(f))).done();
  const [cwd, pid, visible, ...rest] = info.trim().split('\n');
  assert.equal(cwd, '/var/task');
  assert.match(pid ?? '', /^pid=2$/, 'the entrypoint is pid 2 under bwrap’s reaper');
  assert.ok(Number(visible) <= 4, `only the sandbox's own processes are visible (${visible ?? ''})`);
  for (const hidden of ['root', 'home', 'work', 'srv', 'mnt'])
    assert.ok(!rest.includes(hidden), `/${hidden} is hidden`);
  for (const shown of ['opt', 'tmp', 'usr', 'etc', 'var', 'proc', 'dev'])
    assert.ok(rest.includes(shown), `/${shown} is there`);
  assert.ok(rest.includes('localhost'));
});

test('bwrap: dispose() settles on its own while launchers wait, with nothing else holding the event loop', async (t) => {
  const f = await fixture(t, '');
  const script = join(f.dir, 'dispose.mts');
  await writeFile(
    script,
    [
      `import { createSandboxDriver } from ${JSON.stringify(INDEX)};`,
      `const d = createSandboxDriver('bwrap', { stateDir: ${JSON.stringify(f.state)} });`,
      `if (!(await d.check()).ok) throw new Error('bwrap cannot run here');`,
      // The pre-started launchers are waiting by then (as in the test above); they do not keep the process alive.
      'await new Promise((r) => setTimeout(r, 300));',
      'await d.dispose();',
      "process.stdout.write('disposed');",
    ].join('\n'),
  );
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [script], { timeout: 30_000 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout: out, stderr: errOut });
    });
  });
  // Left pending, the top-level await would end the process with code 13 and no output.
  assert.equal(stdout, 'disposed', stderr);
  assert.equal(code, 0, stderr);
});

test('bwrap: runs as uid 993 with no host privilege (a root-only file stays unreadable)', async (t) => {
  const f = await fixture(
    t,
    'id -u; id -g; cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable || echo shadow-denied\n' +
      'cat /proc/self/status | grep ^CapEff; echo ready; exec sleep 30',
  );
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const marker = `lambkin-test-${randomUUID()}`;
  const run = await start(t, d, spec(f, { env: { PATH: '/usr/bin:/bin', MARKER: marker } }));
  await run.waitFor('ready');
  const [uid, gid, shadow, caps] = run.output().trim().split('\n');
  assert.equal(uid, '993');
  assert.equal(gid, '990');
  assert.equal(shadow, 'shadow-denied');
  assert.equal(caps, 'CapEff:\t0000000000000000');
  const pids = await processesWith(marker);
  assert.ok(pids.length > 0);
  // Seen from the host: the tree runs as an unprivileged uid (993 when Lambkin is root).
  for (const pid of pids) assert.equal(await hostUid(pid), AS_ROOT ? 993 : process.getuid?.());
  await run.handle.kill(0);
});

test('bwrap: /opt and /var/task are read-only; /tmp is writable, empty at start and private to each environment', async (t) => {
  const f = await fixture(t, '');
  await writeFile(join(f.opt, 'bin', 'layer-tool'), '#!/bin/sh\necho from-layer\n', { mode: 0o755 });
  await writeFile(
    join(f.task, 'bootstrap'),
    '#!/bin/sh\necho "tmp=[$(ls -A /tmp)]"; layer-tool\n' +
      'touch /opt/x 2>/dev/null && echo opt-writable || echo opt-ro\n' +
      'touch /var/task/x 2>/dev/null && echo task-writable || echo task-ro\n' +
      'echo "$MARKER" > /tmp/mine && cat /tmp/mine; echo written; exec sleep 30\n',
    { mode: 0o755 },
  );
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const a = await start(t, d, spec(f, { optDir: f.opt, env: { PATH: '/usr/bin:/bin:/opt/bin', MARKER: 'env-a' } }));
  await a.waitFor('written');
  const b = await start(t, d, spec(f, { optDir: f.opt, env: { PATH: '/usr/bin:/bin:/opt/bin', MARKER: 'env-b' } }));
  await b.waitFor('written');
  const expected = (m: string): string => `tmp=[]\nfrom-layer\nopt-ro\ntask-ro\n${m}\nwritten\n`;
  assert.equal(a.output(), expected('env-a'));
  assert.equal(b.output(), expected('env-b'), 'B sees an empty /tmp although A wrote to its own');
  assert.equal(existsSync(join(f.task, 'x')), false);
  await Promise.all([a.handle.kill(0), b.handle.kill(0)]);

  // An empty /opt when there are no layers, and /var/runtime when given.
  await writeFile(join(f.task, 'bootstrap'), '#!/bin/sh\necho "opt=[$(ls -A /opt)]"; cat /var/runtime/marker\n');
  await writeFile(join(f.dir, 'marker'), 'runtime-dir\n');
  const c = await start(t, d, spec(f, { runtimeDir: f.dir }));
  assert.equal((await c.done()).out, 'opt=[]\nruntime-dir\n');
});

test('bwrap: /tmp on disk (tmp: disk) is private, outside the memory limit, and removed after the tree is gone', async (t) => {
  const f = await fixture(
    t,
    'dd if=/dev/zero of=/tmp/big bs=1M count=200 2>/dev/null; ls -l /tmp/big | wc -l; ls -A /tmp',
  );
  const d = driver(t, 'bwrap', { stateDir: f.state, tmp: 'disk' });
  const { exit, out } = await (await start(t, d, spec(f, { memoryMb: 64 }))).done();
  assert.deepEqual(exit, { code: 0, signal: null, oomKilled: false }, out);
  assert.equal(out, '1\nbig\n');
  const left = await readdir(join(f.state, 'tmp')).catch(() => []);
  assert.deepEqual(left, [], 'the per-environment /tmp directory is removed');
});

test(
  'bwrap: memory above memoryMb is OOM-killed and reported; memoryPeakBytes is real',
  { skip: noCgroups },
  async (t) => {
    const f = await fixture(t, 'echo start; head -c 300000000 /dev/zero | tail -n 1 >/dev/null; echo "status $?"');
    const d = driver(t, 'bwrap', { stateDir: f.state });
    const over = await start(t, d, spec(f, { memoryMb: 64 }));
    const { exit, out } = await over.done();
    assert.equal(exit.oomKilled, true, out);
    assert.match(out, /status 137/);
    const peakAtLimit = over.handle.memoryPeakBytes() ?? 0;
    assert.ok(peakAtLimit > 50 * MB && peakAtLimit <= 64 * MB, `peak ${String(peakAtLimit)} is near the 64 MB limit`);

    await writeFile(
      join(f.task, 'bootstrap'),
      '#!/bin/sh\nhead -c 60000000 /dev/zero | tail -n 1 >/dev/null; echo allocated; exec sleep 30\n',
    );
    const under = await start(t, d, spec(f, { memoryMb: 256 }));
    await under.waitFor('allocated');
    const peak = under.handle.memoryPeakBytes() ?? 0;
    assert.ok(peak > 57 * MB, `peak ${String(peak)} > 57 MB`);
    await new Promise((r) => setTimeout(r, 100));
    // The allocation is gone, the high-water mark stays (REPORT's Max Memory Used is the environment's peak).
    assert.ok((under.handle.memoryPeakBytes() ?? 0) >= peak, 'the peak never goes down');
    await under.handle.kill(0);
    assert.equal((await under.handle.exited).oomKilled, false);
  },
);

test(
  'bwrap: started on the spot or pre-started, the sandbox is in its cgroup, as uid 993 without capabilities',
  { skip: noCgroups },
  async (t) => {
    const f = await fixture(
      t,
      'id -u; cat /proc/self/status | grep ^CapEff; head -c 300000000 /dev/zero | tail -n 1 >/dev/null',
    );
    for (const warmLaunchers of [0, 2]) {
      const d = driver(t, 'bwrap', { stateDir: f.state, warmLaunchers });
      await d.check();
      // Let the launchers start (they do not keep the process alive, so this does not hang).
      if (warmLaunchers > 0) await new Promise((r) => setTimeout(r, 500));
      const { exit, out } = await (await start(t, d, spec(f, { memoryMb: 64 }))).done();
      assert.equal(exit.oomKilled, true, `warmLaunchers ${String(warmLaunchers)}: ${out}`);
      if (AS_ROOT) assert.deepEqual(out.trim().split('\n').slice(0, 2), ['993', 'CapEff:\t0000000000000000']);
    }
  },
);

test('bwrap: a fork bomb is contained (pids limit) and kill() ends it without leftovers', async (t) => {
  const marker = `lambkin-test-${randomUUID()}`;
  const f = await fixture(t, 'echo bomb; b() { b | b & }; b; exec sleep 60');
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const run = await start(t, d, spec(f, { maxProcesses: 32, env: { PATH: '/usr/bin:/bin', MARKER: marker } }));
  await run.waitFor('bomb');
  let most = 0;
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 50));
    most = Math.max(most, (await processesWith(marker)).length);
  }
  assert.ok(most <= 32, `at most maxProcesses processes (${String(most)})`);
  // The host still forks fine.
  const hostFork = await new Promise<Error | null>((resolve) => {
    execFile('/bin/true', (err) => {
      resolve(err);
    });
  });
  assert.equal(hostFork, null);
  await run.handle.kill(0);
  assert.deepEqual(await processesWith(marker), []);
});

test('bwrap: kill() leaves no process, even a background child that ignores SIGTERM', async (t) => {
  const marker = `lambkin-test-${randomUUID()}`;
  const f = await fixture(
    t,
    `sh -c 'trap "" TERM; while :; do sleep 1; done' ${marker}-child &\ntrap "echo term-ignored" TERM\necho started\nwhile :; do sleep 0.05; done`,
  );
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const env = { PATH: '/usr/bin:/bin', MARKER: marker };
  const run = await start(t, d, spec(f, { env }));
  await run.waitFor('started');
  let pids: number[] = [];
  for (let i = 0; i < 100 && pids.length < 4; i++) {
    await new Promise((r) => setTimeout(r, 20));
    pids = await processesWith(marker);
  }
  assert.ok(pids.length >= 4, 'bootstrap, its background child and their sleeps are running');
  const tree = await snapshot(marker);
  const group = cgroups.ok ? await memoryCgroupOf(pids[0] ?? 0) : null;
  await run.handle.kill(300);
  assert.deepEqual(await processesWith(marker), []);
  assert.deepEqual(await stillThere(tree), [], 'no process of the tree is left, not even a zombie');
  const { exit, out } = await run.done();
  assert.match(out, /term-ignored/, 'SIGTERM came first, and was ignored');
  assert.equal(exit.signal, 'SIGKILL', 'then SIGKILL, after the grace period');
  if (group !== null) assert.equal(existsSync(group), false, 'the environment cgroup is removed');
  await run.handle.kill(0); // idempotent, resolves at once

  // A bootstrap that exits on its own while its background child lives on: the child goes with it.
  await writeFile(
    join(f.task, 'bootstrap'),
    `#!/bin/sh\nsh -c 'trap "" TERM HUP; sleep 60' ${marker}-orphan &\necho bye\nsleep 0.3\n`,
  );
  const orphan = await start(t, d, spec(f, { env }));
  await orphan.waitFor('bye');
  const orphanTree = await snapshot(marker);
  assert.deepEqual((await orphan.done()).exit, { code: 0, signal: null, oomKilled: false });
  assert.deepEqual(await processesWith(marker), []);
  assert.deepEqual(await stillThere(orphanTree), [], 'no process of the tree is left, not even a zombie');
});

test('bwrap: SIGTERM first: a runtime that exits on SIGTERM ends before the grace period', async (t) => {
  const f = await fixture(t, 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done');
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const run = await start(t, d, spec(f));
  await run.waitFor('ready');
  await run.handle.kill(5000);
  const { exit, out } = await run.done();
  assert.match(out, /got-term/);
  assert.deepEqual(exit, { code: 0, signal: null, oomKilled: false }, 'it exited by itself: no SIGKILL was needed');
});

test('bwrap: a runtime ended by SIGTERM leaves nothing of its own in the log (no shell "Terminated" line)', async (t) => {
  const f = await fixture(t, 'echo ready; exec sleep 1000');
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const run = await start(t, d, spec(f));
  await run.waitFor('ready');
  await run.handle.kill(5000);
  const { exit, out } = await run.done();
  assert.equal(out.trim(), 'ready', 'only what the runtime itself wrote');
  assert.equal(exit.signal, 'SIGTERM', 'ended by the SIGTERM, before the grace period ran out');
});

test('bwrap: isolated network reaches only its Runtime API (Unix socket → 127.0.0.1:9001)', async (t) => {
  const f = await fixture(t, '');
  const socket = join(f.dir, 'rapi.sock');
  const rapi = createServer((req, res) => res.end(`runtime-api ${req.url ?? ''}`));
  await listen(rapi, socket);
  t.after(() => rapi.close());
  await chmod(socket, 0o777);
  const host = createServer((_req, res) => res.end('host-service'));
  await listen(host, 0, '127.0.0.1');
  t.after(() => host.close());
  const { port } = host.address() as AddressInfo;
  await writeFile(
    join(f.task, 'bootstrap'),
    '#!/bin/sh\ncurl -sS http://127.0.0.1:9001/2018-06-01/runtime/invocation/next; echo\n' +
      `curl -sS -m 1 http://127.0.0.1:${String(port)}/ 2>/dev/null || echo host-unreachable\n` +
      'env | sort\n',
    { mode: 0o755 },
  );
  const d = driver(t, 'bwrap', { stateDir: f.state });
  const env = { PATH: '/usr/bin:/bin', AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' };
  const { exit, out } = await (
    await start(t, d, spec(f, { network: 'isolated', runtimeApiSocket: socket, env }))
  ).done();
  assert.equal(exit.code, 0, out);
  assert.deepEqual(out.trim().split('\n'), [
    'runtime-api /2018-06-01/runtime/invocation/next',
    'host-unreachable',
    'AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001',
    'PATH=/usr/bin:/bin',
    'PWD=/var/task',
  ]);
  const exact = await (
    await start(t, d, spec(f, { network: 'isolated', runtimeApiSocket: socket, env, entrypoint: '/usr/bin/env' }))
  ).done();
  assert.deepEqual(exact.out.trim().split('\n').sort(), [
    'AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001',
    'PATH=/usr/bin:/bin',
    'PWD=/var/task',
  ]);
});

test(
  'bwrap: as an unprivileged user (uid 65534): user namespaces, sampled memory, RLIMIT_NPROC',
  { skip: !AS_ROOT && 'needs root to switch to uid 65534' },
  async (t) => {
    const f = await fixture(t, '');
    await mkdir(f.state);
    for (const path of [f.state, f.task, join(f.task, 'bootstrap')]) await chown(path, 65534, 65534);
    const runner = join(f.dir, 'runner.mts');
    await writeFile(runner, RUNNER.replace('__INDEX__', INDEX));
    const marker = `lambkin-test-${randomUUID()}`;
    // One runner process for all scenarios: starting node is the slow part.
    const scenarios = [
      {
        // tail holds 40 MB until the pipe closes.
        script:
          'id -u; echo private > /tmp/f && cat /tmp/f; { head -c 40000000 /dev/zero; sleep 30; } | tail -n 1 & sleep 0.5; echo ready; wait',
        waitFor: 'ready',
      },
      { script: 'echo start; head -c 400000000 /dev/zero | tail -n 1 >/dev/null; echo survived', memoryMb: 64 },
      { script: 'echo bomb; b() { b | b & }; b; exec sleep 60', waitFor: 'bomb', maxProcesses: 32 },
    ];
    const results = await new Promise<RunnerResult[]>((resolve, reject) => {
      execFile(
        process.execPath,
        [runner, JSON.stringify({ stateDir: f.state, taskDir: f.task, marker, scenarios })],
        { uid: 65534, gid: 65534, cwd: f.dir, env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(JSON.parse(stdout) as RunnerResult[]);
        },
      );
    });
    const [basic, oom, bomb] = results;
    assert.ok(basic !== undefined && oom !== undefined && bomb !== undefined);
    assert.equal(basic.uid, 65534, 'the driver really ran unprivileged');
    assert.equal(basic.check.ok, true, basic.check.reason);
    assert.equal(basic.check.features.memoryLimit, false, 'no cgroup delegation for nobody');
    assert.deepEqual(basic.stdout.trim().split('\n'), ['993', 'private', 'ready']);
    assert.ok(basic.hostUids.every((u) => u === 65534));
    assert.ok((basic.peak ?? 0) > 30 * MB, `sampled peak ${String(basic.peak)} > 30 MB`);
    assert.equal(basic.exit.signal, 'SIGKILL');
    assert.equal(basic.leftAfterKill, 0);

    assert.equal(oom.exit.oomKilled, true, oom.stdout);
    assert.doesNotMatch(oom.stdout, /survived/);

    assert.ok(bomb.most <= 32 + 2, `RLIMIT_NPROC holds the tree at ~maxProcesses (${String(bomb.most)})`);
    assert.equal(bomb.leftAfterKill, 0);
    assert.deepEqual(await processesWith(marker), []);
  },
);

interface RunnerResult {
  check: { ok: boolean; reason?: string; features: { memoryLimit: boolean } };
  exit: SandboxExit;
  stdout: string;
  uid: number;
  peak: number | null;
  hostUids: number[];
  most: number;
  leftAfterKill: number;
}

/** Runs one sandbox with the real driver as whatever user runs it, and prints what happened as JSON. */
const RUNNER = `
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createSandboxDriver } from '__INDEX__';
const o = JSON.parse(process.argv[2]);
const marked = async () => {
  const out = [];
  for (const name of await readdir('/proc')) {
    if (!/^\\d+$/.test(name)) continue;
    const env = await readFile('/proc/' + name + '/environ', 'utf8').catch(() => '');
    if (env.includes(o.marker)) out.push(Number(name));
  }
  return out;
};
const driver = createSandboxDriver('bwrap', { stateDir: o.stateDir });
const check = await driver.check();
const results = [];
for (const s of o.scenarios) {
  await writeFile(o.taskDir + '/bootstrap', '#!/bin/sh\\n' + s.script + '\\n', { mode: 0o755 });
  const handle = await driver.start({
    id: 'unpriv', optDir: null, taskDir: o.taskDir, runtimeDir: null, entrypoint: '/var/task/bootstrap',
    env: { PATH: '/usr/bin:/bin', MARKER: o.marker }, memoryMb: s.memoryMb ?? 128, tmpMb: 64,
    maxProcesses: s.maxProcesses ?? 64, network: 'host',
  });
  let stdout = '';
  handle.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  handle.stderr.setEncoding('utf8').on('data', (d) => (stdout += d));
  let most = 0, hostUids = [], peak = null, leftAfterKill = 0;
  if (s.waitFor) {
    while (!stdout.includes(s.waitFor)) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const pids = await marked();
      most = Math.max(most, pids.length);
      for (const pid of pids) {
        const status = await readFile('/proc/' + pid + '/status', 'utf8').catch(() => '');
        const uid = /^Uid:\\s+(\\d+)/m.exec(status);
        if (uid) hostUids.push(Number(uid[1]));
      }
    }
    peak = handle.memoryPeakBytes();
    await handle.kill(0);
    leftAfterKill = (await marked()).length;
  }
  const exit = await handle.exited;
  results.push({ check, exit, stdout, uid: process.getuid(), peak, hostUids, most, leftAfterKill });
}
await driver.dispose();
process.stdout.write(JSON.stringify(results));
`;

// --- process driver --------------------------------------------------------------------------------------------------

test('process driver: no isolation, but paths rewritten, cwd = taskDir and a private TMPDIR', async (t) => {
  const f = await fixture(t, '');
  await writeFile(join(f.opt, 'bin', 'layer-tool'), '#!/bin/sh\necho from-layer\n', { mode: 0o755 });
  await writeFile(
    join(f.opt, 'bootstrap'),
    '#!/bin/sh\necho "$LAMBDA_TASK_ROOT|$PWD|$LD_LIBRARY_PATH"; layer-tool; ls -A "$TMPDIR" | wc -l; touch "$TMPDIR/x" && echo "$TMPDIR"\n',
    { mode: 0o755 },
  );
  const d = driver(t, 'process', { stateDir: f.state });
  const check = await d.check();
  assert.equal(check.ok, true);
  assert.equal(check.features.filesystem, false);
  assert.equal(check.features.isolatedNetwork, false);
  const s = spec(f, {
    optDir: f.opt,
    entrypoint: '/opt/bootstrap',
    env: {
      PATH: '/usr/bin:/bin:/opt/bin',
      LAMBDA_TASK_ROOT: '/var/task',
      LD_LIBRARY_PATH: '/lib64:/var/task/lib:/opt/lib',
    },
  });
  const [a, b] = await Promise.all([(await start(t, d, s)).done(), (await start(t, d, s)).done()]);
  for (const { exit, out } of [a, b]) {
    const [paths, layer, tmpCount, tmpDir] = out.trim().split('\n');
    assert.equal(exit.code, 0, out);
    assert.equal(paths, `${f.task}|${f.task}|/lib64:${f.task}/lib:${f.opt}/lib`);
    assert.equal(layer, 'from-layer');
    assert.equal(tmpCount, '0');
    assert.ok(tmpDir?.startsWith(join(f.state, 'tmp')));
    assert.equal(existsSync(tmpDir ?? ''), false, 'the TMPDIR is removed after the tree is gone');
  }
  assert.notEqual(a.out, b.out, 'each environment has its own TMPDIR');
  await assert.rejects(d.start(spec(f, { network: 'isolated', runtimeApiSocket: join(f.dir, 's') })), (err) =>
    isPlatformError(err, 'ERR_SANDBOX_START'),
  );
});

test('process driver: kill() ends the process group, a TERM-ignoring background child included', async (t) => {
  const marker = `lambkin-test-${randomUUID()}`;
  const f = await fixture(
    t,
    `sh -c 'trap "" TERM; while :; do sleep 1; done' ${marker}-child &\necho started\nwhile :; do sleep 1; done`,
  );
  const d = driver(t, 'process', { stateDir: f.state });
  const run = await start(t, d, spec(f, { env: { PATH: '/usr/bin:/bin', MARKER: marker } }));
  await run.waitFor('started');
  assert.ok((await processesWith(marker)).length >= 2);
  await run.handle.kill(200);
  assert.deepEqual(await processesWith(marker), []);
});

test('process driver: the cgroup memory limit applies (root)', { skip: noCgroups }, async (t) => {
  const f = await fixture(t, 'head -c 300000000 /dev/zero | tail -n 1 >/dev/null; echo "status $?"');
  const d = driver(t, 'process', { stateDir: f.state });
  const { exit, out } = await (await start(t, d, spec(f, { memoryMb: 64 }))).done();
  assert.equal(exit.oomKilled, true, out);
});

// --- cgroups ---------------------------------------------------------------------------------------------------------

test(
  'cgroups: groups are created ahead of need, limits written on acquire, everything removed on dispose',
  { skip: noCgroups },
  async (t) => {
    const layout = detectCgroups();
    assert.ok(layout.ok);
    // A leftover of a Lambkin that died (no such pid) is swept by the next pool.
    let stalePid = 32767;
    while (existsSync(`/proc/${String(stalePid)}`)) stalePid--;
    const stale = join(layout.memoryParent, `lambkin-${String(stalePid)}-1`);
    await mkdir(join(stale, 'env-1'), { recursive: true });
    t.after(() =>
      rm(join(stale, 'env-1'), { recursive: true }).then(
        () => rm(stale, { recursive: true }),
        () => undefined,
      ),
    );

    const pool = new CgroupPool({ spare: 2 });
    t.after(() => pool.dispose());
    assert.equal((await pool.status()).ok, true);
    assert.equal(existsSync(stale), false, 'the stale group was removed');
    const group = await pool.acquire(100 * MB, 77);
    assert.ok(group !== null);
    const [memoryDir = ''] = group.dirs;
    assert.ok(existsSync(memoryDir));
    if (group.version === 'v1') {
      assert.equal((await readFile(join(memoryDir, 'memory.limit_in_bytes'), 'utf8')).trim(), String(100 * MB));
    } else {
      assert.equal((await readFile(join(memoryDir, 'memory.max'), 'utf8')).trim(), String(100 * MB));
    }
    if (group.pidsLimited) {
      const pidsDir = group.dirs[1] ?? memoryDir;
      assert.equal((await readFile(join(pidsDir, 'pids.max'), 'utf8')).trim(), '77');
    }
    const root = join(memoryDir, '..');
    await pool.dispose();
    assert.ok(existsSync(root), 'the parent group stays while an environment holds a group');
    await group.release();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(root), false, 'the parent group goes with the last environment');
  },
);
