import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Spawner, type ChildHandle } from './spawner.ts';

const ENV = { PATH: '/usr/bin:/bin' };

function collect(child: ChildHandle, fd: number): Promise<string> {
  const stream = child.stdio[fd];
  assert.ok(stream);
  let out = '';
  stream.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) =>
    stream.once('close', () => {
      resolve(out);
    }),
  );
}

test('spawner: what a child writes at once reaches the server whole, on the right pipe, with its exit status', async (t) => {
  const spawner = new Spawner();
  t.after(() => spawner.close());
  // 300 KB before anything reads: more than a pipe holds, so nothing of it may be read (and lost) in the helper.
  const child = await spawner.spawn({
    file: '/bin/sh',
    args: ['-c', 'head -c 300000 /dev/zero | tr "\\0" a; echo err >&2; exit 7'],
    env: ENV,
    cwd: '/',
    pipes: 2,
  });
  assert.ok(child.pid > 0);
  const exited = exitOf(child);
  const [out, err] = await Promise.all([collect(child, 1), collect(child, 2)]);
  assert.equal(out.length, 300000);
  assert.equal(err, 'err\n');
  assert.deepEqual(await exited, [7, null]);
  assert.equal(child.exitCode, 7);
});

test('spawner: a spawn that fails rejects; a helper that dies reports its children killed, and the next spawn starts a new one', async (t) => {
  const spawner = new Spawner();
  t.after(() => spawner.close());
  await assert.rejects(spawner.spawn({ file: '/nonexistent', args: [], env: ENV, cwd: '/', pipes: 2 }), /ENOENT/);
  const child = await spawner.spawn({ file: '/bin/sleep', args: ['30'], env: ENV, cwd: '/', pipes: 2 });
  const first = spawner.helperPid;
  assert.ok(first !== undefined);
  const exited = exitOf(child);
  process.kill(first, 'SIGKILL');
  assert.deepEqual(await exited, [null, 'SIGKILL']);
  process.kill(child.pid, 'SIGKILL'); // (the helper's SIGKILL left it running: not a bwrap with --die-with-parent)
  const next = await spawner.spawn({ file: '/bin/echo', args: ['again'], env: ENV, cwd: '/', pipes: 2 });
  assert.notEqual(spawner.helperPid, first);
  assert.equal(await collect(next, 1), 'again\n');
});

test('spawner: close() ends the helper and the children it still has', async () => {
  const spawner = new Spawner();
  const child = await spawner.spawn({ file: '/bin/sleep', args: ['30'], env: ENV, cwd: '/', pipes: 2 });
  const helper = spawner.helperPid;
  const exited = exitOf(child);
  await spawner.close();
  await exited;
  assert.equal(existsSync(`/proc/${String(helper)}`), false, 'the helper is gone');
  // Gone, or a zombie left for the host's init to reap.
  const state = (): string => /\) (\S)/.exec(readFileOrEmpty(`/proc/${String(child.pid)}/stat`))?.[1] ?? 'gone';
  for (let i = 0; i < 100 && state() !== 'gone' && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(['gone', 'Z'].includes(state()), `its child is gone (state ${state()})`);
  await assert.rejects(spawner.spawn({ file: '/bin/true', args: [], env: ENV, cwd: '/', pipes: 2 }), /closed/);
});

function readFileOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function exitOf(child: ChildHandle): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      resolve([code, signal]);
    });
  });
}
