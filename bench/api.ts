/**
 * Warm invoke through the public API: a keep-alive HTTP client → Invoke API → engine → runtime and back, end to end
 * on loopback, in bwrap. Two runtimes: the minimal Node runtime fixture (a custom runtime on node:http, as a layer)
 * and Lambkin's own runtime (`nodejs24.x`, what an ordinary Node function runs on). Each with the caller in its own
 * thread (as a real caller is its own process) and on the server's thread (an in-process SDK client).
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { parseConfig } from '../src/platform/config.ts';
import { startLambkin } from '../src/platform/server.ts';
import { zipDirectory } from '../test/helpers/zip-dir.ts';
import { fmtMs, line, summarize, type Summary } from './stats.ts';
import { wakeLatency } from './wake.ts';

const FIXTURES = resolve(import.meta.dirname, '../test/fixtures/engine');
const WARMUP = 3000;
/** Sleep lengths for the wake-up reference: within and past a vCPU's polling window on the 2026-12-05 host. */
const SHORT_SLEEP_US = 50;
const LONG_SLEEP_US = 400;
const N = 3000;

type Call = (method: string, path: string, body?: Buffer | string) => Promise<{ status: number; body: Buffer }>;

export async function benchApi(out: (s: string) => void): Promise<Record<string, number>> {
  out('## Public API (keep-alive HTTP client → Invoke API → runtime, bwrap)');
  // Every hand-over in a warm invoke wakes a process that was waiting; how much that costs here depends on how long
  // it waited (see docs/specification.md).
  const wake = await wakeLatency([SHORT_SLEEP_US, LONG_SLEEP_US]);
  const shortWake = wake.get(SHORT_SLEEP_US)?.p50 ?? NaN;
  const longWake = wake.get(LONG_SLEEP_US)?.p50 ?? NaN;
  out(
    `${'this machine: loopback write → reader awake'.padEnd(44)} p50 ${fmtMs(shortWake).padStart(9)} after ${String(SHORT_SLEEP_US)} µs asleep, ${fmtMs(longWake)} after ${String(LONG_SLEEP_US)} µs`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-api-'));
  await chmod(dir, 0o755);
  const lambkin = await startLambkin(parseConfig({ port: 0, dataDir: join(dir, 'data') }, {}));
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const [host, port] = lambkin.url.slice('http://'.length).split(':');
  const call: Call = (method, path, body) =>
    new Promise((res, rej) => {
      const req = request(
        {
          host,
          port,
          method,
          path,
          agent,
          headers: body === undefined ? {} : { 'content-length': Buffer.byteLength(body) },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on('error', rej);
      req.end(body);
    });
  const zip = async (source: string, name: string) =>
    (await readFile(await zipDirectory(source, join(dir, name)))).toString('base64');
  try {
    const published = JSON.parse(
      (
        await call(
          'POST',
          '/2018-10-31/layers/node-rt/versions',
          JSON.stringify({ Content: { ZipFile: await zip(join(FIXTURES, 'node-runtime'), 'rt.zip') } }),
        )
      ).body.toString(),
    ) as { LayerVersionArn: string };
    const echoJs = join(dir, 'echo-js');
    await mkdir(echoJs);
    await writeFile(join(echoJs, 'index.mjs'), 'export const handler = async (event) => event;\n');
    const functions = [
      {
        label: 'minimal Node runtime',
        name: 'bench-minimal',
        Runtime: 'provided.al2023',
        Handler: 'function.handler',
        code: await zip(join(FIXTURES, 'functions/echo'), 'fn.zip'),
        Layers: [published.LayerVersionArn],
      },
      {
        label: 'Lambkin runtime',
        name: 'bench-lambkin',
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        code: await zip(echoJs, 'echo-js.zip'),
        Layers: [],
      },
    ];
    const figures: Record<string, number> = { wakeShortP50: shortWake, wakeLongP50: longWake };
    for (const f of functions) {
      const { label, name, code, ...config } = f;
      await call(
        'POST',
        '/2015-03-31/functions',
        JSON.stringify({
          FunctionName: name,
          Role: 'arn:aws:iam::000000000000:role/r',
          Code: { ZipFile: code },
          MemorySize: 512,
          ...config,
        }),
      );
      const own = await measure(lambkin.url, call, name);
      out(line(`warm invoke, ${label}`, own.caller, '(target p50 ≤ 0.3 ms; AWS emulator + RIC: 0.56–0.63 ms)'));
      out(`  server thread CPU per invoke: ${own.serverCpuUs.toFixed(0)} µs`);
      out(line('  same, caller on the server’s thread', own.sameThread));
      const key = name === 'bench-minimal' ? 'apiWarm' : 'apiWarmLambkin';
      figures[`${key}P50`] = own.caller.p50;
      figures[`${key}P99`] = own.caller.p99;
      figures[`${key}SameThreadP50`] = own.sameThread.p50;
    }
    return figures;
  } finally {
    agent.destroy();
    await lambkin.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(
  url: string,
  call: Call,
  name: string,
): Promise<{ caller: Summary; sameThread: Summary; serverCpuUs: number }> {
  for (let i = 0; i < 100; i++) {
    const r = await call('GET', `/2015-03-31/functions/${name}/configuration`);
    if ((JSON.parse(r.body.toString()) as { State: string }).State === 'Active') break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const payload = '{"hello":"world"}';
  const path = `/2015-03-31/functions/${name}/invocations`;
  const first = await call('POST', path, payload);
  if (first.status !== 200 || first.body.toString() !== payload)
    throw new Error(`the bench function does not answer: ${String(first.status)} ${first.body.toString()}`);
  // The caller in its own thread, as a real caller is its own process: its HTTP work does not queue behind the
  // server's on one event loop.
  const cpu = process.threadCpuUsage();
  const samples = await new Promise<number[]>((resolveSamples, reject) => {
    const worker = new Worker(new URL('./http-client-worker.ts', import.meta.url), {
      workerData: { url, path, payload, warmup: WARMUP, n: N },
    });
    worker.once('message', resolveSamples);
    worker.once('error', reject);
  });
  const used = process.threadCpuUsage(cpu);
  // The same with the caller on the server's own event loop (what an in-process SDK client sees).
  const same: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await call('POST', path, payload);
    same.push(performance.now() - t0);
  }
  return {
    caller: summarize(samples),
    sameThread: summarize(same),
    serverCpuUs: (used.user + used.system) / (WARMUP + N),
  };
}
