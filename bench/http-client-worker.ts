/**
 * A keep-alive HTTP client in its own thread (as a real caller is its own process): sends `n` sequential POSTs after
 * `warmup` and posts the latencies (ms) back. Used by bench/api.ts.
 */
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  url: string;
  path: string;
  payload: string;
  warmup: number;
  n: number;
}

const job = workerData as Job;
const { hostname: host, port } = new URL(job.url);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const body = Buffer.from(job.payload);

function post(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, method: 'POST', path: job.path, agent, headers: { 'content-length': body.length } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; i < job.warmup; i++) await post();
const samples: number[] = [];
for (let i = 0; i < job.n; i++) {
  const t0 = performance.now();
  const status = await post();
  samples.push(performance.now() - t0);
  if (status !== 200) throw new Error(`invoke answered ${String(status)}`);
}
agent.destroy();
parentPort?.postMessage(samples);
