/**
 * @module platform/environments/sandbox/spawner
 * Starts sandbox processes without blocking the server's event loop.
 *
 * `child_process.spawn` forks the calling process and waits until the child has exec'd: in the server (a few hundred
 * MB) that took 7–10 ms of blocked event loop per sandbox on the 2026-12-05 machine, on every cold start and every
 * refill of bwrap's pre-started launchers. The spawner is a small helper process (`spawner-process.ts`) that does the
 * fork instead and passes the child's pipes back over its IPC channel; the server gets a {@link ChildHandle} with the
 * pid, the pipes as sockets, and the exit status.
 *
 * The helper starts ahead of need (`start()`); a spawn that finds it gone starts a new one. If it dies, every child it
 * had is reported exited with SIGKILL (bwrap's `--die-with-parent` kills the sandboxes; the process tree's own kill
 * finds anything else by pid).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { debuglog } from 'node:util';
import { signalQuietly } from './cgroups.ts';

const log = debuglog('lambkin:sandbox');

/** The helper could not take the request (it is not running, or it died): the caller may spawn by itself. */
export class SpawnerUnavailable extends Error {
  override readonly name = 'SpawnerUnavailable';
}

/** What the server asks of the helper. */
export interface SpawnerRequest {
  op: 'spawn';
  id: number;
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number | undefined;
  gid?: number | undefined;
  /** Pipes on fd 1…pipes (fd 0 is /dev/null). */
  pipes: number;
}

/** What the helper tells the server; a `pipe` message carries the pipe's handle. */
export type SpawnerReply =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'pipe'; id: number; fd: number }
  | { op: 'error'; id: number; message: string }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

export interface SpawnRequest {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  spawnAs?: { uid: number; gid: number } | undefined;
  pipes: number;
}

/**
 * The part of a child process the sandbox drivers use. A `ChildProcess` spawned here (the fallback) and a child of
 * the helper both fit it.
 */
export interface ChildHandle {
  readonly pid: number;
  /** Index = fd; fd 0 is always null. */
  readonly stdio: readonly (Socket | null)[];
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  /** After `exit`, once its pipes have closed. */
  once(event: 'close', listener: () => void): this;
  /** Whether the child (and its pipes) keep Node's event loop alive. */
  ref(): void;
  unref(): void;
}

/** A child of the helper. */
class RemoteChild extends EventEmitter implements ChildHandle {
  /** The spawner's id for it. */
  readonly id: number;
  readonly pid: number;
  readonly stdio: (Socket | null)[];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly #spawner: Spawner;
  #refed = true;
  #open = 0;
  #exited = false;

  constructor(spawner: Spawner, id: number, pid: number, pipes: number) {
    super();
    this.#spawner = spawner;
    this.id = id;
    this.pid = pid;
    this.stdio = Array.from({ length: pipes + 1 }, () => null);
  }

