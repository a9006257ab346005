/**
 * @module platform/environments/sandbox/process
 * The `process` driver: a plain child process with NO isolation, for machines without namespaces. It is used
 * only when chosen explicitly (`lambkin serve --sandbox process`). Never run untrusted code with it.
 *
 * What it cannot do, compared with `bwrap`:
 * - /opt, /var/task and /var/runtime do not exist: paths are rewritten where they can be (the entrypoint,
 *   `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`, `/opt/bin` in PATH, `/opt/lib` in LD_LIBRARY_PATH, NODE_PATH,
 *   `/var/lang`), but scripts and binaries that hard-code `/opt/...` or `/var/task/...` paths break;
 * - code and layers are not read-only, and the runtime runs as Lambkin's own user, with its privileges (root if
 *   Lambkin is root);
 * - /tmp is the host's: only programs that honour `TMPDIR` get the private per-environment directory;
 * - no pid namespace: the runtime sees every host process; a child that leaves the process group and is started
 *   between two samples can outlive the tree when there is no cgroup; and processes killed together with their
 *   parent stay zombies until the host's init reaps them (bwrap's pid 1 reaps its own);
 * - no network isolation (`network: 'isolated'` is refused);
 * - memory and pids limits only where Lambkin may create cgroups (typically as root); elsewhere memory is
 *   sampled every 50 ms and the tree is killed above the limit (a fast allocation can outrun it), and there is
 *   no pids limit (RLIMIT_NPROC would count every process of Lambkin's user, not just the tree's).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPILE_CACHE_ENV, COMPILE_CACHE_MOUNT } from '../../../protocol/typescript-cache.ts';
import { PlatformError } from '../../errors.ts';
import { CgroupPool } from './cgroups.ts';
import { SAMPLE_INTERVAL_MS, startTree } from './process-tree.ts';
import { Spawner } from './spawner.ts';
import type { SandboxCheck, SandboxDriver, SandboxHandle, SandboxSpec } from './types.ts';

export interface ProcessDriverOptions {
  /** Per-driver state (the per-environment TMPDIR directories). */
  stateDir: string;
  /** Pre-created cgroups kept ready (default 4). */
  cgroupSpare?: number;
}

/** Variables whose `:`-separated entries are rewritten from sandbox paths to host paths. */
const PATH_VARIABLES = [
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'PATH',
  'LD_LIBRARY_PATH',
  'NODE_PATH',
  COMPILE_CACHE_ENV,
];

export class ProcessDriver implements SandboxDriver {
  readonly name = 'process';
  readonly #options: ProcessDriverOptions;
  readonly #cgroups: CgroupPool;
  #check: Promise<SandboxCheck> | null = null;
  #disposed = false;
  /** Forks the runtime outside this process (see `spawner.ts`). */
  readonly #spawner = new Spawner();

  constructor(options: ProcessDriverOptions) {
    this.#options = options;
    this.#cgroups = new CgroupPool(options.cgroupSpare !== undefined ? { spare: options.cgroupSpare } : {});
  }

  check(): Promise<SandboxCheck> {
    this.#check ??= (async () => {
      this.#spawner.start();
      const cgroups = await this.#cgroups.status();
      return {
        ok: true,
        features: {
          memoryLimit: cgroups.ok,
          pidsLimit: cgroups.ok && cgroups.pids,
          isolatedNetwork: false,
          filesystem: false,
        },
        notes: [
          'no isolation: the runtime runs as this user, sees the host file system, processes and network',
          cgroups.ok
            ? `memory limit: cgroup ${cgroups.version}${cgroups.pids ? ', pids limit: cgroup' : ', no pids limit'}`
            : `memory limit: not enforced by the kernel (${cgroups.reason}); memory is sampled every ` +
              `${String(SAMPLE_INTERVAL_MS)} ms and the tree is killed above the limit; no pids limit`,
        ],
      };
    })();
    return this.#check;
  }

  async start(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    if (this.#disposed) throw new PlatformError('ERR_DISPOSED', 'the process sandbox driver is disposed');
    signal?.throwIfAborted();
    if (spec.network === 'isolated') {
      throw new PlatformError(
        'ERR_SANDBOX_START',
        'the process driver cannot isolate the network; use the bwrap sandbox',
      );
    }
    const tmpRoot = join(this.#options.stateDir, 'tmp');
    const [group] = await Promise.all([
      this.#cgroups.acquire(spec.memoryMb * 1024 * 1024, spec.maxProcesses).catch((err: unknown) => {
        throw new PlatformError('ERR_SANDBOX_START', `cannot set up the environment's cgroup: ${String(err)}`, {
          cause: err,
        });
      }),
      mkdir(tmpRoot, { recursive: true, mode: 0o700 }),
    ]);
    let tmp: string | null = null;
    try {
      tmp = await mkdtemp(join(tmpRoot, `${spec.id}-`));
      signal?.throwIfAborted();
      const rewrite = pathRewriter(spec);
      const env: Record<string, string> = { ...spec.env, TMPDIR: tmp };
      for (const key of PATH_VARIABLES) {
        const value = env[key];
        if (value !== undefined) env[key] = rewrite(value);
      }
      return await startTree(
        {
          argv: [rewrite(spec.entrypoint)],
          env,
          cwd: spec.taskDir,
          cgroup: group,
          kind: 'group',
          spawner: this.#spawner,
        },
        { memoryLimitBytes: spec.memoryMb * 1024 * 1024, scratchDirs: [tmp] },
      );
    } catch (err) {
      await group?.release();
      if (tmp !== null) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.#spawner.close();
    await this.#cgroups.dispose();
  }
}

/** Maps `/var/task/…`, `/opt/…`, `/var/runtime/…`, `/var/lang/…`, the compile cache (each `:`-separated entry) to the host dirs. */
export function pathRewriter(spec: SandboxSpec): (value: string) => string {
  const map: [string, string][] = [['/var/task', spec.taskDir]];
  if (spec.optDir !== null) map.push(['/opt', spec.optDir]);
  if (spec.runtimeDir !== null) map.push(['/var/runtime', spec.runtimeDir]);
  if (spec.langDir !== undefined && spec.langDir !== null) map.push(['/var/lang', spec.langDir]);
  if (spec.compileCacheDir !== undefined && spec.compileCacheDir !== null)
    map.push([COMPILE_CACHE_MOUNT, spec.compileCacheDir]);
  return (value) =>
    value
      .split(':')
      .map((part) => {
        for (const [from, to] of map) {
          if (part === from || part.startsWith(`${from}/`)) return to + part.slice(from.length);
        }
        return part;
      })
      .join(':');
}
