/**
 * AsyncQueue on a real MetadataStore. `run` is the queue's own contract (one attempt → outcome); the tests pass
 * small functions that record what they were given, so retries, throttles, concurrency and resumption are
 * observable without an engine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isPlatformError } from '../errors.ts';
import { MetadataStore, type QueuedEvent } from '../storage/metadata.ts';
import { AsyncQueue, type AsyncQueueOptions, type EventOutcome } from './async-queue.ts';

interface Setup {
  file: string;
  store: MetadataStore;
  /** A queue that is disposed (before the store closes) when the test ends. */
  queue(options: Omit<AsyncQueueOptions, 'store'> & { store?: MetadataStore }): AsyncQueue;
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-queue-'));
  const file = join(dir, 'lambkin.db');
  const store = new MetadataStore(file);
  const queues: AsyncQueue[] = [];
  const stores = [store];
  t.after(async () => {
    await Promise.all(queues.map((q) => q.dispose()));
    for (const s of stores) s.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    file,
    store,
    queue(options) {
      if (options.store !== undefined) stores.push(options.store);
      const q = new AsyncQueue({ pollMs: 10, ...options, store: options.store ?? store });
      queues.push(q);
      return q;
    },
  };
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('async queue: events run in the background with bounded concurrency, then leave the store', async (t) => {
  const s = await setup(t);
  let inFlight = 0;
  let most = 0;
  const ran: string[] = [];
  const q = s.queue({
    concurrency: 2,
    run: async (e) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(20);
      ran.push(e.payload.toString());
      inFlight--;
      return 'ok';
    },
  });
  q.start();
  for (let i = 0; i < 6; i++) q.enqueue('f', '$LATEST', Buffer.from(String(i)));
  assert.equal(q.pending, 6, 'persisted before enqueue returns');
  await until(() => ran.length === 6, 'all events');
  await until(() => q.pending === 0, 'the rows to go');
  assert.equal(most, 2);
  assert.deepEqual([...ran].sort(), ['0', '1', '2', '3', '4', '5']);
});

test('async queue: a function error is retried twice (3 attempts) after the configured delays, then dropped', async (t) => {
  const s = await setup(t);
  const attempts: { at: number; attempts: number }[] = [];
  const q = s.queue({
    retryDelaysMs: [40, 80],
    run: (e) => {
      attempts.push({ at: Date.now(), attempts: e.attempts });
      return Promise.resolve('error');
    },
  });
  q.start();
  q.enqueue('f', '$LATEST', Buffer.from('{}'));
  await until(() => q.pending === 0, 'the event to be dropped');
  assert.deepEqual(
    attempts.map((a) => a.attempts),
    [0, 1, 2],
  );
  const [a0, a1, a2] = attempts.map((a) => a.at);
  assert.ok(a0 !== undefined && a1 !== undefined && a2 !== undefined);
  assert.ok(a1 - a0 >= 35, `first retry after ~40 ms (${a1 - a0})`);
  assert.ok(a2 - a1 >= 75, `second retry after ~80 ms (${a2 - a1})`);
});

test('async queue: throttles are retried with back-off and do not count as attempts; gone events are dropped', async (t) => {
  const s = await setup(t);
  const seen: number[] = [];
  let throttles = 0;
  const q = s.queue({
    throttleDelayMs: 5,
    retryDelaysMs: [5],
    run: (e: QueuedEvent): Promise<EventOutcome> => {
      if (e.functionName === 'gone') return Promise.resolve('gone');
      seen.push(e.attempts);
      if (throttles < 4) {
        throttles++;
        return Promise.resolve('throttled');
      }
      return Promise.resolve('ok');
    },
  });
  q.start();
  q.enqueue('gone', '$LATEST', Buffer.from('{}'));
  q.enqueue('f', '1', Buffer.from('{}'));
  await until(() => q.pending === 0, 'both events to finish');
  assert.deepEqual(seen, [0, 0, 0, 0, 0], 'four throttles, then it ran; the attempt count never moved');
});

test('async queue: events older than the maximum event age are dropped unrun', async (t) => {
  const s = await setup(t);
  let now = 1_000_000;
  const ran: string[] = [];
  const q = s.queue({
    maxAgeMs: 6 * 3600_000,
    now: () => now,
    run: (e) => {
      ran.push(e.id);
      return Promise.resolve('throttled');
    },
  });
  const id = q.enqueue('f', '$LATEST', Buffer.from('{}'));
  now += 6 * 3600_000 + 1;
  q.start();
  await until(() => q.pending === 0, 'the stale event to be dropped');
  assert.deepEqual(ran, []);
  assert.equal(typeof id, 'string');
});

test('async queue: events persisted by one queue are resumed by the next (restart); enqueue after dispose fails fast', async (t) => {
  const s = await setup(t);
  const first = s.queue({ run: () => Promise.resolve('ok') });
  first.enqueue('f', '$LATEST', Buffer.from('{"survives":true}'), 'req-1');
  await first.dispose();
  assert.throws(
    () => first.enqueue('f', '$LATEST', Buffer.from('{}')),
    (err: unknown) => isPlatformError(err, 'ERR_DISPOSED'),
  );
  // A fresh store on the same file, as after a restart.
  const ran: QueuedEvent[] = [];
  const second = s.queue({
    store: new MetadataStore(s.file),
    run: (e) => {
      ran.push(e);
      return Promise.resolve('ok');
    },
  });
  second.start();
  await until(() => ran.length === 1, 'the resumed event');
  assert.equal(ran[0]?.id, 'req-1');
  assert.equal(ran[0]?.payload.toString(), '{"survives":true}');
});
