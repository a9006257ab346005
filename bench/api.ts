/**
 * Warm invoke through the public API: a keep-alive HTTP client → Invoke API → engine → minimal Node runtime and
 * back, end to end on loopback.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { parseConfig } from '../src/platform/config.ts';
import { startLambkin } from '../src/platform/server.ts';
import { zipDirectory } from '../test/helpers/zip-dir.ts';
import { line, summarize } from './stats.ts';

const FIXTURES = resolve(import.meta.dirname, '../test/fixtures/engine');

export async function benchApi(out: (s: string) => void): Promise<Record<string, number>> {
  out('## Public API (keep-alive HTTP client, minimal Node runtime, bwrap)');
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bench-api-'));
  await chmod(dir, 0o755);
  const lambkin = await startLambkin(parseConfig({ port: 0, dataDir: join(dir, 'data') }, {}));
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const [host, port] = lambkin.url.slice('http://'.length).split(':');
  const call = (method: string, path: string, body?: Buffer | string): Promise<{ status: number; body: Buffer }> =>
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
  try {
    const layer = (await readFile(await zipDirectory(join(FIXTURES, 'node-runtime'), join(dir, 'rt.zip')))).toString(
      'base64',
    );
    const code = (await readFile(await zipDirectory(join(FIXTURES, 'functions/echo'), join(dir, 'fn.zip')))).toString(
      'base64',
    );
    const published = JSON.parse(
      (
        await call('POST', '/2018-10-31/layers/node-rt/versions', JSON.stringify({ Content: { ZipFile: layer } }))
      ).body.toString(),
    ) as { LayerVersionArn: string };
    await call(
      'POST',
      '/2015-03-31/functions',
      JSON.stringify({
        FunctionName: 'bench',
        Runtime: 'provided.al2023',
        Handler: 'function.handler',
        Role: 'arn:aws:iam::000000000000:role/r',
        Code: { ZipFile: code },
        Layers: [published.LayerVersionArn],
        MemorySize: 512,
      }),
    );
    for (let i = 0; i < 100; i++) {
      const r = await call('GET', '/2015-03-31/functions/bench/configuration');
      if ((JSON.parse(r.body.toString()) as { State: string }).State === 'Active') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const payload = '{"hello":"world"}';
    const path = '/2015-03-31/functions/bench/invocations';
    const first = await call('POST', path, payload);
    if (first.status !== 200 || first.body.toString() !== payload)
      throw new Error(`the bench function does not answer: ${String(first.status)} ${first.body.toString()}`);
    // The caller in its own thread, as a real caller is its own process: its HTTP work does not queue behind the
    // server's on one event loop.
    const samples = await new Promise<number[]>((resolveSamples, reject) => {
      const worker = new Worker(new URL('./http-client-worker.ts', import.meta.url), {
        workerData: { url: lambkin.url, path, payload, warmup: 3000, n: 3000 },
      });
      worker.once('message', resolveSamples);
      worker.once('error', reject);
    });
    const s = summarize(samples);
    out(line('warm invoke via the Invoke API', s, '(target p50 ≤ 0.3 ms; AWS emulator + RIC: 0.56–0.63 ms)'));
    // The same with the caller on the server's own event loop (what an in-process SDK client sees).
    const same: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const t0 = performance.now();
      await call('POST', path, payload);
      same.push(performance.now() - t0);
    }
    out(line('  same, caller on the server’s thread', summarize(same)));
    return { apiWarmP50: s.p50, apiWarmP99: s.p99 };
  } finally {
    agent.destroy();
    await lambkin.close();
    await rm(dir, { recursive: true, force: true });
  }
}
