/**
 * @module runtime
 * The Lambkin runtime: a Lambda runtime for JavaScript and TypeScript handlers, with the behaviour of AWS's own Node
 * runtime client. The bootstrap starts it once per execution environment; it loads the handler (init), then takes
 * events from the Runtime API forever, runs the handler and posts its result or its error.
 *
 * Which client it behaves as (client-version.ts): 4.x for nodejs24.x and custom runtimes (loop-v4.ts), 3.x for
 * nodejs20.x/22.x or `LAMBKIN_NODE_COMPAT=3` (loop-v3.ts).
 *
 * Start-up matters (every cold start pays it): builtins are taken as CommonJS objects through
 * `process.getBuiltinModule` (cheaper than ES namespaces), nothing is loaded that the handler does not need, and
 * the handler is loaded before the first `/next`, as AWS does.
 */
import './node-version.ts';
import { clientVersion } from './client-version.ts';
import { logOptions, patchConsole, type LogState } from './console-patch.ts';
import type { RuntimeDeps } from './invocation.ts';
import { InvokeStore } from './invoke-store.ts';
import { runV3 } from './loop-v3.ts';
import { runV4 } from './loop-v4.ts';
import { RuntimeApiClient } from './runtime-api-client.ts';
import { installAwsLambdaGlobal } from './streaming.ts';

function main(): void {
  const env = process.env;
  const client = clientVersion(env);
  const address = env.AWS_LAMBDA_RUNTIME_API;
  if (address === undefined || address === '') {
    process.stderr.write(
      'lambkin runtime: AWS_LAMBDA_RUNTIME_API is not set: this program runs inside a Lambda execution environment\n',
    );
    process.exit(1);
  }
  const state: LogState = { requestId: client === 3 ? undefined : '-', tenantId: undefined };
  const store = client === 4 ? new InvokeStore() : undefined;
  installAwsLambdaGlobal(env, store);
  const logger = patchConsole(state, logOptions(env, client));
  const api = new RuntimeApiClient(address);
  api.preconnect();
  const deps: RuntimeDeps = {
    api,
    logger,
    state,
    env,
    taskRoot: env.LAMBDA_TASK_ROOT ?? process.cwd(),
    handlerName: env._HANDLER ?? '',
    store,
  };
  // Not awaited at the top level: when the handler leaves a promise pending and nothing else to do, Node must be
  // free to exit (0), as it does under AWS's client. Started on the next tick: net.connect issues its connect() on a
  // tick of its own, queued just before, so the TCP handshake runs while the handler loads (its loading is
  // synchronous and would otherwise come first).
  process.nextTick(() => {
    void (client === 3 ? runV3(deps) : runV4(deps));
  });
}

main();
