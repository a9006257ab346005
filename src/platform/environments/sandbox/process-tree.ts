/**
 * @module platform/environments/sandbox/process-tree
 * What both drivers share: start a child in its cgroups (before it runs anything of the function's), watch it, measure
 * its memory, and end the whole tree so that nothing survives.
 *
 * Two shapes of tree:
 * - `pidns` (bwrap): our child is bwrap's monitor; bwrap reports (`--info-fd 4`) the host pid of the sandbox's pid 1
 *   (the "reaper": the shell that runs the entrypoint and reaps orphans). SIGKILL to it makes the kernel kill and
 *   reap everything in the namespace, and the monitor then reaps it and exits: no orphan, no zombie, no /proc scan.
 *   The namespace's own /proc (`/proc/<reaper>/root/proc`) lists just the sandbox's processes, for sampling memory.
 * - `group` (process driver): our child is the runtime itself, leader of its own process group. Descendants are
 *   found by scanning /proc; one that leaves the group is killed only if a cgroup holds it or a sample saw it.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { debuglog } from 'node:util';
import { PlatformError } from '../../errors.ts';
import { signalQuietly, statusBytes, type EnvironmentCgroup } from './cgroups.ts';
import { SpawnerUnavailable, type ChildHandle, type SpawnRequest, type Spawner } from './spawner.ts';
import type { SandboxExit, SandboxHandle } from './types.ts';

const log = debuglog('lambkin:sandbox');

/** `sh -c` prologue: write our pid into each cgroup.procs file given before `--`, then exec the rest. */
const JOIN_AND_EXEC =
  'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "lambkin: cannot join cgroup $1" >&2; exit 125; }; shift; done; ' +
  'shift; exec "$@"';

/** How often the tree's memory is sampled when no cgroup measures it. */
export const SAMPLE_INTERVAL_MS = 50;

export interface SpawnOptions {
  /** Program and arguments, exec'd after the child joined its cgroup. */
  argv: readonly string[];
  /** Environment of the spawned program (for bwrap: not the function's, which travels in `bwrap --args`). */
  env: Record<string, string>;
  cwd: string;
  /** Spawn the child as this host uid/gid. */
  spawnAs?: { uid: number; gid: number } | undefined;
  cgroup: EnvironmentCgroup | null;
  /**
   * `pidns`: the child is bwrap, reading its options from fd 3 (`--args 3`) and telling its reaper's pid on fd 4
   * (`--info-fd 4`). `group`: the child is the runtime, leader of its own process group.
   */
  kind: 'pidns' | 'group';
  /** Forks in the helper process instead of this one (see `spawner.ts`); without it, or when it fails, here. */
  spawner?: Spawner | undefined;
}

/** A spawned child that is not a sandbox handle yet (a pre-started bwrap waits for its options on fd 3). */
export interface Spawned {
  readonly child: ChildHandle;
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly cgroup: EnvironmentCgroup | null;
  readonly kind: 'pidns' | 'group';
}

export interface TreeOptions {
  /** `pidns`: bwrap's options, NUL-separated, written to its fd 3. */
  bwrapArgs?: Buffer | undefined;
  /** Without a cgroup: sample memory and kill the tree with `oomKilled` above this many bytes. */
  memoryLimitBytes: number;
  /** Processes spared the SIGTERM of a graceful kill (the Runtime API forwarder), by command line. */
  spareOnTerm?: ((cmdline: string) => boolean) | undefined;
  /** Removed after the tree is gone. */
  scratchDirs?: readonly string[] | undefined;
}

/** Spawns and adopts in one go. Rejects with ERR_SANDBOX_START. */
export async function startTree(spawnOptions: SpawnOptions, options: TreeOptions): Promise<SandboxHandle> {
  return adoptTree(await spawnChild(spawnOptions), options);
}

/**
 * Spawns the child in its cgroup; resolves once it exists and has joined. A `group` child (the runtime itself) joins
 * in a shell before it execs; a `pidns` child (bwrap, which does nothing before it has read its options) is moved by
 * us while it loads, which saves a shell's exec on every start. Rejects with ERR_SANDBOX_START.
 */
