/**
 * The Lambkin runtime: cold start of a TypeScript handler (new sandboxed environment → first response) and warm
 * invokes, as a managed nodejs24.x function (runtime at /var/runtime, Node 24 at /var/lang).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildRuntimeDir } from '../src/cli/runtime-package.ts';
import type { FunctionSpec } from '../src/platform/environments/function-spec.ts';
import { createSandboxDriver } from '../src/platform/environments/sandbox/index.ts';
import { Engine } from '../src/platform/invoke/engine.ts';
import { LogStore } from '../src/platform/logs/log-store.ts';
import { line, summarize } from './stats.ts';

const FUNCTIONS = resolve(import.meta.dirname, '../test/fixtures/functions');

export async function benchRuntime(out: (s: string) => void): Promise<Record<string, number>> {
  out('## Lambkin runtime (TypeScript handler, nodejs24.x, bwrap)');
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-rt-'));
  await chmod(dir, 0o755);
  await buildRuntimeDir(join(dir, 'runtime'));
  const driver = createSandboxDriver('bwrap', { stateDir: join(dir, 'state') });
  const engine = new Engine({
    driver,
    logs: new LogStore(join(dir, 'logs')),
    cacheDir: join(dir, 'cache'),
    stateDir: join(dir, 'run'),
    region: 'us-east-1',
    managedRuntimeDir: join(dir, 'runtime'),
    langDir: dirname(dirname(process.execPath)),
    shutdownGraceMs: 0,
  });
  const code = join(FUNCTIONS, 'ts-enum');
  const spec = (name: string): FunctionSpec => ({
    key: name,
    functionName: name,
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    version: '$LATEST',
    runtime: 'nodejs24.x',
    handler: 'index.handler',
    memoryMb: 1024,
    timeoutSec: 30,
    ephemeralStorageMb: 512,
    environment: {},
    code: { sha256: 'ts-enum-fixture', path: code },
    layers: [],
    logGroup: `/aws/lambda/${name}`,
    logFormat: 'Text',
    reservedConcurrency: null,
  });
  const payload = Buffer.from('{"name":"bench"}');
  try {
    const cold: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = spec(`cold-${i}`);
      const t0 = performance.now();
      await engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
      cold.push(performance.now() - t0);
      engine.retire(s.functionName);
    }
    const c = summarize(cold.slice(2));
    out(line('TS cold start (new environment → first response)', c, '(target p50 ≤ 35 ms)'));
    const s = spec('warm');
    const invoke = () => engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
    for (let i = 0; i < 2000; i++) await invoke();
    const warm: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await invoke();
      warm.push(performance.now() - t0);
    }
    const w = summarize(warm);
    out(line('TS warm invoke through the engine', w));
    out('aws-lambda-ric comparison: not yet measured (needs aws-lambda-ric@4.0.2 built here)');
    return { tsColdP50: c.p50, tsWarmP50: w.p50 };
  } finally {
    await engine.dispose();
    await driver.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
