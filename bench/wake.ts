/**
 * A machine fact the warm-invoke figures depend on: how long a process asleep in `epoll_wait` takes to see a loopback
 * write, by how long it has slept. The bench process asks a peer process for a reply after the peer busy-waits a
 * given time, and measures from the peer's write to its own `data` callback. On a paravirtualised host that halts
 * idle vCPUs, a receiver that slept past the host's polling window pays for being scheduled again.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { summarize, type Summary } from './stats.ts';

const now = (): number => Number(process.hrtime.bigint()) / 1000;

/** The wake-up (in ms, as every summary here) for each sleep length given in µs. */
export async function wakeLatency(sleepsUs: readonly number[], n = 1000): Promise<Map<number, Summary>> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const peer = fork(new URL('./wake-peer.ts', import.meta.url), [String((server.address() as AddressInfo).port)]);
  const [socket] = (await once(server, 'connection')) as [Socket];
  socket.setNoDelay(true);
  const results = new Map<number, Summary>();
  try {
    for (const sleepUs of sleepsUs) {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const request = Buffer.alloc(4);
        request.writeUInt32LE(sleepUs);
        socket.write(request);
        const [reply] = (await once(socket, 'data')) as [Buffer];
        // µs → ms for the summary helpers
        samples.push((now() - reply.readDoubleLE(0)) / 1000);
      }
      results.set(sleepUs, summarize(samples));
    }
  } finally {
    socket.destroy();
    server.close();
    peer.kill();
  }
  return results;
}
