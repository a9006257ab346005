/**
 * @module bench/runtime-api-server
 * Micro-benchmark of the Runtime API server (not a test): N sequential warm round trips on loopback,
 * `invoke()` → the runtime's `GET /next` → `POST /{id}/response` → outcome, with one keep-alive connection.
 * The runtime side runs in a worker thread (its own event loop, as a separate process would be).
 *
 *   node bench/runtime-api-server.ts [N=20000] [--client=http|raw|pipeline] [--payload=BYTES]
 *
 * `http`: node:http with a keep-alive Agent (a Node runtime). `raw`: hand-written HTTP/1.1 over one socket (close
 * to what the native C++ client costs, so the figure is mostly the server's). `pipeline`: as `raw`, but each result
 * goes out with the next `GET /next` in one write, as Lambkin's runtime sends them (the server then answers the
 * result's `202` together with the next event). The server thread's CPU time per invoke is printed too: it varies
 * far less than latency on a busy machine.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { RuntimeApiServer } from '../src/platform/runtime-api/server.ts';

interface RuntimeData {
  address: string;
  client: 'http' | 'raw' | 'pipeline';
}

const NEXT = '/2018-06-01/runtime/invocation/next';
const responsePath = (id: string) => `/2018-06-01/runtime/invocation/${id}/response`;

// ── runtime side (worker) ──────────────────────────────────────────────────────────────────────────────────────

function httpRuntime(host: string, port: number): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const loop = (): void => {
    request({ host, port, path: NEXT, agent }, (res) => {
      const id = String(res.headers['lambda-runtime-aws-request-id']);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const post = request(
          {
            host,
            port,
            method: 'POST',
            path: responsePath(id),
            agent,
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (r) => {
            r.resume();
            r.on('end', loop);
          },
        );
        post.end(body);
      });
    }).end();
  };
  loop();
}

/** One socket, requests written by hand; replies parsed just enough (Content-Length framing). */
function rawRuntime(host: string, port: number, pipeline: boolean): void {
  const socket = connect({ host, port, noDelay: true });
  let buffer: Buffer = Buffer.alloc(0);
  let waiting: 'next' | 'post' | 'both' = 'next';
  const ask = () => {
    waiting = 'next';
    socket.write(`GET ${NEXT} HTTP/1.1\r\nHost: rapi\r\n\r\n`);
  };
  socket.on('connect', ask);
  socket.on('data', (data: Buffer) => {
    buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
    for (;;) {
      const headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = buffer.subarray(0, headEnd).toString('latin1');
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < headEnd + 4 + length) return;
      const body = buffer.subarray(headEnd + 4, headEnd + 4 + length);
      buffer = buffer.subarray(headEnd + 4 + length);
      if (waiting === 'next') {
        const id = /lambda-runtime-aws-request-id: *([^\r]+)/i.exec(head)?.[1] ?? '';
        waiting = pipeline ? 'both' : 'post';
        socket.cork();
        socket.write(
          `POST ${responsePath(id)} HTTP/1.1\r\nHost: rapi\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${body.length}\r\n\r\n`,
        );
        socket.write(body);
        if (pipeline) socket.write(`GET ${NEXT} HTTP/1.1\r\nHost: rapi\r\n\r\n`);
        socket.uncork();
      } else if (waiting === 'both') {
        waiting = 'next';
      } else {
        ask();
      }
    }
  });
}

// ── platform side (main) ───────────────────────────────────────────────────────────────────────────────────────

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 20_000);
  const client = args.includes('--client=raw') ? 'raw' : args.includes('--client=pipeline') ? 'pipeline' : 'http';
  const payloadBytes = Number(/^--payload=(\d+)$/.exec(args.find((a) => a.startsWith('--payload=')) ?? '')?.[1] ?? 64);
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const api = await RuntimeApiServer.start({ host: '127.0.0.1', port: 0 });
  const data: RuntimeData = { address: api.address, client };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const warmup = Math.min(2000, n);
  const samples = new Float64Array(n);
  const deadlineMs = Date.now() + 900_000;
  const run = async (i: number) => {
    const outcome = await api.invoke({
      requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      payload,
      deadlineMs,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
      traceId: 'Root=1-5e1b4151-5ac6c58dc39b1f6e6b1d0b1a;Parent=1234567890abcdef;Sampled=0',
    });
    if (outcome.kind !== 'response') throw new Error(`unexpected outcome ${outcome.kind}`);
  };
  for (let i = 0; i < warmup; i++) await run(i);
  const started = performance.now();
  const cpu = process.threadCpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(warmup + i);
    samples[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - started;
  const { user, system } = process.threadCpuUsage(cpu);
  samples.sort();
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  process.stdout.write(
    `runtime-api round trip (invoke → /next → /response → outcome), client=${client}, payload=${payloadBytes} B, n=${n}\n` +
      `  p50 ${us(percentile(samples, 50))}   p90 ${us(percentile(samples, 90))}   p99 ${us(percentile(samples, 99))}` +
      `   max ${us(samples[n - 1] ?? NaN)}   ${Math.round(n / (elapsed / 1000))} invokes/s\n` +
      `  server thread CPU per invoke ${((user + system) / n).toFixed(1)} µs (user ${(user / n).toFixed(1)}, system ${(system / n).toFixed(1)})\n`,
  );
  await worker.terminate();
  await api.close();
}

if (isMainThread) {
  await main();
} else {
  const { address, client } = workerData as RuntimeData;
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  if (client === 'raw' || client === 'pipeline') rawRuntime(host, port, client === 'pipeline');
  else httpRuntime(host, port);
  parentPort?.unref();
}
