/**
 * @module platform/environments/sandbox/bwrap
 * The default sandbox: bubblewrap. Each environment gets a fresh root holding the host's system directories
 * read-only, the merged layers at /opt and the code at /var/task (read-only), a private /tmp, its own pid, ipc,
 * uts (and, in `isolated` mode, network) namespaces and a new session; it dies with its parent.
 *
 * Privilege: the runtime runs as uid 993 / gid 990 (Lambda's sbx_user1051) inside a user namespace, with no
 * capabilities. When Lambkin runs as root, the whole tree is started as the unprivileged host uid/gid 993/990
 * (configurable), so it has no host privilege at all: a root-owned 0600/0640 file stays unreadable.
 *
 * The function's environment and the bwrap options travel on a pipe (`bwrap --args 3`), never on a command line
 * (world-readable in /proc) nor in the environment of the host-side helpers (which may run as root).
 *
 * Start sequence:
 * 1. ahead of need, and again after each start, a few launchers are spawned by the spawner helper (its fork, not
 *    ours: see `spawner.ts`): `bwrap --args 3 /bin/sh -c <trampoline>`, as the sandbox uid, waiting for their
 *    options on fd 3 while we move them into a cgroup (see `spawnChild`);
 * 2. `start()` takes one, writes the limits, then the options (namespaces, mounts, environment, entrypoint); when
 *    none is waiting it spawns the same thing on the spot (with the entrypoint in the command line);
 * 3. bwrap sets up the namespaces and mounts and execs the command, a shell that is the namespace's pid 1: it runs a
 *    short prologue where needed (the Runtime API forwarder in `isolated` mode, RLIMIT_NPROC without a pids
 *    cgroup), then the entrypoint as its child (pid 2, or 3 after the forwarder), reaping orphans meanwhile, and
 *    exits with the entrypoint's status, which ends the namespace and everything left in it.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import { COMPILE_CACHE_MOUNT } from '../../../protocol/typescript-cache.ts';
import { PlatformError } from '../../errors.ts';
import { sandboxVisibleDir } from '../../storage/visible-dir.ts';
import { CgroupPool, signalQuietly, type CgroupLayout, type EnvironmentCgroup } from './cgroups.ts';
import {
  SAMPLE_INTERVAL_MS,
  adoptTree,
  isRunning,
  setKeepsAlive,
  spawnChild,
  type SpawnOptions,
  type Spawned,
} from './process-tree.ts';
import { Spawner } from './spawner.ts';
import type { SandboxCheck, SandboxDriver, SandboxHandle, SandboxSpec } from './types.ts';

export interface BwrapOptions {
  /** Per-driver state (empty /opt, disk-backed /tmp directories). */
  stateDir: string;
  /** Host uid/gid the tree runs as when Lambkin runs as root (default 993/990, Lambda's sbx_user1051). */
  sandboxUid?: number;
  sandboxGid?: number;
  /** The bwrap binary (default: found on PATH). */
  bwrap?: string;
  /**
   * Where /tmp lives. `tmpfs` (default): size-limited to `tmpMb`, gone with the sandbox, but in RAM, so it counts
   * toward the memory limit (unlike Lambda). `disk`: a host directory per environment under `stateDir`, removed
   * after the tree is gone; does not count toward memory, but its size is not enforced.
   */
  tmp?: 'tmpfs' | 'disk';
  /** Pre-created cgroups kept ready (default 4). */
  cgroupSpare?: number;
  /** bwrap processes started ahead of need, so that a cold start only hands one its options (default 2; 0: off). */
  warmLaunchers?: number;
}

/** Lambda's sbx_user1051. */
export const SANDBOX_UID = 993;
export const SANDBOX_GID = 990;
/** Where the Runtime API socket appears inside an isolated sandbox. */
const RUNTIME_API_SOCKET = '/run/lambkin/runtime-api.sock';
/** Host directories that make up the sandbox's root file system (read-only), where they exist. */
const SYSTEM_DIRS = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc'];
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const log = debuglog('lambkin:sandbox');

