/**
 * The other end of bench/wake.ts, in its own process: for each 4-byte request `D`, busy-waits D µs, then answers at
 * once with the time it answered (8 bytes, µs of the monotonic clock, which both processes share).
 */
import { connect } from 'node:net';

const now = (): number => Number(process.hrtime.bigint()) / 1000;
const socket = connect({ host: '127.0.0.1', port: Number(process.argv[2]) });
socket.setNoDelay(true);
let input = Buffer.alloc(0);
socket.on('data', (chunk: Buffer) => {
  input = Buffer.concat([input, chunk]);
  while (input.length >= 4) {
    const busyUs = input.readUInt32LE(0);
    input = input.subarray(4);
    const start = now();
    while (now() - start < busyUs);
    const reply = Buffer.alloc(8);
    reply.writeDoubleLE(now());
    socket.write(reply);
  }
});
socket.on('error', () => process.exit(0));
socket.on('end', () => process.exit(0));
