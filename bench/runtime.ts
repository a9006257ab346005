/**
 * The Lambkin runtime against AWS's own client (aws-lambda-ric@4.0.2), both as the nodejs24.x runtime on the same
 * platform in the same run: cold start (new sandboxed environment → first response) and warm invokes.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildRuntimeDir } from '../src/cli/commands/runtime-build.ts';
import type { FunctionSpec } from '../src/platform/environments/function-spec.ts';
import { createSandboxDriver } from '../src/platform/environments/sandbox/index.ts';
import { Engine } from '../src/platform/invoke/engine.ts';
import { LogStore } from '../src/platform/logs/log-store.ts';
import { ricRuntimeDir } from '../test/conformance/ric-runtime.ts';
import { line, summarize, type Summary } from './stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const FUNCTIONS = join(ROOT, 'test/fixtures/functions');

async function measure(
  dir: string,
  runtimeDir: string,
  fixture: string,
  label: string,
): Promise<{ cold: Summary; warm: Summary; rps: number }> {
  const driver = createSandboxDriver('bwrap', { stateDir: join(dir, `state-${label}`) });
  const engine = new Engine({
    driver,
    logs: new LogStore(join(dir, `logs-${label}`)),
    cacheDir: join(dir, `cache-${label}`),
    stateDir: join(dir, `run-${label}`),
    region: 'us-east-1',
    managedRuntimeDir: runtimeDir,
    langDir: dirname(dirname(process.execPath)),
    shutdownGraceMs: 0,
  });
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
    code: { sha256: `${fixture}-fixture`, path: join(FUNCTIONS, fixture) },
    layers: [],
    logGroup: `/aws/lambda/${name}`,
    logFormat: 'Text',
    reservedConcurrency: null,
  });
  const payload = Buffer.from('{"name":"bench"}');
  try {
    const cold: number[] = [];
    for (let i = 0; i < 33; i++) {
      const s = spec(`cold-${label}-${i}`);
      const t0 = performance.now();
      await engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
      cold.push(performance.now() - t0);
      engine.retire(s.functionName);
      // One cold start at a time, as when a function is first invoked: the sandbox driver refills its pre-started
      // launchers 100 ms after a start, and that refill (a fork of this process) must not land inside a sample.
      await new Promise((res) => setTimeout(res, 200));
    }
    const s = spec(`warm-${label}`);
    const invoke = () => engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
    for (let i = 0; i < 2000; i++) await invoke();
    const warm: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      await invoke();
      warm.push(performance.now() - t);
    }
    const rps = 2000 / ((performance.now() - t0) / 1000);
    return { cold: summarize(cold.slice(2)), warm: summarize(warm), rps };
  } finally {
    await engine.dispose();
    await driver.dispose();
  }
}

export async function benchRuntime(out: (s: string) => void): Promise<Record<string, number>> {
  out('## Lambkin runtime vs aws-lambda-ric@4.0.2 (nodejs24.x on Lambkin, bwrap)');
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-rt-'));
  await chmod(dir, 0o755);
  try {
    await buildRuntimeDir(join(dir, 'lambkin'));
    const ric = await ricRuntimeDir(dir);
    const tsOurs = await measure(dir, join(dir, 'lambkin'), 'ts-enum', 'ts');
    const jsOurs = await measure(dir, join(dir, 'lambkin'), 'esm-async', 'js');
    const jsRic = await measure(dir, ric, 'esm-async', 'ric');
    out(line('TS cold start, Lambkin runtime', tsOurs.cold, '(target p50 ≤ 35 ms)'));
    out(line('JS cold start, Lambkin runtime', jsOurs.cold));
    out(line('JS cold start, aws-lambda-ric', jsRic.cold));
    out(line('TS warm invoke, Lambkin runtime', tsOurs.warm, `${tsOurs.rps.toFixed(0)} invokes/s`));
    out(line('JS warm invoke, Lambkin runtime', jsOurs.warm, `${jsOurs.rps.toFixed(0)} invokes/s`));
    out(line('JS warm invoke, aws-lambda-ric', jsRic.warm, `${jsRic.rps.toFixed(0)} invokes/s`));
    const coldRatio = jsOurs.cold.p50 / jsRic.cold.p50;
    const warmRatio = jsOurs.warm.p50 / jsRic.warm.p50;
    out(`${'JS cold start p50, Lambkin / ric'.padEnd(44)} ${coldRatio.toFixed(2)}×`);
    out(`${'JS warm invoke p50, Lambkin / ric'.padEnd(44)} ${warmRatio.toFixed(2)}× (target ≤ 0.5×)`);
    return { tsColdP50: tsOurs.cold.p50, jsColdP50: jsOurs.cold.p50, ricColdP50: jsRic.cold.p50, warmRatio };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
