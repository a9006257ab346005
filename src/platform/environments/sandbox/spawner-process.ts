/**
 * @module platform/environments/sandbox/spawner-process
 * The spawner helper (see `spawner.ts`): a small Node process that forks sandboxes for the server, so that the fork,
 * which copies the forking process's page tables and blocks its event loop until the child has exec'd, happens in a
 * process of a few tens of MB, on the other core, and never on the server's thread.
 *
 * It spawns what it is asked to, sends back the pid and then each stdio pipe as a handle over the IPC channel (the
 * pipes are socket pairs, passed with SCM_RIGHTS; its own copies close once sent), and reports each exit. It owns no
 * decision: cgroups, options and kills stay with the server, which signals the processes by pid.
 *
 * When the server goes away (`disconnect`, also on `kill -9`), it SIGKILLs the process group of every child still
 * running and exits; bwrap's `--die-with-parent` ends each sandbox then too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { SpawnerReply, SpawnerRequest } from './spawner.ts';

const children = new Map<number, ChildProcess>();

function send(reply: SpawnerReply, handle?: Socket): void {
  if (!process.connected) return;
  if (handle === undefined) process.send?.(reply);
  else process.send?.(reply, handle);
}

function start(request: SpawnerRequest): void {
  const { id } = request;
  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args, {
      env: request.env,
      cwd: request.cwd,
      ...(request.uid !== undefined && request.gid !== undefined ? { uid: request.uid, gid: request.gid } : {}),
      detached: true,
      stdio: ['ignore', ...Array.from({ length: request.pipes }, () => 'pipe' as const)],
    });
  } catch (err) {
    send({ op: 'error', id, message: err instanceof Error ? err.message : String(err) });
    return;
  }
  // Nothing may be read here: what the child writes must reach the server, which reads these pipes once they are
  // passed. A new pipe socket has asked libuv to read, but no read happens before this tick ends; stop that now.
  for (const stream of child.stdio) stopReading(stream);
  let spawned = false;
  child.once('error', (err) => {
    if (!spawned) send({ op: 'error', id, message: err.message });
  });
  child.once('spawn', () => {
    spawned = true;
    const pid = child.pid ?? -1;
    children.set(id, child);
    send({ op: 'spawned', id, pid });
    // Handles go one message each, in order; the channel queues them (and later messages) until each is taken.
    for (let fd = 1; fd <= request.pipes; fd++) {
      const stream = child.stdio[fd];
      // (A child's pipes are net.Sockets over socket pairs.)
      if (stream !== null && stream !== undefined) send({ op: 'pipe', id, fd }, stream as Socket);
    }
  });
  child.once('exit', (code, signal) => {
    children.delete(id);
    send({ op: 'exit', id, code, signal });
  });
}

/** (net.Socket offers no public way to stop reading: `pause()` does not stop a handle's reads.) */
function stopReading(stream: unknown): void {
  const handle = (stream as { _handle?: { readStop?: () => number } } | null)?._handle;
  handle?.readStop?.();
}

process.on('message', (request: SpawnerRequest) => {
  start(request);
});

process.on('disconnect', () => {
  for (const child of children.values()) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  process.exit(0);
});