export async function spawnChild(options: SpawnOptions): Promise<Spawned> {
  const group = options.cgroup;
  const procs = options.kind === 'group' ? (group?.procsFiles ?? []) : [];
  const [file = '', ...args] =
    procs.length > 0 ? ['/bin/sh', '-c', JOIN_AND_EXEC, 'lambkin-join', ...procs, '--', ...options.argv] : options.argv;
  const request: SpawnRequest = {
    file,
    args,
    env: options.env,
    cwd: options.cwd,
    spawnAs: options.spawnAs,
    pipes: options.kind === 'pidns' ? 4 : 2,
  };
  let child: ChildHandle;
  try {
    child = await spawnSomewhere(request, options.spawner);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new PlatformError('ERR_SANDBOX_START', `cannot start the sandbox (${file}): ${message}`, { cause: err });
  }
  const [, stdout, stderr] = child.stdio;
  if (stdout === null || stdout === undefined || stderr === null || stderr === undefined) {
    signalQuietly(child.pid, 'SIGKILL');
    throw new PlatformError('ERR_SANDBOX_START', 'the sandbox process has no output pipes');
  }
  const spawned: Spawned = { child, pid: child.pid, stdout, stderr, cgroup: group, kind: options.kind };
  if (options.kind === 'pidns' && group !== null) {
    try {
      await group.join(spawned.pid);
    } catch (err) {
      signalQuietly(spawned.pid, 'SIGKILL');
      for (const stream of child.stdio) stream?.destroy();
      throw new PlatformError('ERR_SANDBOX_START', `cannot move the sandbox into its cgroup: ${String(err)}`, {
        cause: err,
      });
    }
  }
  return spawned;
}

/** In the spawner helper when there is one (falling back to this process when the helper cannot run), else here. */
async function spawnSomewhere(request: SpawnRequest, spawner: Spawner | undefined): Promise<ChildHandle> {
  if (spawner !== undefined) {
    try {
      return await spawner.spawn(request);
    } catch (err) {
      if (!(err instanceof SpawnerUnavailable)) throw err;
      log('spawning here instead: %s', err.message);
    }
  }
  return spawnHere(request);
}

/** `child_process.spawn` in this process (a fork of it: the event loop waits until the child has exec'd). */
function spawnHere(request: SpawnRequest): Promise<ChildHandle> {
  const child = spawn(request.file, request.args, {
    env: request.env,
    cwd: request.cwd,
    ...(request.spawnAs !== undefined ? { uid: request.spawnAs.uid, gid: request.spawnAs.gid } : {}),
    detached: true,
    stdio: ['ignore', ...Array.from({ length: request.pipes }, () => 'pipe' as const)],
  });
  return new Promise<ChildHandle>((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      if (child.pid === undefined) {
        reject(new Error('no pid'));
        return;
      }
      // A ChildProcess fits ChildHandle: its pid is known now, and its pipes are net.Sockets.
      resolve(child as unknown as ChildHandle);
    });
  });
}

/** Turns a spawned child into the sandbox handle (for bwrap: hands it its options, which starts the sandbox). */
export function adoptTree(spawned: Spawned, options: TreeOptions): SandboxHandle {
  setKeepsAlive(spawned, true);
  return new ProcessTree(spawned, options);
}

/** True while a spawned child has not exited (as far as Node knows). */
export function isRunning(spawned: Spawned): boolean {
  return spawned.child.exitCode === null && spawned.child.signalCode === null;
}

/** An idle pre-started child must not keep Node running (it exits when its pipes close); a sandbox does. */
export function setKeepsAlive(spawned: Spawned, keepAlive: boolean): void {
  if (keepAlive) spawned.child.ref();
  else spawned.child.unref();
  for (const stream of spawned.child.stdio) {
    if (keepAlive) stream?.ref();
    else stream?.unref();
  }
}

interface Proc {
  pid: number;
  /** Start time (clock ticks since boot): tells a pid apart from a later process that reuses it. */
  start: string;
  depth: number;
}

class ProcessTree implements SandboxHandle {
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<SandboxExit>;
  readonly #options: TreeOptions;
  readonly #cgroup: EnvironmentCgroup | null;
  readonly #kind: 'pidns' | 'group';
  /** `pidns`: the host pid of the namespace's reaper, once bwrap has told it. */
  #reaper: Proc | null = null;
  /** `group` without cgroup: every process a sample saw in the tree, to make sure each one is gone at the end. */
  readonly #seen = new Map<number, Proc>();
  #childGone = false;
  #gone = false;
  #sampler: NodeJS.Timeout | null = null;
  #sampledPeak = 0;
  #overLimit = false;
  #finalPeak: number | null = null;
  /** The runtime's mapped files no group is charged for (see `chargeMappedFiles`). */
  #mappedBytes = 0;
  #charging: Promise<void> | null = null;
  #killing: Promise<void> | null = null;

