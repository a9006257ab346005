/**
 * AWS's official Node runtime client (aws-lambda-ric, from node_modules) laid out as a managed runtime directory
 * (mounted at /var/runtime), for the conformance tests and the runtime benchmark.
 */
import { chmod, cp, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Writes `<dir>/ric` (bootstrap + the client and its one dependency) and returns its path. */
export async function ricRuntimeDir(dir: string): Promise<string> {
  const ric = join(dir, 'ric');
  await mkdir(join(ric, 'node_modules/@aws'), { recursive: true });
  await cp(join(ROOT, 'node_modules/aws-lambda-ric'), join(ric, 'node_modules/aws-lambda-ric'), { recursive: true });
  await cp(join(ROOT, 'node_modules/@aws/lambda-invoke-store'), join(ric, 'node_modules/@aws/lambda-invoke-store'), {
    recursive: true,
  });
  await writeFile(
    join(ric, 'bootstrap'),
    // Through PATH and LAMBDA_RUNTIME_DIR (/var/lang/bin and /var/runtime in a sandbox), which the process driver
    // rewrites to the host's directories, so that the same runtime also runs unsandboxed (the runtime bench).
    '#!/bin/sh\nexec node "$LAMBDA_RUNTIME_DIR/node_modules/aws-lambda-ric/index.mjs"\n',
    { mode: 0o755 },
  );
  await chmod(ric, 0o755);
  return ric;
}
