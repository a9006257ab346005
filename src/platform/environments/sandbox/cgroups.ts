/**
 * @module platform/environments/sandbox/cgroups
 * Memory and pids limits for execution environments, with cgroup v1 (separate `memory` and `pids` hierarchies)
 * or v2 (one unified hierarchy). Groups are created ahead of need, off the cold path; the process joins its
 * group itself, in the child before exec (joining costs 5–20 ms on some kernels and must never block the event
 * loop), so the platform only writes the limit when it hands a group out.
 */
import { chown, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { debuglog } from 'node:util';

const log = debuglog('lambkin:cgroups');

export type CgroupVersion = 'v1' | 'v2';

/** One environment's cgroup(s). */
export class EnvironmentCgroup {
  readonly version: CgroupVersion;
  /** `cgroup.procs` files the child writes its pid into before exec. */
  readonly procsFiles: string[];
  readonly #memoryDir: string;
  readonly #pidsDir: string | null;

  constructor(version: CgroupVersion, memoryDir: string, pidsDir: string | null) {
    this.version = version;
    this.#memoryDir = memoryDir;
    this.#pidsDir = pidsDir;
    this.procsFiles = [
      join(memoryDir, 'cgroup.procs'),
      ...(pidsDir !== null && pidsDir !== memoryDir ? [join(pidsDir, 'cgroup.procs')] : []),
    ];
  }

  async setLimits(memoryBytes: number, maxProcesses: number): Promise<void> {
    if (this.version === 'v1') {
      await writeFile(join(this.#memoryDir, 'memory.limit_in_bytes'), String(memoryBytes));
      // No swap beyond the limit, where the kernel accounts for it.
      await writeFile(join(this.#memoryDir, 'memory.memsw.limit_in_bytes'), String(memoryBytes)).catch(() => undefined);
      if (this.#pidsDir !== null) await writeFile(join(this.#pidsDir, 'pids.max'), String(maxProcesses));
    } else {
      await writeFile(join(this.#memoryDir, 'memory.max'), String(memoryBytes));
      await writeFile(join(this.#memoryDir, 'memory.swap.max'), '0').catch(() => undefined);
      await writeFile(join(this.#memoryDir, 'pids.max'), String(maxProcesses)).catch(() => undefined);
    }
  }

  /** Peak memory of the group in bytes. Synchronous and cheap: called once per REPORT line. */
  peakBytes(): number | null {
    const file = this.version === 'v1' ? 'memory.max_usage_in_bytes' : 'memory.peak';
    try {
      return Number(readFileSync(join(this.#memoryDir, file), 'utf8').trim());
    } catch {
      return null;
    }
  }

  resetPeak(): void {
    const file = this.version === 'v1' ? 'memory.max_usage_in_bytes' : 'memory.peak';
    writeFile(join(this.#memoryDir, file), '0').catch(() => undefined);
  }

  /** True when the kernel's OOM killer acted in this group. */
  async oomKilled(): Promise<boolean> {
    const file = this.version === 'v1' ? 'memory.oom_control' : 'memory.events';
    const text = await readFile(join(this.#memoryDir, file), 'utf8').catch(() => '');
    const n = /^oom_kill (\d+)$/m.exec(text)?.[1];
    if (n !== undefined) return Number(n) > 0;
    if (this.version === 'v1') {
      // Kernels without the oom_kill counter: the limit was hit and the tree died.
      const failcnt = await readFile(join(this.#memoryDir, 'memory.failcnt'), 'utf8').catch(() => '0');
      return Number(failcnt.trim()) > 0;
    }
    return false;
  }

  /** Host pids of every process in the group. */
  async pids(): Promise<number[]> {
    const text = await readFile(join(this.#memoryDir, 'cgroup.procs'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  }

  async remove(): Promise<void> {
    for (const dir of new Set([this.#memoryDir, this.#pidsDir])) {
      if (dir === null) continue;
      for (let i = 0; i < 20; i++) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }
  }
}

interface Layout {
  version: CgroupVersion;
  memoryRoot: string;
  pidsRoot: string | null;
}

/**
 * Hands out pre-created cgroups under a parent group of this Lambkin process. `available` is false when this
 * host offers no writable memory controller (then the driver falls back to sampling memory).
 */
export class CgroupPool {
  readonly #layout: Layout | null;
  readonly #owner: { uid: number; gid: number } | null;
  readonly #spare: EnvironmentCgroup[] = [];
  #counter = 0;
  #refilling: Promise<void> | null = null;
  #ready: Promise<boolean>;

  constructor(name: string, owner: { uid: number; gid: number } | null) {
    this.#owner = owner;
    this.#layout = detect(name);
    this.#ready = this.#init();
  }

  get version(): CgroupVersion | null {
    return this.#layout?.version ?? null;
  }

  /** True when limits can be enforced here. */
  available(): Promise<boolean> {
    return this.#ready;
  }

  async #init(): Promise<boolean> {
    const layout = this.#layout;
    if (layout === null) return false;
    try {
      await mkdir(layout.memoryRoot, { recursive: true });
      if (layout.pidsRoot !== null) await mkdir(layout.pidsRoot, { recursive: true });
      if (layout.version === 'v2') {
        await writeFile(join(layout.memoryRoot, 'cgroup.subtree_control'), '+memory +pids').catch(() => undefined);
      }
      await this.#refill();
      return this.#spare.length > 0;
    } catch (err) {
      log('cgroups unavailable: %o', err);
      return false;
    }
  }

  /** Takes a group with its limits written. Null when cgroups are unavailable. */
  async acquire(memoryBytes: number, maxProcesses: number): Promise<EnvironmentCgroup | null> {
    if (!(await this.#ready)) return null;
    let group = this.#spare.pop();
    if (group === undefined) {
      group = await this.#create();
    }
    void this.#refillSoon();
    await group.setLimits(memoryBytes, maxProcesses);
    return group;
  }

  #refillSoon(): Promise<void> {
    this.#refilling ??= this.#refill().finally(() => {
      this.#refilling = null;
    });
    return this.#refilling;
  }

  async #refill(): Promise<void> {
    while (this.#spare.length < 4) this.#spare.push(await this.#create());
  }

  async #create(): Promise<EnvironmentCgroup> {
    const layout = this.#layout;
    if (layout === null) throw new Error('no cgroup layout');
    const name = `env-${process.pid}-${++this.#counter}`;
    const memoryDir = join(layout.memoryRoot, name);
    await mkdir(memoryDir);
    let pidsDir: string | null = null;
    if (layout.pidsRoot !== null) {
      pidsDir = join(layout.pidsRoot, name);
      await mkdir(pidsDir);
    }
    const group = new EnvironmentCgroup(layout.version, memoryDir, layout.version === 'v2' ? memoryDir : pidsDir);
    // The child joins its group itself, as the unprivileged sandbox user.
    if (this.#owner !== null) {
      for (const file of group.procsFiles) await chown(file, this.#owner.uid, this.#owner.gid);
    }
    return group;
  }

  async dispose(): Promise<void> {
    await this.#refilling;
    for (const group of this.#spare.splice(0)) await group.remove();
    const layout = this.#layout;
    if (layout === null) return;
    await rmdir(layout.memoryRoot).catch(() => undefined);
    if (layout.pidsRoot !== null) await rmdir(layout.pidsRoot).catch(() => undefined);
  }
}

function detect(name: string): Layout | null {
  // v2: a unified hierarchy with the memory controller. Our own group is where we place children.
  const self = readFileSafe('/proc/self/cgroup');
  const v2Path = /^0::(.*)$/m.exec(self)?.[1];
  if (existsSync('/sys/fs/cgroup/cgroup.controllers') && v2Path !== undefined) {
    const controllers = readFileSafe('/sys/fs/cgroup/cgroup.controllers');
    if (controllers.includes('memory')) {
      // A process may not sit in a group that has children with controllers; use a sibling of our group.
      const base = join('/sys/fs/cgroup', v2Path, '..');
      return { version: 'v2', memoryRoot: join(base, name), pidsRoot: null };
    }
  }
  if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
    const memPath = /^\d+:memory:(.*)$/m.exec(self)?.[1] ?? '/';
    const pidsPath = /^\d+:pids:(.*)$/m.exec(self)?.[1] ?? '/';
    const pidsAvailable = existsSync('/sys/fs/cgroup/pids/pids.max') || existsSync('/sys/fs/cgroup/pids/cgroup.procs');
    return {
      version: 'v1',
      memoryRoot: join('/sys/fs/cgroup/memory', memPath, name),
      pidsRoot: pidsAvailable ? join('/sys/fs/cgroup/pids', pidsPath, name) : null,
    };
  }
  return null;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