  constructor(spawned: Spawned, options: TreeOptions) {
    const { child, pid } = spawned;
    this.pid = pid;
    this.stdout = spawned.stdout;
    this.stderr = spawned.stderr;
    this.#options = options;
    this.#cgroup = spawned.cgroup;
    this.#kind = spawned.kind;
    if (spawned.kind === 'pidns') this.#talkToBwrap(child, options.bwrapArgs ?? Buffer.alloc(0));
    const childExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#childGone = true;
        resolve({ code, signal });
      });
    });
    const streamsClosed = new Promise<void>((resolve) => {
      child.once('close', () => {
        resolve();
      });
    });
    this.exited = childExit.then(async ({ code, signal }) => {
      try {
        return await this.#finish(code, signal, streamsClosed);
      } catch (err) {
        log('cleaning up sandbox %d failed: %o', pid, err);
        this.#gone = true;
        return normaliseExit(code, signal, this.#overLimit);
      }
    });
    if (spawned.cgroup === null) this.#startSampler();
  }

  /** Feeds bwrap its options (fd 3) and reads the host pid of the namespace's reaper (fd 4). */
  #talkToBwrap(child: ChildHandle, args: Buffer): void {
    const argsPipe = child.stdio[3];
    const infoPipe = child.stdio[4];
    // EPIPE when bwrap died before reading: its exit tells the story.
    argsPipe?.on('error', (err) => {
      log('sandbox %d: writing the bwrap options: %o', this.pid, err);
    });
    argsPipe?.end(args);
    if (infoPipe === null || infoPipe === undefined) return;
    let info = '';
    infoPipe.setEncoding('utf8');
    infoPipe.on('error', () => undefined);
    infoPipe.on('data', (d: string) => {
      if (info.includes('}')) return;
      info += d;
      const pid = /"child-pid"\s*:\s*(\d+)/.exec(info)?.[1];
      if (pid === undefined || !info.includes('}')) return;
      void readFile(`/proc/${pid}/stat`, 'utf8')
        .then((stat) => {
          const parsed = parseStat(stat);
          if (parsed !== null && parsed.ppid === this.pid)
            this.#reaper = { pid: Number(pid), start: parsed.start, depth: 1 };
        })
        .catch(() => undefined);
    });
  }

  /** After our child exited: make sure nothing of the tree is left, read the verdicts, release resources. */
  async #finish(
    code: number | null,
    signal: NodeJS.Signals | null,
    streamsClosed: Promise<void>,
  ): Promise<SandboxExit> {
    const cgroup = this.#cgroup;
    if (this.#sampler !== null) clearInterval(this.#sampler);
    // `group`: orphans (a bootstrap's background child) still count as the tree. `pidns`: bwrap exits once the
    // reaper has, whose death empties the namespace; `#reaper` covers a monitor killed from outside.
    if (this.#reaper !== null && (await isAlive(this.#reaper))) signalQuietly(this.#reaper.pid, 'SIGKILL');
    for (const proc of this.#seen.values()) if (await isAlive(proc)) signalQuietly(proc.pid, 'SIGKILL');
    if (this.#kind === 'group') signalQuietly(-this.pid, 'SIGKILL');
    await cgroup?.killAll();
    await this.#waitGone([...this.#seen.values(), ...(this.#reaper !== null ? [this.#reaper] : [])]);
    const oomKilled = this.#overLimit || ((await cgroup?.oomKilled()) ?? false);
    // The group goes away with the tree: keep its final peak for the REPORT line.
    this.#finalPeak = this.#cgroupPeak() ?? (this.#sampledPeak > 0 ? this.#sampledPeak : null);
    this.#gone = true;
    await cgroup?.release();
    for (const dir of this.#options.scratchDirs ?? []) await rm(dir, { recursive: true, force: true }).catch(ignore);
    // Output written just before the end must reach the log before the exit is reported.
    await Promise.race([streamsClosed, delay(1000)]);
    return normaliseExit(code, signal, oomKilled);
  }

  memoryPeakBytes(): number | null {
    if (this.#gone) return this.#finalPeak;
    return this.#cgroupPeak() ?? (this.#sampledPeak > 0 ? this.#sampledPeak : null);
  }

  #cgroupPeak(): number | null {
    const peak = this.#cgroup?.peakBytes() ?? null;
    return peak === null ? null : peak + this.#mappedBytes;
  }

  chargeMappedFiles(): Promise<void> {
    this.#charging ??= (async () => {
      const cgroup = this.#cgroup;
      if (cgroup === null) return;
      const mapped = await cgroup.unchargedMappedBytes();
      if (mapped === 0 || this.#gone) return;
      this.#mappedBytes = mapped;
      // What is left for the function's own memory; never below half of it (a runtime mapping more than that is
      // not what Lambda runs either).
      const limit = this.#options.memoryLimitBytes;
      await cgroup.lowerLimit(Math.max(limit - mapped, Math.ceil(limit / 2)));
    })().catch((err: unknown) => {
      log('sandbox %d: charging its mapped files: %o', this.pid, err);
    });
    return this.#charging;
  }

  kill(graceMs = 0): Promise<void> {
    this.#killing ??= (async () => {
      if (!this.#childGone && graceMs > 0) {
        await this.#terminate();
        await Promise.race([this.exited, delay(graceMs)]);
      }
      if (!this.#childGone) await this.#killTree();
      await this.exited;
    })();
    return this.#killing;
  }

  /** SIGTERM to the sandbox's processes; not to bwrap's, whose death would SIGKILL everything at once. */
  async #terminate(): Promise<void> {
    const { spareOnTerm } = this.#options;
    const cgroup = this.#cgroup;
    let targets: number[];
    if (this.#kind === 'group') {
      signalQuietly(-this.pid, 'SIGTERM');
      targets = [this.pid, ...(await descendants(this.pid)).map((p) => p.pid)];
    } else {
      const tree = await descendants(this.pid);
      const launchers = new Set([this.pid, ...tree.filter((p) => p.depth === 1).map((p) => p.pid)]);
      targets = tree.filter((p) => p.depth > 1).map((p) => p.pid);
      for (const pid of (await cgroup?.pids()) ?? []) if (!launchers.has(pid)) targets.push(pid);
    }
    for (const pid of new Set(targets)) {
      if (spareOnTerm !== undefined) {
        const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, 'utf8').catch(() => '');
        if (spareOnTerm(cmdline.replaceAll('\0', ' '))) continue;
      }
      signalQuietly(pid, 'SIGTERM');
    }
  }

  /**
   * SIGKILL. `pidns`: the namespace's reaper (the kernel kills and reaps the rest), then bwrap exits by itself after
   * reaping it. Killing parent and children at once would leave the children as zombies of the host's init. Only if
   * that does not end our child: our child, the process group and whatever the cgroup holds.
   */
  async #killTree(): Promise<void> {
    const cgroup = this.#cgroup;
    if (this.#kind === 'pidns') {
      const reapers =
        this.#reaper !== null ? [this.#reaper] : (await descendants(this.pid)).filter((p) => p.depth === 1);
      for (const reaper of reapers) signalQuietly(reaper.pid, 'SIGKILL');
      // (No reaper yet: bwrap is still setting up, and killing it is all there is to do.)
      for (let i = 0; reapers.length > 0 && i < 40 && !this.#childGone; i++) await delay(i < 20 ? 1 : 10);
      if (this.#childGone) return;
    } else {
      signalQuietly(-this.pid, 'SIGKILL');
      for (const proc of this.#seen.values()) signalQuietly(proc.pid, 'SIGKILL');
    }
    signalQuietly(this.pid, 'SIGKILL');
    await cgroup?.killAll();
  }

  /** Waits (bounded) until each process is gone, SIGKILLing stragglers. */
  async #waitGone(procs: Proc[]): Promise<void> {
    const deadline = Date.now() + 5000;
    let left = procs;
    for (let round = 0; left.length > 0; round++) {
      const alive: Proc[] = [];
      for (const proc of left) if (await isAlive(proc)) alive.push(proc);
      left = alive;
      if (left.length === 0) return;
      if (Date.now() > deadline) {
        log('sandbox %d: %d process(es) did not go away', this.pid, left.length);
        return;
      }
      for (const proc of left) signalQuietly(proc.pid, 'SIGKILL');
      await delay(round < 10 ? 1 : 10);
    }
  }

  /** Without cgroups: sample the tree's resident memory, keep the peak, and enforce the limit by killing. */
  #startSampler(): void {
    let busy = false;
    this.#sampler = setInterval(() => {
      if (busy || this.#childGone) return;
      busy = true;
      void this.#sample().finally(() => {
        busy = false;
      });
    }, SAMPLE_INTERVAL_MS);
    this.#sampler.unref();
  }

  async #sample(): Promise<void> {
    let total = 0;
    if (this.#kind === 'pidns') {
      // The sandbox's own /proc shows exactly its processes.
      if (this.#reaper === null) return;
      const procDir = `/proc/${String(this.#reaper.pid)}/root/proc`;
      const names = await readdir(procDir).catch(() => []);
      for (const name of names) if (isPid(name)) total += await statusBytes(`${procDir}/${name}`, 'VmRSS');
    } else {
      const tree = await descendants(this.pid);
      for (const proc of tree) this.#seen.set(proc.pid, proc);
      for (const pid of [this.pid, ...tree.map((p) => p.pid)])
        total += await statusBytes(`/proc/${String(pid)}`, 'VmRSS');
    }
    if (this.#childGone) return;
    if (total > this.#sampledPeak) this.#sampledPeak = total;
    if (total > this.#options.memoryLimitBytes && !this.#overLimit) {
      this.#overLimit = true;
      log('sandbox %d: %d bytes resident, above the limit: killing it', this.pid, total);
      void this.kill(0);
    }
  }
}

function normaliseExit(code: number | null, signal: NodeJS.Signals | null, oomKilled: boolean): SandboxExit {
  // bwrap (and sh) report a child killed by signal N as exit status 128 + N.
  if (signal === null && code !== null && code > 128 && code < 160) {
    const name = SIGNAL_NAMES[code - 128];
    if (name !== undefined) return { code: null, signal: name, oomKilled };
  }
  return { code, signal, oomKilled };
}

const SIGNAL_NAMES: Partial<Record<number, NodeJS.Signals>> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  11: 'SIGSEGV',
  12: 'SIGUSR2',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
  31: 'SIGSYS',
};