  attach(fd: number, socket: Socket): void {
    if (fd <= 0 || fd >= this.stdio.length || this.stdio[fd] !== null) {
      socket.destroy();
      return;
    }
    this.stdio[fd] = socket;
    this.#open++;
    if (!this.#refed) socket.unref();
    socket.once('close', () => {
      this.#open--;
      this.#maybeClose();
    });
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exited) return;
    this.#exited = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.#spawner.forget(this);
    this.emit('exit', code, signal);
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (this.#exited && this.#open === 0) this.emit('close');
  }

  ref(): void {
    if (this.#refed) return;
    this.#refed = true;
    for (const socket of this.stdio) socket?.ref();
    this.#spawner.refCount(1);
  }

  unref(): void {
    if (!this.#refed) return;
    this.#refed = false;
    for (const socket of this.stdio) socket?.unref();
    this.#spawner.refCount(-1);
  }

  get refed(): boolean {
    return this.#refed;
  }
}

interface Pending {
  request: SpawnRequest;
  child: RemoteChild | null;
  /** Pipes handed over so far (all `request.pipes` of them resolve it). */
  received: number;
  resolve(child: ChildHandle): void;
  reject(err: Error): void;
}

export class Spawner {
  #helper: ChildProcess | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #children = new Map<number, RemoteChild>();
  /** Children that keep the event loop alive (the helper's channel does while there is one). */
  #refs = 0;
  #closed = false;

  /** Starts the helper now, so that the first spawn does not wait for Node to start. */
  start(): void {
    if (!this.#closed) this.#ensure();
  }

  /** The helper's pid while it runs (for diagnostics and tests). */
  get helperPid(): number | undefined {
    return this.#helper?.pid;
  }

  /** Spawns `request.file` as the helper's child; rejects when it cannot be spawned. */
  spawn(request: SpawnRequest): Promise<ChildHandle> {
    if (this.#closed) return Promise.reject(new SpawnerUnavailable('the spawner is closed'));
    const helper = this.#ensure();
    const id = this.#nextId++;
    return new Promise<ChildHandle>((resolve, reject) => {
      this.#pending.set(id, { request, child: null, received: 0, resolve, reject });
      const message: SpawnerRequest = {
        op: 'spawn',
        id,
        file: request.file,
        args: [...request.args],
        env: request.env,
        cwd: request.cwd,
        uid: request.spawnAs?.uid,
        gid: request.spawnAs?.gid,
        pipes: request.pipes,
      };
      // The channel holds the loop while an answer is due.
      helper.channel?.ref();
      helper.send(message, (err) => {
        if (err !== null) this.#fail(id, new SpawnerUnavailable(`the spawner helper is gone: ${err.message}`));
      });
    });
  }

  /** Ends the helper (children still running are killed with it); resolves once it has exited. */
  close(): Promise<void> {
    this.#closed = true;
    const helper = this.#helper;
    if (helper === null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => {
      if (helper.exitCode !== null || helper.signalCode !== null) resolve();
      else
        helper.once('exit', () => {
          resolve();
        });
    });
    // Until it has gone, it keeps the event loop alive (a caller may be awaiting just this).
    helper.ref();
    if (helper.connected) helper.disconnect();
    else helper.kill('SIGKILL');
    return exited;
  }

  /** @internal (RemoteChild) */
  forget(child: RemoteChild): void {
    this.#children.delete(child.id);
    if (child.refed) this.refCount(-1);
  }

  /** @internal (RemoteChild) */
  refCount(delta: number): void {
    this.#refs += delta;
    this.#updateRef();
  }

  #updateRef(): void {
    const channel = this.#helper?.channel;
    if (channel === undefined || channel === null) return;
    if (this.#refs > 0 || this.#pending.size > 0) channel.ref();
    else channel.unref();
  }

  #ensure(): ChildProcess {
    if (this.#helper !== null) return this.#helper;
    const helper = fork(new URL('./spawner-process.ts', import.meta.url), [], {
      execArgv: [],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    this.#helper = helper;
    helper.unref();
    helper.channel?.unref();
    helper.on('message', (reply: SpawnerReply, handle?: Socket) => {
      this.#onReply(reply, handle);
    });
    helper.once('exit', (code, signal) => {
      this.#lost(helper, `exited (${signal ?? String(code)})`);
    });
    helper.on('error', (err) => {
      // (Also when it could not be started at all: then no 'exit' follows.)
      this.#lost(helper, err.message);
    });
    return helper;
  }

  /** The helper is gone or unusable: pending spawns fail (to be retried here), its children count as killed. */
  #lost(helper: ChildProcess, reason: string): void {
    if (this.#helper !== helper) return;
    log('spawner helper lost: %s', reason);
    this.#helper = null;
    if (helper.connected) helper.disconnect();
    for (const [id, pending] of [...this.#pending]) {
      // Spawned but not handed over: it is not ours any more (a bwrap dies with the helper anyway).
      if (pending.child !== null) signalQuietly(-pending.child.pid, 'SIGKILL');
      this.#fail(id, new SpawnerUnavailable(`the spawner helper ${reason}`));
    }
    for (const child of [...this.#children.values()]) child.exited(null, 'SIGKILL');
  }

  #onReply(reply: SpawnerReply, handle: Socket | undefined): void {
    switch (reply.op) {
      case 'spawned': {
        const pending = this.#pending.get(reply.id);
        if (pending === undefined) return;
        const child = new RemoteChild(this, reply.id, reply.pid, pending.request.pipes);
        pending.child = child;
        this.#children.set(reply.id, child);
        this.#refs++;
        this.#maybeResolve(reply.id, pending);
        return;
      }
      case 'pipe': {
        const pending = this.#pending.get(reply.id);
        const child = pending?.child ?? this.#children.get(reply.id);
        if (handle === undefined) return;
        if (child === undefined) {
          handle.destroy();
          return;
        }
        child.attach(reply.fd, handle);
        if (pending !== undefined) {
          pending.received++;
          this.#maybeResolve(reply.id, pending);
        }
        return;
      }
      case 'error':
        this.#fail(reply.id, new Error(reply.message));
        return;
      case 'exit': {
        const pending = this.#pending.get(reply.id);
        if (pending !== undefined) {
          // Exited before all its pipes arrived: hand it over as it is.
          this.#pending.delete(reply.id);
          if (pending.child !== null) pending.resolve(pending.child);
          else pending.reject(new Error('the child exited at once'));
        }
        this.#children.get(reply.id)?.exited(reply.code, reply.signal);
        this.#updateRef();
        return;
      }
    }
  }

  #maybeResolve(id: number, pending: Pending): void {
    if (pending.child === null || pending.received < pending.request.pipes) return;
    this.#pending.delete(id);
    this.#updateRef();
    pending.resolve(pending.child);
  }

  #fail(id: number, err: Error): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    this.#updateRef();
    pending.reject(err);
  }
}
