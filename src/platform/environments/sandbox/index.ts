/**
 * @module platform/environments/sandbox
 * The registry of sandbox drivers. To add one: implement `SandboxDriver` (types.ts) in its own file, list it in
 * `SANDBOX_DRIVERS`, and run the shared tests in sandbox.test.ts against it.
 */
import { BwrapDriver } from './bwrap.ts';
import { ProcessDriver } from './process.ts';
import type { SandboxDriver } from './types.ts';

export interface DriverOptions {
  /** Driver state (empty /opt, per-environment /tmp or TMPDIR directories). */
  stateDir: string;
  /** bwrap: the bubblewrap binary (default: found on PATH). */
  bwrap?: string;
  /** bwrap: host uid/gid of the sandbox when Lambkin runs as root (default 993/990, Lambda's sbx_user1051). */
  sandboxUid?: number;
  sandboxGid?: number;
  /** bwrap: `tmpfs` (default, size-limited, counts toward memory) or `disk` (host directory, size not enforced). */
  tmp?: 'tmpfs' | 'disk';
  /** bwrap: sandboxes started ahead of need, waiting for their options (default 2; 0: off). */
  warmLaunchers?: number;
  /** Pre-created cgroups kept ready (default 4). */
  cgroupSpare?: number;
}

export const SANDBOX_DRIVERS = {
  bwrap: (options: DriverOptions): SandboxDriver => new BwrapDriver(options),
  process: (options: DriverOptions): SandboxDriver => new ProcessDriver(options),
} as const;

export type SandboxDriverName = keyof typeof SANDBOX_DRIVERS;

export function createSandboxDriver(name: SandboxDriverName, options: DriverOptions): SandboxDriver {
  return SANDBOX_DRIVERS[name](options);
}