/**
 * Quiet time after a start before the launcher pool is refilled while a launcher is still waiting: a refill (a fork
 * and an exec in the spawner helper) competes with the cold start that is just beginning for the CPU.
 */
const REFILL_DELAY_MS = 100;

/**
 * How a sandbox's shell (the namespace's pid 1) runs the entrypoint `$1` and exits with its status. The shell reports
 * a foreground command killed by a signal on its stderr ("Terminated" at every SIGTERM teardown), a line that is not
 * the function's and never appears in a log on Lambda; so the shell's own stderr goes to /dev/null. The entrypoint
 * gets the real one in a subshell that execs it (one process still): a redirection on a plain command would be made
 * by the waiting shell itself (dash does that), and its report would reach the log again. Cannot-run errors ("not
 * found", "Permission denied", exit 127/126) come from that subshell, so they still reach the log.
 */
const RUN_ENTRYPOINT = 'exec 9>&2 2>/dev/null\n(exec "$1" 2>&9 9>&-)\nexit $?';

/**
 * The fixed command of a pre-started launcher (see `#refillLaunchers`): runs the prologue and the entrypoint, both
 * given in the environment, which it then removes. Without them (bwrap got no options) it refuses to run. Like
 * every sandbox's command it is the namespace's pid 1 (see `#baseArgs`).
 */
const TRAMPOLINE = [
  'if [ -z "${LAMBKIN_ENTRYPOINT:-}" ]; then echo "lambkin: not a Lambkin sandbox" >&2; exit 126; fi',
  'set -- "$LAMBKIN_ENTRYPOINT"; lambkin_prologue=${LAMBKIN_PROLOGUE:-}',
  'unset LAMBKIN_ENTRYPOINT LAMBKIN_PROLOGUE',
  'eval "$lambkin_prologue"; unset lambkin_prologue',
  RUN_ENTRYPOINT,
].join('\n');

/** What this host's tools can do (probed once). */
interface HostTools {
  bwrap: string | null;
  socat: string | null;
  sleep: string;
  /** bwrap options newer than some distributions' bwrap. */
  size: boolean;
  perms: boolean;
  disableUserns: boolean;
}

export class BwrapDriver implements SandboxDriver {
  readonly name = 'bwrap';
  readonly #options: BwrapOptions;
  readonly #asRoot: boolean;
  readonly #uid: number;
  readonly #gid: number;
  readonly #cgroups: CgroupPool;
  readonly #tools: Promise<HostTools>;
  readonly #rootArgs: string[];
  readonly #warmTarget: number;
  /** Pre-started bwrap processes waiting for their options (see `#refillLaunchers`). */
  readonly #launchers: Spawned[] = [];
  readonly #discarding = new Set<Promise<void>>();
  /** Forks bwrap outside this process (see `spawner.ts`). */
  readonly #spawner = new Spawner();
  #filling: Promise<void> | null = null;
  #refillTimer: NodeJS.Timeout | null = null;
  #check: Promise<SandboxCheck> | null = null;
  #stateDir: Promise<string> | null = null;
  #disposed = false;

  constructor(options: BwrapOptions) {
    this.#options = options;
    this.#asRoot = process.getuid?.() === 0;
    this.#uid = options.sandboxUid ?? SANDBOX_UID;
    this.#gid = options.sandboxGid ?? SANDBOX_GID;
    this.#cgroups = new CgroupPool(options.cgroupSpare !== undefined ? { spare: options.cgroupSpare } : {});
    this.#tools = probeTools(options.bwrap);
    this.#rootArgs = systemDirArgs();
    this.#warmTarget = options.warmLaunchers ?? 2;
  }

