/**
 * @module runtime/client-version
 * Which AWS Node runtime client the runtime behaves as. AWS's managed runtimes decide it (`AWS_EXECUTION_ENV`):
 * `AWS_Lambda_nodejs24.x` and later → client 4.x, `nodejs20.x`/`nodejs22.x` (and older) → client 3.x. As a custom
 * runtime (`provided.*`, where AWS sets no `AWS_EXECUTION_ENV`) it is 4.x, unless the function sets
 * `LAMBKIN_NODE_COMPAT=3` for the nodejs22.x behaviour (callbacks, `context.done/succeed/fail`,
 * `callbackWaitsForEmptyEventLoop`, errors reported before exit).
 */
import type { ClientVersion } from './console-patch.ts';

export function clientVersion(env: NodeJS.ProcessEnv): ClientVersion {
  const managed = /^AWS_Lambda_nodejs(\d+)\.x$/.exec(env.AWS_EXECUTION_ENV ?? '');
  if (managed !== null) return Number(managed[1]) >= 24 ? 4 : 3;
  return env.LAMBKIN_NODE_COMPAT?.trim() === '3' ? 3 : 4;
}
