/**
 * @module platform/environments/sandbox/process-tree
 * What both drivers share: start a child that first joins its cgroups (in the child, before exec), watch it, know
 * its descendants, measure its memory, and end the whole tree so that nothing survives.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { readdir, readFile, rm } from 'node:fs/promises';
import { PlatformError } from '../../errors.ts';
import type { EnvironmentCgroup } from './cgroups.ts';
import type { SandboxExit, SandboxHandle } from './types.ts';

/** `sh -c` prologue: write our pid into each cgroup.procs file given before `--`, then exec the rest. */
const JOIN_AND_EXEC = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

export interface TreeOptions {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  cgroup: EnvironmentCgroup | null;
  memoryMb: number;
  /** Removed after the tree is gone. */
  scratchDirs?: string[];
}

export function startTree(options: TreeOptions): Promise<SandboxHandle> {
  const procs = options.cgroup?.procsFiles ?? [];
  const argv = ['-c', JOIN_AND_EXEC, 'lambkin-sandbox', ...procs, '--', ...options.argv];
  const child = spawn('/bin/sh', argv, {
    env: options.env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<SandboxHandle>((resolve, reject) => {
    child.once('error', (err) => {
      reject(new PlatformError('ERR_SANDBOX_START', `cannot start the sandbox: ${err.message}`, { cause: err }));
    });
    child.once('spawn', () => {
      const pid = child.pid;
      if (pid === undefined) {
        reject(new PlatformError('ERR_SANDBOX_START', 'the sandbox process has no pid'));
        return;
      }
      resolve(new ProcessTree(pid, child, options));
    });
  });
}

class ProcessTree implements SandboxHandle {
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<SandboxExit>;
  readonly #options: TreeOptions;
  readonly #limitBytes: number;
  #sampledPeak = 0;
  #sampler: NodeJS.Timeout | null = null;
  #overLimit = false;
  #killing: Promise<void> | null = null;
  #gone = false;
  #finalPeak: number | null = null;

  constructor(pid: number, child: ChildProcessByStdio<null, Readable, Readable>, options: TreeOptions) {
    this.pid = pid;
    this.#options = options;
    this.#limitBytes = options.memoryMb * 1024 * 1024;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    const childExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
    this.exited = childExit.then(async ({ code, signal }) => {
      // The child is the outermost process; make sure nothing of the tree outlives it.
      await this.#killAll('SIGKILL');
      if (this.#sampler !== null) clearInterval(this.#sampler);
      const oomKilled = this.#overLimit || ((await options.cgroup?.oomKilled()) ?? false);
      // The cgroup goes away with the tree: keep its final peak for the REPORT line.
      this.#finalPeak = options.cgroup?.peakBytes() ?? null;
      this.#gone = true;
      await options.cgroup?.remove();
      for (const dir of options.scratchDirs ?? [])
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      return normaliseExit(code, signal, oomKilled);
    });
    if (options.cgroup === null) this.#startSampler();
  }

  memoryPeakBytes(): number | null {
    if (this.#gone && this.#finalPeak !== null) return this.#finalPeak;
    const peak = this.#options.cgroup?.peakBytes();
    if (peak !== undefined && peak !== null) return peak;
    return this.#sampledPeak > 0 ? this.#sampledPeak : null;
  }

  resetMemoryPeak(): void {
    this.#options.cgroup?.resetPeak();
    this.#sampledPeak = 0;
  }

  kill(graceMs = 0): Promise<void> {
    this.#killing ??= (async () => {
      if (!this.#gone && graceMs > 0) {
        await this.#killAll('SIGTERM');
        await Promise.race([this.exited, new Promise((r) => setTimeout(r, graceMs).unref())]);
      }
      if (!this.#gone) await this.#killAll('SIGKILL');
      await this.exited;
    })();
    return this.#killing;
  }

  /** Signals every process of the tree: the cgroup's members, the descendants, and the process group. */
  async #killAll(signal: NodeJS.Signals): Promise<void> {
    const pids = new Set<number>(await descendants(this.pid));
    for (const pid of (await this.#options.cgroup?.pids()) ?? []) pids.add(pid);
    for (const pid of pids) signalQuietly(pid, signal);
    signalQuietly(-this.pid, signal);
    signalQuietly(this.pid, signal);
  }

  /** Without cgroups: sample the tree's resident memory, keep the peak, and enforce the limit by killing. */
  #startSampler(): void {
    this.#sampler = setInterval(() => {
      void (async () => {
        let total = 0;
        for (const pid of [this.pid, ...(await descendants(this.pid))]) total += await rssBytes(pid);
        if (total > this.#sampledPeak) this.#sampledPeak = total;
        if (total > this.#limitBytes && !this.#overLimit) {
          this.#overLimit = true;
          await this.#killAll('SIGKILL');
        }
      })();
    }, 50);
    this.#sampler.unref();
  }
}

function normaliseExit(code: number | null, signal: NodeJS.Signals | null, oomKilled: boolean): SandboxExit {
  // bwrap (and sh) report a child killed by signal N as exit status 128 + N.
  if (signal === null && code !== null && code > 128 && code < 160) {
    const name = signalName(code - 128);
    if (name !== null) return { code: null, signal: name, oomKilled };
  }
  return { code, signal, oomKilled };
}

function signalName(n: number): NodeJS.Signals | null {
  const names: Record<number, NodeJS.Signals> = {
    1: 'SIGHUP',
    2: 'SIGINT',
    3: 'SIGQUIT',
    4: 'SIGILL',
    6: 'SIGABRT',
    7: 'SIGBUS',
    8: 'SIGFPE',
    9: 'SIGKILL',
    11: 'SIGSEGV',
    13: 'SIGPIPE',
    15: 'SIGTERM',
  };
  return names[n] ?? null;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Every descendant of `root`, from /proc (works without cgroups and across pid namespaces). */
export async function descendants(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  await Promise.all(
    names.map(async (name) => {
      if (name.charCodeAt(0) > 57) return;
      const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(after[1]);
      if (!Number.isInteger(ppid)) return;
      const list = children.get(ppid);
      if (list === undefined) children.set(ppid, [Number(name)]);
      else list.push(Number(name));
    }),
  );
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() ?? 0;
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}