  check(): Promise<SandboxCheck> {
    if (this.#check === null) {
      this.#spawner.start();
      this.#check = this.#probe();
      void this.#check.then((c) => {
        if (c.ok) this.#refillLaunchers();
      });
    }
    return this.#check;
  }

  /** Runs `bwrap … /bin/true` once, as the sandbox would, and says what works. */
  async #probe(): Promise<SandboxCheck> {
    const tools = await this.#tools;
    const cgroups = await this.#cgroupLayout();
    const features = {
      memoryLimit: cgroups.ok,
      // Without a pids cgroup: RLIMIT_NPROC, set inside the sandbox's own user namespace, counts only its processes.
      pidsLimit: true,
      isolatedNetwork: tools.socat !== null,
      filesystem: true,
    };
    const notes = [
      cgroups.ok
        ? `memory limit: cgroup ${cgroups.version}${cgroups.pids ? ', pids limit: cgroup' : ', pids limit: RLIMIT_NPROC'}`
        : `memory limit: not enforced by the kernel (${cgroups.reason}); memory is sampled every ` +
          `${SAMPLE_INTERVAL_MS} ms and the tree is killed above the limit; pids limit: RLIMIT_NPROC`,
      tools.socat === null ? 'network isolation: unavailable (install socat)' : 'network isolation: available',
      `/tmp: ${this.#tmpMode() === 'tmpfs' ? `tmpfs${tools.size ? ' (size-limited)' : ' (bwrap too old to limit its size)'}` : 'host directory (size not enforced)'}`,
    ];
    if (tools.bwrap === null) {
      return {
        ok: false,
        reason:
          this.#options.bwrap === undefined
            ? 'bubblewrap (bwrap) is not installed'
            : `bubblewrap (bwrap) is not installed (${this.#options.bwrap} is not an executable file)`,
        fix: 'install it: sudo apt-get install bubblewrap (Fedora: sudo dnf install bubblewrap)',
        features,
        notes,
      };
    }
    const args = [...this.#baseArgs(tools), '--tmpfs', '/tmp', '--chdir', '/', '/bin/true'];
    const result = await run(tools.bwrap, args, this.#asRoot ? { uid: this.#uid, gid: this.#gid } : {});
    if (result.code === 0) return { ok: true, features, notes };
    const message = result.stderr.trim().split('\n').pop() ?? '';
    return {
      ok: false,
      reason: `bwrap cannot create a sandbox here: ${message === '' ? `exit status ${String(result.code)}` : message}`,
      fix: diagnoseBwrapFailure(result.stderr, this.#asRoot),
      features,
      notes,
    };
  }

  #cgroupLayout(): Promise<CgroupLayout> {
    return this.#cgroups.status();
  }

  #tmpMode(): 'tmpfs' | 'disk' {
    // Without --size (old bwrap) a tmpfs is still bounded by the memory limit, which it counts toward.
    return this.#options.tmp ?? 'tmpfs';
  }

  #baseArgs(tools: HostTools): string[] {
    return [
      '--unshare-user',
      '--uid',
      String(SANDBOX_UID),
      '--gid',
      String(SANDBOX_GID),
      ...(tools.disableUserns ? ['--disable-userns'] : []),
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--hostname',
      'localhost',
      '--die-with-parent',
      '--new-session',
      // Our shell is pid 1 and runs the entrypoint as pid 2 (3 in isolated mode): it reaps orphans while it waits,
      // and when the entrypoint ends it exits, which ends the namespace. bwrap's own reaper would leave itself as an
      // orphan zombie for the host's init to reap, because bwrap's monitor exits as soon as pid 2 has.
      '--as-pid-1',
      ...this.#rootArgs,
      '--proc',
      '/proc',
      '--dev',
      '/dev',
    ];
  }

  async start(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    if (this.#disposed) throw new PlatformError('ERR_DISPOSED', 'the bwrap sandbox driver is disposed');
    signal?.throwIfAborted();
    const tools = await this.#tools;
    if (tools.bwrap === null) {
      throw new PlatformError('ERR_SANDBOX_START', 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap');
    }
    const isolated = spec.network === 'isolated';
    if (isolated && spec.runtimeApiSocket === undefined) {
      throw new PlatformError('ERR_SANDBOX_START', 'isolated network mode needs a Runtime API socket');
    }
    if (isolated && tools.socat === null) {
      throw new PlatformError('ERR_SANDBOX_START', 'isolated network mode needs socat: apt-get install socat');
    }
    const memoryBytes = spec.memoryMb * 1024 * 1024;
    const stateDir = await this.#visibleStateDir();
    let launcher = this.#takeLauncher();
    let tmpDir: string | null = null;
    try {
      if (this.#tmpMode() === 'disk') tmpDir = await this.#makeTmpDir(stateDir, spec.id);
      signal?.throwIfAborted();
      // A pre-started launcher already sits in its cgroup: its limits go in before it gets its options.
      if (launcher !== null) await launcher.cgroup?.setLimits(memoryBytes, spec.maxProcesses).catch(cgroupFailure);
      const group = launcher !== null ? launcher.cgroup : await this.#acquireCgroup(memoryBytes, spec.maxProcesses);
      const { args, prologue } = this.#sandboxArgs(spec, tools, stateDir, tmpDir, group);
      const tree = {
        memoryLimitBytes: memoryBytes,
        spareOnTerm: isolated ? (cmdline: string) => cmdline.includes(`UNIX-CONNECT:${RUNTIME_API_SOCKET}`) : undefined,
        scratchDirs: tmpDir !== null ? [tmpDir] : [],
      };
      if (launcher !== null) {
        // The launcher's fixed command reads the entrypoint and the prologue from the environment (and removes them).
        args.push('--setenv', 'LAMBKIN_ENTRYPOINT', spec.entrypoint, '--setenv', 'LAMBKIN_PROLOGUE', prologue);
        const handle = adoptTree(launcher, { ...tree, bwrapArgs: nulSeparated(args) });
        launcher = null;
        return handle;
      }
      // (bwrap adds PWD=/var/task to the environment, as a shell would; the shell keeps that value.)
      const command = ['/bin/sh', '-c', `${prologue}\nset -- "$0"\n${RUN_ENTRYPOINT}`, spec.entrypoint];
      try {
        return adoptTree(await spawnChild(this.#spawnOptions(tools.bwrap, command, group)), {
          ...tree,
          bwrapArgs: nulSeparated(args),
        });
      } catch (err) {
        await group?.release();
        throw err;
      }
    } catch (err) {
      if (launcher !== null) this.#discardLauncher(launcher);
      if (tmpDir !== null) await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    } finally {
      // None left: a burst, which will want the next one sooner than the CPU it costs matters.
      if (this.#launchers.length === 0) this.#refillLaunchers();
      else this.#refillSoon();
    }
  }

  #refillSoon(): void {
    if (this.#refillTimer !== null) return;
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = null;
      this.#refillLaunchers();
    }, REFILL_DELAY_MS);
    this.#refillTimer.unref();
  }

  async #acquireCgroup(memoryBytes: number, maxProcesses: number): Promise<EnvironmentCgroup | null> {
    if (!(await this.#cgroupLayout()).ok) return null;
    return this.#cgroups.acquire(memoryBytes, maxProcesses).catch(cgroupFailure);
  }

  /** bwrap's options for `spec` (namespaces, mounts, environment), and the shell prologue to run before the entrypoint. */
  #sandboxArgs(
    spec: SandboxSpec,
    tools: HostTools,
    stateDir: string,
    tmpDir: string | null,
    group: EnvironmentCgroup | null,
  ): { args: string[]; prologue: string } {
    const args = [...this.#baseArgs(tools), '--info-fd', '4'];
    if (tmpDir !== null) {
      args.push('--bind', tmpDir, '/tmp');
    } else {
      if (tools.perms) args.push('--perms', '1777');
      if (tools.size) args.push('--size', String(spec.tmpMb * 1024 * 1024));
      args.push('--tmpfs', '/tmp');
    }
    args.push('--ro-bind', spec.optDir ?? join(stateDir, 'empty'), '/opt', '--ro-bind', spec.taskDir, '/var/task');
    if (spec.runtimeDir !== null) args.push('--ro-bind', spec.runtimeDir, '/var/runtime');
    if (spec.langDir !== undefined && spec.langDir !== null) args.push('--ro-bind', spec.langDir, '/var/lang');
    if (spec.compileCacheDir !== undefined && spec.compileCacheDir !== null)
      args.push('--ro-bind', spec.compileCacheDir, COMPILE_CACHE_MOUNT);
    if (spec.network === 'isolated')
      args.push('--unshare-net', '--ro-bind', spec.runtimeApiSocket ?? '', RUNTIME_API_SOCKET);
    args.push('--chdir', '/var/task', '--clearenv');
    for (const [key, value] of Object.entries(spec.env)) args.push('--setenv', key, value);

    const prologue: string[] = [];
    if (spec.network === 'isolated') prologue.push(forwarderScript(tools.socat ?? 'socat', tools.sleep));
    if (group === null || !group.pidsLimited) {
      // No pids cgroup: RLIMIT_NPROC, set inside the sandbox's own user namespace, counts only its processes.
      const n = String(spec.maxProcesses);
      prologue.push(
        `{ ulimit -p ${n} 2>/dev/null || ulimit -u ${n}; } || { echo "lambkin: cannot limit processes" >&2; exit 125; }`,
      );
    }
    return { args, prologue: prologue.join('\n') };
  }

  /** How bwrap is started: as the unprivileged sandbox uid when Lambkin runs as root (we move it into its cgroup). */
  #spawnOptions(bwrap: string, command: string[], group: EnvironmentCgroup | null): SpawnOptions {
    const spawnAs = this.#asRoot ? { uid: this.#uid, gid: this.#gid } : undefined;
    // The sandbox uid may not be able to enter Lambkin's own working directory.
    return {
      argv: [bwrap, '--args', '3', ...command],
      env: { PATH: HOST_PATH },
      cwd: '/',
      spawnAs,
      cgroup: group,
      kind: 'pidns',
      spawner: this.#spawner,
    };
  }

  /** A pre-started launcher that is still alive, or null. */
  #takeLauncher(): Spawned | null {
    for (let launcher = this.#launchers.shift(); launcher !== undefined; launcher = this.#launchers.shift()) {
      if (isRunning(launcher)) return launcher;
      this.#discardLauncher(launcher);
    }
    return null;
  }

  /**
   * Keeps `warmLaunchers` bwrap processes started ahead of need: spawned (by the spawner helper), in their cgroup,
   * waiting for their options on fd 3. A cold start then only writes
   * the limits and the options. The launcher's command is fixed (the entrypoint comes in the environment), and a
   * launcher whose pipe closes before it got options (Lambkin died) runs that command outside any sandbox, where
   * it refuses to do anything.
   */
  #refillLaunchers(): void {
    if (this.#filling !== null || this.#disposed || this.#launchers.length >= this.#warmTarget) return;
    this.#filling = (async () => {
      try {
        const tools = await this.#tools;
        if (tools.bwrap === null || !(await this.check()).ok) return;
        while (!this.#disposed && this.#launchers.length < this.#warmTarget) {
          await new Promise((resolve) => setImmediate(resolve));
          const group = (await this.#cgroupLayout()).ok ? await this.#cgroups.take() : null;
          let launcher: Spawned;
          try {
            const command = ['/bin/sh', '-c', TRAMPOLINE, 'lambkin'];
            launcher = await spawnChild(this.#spawnOptions(tools.bwrap, command, group));
          } catch (err) {
            await group?.release();
            throw err;
          }
          if (this.#isDisposed()) {
            this.#discardLauncher(launcher);
            return;
          }
          setKeepsAlive(launcher, false);
          this.#launchers.push(launcher);
        }
      } catch (err) {
        log('pre-starting a sandbox failed: %o', err);
      } finally {
        this.#filling = null;
      }
    })();
  }

  /** (A method, so that type narrowing does not assume it unchanged across an await.) */
  #isDisposed(): boolean {
    return this.#disposed;
  }

  /** Kills an unused launcher and releases its cgroup. */
  #discardLauncher(launcher: Spawned): void {
    // Waiting launchers do not keep the process alive; one being discarded does, until its exit is seen and its
    // cgroup released (else `dispose()` could be left pending when nothing else holds the event loop).
    setKeepsAlive(launcher, true);
    signalQuietly(launcher.pid, 'SIGKILL');
    launcher.child.stdio[3]?.destroy();
    const released = new Promise<void>((resolve) => {
      if (!isRunning(launcher)) resolve();
      else
        launcher.child.once('exit', () => {
          resolve();
        });
    }).then(() => launcher.cgroup?.release());
    this.#discarding.add(released);
    void released.finally(() => this.#discarding.delete(released));
  }

  /** The state directory (made reachable by the sandbox user, which resolves bind sources) with an empty /opt. */
  #visibleStateDir(): Promise<string> {
    this.#stateDir ??= (async () => {
      const dir = sandboxVisibleDir(this.#options.stateDir);
      await mkdir(join(dir, 'empty'), { recursive: true });
      await mkdir(join(dir, 'tmp'), { recursive: true });
      await chmod(dir, 0o755);
      await chmod(join(dir, 'empty'), 0o755);
      // Others may enter (bwrap binds as the sandbox user) but not list: per-environment names stay private.
      await chmod(join(dir, 'tmp'), 0o711);
      return dir;
    })();
    return this.#stateDir;
  }

  async #makeTmpDir(stateDir: string, id: string): Promise<string> {
    const dir = await mkdtemp(join(stateDir, 'tmp', `${id}-`));
    await chmod(dir, 0o700);
    if (this.#asRoot) await chown(dir, this.#uid, this.#gid);
    return dir;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#refillTimer !== null) clearTimeout(this.#refillTimer);
    await this.#filling;
    for (const launcher of this.#launchers.splice(0)) this.#discardLauncher(launcher);
    await Promise.all(this.#discarding);
    await this.#spawner.close();
    await this.#cgroups.dispose();
  }
}

/**
 * Starts socat forwarding 127.0.0.1:9001 to the Runtime API socket, and returns once it listens (the entrypoint
 * must not start before): spins on /proc/net/tcp with shell builtins, then with short sleeps.
 */
function forwarderScript(socat: string, sleep: string): string {
  return [
    `${socat} TCP-LISTEN:9001,bind=127.0.0.1,reuseaddr,fork,backlog=128 UNIX-CONNECT:${RUNTIME_API_SOCKET} &`,
    'lambkin_fwd=$!; lambkin_n=0',
    'until while read -r _ l _ s _; do [ "$l" = 0100007F:2329 ] && [ "$s" = 0A ] && break; done </proc/net/tcp; ' +
      '[ "$l" = 0100007F:2329 ]; do',
    '  kill -0 $lambkin_fwd 2>/dev/null || { echo "lambkin: the Runtime API forwarder (socat) failed" >&2; exit 125; }',
    `  lambkin_n=$((lambkin_n+1)); [ $lambkin_n -gt 100 ] && ${sleep} 0.002`,
    '  [ $lambkin_n -gt 2600 ] && { echo "lambkin: the Runtime API forwarder did not start" >&2; exit 125; }',
    'done',
    'unset lambkin_fwd lambkin_n l s',
  ].join('\n');
}

function cgroupFailure(err: unknown): never {
  throw new PlatformError('ERR_SANDBOX_START', `cannot set up the environment's cgroup: ${String(err)}`, {
    cause: err,
  });
}

function nulSeparated(args: string[]): Buffer {
  return Buffer.from(`${args.join('\0')}\0`);
}

/** `--ro-bind` for real directories, `--symlink` for merged-/usr links (Debian: /bin → usr/bin). */
function systemDirArgs(): string[] {
  const args: string[] = [];
  for (const name of SYSTEM_DIRS) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    const st = lstatSync(path);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (st.isDirectory()) args.push('--ro-bind', path, path);
  }
  return args;
}

