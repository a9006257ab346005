/**
 * Engine benchmarks: warm invoke latency and throughput, and cold start with the sandbox's own share, using a
 * minimal Node runtime so that the figures are the platform's, not a runtime's.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FunctionSpec } from '../src/platform/environments/function-spec.ts';
import { createSandboxDriver } from '../src/platform/environments/sandbox/index.ts';
import { Engine } from '../src/platform/invoke/engine.ts';
import { LogStore } from '../src/platform/logs/log-store.ts';
import { line, summarize, type Summary } from './stats.ts';

const FIXTURES = resolve(import.meta.dirname, '../test/fixtures/engine');

function spec(name: string, memoryMb = 512): FunctionSpec {
  const code = join(FIXTURES, 'functions/echo');
  const layer = join(FIXTURES, 'node-runtime');
  const s: FunctionSpec = {
    key: '',
    functionName: name,
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    version: '$LATEST',
    runtime: 'provided.al2023',
    handler: 'function.handler',
    memoryMb,
    timeoutSec: 30,
    ephemeralStorageMb: 512,
    environment: {},
    code: { sha256: sha(code), path: code },
    layers: [{ sha256: sha(layer), path: layer }],
    logGroup: `/aws/lambda/${name}`,
    logFormat: 'Text',
    reservedConcurrency: null,
  };
  s.key = sha(JSON.stringify(s));
  return s;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function withEngine<T>(driverName: 'bwrap' | 'process', fn: (engine: Engine) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-'));
  const driver = createSandboxDriver(driverName, { stateDir: join(dir, 'sandbox') });
  const engine = new Engine({
    driver,
    logs: new LogStore(join(dir, 'logs')),
    cacheDir: join(dir, 'cache'),
    stateDir: join(dir, 'run'),
    region: 'us-east-1',
    shutdownGraceMs: 0,
  });
  try {
    return await fn(engine);
  } finally {
    await engine.dispose();
    await driver.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

const payload = Buffer.from('{"hello":"world"}');

async function warm(engine: Engine, s: FunctionSpec, n: number): Promise<Summary> {
  const invoke = () => engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
  for (let i = 0; i < 3000; i++) await invoke();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await invoke();
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

async function throughput(engine: Engine, s: FunctionSpec, concurrency: number, ms: number): Promise<number> {
  let count = 0;
  let until = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
      count++;
    }
  };
  // Steady state only: `concurrency` environments started, each new runtime process warmed up (its JIT: node:http
  // in the fixture takes some thousand invokes; with 1.5 s here the 4-environment figure came out a third lower),
  // and the sandbox driver's refill of its pre-started launchers (by its spawner helper, after each start)
  // over, before the clock starts.
  until = performance.now() + 4000;
  await Promise.all(Array.from({ length: concurrency }, worker));
  await new Promise((res) => setTimeout(res, 500));
  count = 0;
  until = performance.now() + ms;
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (count / ms) * 1000;
}

async function cold(engine: Engine, n: number, driverName: string): Promise<Summary> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = spec(`cold-${driverName}-${i}`);
    const t0 = performance.now();
    await engine.invoke({ spec: s, payload, invokedFunctionArn: s.functionArn, logTail: false });
    samples.push(performance.now() - t0);
    engine.retire(s.functionName);
    // One cold start at a time, as when a function is first invoked (bwrap's launchers are ready again by then).
    await new Promise((res) => setTimeout(res, 200));
  }
  return summarize(samples);
}

/**
 * Driver start → the bootstrap's first output, for a bootstrap that only echoes: the sandbox's own cost. `gapMs`
 * apart, so that bwrap's pre-started launchers are ready for each start (as for a cold start on its own), or back to
 * back (a burst of cold starts, where a start may find none ready and spawns on the spot).
 */
async function sandboxStart(driverName: 'bwrap' | 'process', gapMs: number): Promise<Summary> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-sbx-'));
  await chmod(dir, 0o755);
  const task = join(dir, 'task');
  await mkdir(task, { mode: 0o755 });
  await writeFile(join(task, 'bootstrap'), '#!/bin/sh\necho ready\n', { mode: 0o755 });
  const driver = createSandboxDriver(driverName, { stateDir: join(dir, 'state') });
  await driver.check();
  const samples: number[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const handle = await driver.start({
        id: `b${i}`,
        optDir: null,
        taskDir: task,
        runtimeDir: null,
        entrypoint: '/var/task/bootstrap',
        env: { PATH: '/usr/bin:/bin' },
        memoryMb: 128,
        tmpMb: 64,
        maxProcesses: 64,
        network: 'host',
      });
      await new Promise<void>((resolveOutput) =>
        handle.stdout.once('data', () => {
          resolveOutput();
        }),
      );
      samples.push(performance.now() - t0);
      await handle.exited;
      if (gapMs > 0) await new Promise((res) => setTimeout(res, gapMs));
    }
  } finally {
    await driver.dispose();
    await rm(dir, { recursive: true, force: true });
  }
  return summarize(samples.slice(5));
}

export async function benchEngine(out: (s: string) => void): Promise<Record<string, number>> {
  out('## Engine (minimal Node runtime fixture, bwrap sandbox)');
  const figures: Record<string, number> = {};
  await withEngine('bwrap', async (engine) => {
    const s = spec('warm');
    const w = await warm(engine, s, 2000);
    out(line('warm invoke through the engine', w));
    figures.warmP50 = w.p50;
    for (const c of [1, 2, 4]) {
      const rps = await throughput(engine, s, c, 2000);
      out(`${`throughput, ${c} environment(s)`.padEnd(44)} ${rps.toFixed(0)} invokes/s`);
      figures[`rps${c}`] = rps;
    }
    const c = await cold(engine, 30, 'bwrap');
    out(line('cold start (new environment → first response)', c));
    figures.coldP50 = c.p50;
  });
  await withEngine('process', async (engine) => {
    const c = await cold(engine, 30, 'process');
    out(line('cold start, process driver (no sandbox)', c));
    figures.coldProcessP50 = c.p50;
  });
  const alone = { bwrap: await sandboxStart('bwrap', 200), process: await sandboxStart('process', 200) };
  const burst = { bwrap: await sandboxStart('bwrap', 0), process: await sandboxStart('process', 0) };
  out(line('sandbox start → first output, bwrap', alone.bwrap, '(one at a time, 200 ms apart)'));
  out(line('sandbox start → first output, process', alone.process, '(one at a time)'));
  out(line('sandbox start → first output, bwrap', burst.bwrap, '(back to back)'));
  out(line('sandbox start → first output, process', burst.process, '(back to back)'));
  const share = alone.bwrap.p50 - alone.process.p50;
  const burstShare = burst.bwrap.p50 - burst.process.p50;
  out(
    `${'sandbox share of a cold start (bwrap − process)'.padEnd(44)} ${share.toFixed(2)} ms one at a time, ${burstShare.toFixed(2)} ms back to back (target ≤ 5 ms)`,
  );
  out(`${'throughput scaling 4 envs / 1 env'.padEnd(44)} ${((figures.rps4 ?? 0) / (figures.rps1 ?? 1)).toFixed(2)}×`);
  figures.sandboxShare = share;
  figures.sandboxShareBurst = burstShare;
  return figures;
}
