/**
 * Starts a real engine (real bwrap sandbox, real Runtime API servers, real processes) in a temp data dir.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import type { FunctionSpec } from '../../src/platform/environments/function-spec.ts';
import { createSandboxDriver } from '../../src/platform/environments/sandbox/index.ts';
import { Engine, type EngineOptions } from '../../src/platform/invoke/engine.ts';
import { LogStore, type LogEvent } from '../../src/platform/logs/log-store.ts';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures/engine');

export interface SpecInput {
  name: string;
  /** Directory of the function code (under fixtures/engine/functions unless absolute). */
  code: string;
  /** Layer directories or zips, in order (absolute, or relative to fixtures/engine). */
  layers?: string[];
  handler?: string;
  runtime?: string;
  timeoutSec?: number;
  memoryMb?: number;
  environment?: Record<string, string>;
  reservedConcurrency?: number | null;
  logFormat?: 'Text' | 'JSON';
  applicationLogLevel?: string;
}

export interface Harness {
  engine: Engine;
  logs: LogStore;
  dataDir: string;
  spec(input: SpecInput): FunctionSpec;
  /** All log events of a function, every stream, in time order. */
  logLines(functionName: string): Promise<string[]>;
  invoke(spec: FunctionSpec, payload: unknown, logTail?: boolean): ReturnType<Engine['invoke']>;
}

export async function startEngine(t: TestContext, options: Partial<EngineOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lambkin-engine-'));
  await chmod(dataDir, 0o755);
  const driver =
    options.driver ??
    createSandboxDriver(process.env.LAMBKIN_TEST_SANDBOX === 'process' ? 'process' : 'bwrap', {
      stateDir: join(dataDir, 'sandbox'),
    });
  const logs = options.logs ?? new LogStore(join(dataDir, 'logs'));
  const engine = new Engine({
    driver,
    logs,
    cacheDir: join(dataDir, 'cache'),
    stateDir: join(dataDir, 'run'),
    region: 'us-east-1',
    shutdownGraceMs: 100,
    ...options,
  });
  t.after(async () => {
    await engine.dispose();
    await driver.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });
  const resolveFixture = (p: string, base: string): string => (p.startsWith('/') ? p : join(FIXTURES, base, p));
  return {
    engine,
    logs,
    dataDir,
    spec(input) {
      const code = resolveFixture(input.code, 'functions');
      const layers = (input.layers ?? ['sh-runtime']).map((l) => resolveFixture(l, ''));
      const spec: FunctionSpec = {
        key: '',
        functionName: input.name,
        functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${input.name}`,
        version: '$LATEST',
        runtime: input.runtime ?? 'provided.al2023',
        handler: input.handler ?? 'function.handler',
        memoryMb: input.memoryMb ?? 128,
        timeoutSec: input.timeoutSec ?? 3,
        ephemeralStorageMb: 512,
        environment: input.environment ?? {},
        code: { sha256: sha(code), path: code },
        layers: layers.map((l) => ({ sha256: sha(l), path: l })),
        logGroup: `/aws/lambda/${input.name}`,
        logFormat: input.logFormat ?? 'Text',
        ...(input.applicationLogLevel !== undefined ? { applicationLogLevel: input.applicationLogLevel } : {}),
        reservedConcurrency: input.reservedConcurrency ?? null,
      };
      spec.key = sha(JSON.stringify(spec));
      return spec;
    },
    async logLines(functionName) {
      const group = `/aws/lambda/${functionName}`;
      const events: LogEvent[] = [];
      for (const s of await logs.listStreams(group)) events.push(...(await logs.readEvents(group, s.logStreamName)));
      return events.sort((a, b) => a.timestamp - b.timestamp).map((e) => e.message);
    },
    invoke(spec, payload, logTail = false) {
      return engine.invoke({
        spec,
        payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
        invokedFunctionArn: spec.functionArn,
        logTail,
      });
    },
  };
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** PIDs of live processes whose command line or environment mentions `marker`. */
export async function processesWith(marker: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const env = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    if (cmd.includes(marker) || env.includes(marker)) out.push(Number(name));
  }
  return out;
}