async function probeTools(bwrapOption: string | undefined): Promise<HostTools> {
  const bwrap = bwrapOption === undefined ? findOnPath('bwrap') : isExecutable(bwrapOption) ? bwrapOption : null;
  // socat runs inside the sandbox, which sees only the host's system directories.
  const socat = findOnPath('socat');
  const tools: HostTools = {
    bwrap,
    sleep: findOnPath('sleep') ?? 'sleep',
    socat: socat !== null && /^\/(usr|bin|sbin)\//.test(socat) ? socat : null,
    size: false,
    perms: false,
    disableUserns: false,
  };
  if (bwrap !== null) {
    const help = await new Promise<string>((resolve) => {
      execFile(bwrap, ['--help'], { env: { PATH: HOST_PATH } }, (_err, stdout, stderr) => {
        resolve(`${stdout}${stderr}`);
      });
    });
    tools.size = help.includes('--size');
    tools.perms = help.includes('--perms');
    tools.disableUserns = help.includes('--disable-userns');
  }
  return tools;
}

/** The fix for a failed `bwrap … true`, from its message and the host's user-namespace settings. */
export function diagnoseBwrapFailure(stderr: string, asRoot: boolean): string {
  const sysctl = (name: string): string | null => {
    try {
      return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const namespaces = /namespace|uid map|Operation not permitted|No permissions to creat/i.test(stderr);
  if (namespaces && sysctl('kernel.unprivileged_userns_clone') === '0') {
    return 'enable unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)';
  }
  if (namespaces && sysctl('user.max_user_namespaces') === '0') {
    return 'enable user namespaces: sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)';
  }
  if (namespaces && sysctl('kernel.apparmor_restrict_unprivileged_userns') === '1') {
    return (
      'AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+): give bwrap a profile that allows "userns," ' +
      '(e.g. /etc/apparmor.d/bwrap-userns-restrict from apparmor), or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'
    );
  }
  if (namespaces && (existsSync('/.dockerenv') || existsSync('/run/.containerenv'))) {
    return (
      'this container forbids namespaces: run it with --security-opt seccomp=unconfined ' +
      '--security-opt apparmor=unconfined (or --privileged), or use --sandbox process'
    );
  }
  if (namespaces) {
    return 'allow unprivileged user namespaces (a seccomp or LSM policy forbids them here), or use --sandbox process';
  }
  if (/Permission denied/i.test(stderr) && asRoot) {
    return (
      `the sandbox user (host uid ${String(SANDBOX_UID)} by default) must be able to run bwrap and to reach the ` +
      'directories it binds; check their permissions'
    );
  }
  return 'run the bwrap command by hand to see why it fails (LAMBKIN_BWRAP picks another binary)';
}

export function findOnPath(command: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...HOST_PATH.split(':')];
  for (const dir of dirs) {
    if (dir === '' || !dir.startsWith('/')) continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function run(
  command: string,
  args: string[],
  ids: { uid?: number; gid?: number },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: HOST_PATH },
      cwd: '/',
      ...ids,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      resolve({ code: null, stderr: err.message });
    });
    child.on('close', (code) => {
      resolve({ code, stderr });
    });
  });
}
