/**
 * @module platform/environments/sandbox/types
 * The contract every sandbox driver implements. A driver starts one execution environment's process tree
 * (the runtime's `bootstrap`) with `/opt`, `/var/task` and a private `/tmp`, and can kill the whole tree.
 */
import type { Readable } from 'node:stream';

export interface SandboxSpec {
  /** Environment id (unique, filesystem-safe). */
  id: string;
  /** Host directory mounted read-only at /opt (merged layers), or null for an empty /opt. */
  optDir: string | null;
  /** Host directory mounted read-only at /var/task (function code). */
  taskDir: string;
  /** Host directory mounted read-only at /var/runtime (managed runtimes), or null. */
  runtimeDir: string | null;
  /** Host directory mounted read-only at /var/lang (managed runtimes: holds `bin/node`), or null. */
  langDir?: string | null;
  /** Host directory mounted read-only at COMPILE_CACHE_MOUNT (compiled TypeScript), or null. */
  compileCacheDir?: string | null;
  /**
   * Absolute path of the program to run *as seen inside the sandbox* (e.g. `/var/task/bootstrap`,
   * `/opt/bootstrap`, `/var/runtime/bootstrap`). The engine has already checked it exists and is executable.
   */
  entrypoint: string;
  /** The complete environment of the process (nothing is inherited from the host). */
  env: Record<string, string>;
  /** MemorySize in MB: the hard memory limit of the whole tree. */
  memoryMb: number;
  /** Size of the private /tmp in MB (EphemeralStorage). */
  tmpMb: number;
  /** Most processes/threads the tree may have (Lambda: 1024). */
  maxProcesses: number;
  /**
   * `host`: share the host network (the Runtime API is on a host loopback port).
   * `isolated`: own network namespace; `runtimeApiSocket` is bound in and forwarded to 127.0.0.1:9001 inside.
   */
  network: 'host' | 'isolated';
  /** Host path of a Unix socket serving this environment's Runtime API (isolated mode only). */
  runtimeApiSocket?: string;
}

export interface SandboxExit {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the memory limit was hit (cgroup OOM kill, or a kill at the limit by the watcher). */
  oomKilled: boolean;
}

export interface SandboxHandle {
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves once when the whole tree is gone (never rejects). */
  readonly exited: Promise<SandboxExit>;
  /**
   * Peak memory of the tree in bytes since it started (cgroup peak or a sampled high-water mark), null when unknown:
   * as on Lambda, REPORT's Max Memory Used is the environment's high-water mark, never reset between invokes.
   * After `chargeMappedFiles`, the cgroup peak includes the runtime's mapped files.
   */
  memoryPeakBytes(): number | null;
  /**
   * Call once the runtime has initialized. With a cgroup: counts the files the runtime has mapped (its binary and
   * libraries), which the host's shared page cache charges to no single environment, against the environment as
   * Lambda's VM does: they are added to the peak and taken off the memory limit. Without one (the sampled
   * high-water mark is resident memory, mapped files included) it does nothing. Never rejects.
   */
  chargeMappedFiles(): Promise<void>;
  /**
   * Ends the tree. `graceMs` > 0: SIGTERM to the whole tree first, SIGKILL after graceMs; 0: SIGKILL at once.
   * Idempotent; resolves when every process of the tree is gone and resources (cgroups, /tmp) are released.
   */
  kill(graceMs?: number): Promise<void>;
}

export interface SandboxCheck {
  ok: boolean;
  /** When not ok: what failed, in one sentence. */
  reason?: string;
  /** When not ok: how to fix it, in one sentence (e.g. `apt-get install bubblewrap`). */
  fix?: string;
  /** What the driver can enforce here (shown by `lambkin serve`). */
  features: { memoryLimit: boolean; pidsLimit: boolean; isolatedNetwork: boolean; filesystem: boolean };
  /** How each feature is provided here, or why it is missing (one short line each, shown by `lambkin serve`). */
  notes?: string[];
}

export interface SandboxDriver {
  readonly name: string;
  /** Probes whether the driver can run on this host (cached after the first call). */
  check(): Promise<SandboxCheck>;
  /** Starts the tree. Rejects with PlatformError ERR_SANDBOX_START when the process cannot be started at all. */
  start(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle>;
  /** Releases pre-created resources (cgroup pool). Idempotent. */
  dispose(): Promise<void>;
}
