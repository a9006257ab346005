/**
 * @module platform/environments/sandbox
 * The registry of sandbox drivers. To add one: implement `SandboxDriver` (types.ts) in its own file and list it here.
 */
import { BwrapDriver } from './bwrap.ts';
import { ProcessDriver } from './process.ts';
import type { SandboxDriver } from './types.ts';

export interface DriverOptions {
  /** Driver state (sockets, scratch directories). */
  stateDir: string;
  /** The bubblewrap binary (default: found on PATH). */
  bwrap?: string;
}

export const SANDBOX_DRIVERS = {
  bwrap: (options: DriverOptions): SandboxDriver => new BwrapDriver(options),
  process: (options: DriverOptions): SandboxDriver => new ProcessDriver(options),
} as const;

export type SandboxDriverName = keyof typeof SANDBOX_DRIVERS;

export function createSandboxDriver(name: SandboxDriverName, options: DriverOptions): SandboxDriver {
  return SANDBOX_DRIVERS[name](options);
}
