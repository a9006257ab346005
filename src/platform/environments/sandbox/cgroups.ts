/**
 * @module platform/environments/sandbox/cgroups
 * Memory and pids limits for execution environments, with cgroup v1 (separate `memory` and `pids` hierarchies) or
 * v2 (one unified hierarchy), whichever this host offers a writable memory controller in.
 *
 * Cold-path rules:
 * 1. Groups are created ahead of need (a small pool, refilled asynchronously); handing one out only writes its
 *    limits, with fs/promises.
 * 2. Joining never blocks the event loop (it costs 0.3–20 ms depending on the kernel) and always happens before the
 *    process runs anything of the function's: a plain child writes its own pid into `cgroup.procs` before it execs
 *    (process driver); bwrap, which waits for its options on a pipe before it does anything, is moved by the
 *    platform with an asynchronous write (`join`) while it finishes loading, and gets its options after.
 * 3. Leftovers of a Lambkin that died without cleaning up (`lambkin-<pid>[-n]` with no such process) are removed
 *    when the next pool starts.
 */
import { existsSync, readFileSync, readSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rmdir, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { debuglog } from 'node:util';

const log = debuglog('lambkin:cgroups');

export type CgroupVersion = 'v1' | 'v2';

/** Where this host lets Lambkin create groups, or why it does not. */
export type CgroupLayout =
  | {
      ok: true;
      version: CgroupVersion;
      /** Directory our groups are created in (v1: the memory hierarchy; v2: the unified one). */
      memoryParent: string;
      /** v1 only: the pids hierarchy's directory, or null when the pids controller is not mounted. */
      pidsParent: string | null;
      /** The pids controller is usable (v1: mounted; v2: available next to memory). */
      pids: boolean;
    }
  | { ok: false; reason: string };

/** A size from a process's `status` file (`procDir`: `/proc/<pid>`) in bytes; 0 once the process is gone. */
export async function statusBytes(procDir: string, field: 'VmRSS' | 'RssFile'): Promise<number> {
  const status = await readFile(`${procDir}/status`, 'utf8').catch(() => '');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** One environment's cgroup(s). Obtained from `CgroupPool.acquire`, given back with `release`. */
export class EnvironmentCgroup {
  readonly version: CgroupVersion;
  /** `cgroup.procs` files a process joins the group through. */
  readonly procsFiles: readonly string[];
  /** True when `pids.max` applies to this group. */
  readonly pidsLimited: boolean;
  readonly #memoryDir: string;
  readonly #pidsDir: string | null;
  readonly #onRelease: (group: EnvironmentCgroup) => void;
  /**
   * Opened ahead of need, so that handing the group out costs one write per limit, and reading the peak one read.
   */
  #files: { memory: FileHandle; memsw: FileHandle | null; pids: FileHandle | null; peak: FileHandle | null } | null =
    null;
  #released: Promise<void> | null = null;

  constructor(
    version: CgroupVersion,
    memoryDir: string,
    pidsDir: string | null,
    onRelease: (group: EnvironmentCgroup) => void,
  ) {
    this.version = version;
    this.#memoryDir = memoryDir;
    this.#pidsDir = pidsDir;
    this.#onRelease = onRelease;
    this.pidsLimited = version === 'v2' ? existsSync(join(memoryDir, 'pids.max')) : pidsDir !== null;
    this.procsFiles = [join(memoryDir, 'cgroup.procs'), ...(pidsDir !== null ? [join(pidsDir, 'cgroup.procs')] : [])];
  }

  /** The group's directories (the memory one first). */
  get dirs(): string[] {
    return [this.#memoryDir, ...(this.#pidsDir !== null ? [this.#pidsDir] : [])];
  }

  /** Readies a new group: limit files open, no swap (v2). */
  async prepare(): Promise<void> {
    const mem = (name: string): string => join(this.#memoryDir, name);
    const openOptional = (path: string, flags = 'r+'): Promise<FileHandle | null> =>
      open(path, flags).catch((err: unknown) => {
        ignoreMissing(err);
        return null;
      });
    if (this.version === 'v1') {
      this.#files = {
        memory: await open(mem('memory.limit_in_bytes'), 'r+'),
        memsw: await openOptional(mem('memory.memsw.limit_in_bytes')),
        pids: this.#pidsDir !== null ? await open(join(this.#pidsDir, 'pids.max'), 'r+') : null,
        peak: await openOptional(mem('memory.max_usage_in_bytes'), 'r'),
      };
    } else {
      await writeFile(mem('memory.swap.max'), '0').catch(ignoreMissing);
      this.#files = {
        memory: await open(mem('memory.max'), 'r+'),
        memsw: null,
        pids: this.pidsLimited ? await open(mem('pids.max'), 'r+') : null,
        peak: await openOptional(mem('memory.peak'), 'r'),
      };
    }
  }

  /** Writes the limits (before the group's process runs anything). */
  /**
   * Writes the limits. Synchronous writes on the descriptors opened ahead: each is a few microseconds for a group
   * that holds no memory yet, far less than a round trip through the thread pool on the cold path.
   */
  setLimits(memoryBytes: number, maxProcesses: number): Promise<void> {
    const files = this.#files;
    if (files === null) return Promise.reject(new Error('cgroup not prepared'));
    const memory = String(memoryBytes);
    try {
      writeSync(files.memory.fd, memory, 0);
      // v1: no swap beyond the limit; memsw must stay >= the memory limit, so it comes second.
      if (files.memsw !== null) writeSync(files.memsw.fd, memory, 0);
      if (files.pids !== null) writeSync(files.pids.fd, String(maxProcesses), 0);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return Promise.resolve();
  }

  /**
   * Moves a process that has not run anything yet into the group, on the thread pool. (A process may be moved by
   * one with its uid, or by root; v2 also asks for write access to the common ancestor's `cgroup.procs`.)
   */
  async join(pid: number): Promise<void> {
    for (const file of this.procsFiles) await writeFile(file, String(pid));
  }

  /** Peak memory of the group in bytes (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`). Cheap, synchronous. */
  peakBytes(): number | null {
    const peak = this.#files?.peak;
    if (peak === undefined || peak === null) return null;
    try {
      const buf = Buffer.alloc(32);
      const n = readSync(peak.fd, buf, 0, buf.length, 0);
      return parseCount(buf.toString('utf8', 0, n));
    } catch {
      return null;
    }
  }

  /**
   * Bytes of files the group's processes have mapped (a runtime's binary and libraries) that the group is not charged
   * for: the host's page cache holds them once for every environment, charged to whichever group read them first.
   * In Lambda's VM they count against the function's memory. Each process's `RssFile`, summed (pages two of them map
   * count twice: a shell's libc, a megabyte or two), less the group's own mapped file pages.
   */
  async unchargedMappedBytes(): Promise<number> {
    let mapped = 0;
    for (const pid of await this.pids()) mapped += await statusBytes(`/proc/${String(pid)}`, 'RssFile');
    const stat = await readFile(join(this.#memoryDir, 'memory.stat'), 'utf8').catch(() => '');
    const charged = Number(/^(?:mapped_file|file_mapped) (\d+)$/m.exec(stat)?.[1] ?? 0);
    return Math.max(0, mapped - charged);
  }

  /**
   * Lowers the memory limit of a running group, through the thread pool (the kernel may reclaim first). v1: the
   * memory+swap limit follows it down.
   */
  async lowerLimit(memoryBytes: number): Promise<void> {
    const files = this.#files;
    if (files === null) return;
    const memory = String(memoryBytes);
    await files.memory.write(memory, 0);
    await files.memsw?.write(memory, 0);
  }

  /** True when the kernel's OOM killer killed a process of this group (v1 `memory.oom_control`, v2 `memory.events`). */
  async oomKilled(): Promise<boolean> {
    const file = this.version === 'v1' ? 'memory.oom_control' : 'memory.events';
    const text = await readFile(join(this.#memoryDir, file), 'utf8').catch(() => '');
    const count = /^oom_kill (\d+)$/m.exec(text)?.[1];
    return count !== undefined && Number(count) > 0;
  }

  /** Host pids of every process in the group. */
  async pids(): Promise<number[]> {
    const all = new Set<number>();
    for (const file of this.procsFiles) {
      const text = await readFile(file, 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (line !== '') all.add(Number(line));
    }
    return [...all];
  }

  /** SIGKILLs every member until the group is empty (v2: `cgroup.kill` where the kernel has it). */
  async killAll(): Promise<void> {
    if (this.version === 'v2') {
      await writeFile(join(this.#memoryDir, 'cgroup.kill'), '1').catch(ignore);
    }
    for (let round = 0; round < 200; round++) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) signalQuietly(pid, 'SIGKILL');
      await delay(round < 10 ? 1 : 10);
    }
    log('group %s still has members after SIGKILL', this.#memoryDir);
  }

  /** Kills what is left, removes the group and gives it back to the pool. Idempotent. */
  release(): Promise<void> {
    this.#released ??= (async () => {
      await this.killAll();
      const files = this.#files;
      this.#files = null;
      for (const file of [files?.memory, files?.memsw, files?.pids, files?.peak]) await file?.close().catch(ignore);
      for (const dir of this.dirs) await removeGroupDir(dir);
      this.#onRelease(this);
    })();
    return this.#released;
  }
}

export interface CgroupPoolOptions {
  /** Groups kept ready (default 4). */
  spare?: number;
  /** Overrides the host detection (tests). */
  layout?: CgroupLayout;
}

let poolCounter = 0;

/**
 * Hands out pre-created cgroups under a parent group of this Lambkin process. When the host offers no writable
 * memory controller (typically: unprivileged without delegation), `status()` says why and `acquire` returns null;
 * the drivers then fall back to sampling memory.
 */
export class CgroupPool {
  readonly #spareTarget: number;
  readonly #name: string;
  readonly #spare: EnvironmentCgroup[] = [];
  readonly #live = new Set<EnvironmentCgroup>();
  readonly #ready: Promise<CgroupLayout>;
  #roots: string[] = [];
  #counter = 0;
  #refilling: Promise<void> | null = null;
  #disposed = false;
  #rootsRemoved = false;

  constructor(options: CgroupPoolOptions = {}) {
    this.#spareTarget = options.spare ?? 4;
    this.#name = `lambkin-${process.pid}-${++poolCounter}`;
    this.#ready = this.#init(options.layout ?? detectCgroups());
  }

  /** What this pool can do here (resolved once the parent groups exist). */
  status(): Promise<CgroupLayout> {
    return this.#ready;
  }

  async #init(layout: CgroupLayout): Promise<CgroupLayout> {
    if (!layout.ok) return layout;
    try {
      const parents = [layout.memoryParent, ...(layout.pidsParent !== null ? [layout.pidsParent] : [])];
      for (const parent of parents) await sweepStale(parent);
      this.#roots = parents.map((parent) => join(parent, this.#name));
      for (const root of this.#roots) await mkdir(root);
      if (layout.version === 'v2') {
        const controls = layout.pids ? '+memory +pids' : '+memory';
        // Our parent delegates memory already unless it is the root of the hierarchy (or of our namespace).
        const delegated = await readFile(join(layout.memoryParent, 'cgroup.subtree_control'), 'utf8');
        if (!delegated.split(/\s+/).includes('memory')) {
          await writeFile(join(layout.memoryParent, 'cgroup.subtree_control'), controls);
        }
        await writeFile(join(this.#roots[0] ?? '', 'cgroup.subtree_control'), controls);
      }
      // One group now, so that a failure shows up here rather than on the first cold start.
      this.#spare.push(await this.#create(layout));
      void this.#refillSoon(layout);
      return layout;
    } catch (err) {
      log('cgroups unavailable: %o', err);
      await this.#removeRoots();
      const reason = err instanceof Error ? err.message : String(err);
      return { ok: false, reason: `cannot create cgroups under ${layout.memoryParent}: ${reason}` };
    }
  }

  /** Takes a group with its limits written, or null when cgroups are unavailable. */
  async acquire(memoryBytes: number, maxProcesses: number): Promise<EnvironmentCgroup | null> {
    const group = await this.take();
    try {
      await group?.setLimits(memoryBytes, maxProcesses);
    } catch (err) {
      await group?.release();
      throw err;
    }
    return group;
  }

  /** Takes a group without limits yet (a pre-started sandbox joins it; `setLimits` before it runs anything). */
  async take(): Promise<EnvironmentCgroup | null> {
    const layout = await this.#ready;
    if (!layout.ok || this.#disposed) return null;
    const group = this.#spare.pop() ?? (await this.#create(layout));
    this.#live.add(group);
    void this.#refillSoon(layout);
    return group;
  }

  #refillSoon(layout: CgroupLayout & { ok: true }): Promise<void> {
    this.#refilling ??= (async () => {
      try {
        while (!this.#disposed && this.#spare.length < this.#spareTarget) this.#spare.push(await this.#create(layout));
      } catch (err) {
        log('refilling the cgroup pool failed: %o', err);
      } finally {
        this.#refilling = null;
      }
    })();
    return this.#refilling;
  }

  async #create(layout: CgroupLayout & { ok: true }): Promise<EnvironmentCgroup> {
    const name = `env-${++this.#counter}`;
    const [memoryRoot = '', pidsRoot] = this.#roots;
    const memoryDir = join(memoryRoot, name);
    const pidsDir = layout.version === 'v1' && pidsRoot !== undefined ? join(pidsRoot, name) : null;
    await mkdir(memoryDir);
    if (pidsDir !== null) await mkdir(pidsDir);
    const group = new EnvironmentCgroup(layout.version, memoryDir, pidsDir, (g) => {
      this.#onReleased(g);
    });
    try {
      await group.prepare();
    } catch (err) {
      await group.release();
      throw err;
    }
    return group;
  }

  #onReleased(group: EnvironmentCgroup): void {
    // Spares removed by dispose() were never live.
    if (!this.#live.delete(group)) return;
    if (this.#disposed && this.#live.size === 0) void this.#removeRoots();
  }

  async #removeRoots(): Promise<void> {
    if (this.#rootsRemoved) return;
    this.#rootsRemoved = true;
    for (const root of this.#roots) await removeGroupDir(root);
  }

  /** Removes the spare groups; the parent group goes once the last environment released its group. Idempotent. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.#ready;
    await this.#refilling;
    for (const group of this.#spare.splice(0)) await group.release();
    if (this.#live.size === 0) await this.#removeRoots();
  }
}

/**
 * Finds where this process may create memory-limited groups: v2 when the unified hierarchy has the memory
 * controller (groups go next to our own group, whose parent must delegate memory), else v1's memory hierarchy
 * (groups go under our own group), else nowhere.
 */
export function detectCgroups(): CgroupLayout {
  const self = readText('/proc/self/cgroup');
  const mounts = readText('/proc/self/mountinfo')
    .split('\n')
    .map(parseMountInfo)
    .filter((m) => m !== null);

  const v2Path = /^0::(\/.*)$/m.exec(self)?.[1];
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  if (unified !== undefined && v2Path !== undefined) {
    const own = inMount(unified, v2Path);
    if (own !== null && readText(join(own, 'cgroup.controllers')).split(/\s+/).includes('memory')) {
      // Our own group may not get children with controllers while it holds processes: use a sibling, unless we sit
      // at the root of the hierarchy (or of our cgroup namespace), which has no such rule for the real root.
      const parent = own === unified.mountPoint ? own : dirname(own);
      const pids = readText(join(own, 'cgroup.controllers')).split(/\s+/).includes('pids');
      return { ok: true, version: 'v2', memoryParent: parent, pidsParent: null, pids };
    }
  }

  const memoryMount = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes('memory'));
  if (memoryMount !== undefined) {
    const memPath = /^\d+:[^:]*\bmemory\b[^:]*:(\/.*)$/m.exec(self)?.[1] ?? '/';
    const memoryParent = inMount(memoryMount, memPath);
    if (memoryParent !== null) {
      const pidsMount = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes('pids'));
      const pidsPath = /^\d+:[^:]*\bpids\b[^:]*:(\/.*)$/m.exec(self)?.[1] ?? '/';
      const pidsParent = pidsMount === undefined ? null : inMount(pidsMount, pidsPath);
      return { ok: true, version: 'v1', memoryParent, pidsParent, pids: pidsParent !== null };
    }
  }
  if (unified !== undefined) {
    return { ok: false, reason: 'the cgroup v2 hierarchy does not delegate the memory controller to Lambkin' };
  }
  return { ok: false, reason: 'no cgroup memory controller is mounted' };
}

interface MountInfo {
  root: string;
  mountPoint: string;
  fstype: string;
  superOptions: string[];
}

function parseMountInfo(line: string): MountInfo | null {
  const [left, right] = line.split(' - ');
  if (left === undefined || right === undefined) return null;
  const fields = left.split(' ');
  const [fstype = '', , superOptions = ''] = right.split(' ');
  const root = fields[3];
  const mountPoint = fields[4];
  if (root === undefined || mountPoint === undefined) return null;
  return {
    root: unescapeMount(root),
    mountPoint: unescapeMount(mountPoint),
    fstype,
    superOptions: superOptions.split(','),
  };
}

function unescapeMount(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The host directory of cgroup `path` in `mount`, or null when the mount does not show it. */
function inMount(mount: MountInfo, path: string): string | null {
  if (mount.root === '/') return join(mount.mountPoint, path);
  if (path === mount.root || path.startsWith(`${mount.root}/`))
    return join(mount.mountPoint, path.slice(mount.root.length));
  return null;
}

/** Removes `lambkin-<pid>[-n]` groups whose Lambkin process is gone (it crashed or was killed). */
async function sweepStale(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => []);
  for (const name of names) {
    const pid = /^lambkin-(\d+)(?:-\d+)?$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || existsSync(`/proc/${pid}`)) continue;
    const root = join(parent, name);
    const children = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const child of children) if (child.isDirectory()) await removeGroupDir(join(root, child.name), 1);
    await removeGroupDir(root, 1);
    log('removed stale group %s', root);
  }
}

/** rmdir with retries: a group is busy until its last (dying) member is reaped. */
async function removeGroupDir(dir: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i === attempts - 1) {
        log('cannot remove %s: %o', dir, err);
        return;
      }
      await delay(i < 10 ? 1 : 10);
    }
  }
}

function parseCount(text: string): number | null {
  const n = Number(text.trim());
  return Number.isFinite(n) && text.trim() !== '' ? n : null;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

function ignore(): void {
  // Best effort.
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
