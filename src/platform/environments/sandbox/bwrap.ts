/**
 * @module platform/environments/sandbox/bwrap
 * The default sandbox: bubblewrap. Each environment gets a fresh mount namespace holding the host's system
 * directories read-only, the merged layers at /opt and the code at /var/task (read-only), a private tmpfs /tmp,
 * its own pid, ipc and uts namespaces and a new session; it dies with its parent. The runtime runs as the
 * unprivileged uid 993 (Lambda's sbx_user1051) in a user namespace with no capabilities — also when Lambkin
 * itself runs as root, in which case the tree is started as host uid 993 so it has no host privilege at all.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../errors.ts';
import { sandboxVisibleDir } from '../../storage/visible-dir.ts';
import { CgroupPool } from './cgroups.ts';
import { startTree } from './process-tree.ts';
import type { SandboxCheck, SandboxDriver, SandboxHandle, SandboxSpec } from './types.ts';

export interface BwrapOptions {
  /** Per-driver state (empty /opt, sockets). */
  stateDir: string;
  /** Host uid/gid the tree runs as when Lambkin runs as root (default 993/990). */
  sandboxUid?: number;
  sandboxGid?: number;
  /** The bwrap binary (default: found on PATH). */
  bwrap?: string;
}

const SANDBOX_UID = 993;
const SANDBOX_GID = 990;
/** Host directories that make up the sandbox's root file system (read-only), where they exist. */
const SYSTEM_DIRS = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc'];

export class BwrapDriver implements SandboxDriver {
  readonly name = 'bwrap';
  readonly #options: BwrapOptions;
  readonly #bwrap: string;
  readonly #asRoot: boolean;
  readonly #uid: number;
  readonly #gid: number;
  readonly #cgroups: CgroupPool;
  readonly #rootArgs: string[];
  #check: Promise<SandboxCheck> | null = null;
  #emptyDir: Promise<string> | null = null;

  constructor(options: BwrapOptions) {
    this.#options = options;
    this.#bwrap = options.bwrap ?? findOnPath('bwrap') ?? 'bwrap';
    this.#asRoot = process.getuid?.() === 0;
    this.#uid = options.sandboxUid ?? SANDBOX_UID;
    this.#gid = options.sandboxGid ?? SANDBOX_GID;
    this.#cgroups = new CgroupPool(`lambkin-${process.pid}`, this.#asRoot ? { uid: this.#uid, gid: this.#gid } : null);
    this.#rootArgs = systemDirArgs();
  }

  check(): Promise<SandboxCheck> {
    this.#check ??= this.#probe();
    return this.#check;
  }

  async #probe(): Promise<SandboxCheck> {
    const cgroups = await this.#cgroups.available();
    const features = {
      memoryLimit: cgroups,
      pidsLimit: cgroups,
      isolatedNetwork: findOnPath('socat') !== null,
      filesystem: true,
    };
    const missing = this.#options.bwrap === undefined ? findOnPath('bwrap') === null : !existsSync(this.#options.bwrap);
    if (missing) {
      return {
        ok: false,
        reason: 'bubblewrap (bwrap) is not installed',
        fix: 'install it: sudo apt-get install bubblewrap',
        features,
      };
    }
    const result = await run(
      this.#bwrap,
      [...this.#baseArgs(), '/bin/true'],
      this.#asRoot ? { uid: this.#uid, gid: this.#gid } : {},
    );
    if (result.code === 0) return { ok: true, features };
    const err = result.stderr.trim();
    let fix = 'see the bwrap error above';
    if (/user namespace|Operation not permitted|setting up uid map|No permissions to create new namespace/i.test(err)) {
      fix =
        'allow unprivileged user namespaces: sudo sysctl -w kernel.unprivileged_userns_clone=1 ' +
        '(Ubuntu 24.04+: also sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0); ' +
        'inside a container, run it with --privileged or a seccomp profile that allows clone(CLONE_NEWUSER)';
    }
    return {
      ok: false,
      reason: `bwrap cannot create a sandbox here: ${err || `exit status ${result.code}`}`,
      fix,
      features,
    };
  }

  #baseArgs(): string[] {
    return [
      '--unshare-user',
      '--uid',
      String(SANDBOX_UID),
      '--gid',
      String(SANDBOX_GID),
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--hostname',
      'localhost',
      '--die-with-parent',
      '--new-session',
      ...this.#rootArgs,
      '--proc',
      '/proc',
      '--dev',
      '/dev',
    ];
  }

  async start(spec: SandboxSpec, signal?: AbortSignal): Promise<SandboxHandle> {
    signal?.throwIfAborted();
    const group = await this.#cgroups.acquire(spec.memoryMb * 1024 * 1024, spec.maxProcesses);
    const optDir = spec.optDir ?? (await this.#empty());
    // bwrap resolves these paths as the sandbox user: the engine keeps them in world-traversable places.
    const binds: [string, string][] = [
      [optDir, '/opt'],
      [spec.taskDir, '/var/task'],
    ];
    if (spec.runtimeDir !== null) binds.push([spec.runtimeDir, '/var/runtime']);
    if (spec.langDir !== undefined && spec.langDir !== null) binds.push([spec.langDir, '/var/lang']);
    const args = [
      ...this.#baseArgs(),
      '--perms',
      '1777',
      '--size',
      String(spec.tmpMb * 1024 * 1024),
      '--tmpfs',
      '/tmp',
    ];
    for (const [dir, dest] of binds) args.push('--ro-bind', dir, dest);
    let argv: string[];
    if (spec.network === 'isolated') {
      if (spec.runtimeApiSocket === undefined) {
        throw new PlatformError('ERR_SANDBOX_START', 'isolated network needs a Runtime API socket');
      }
      const socat = findOnPath('socat');
      if (socat === null) {
        throw new PlatformError('ERR_SANDBOX_START', 'isolated network mode needs socat: sudo apt-get install socat');
      }
      args.push('--unshare-net', '--ro-bind', spec.runtimeApiSocket, '/run/lambkin/runtime-api.sock');
      // Forward 127.0.0.1:9001 to the socket; start the runtime only once the forwarder listens.
      const script =
        'socat TCP-LISTEN:9001,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:/run/lambkin/runtime-api.sock & ' +
        'i=0; while [ $i -lt 400 ] && ! grep -q "0100007F:2329 00000000:0000 0A" /proc/net/tcp 2>/dev/null; do i=$((i+1)); sleep 0.005; done; ' +
        'exec "$0"';
      argv = [this.#bwrap, ...args, '--chdir', '/var/task', '/bin/sh', '-c', script, spec.entrypoint];
    } else {
      argv = [this.#bwrap, ...args, '--chdir', '/var/task', spec.entrypoint];
    }
    return startTree({
      argv,
      env: spec.env,
      cgroup: group,
      memoryMb: spec.memoryMb,
      ...(this.#asRoot ? { uid: this.#uid, gid: this.#gid } : {}),
    });
  }

  async #empty(): Promise<string> {
    this.#emptyDir ??= (async () => {
      const stateDir = sandboxVisibleDir(this.#options.stateDir);
      const dir = join(stateDir, 'empty');
      await mkdir(dir, { recursive: true });
      await chmod(stateDir, 0o755);
      await chmod(dir, 0o755);
      return dir;
    })();
    return this.#emptyDir;
  }

  async dispose(): Promise<void> {
    await this.#cgroups.dispose();
  }
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

export function findOnPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = join(dir, command);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin']) {
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function run(
  command: string,
  args: string[],
  ids: { uid?: number; gid?: number },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/bin:/bin' }, ...ids });
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
