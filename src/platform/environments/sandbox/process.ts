/**
 * @module platform/environments/sandbox/process
 * The `process` driver: a plain child process with NO isolation, for machines without namespaces. It is used
 * only when chosen explicitly (`lambkin serve --sandbox process`).
 *
 * What it cannot do, compared with `bwrap`:
 * - /opt, /var/task and /var/runtime do not exist: paths are rewritten where they can be (the entrypoint,
 *   `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`, `/opt/bin` in PATH, `/opt/lib` in LD_LIBRARY_PATH, `/var/lang`),
 *   but scripts that hard-code `/opt/...` paths break;
 * - code and layers are not read-only, and the runtime runs as Lambkin's own user, with its privileges;
 * - /tmp is the host's: only programs that honour `TMPDIR` get the private per-environment directory;
 * - no pid namespace (the runtime sees every host process) and no network isolation (`--network isolated` is refused);
 * - memory and pids limits only where Lambkin may create cgroups (root); elsewhere memory is sampled every
 *   50 ms and the tree is killed above the limit, which a fast allocation can outrun.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../errors.ts';
import { CgroupPool } from './cgroups.ts';
import { startTree } from './process-tree.ts';
import type { SandboxCheck, SandboxDriver, SandboxHandle, SandboxSpec } from './types.ts';

export interface ProcessDriverOptions {
  stateDir: string;
}

export class ProcessDriver implements SandboxDriver {
  readonly name = 'process';
  readonly #options: ProcessDriverOptions;
  readonly #cgroups = new CgroupPool(`lambkin-process-${process.pid}`, null);

  constructor(options: ProcessDriverOptions) {
    this.#options = options;
  }

  async check(): Promise<SandboxCheck> {
    const cgroups = await this.#cgroups.available();
    return {
      ok: true,
      features: { memoryLimit: cgroups, pidsLimit: cgroups, isolatedNetwork: false, filesystem: false },
    };
  }

  async start(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    signal?.throwIfAborted();
    if (spec.network === 'isolated') {
      throw new PlatformError(
        'ERR_SANDBOX_START',
        'the process driver cannot isolate the network; use --sandbox bwrap',
      );
    }
    await mkdir(this.#options.stateDir, { recursive: true });
    const tmp = await mkdtemp(join(this.#options.stateDir, `tmp-${spec.id}-`));
    const map: [string, string][] = [['/var/task', spec.taskDir]];
    if (spec.optDir !== null) map.push(['/opt', spec.optDir]);
    if (spec.runtimeDir !== null) map.push(['/var/runtime', spec.runtimeDir]);
    if (spec.langDir !== undefined && spec.langDir !== null) map.push(['/var/lang', spec.langDir]);
    const rewrite = (value: string): string =>
      value
        .split(':')
        .map((part) => {
          for (const [from, to] of map)
            if (part === from || part.startsWith(`${from}/`)) return to + part.slice(from.length);
          return part;
        })
        .join(':');
    const env: Record<string, string> = { ...spec.env, TMPDIR: tmp };
    for (const key of ['LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'PATH', 'LD_LIBRARY_PATH', 'NODE_PATH']) {
      const value = env[key];
      if (value !== undefined) env[key] = rewrite(value);
    }
    const entrypoint = rewrite(spec.entrypoint);
    const group = await this.#cgroups.acquire(spec.memoryMb * 1024 * 1024, spec.maxProcesses);
    return startTree({
      argv: [entrypoint],
      env,
      cwd: spec.taskDir,
      cgroup: group,
      memoryMb: spec.memoryMb,
      scratchDirs: [tmp],
    });
  }

  async dispose(): Promise<void> {
    await this.#cgroups.dispose();
  }
}