function isPid(name: string): boolean {
  const code = name.charCodeAt(0);
  return code >= 48 && code <= 57;
}

/** Every descendant of `root` with its depth (children: 1), from a scan of /proc. */
export async function descendants(root: number): Promise<Proc[]> {
  const children = new Map<number, { pid: number; start: string }[]>();
  const names = await readdir('/proc').catch(() => []);
  await Promise.all(
    names.filter(isPid).map(async (name) => {
      const stat = parseStat(await readFile(`/proc/${name}/stat`, 'utf8').catch(() => ''));
      if (stat === null) return;
      const entry = { pid: Number(name), start: stat.start };
      const list = children.get(stat.ppid);
      if (list === undefined) children.set(stat.ppid, [entry]);
      else list.push(entry);
    }),
  );
  const out: Proc[] = [];
  const stack: [number, number][] = [[root, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [pid, depth] = next;
    for (const child of children.get(pid) ?? []) {
      out.push({ ...child, depth: depth + 1 });
      stack.push([child.pid, depth + 1]);
    }
  }
  return out;
}

function parseStat(stat: string): { state: string; ppid: number; start: string } | null {
  // Fields after the command (which may hold spaces and parentheses): state ppid … starttime (field 22).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '';
  const ppid = Number(rest[1]);
  const start = rest[19];
  if (!Number.isInteger(ppid) || start === undefined) return null;
  return { state, ppid, start };
}

/**
 * True while the process runs and is the one we saw. A zombie counts as gone: it is dead and holds nothing but its
 * pid until its parent (or, for an orphan, the host's init) reaps it, which Lambkin cannot do for non-children.
 */
async function isAlive(proc: { pid: number; start: string }): Promise<boolean> {
  const stat = parseStat(await readFile(`/proc/${String(proc.pid)}/stat`, 'utf8').catch(() => ''));
  return stat !== null && stat.start === proc.start && stat.state !== 'Z';
}

function ignore(): void {
  // Best effort.
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
