import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StreamIndex, type IndexedEvent } from './stream-index.ts';

async function collect(it: AsyncIterable<IndexedEvent>): Promise<IndexedEvent[]> {
  const out: IndexedEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const line = (timestamp: number, message: string) => JSON.stringify({ timestamp, message }) + '\n';

test('stream index: incremental refresh, partial and broken lines, reads by position and time', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-index-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 's.jsonl');
  const big = 'y'.repeat(700);
  let text = '';
  for (let i = 0; i < 300; i++) text += line(1000 + i, `${i} ${big}`); // ~220 KB: several segments
  await writeFile(file, text + 'garbage\n' + '{"timestamp":5000,"mess');
  const index = new StreamIndex(file);
  await index.refresh();
  assert.equal(index.summary().count, 300, 'the broken line is skipped, the partial one not yet indexed');
  assert.equal(index.summary().firstEventTimestamp, 1000);
  assert.equal(index.summary().lastEventTimestamp, 1299);

  const all = await collect(index.forward(0));
  assert.equal(all.length, 300);
  assert.deepEqual(
    all.slice(0, 2).map((e) => e.offset),
    [0, Buffer.byteLength(line(1000, `0 ${big}`))],
  );
  const mid = await collect(index.forward(0, { startTime: 1150, endTime: 1153 }));
  assert.deepEqual(
    mid.map((e) => e.timestamp),
    [1150, 1151, 1152],
  );
  const from = await collect(index.forward(Number(mid[1]?.offset)));
  assert.equal(from[0]?.timestamp, 1151);
  const back = await collect(index.backward(Number(mid[0]?.offset)));
  assert.deepEqual(
    back.slice(0, 2).map((e) => e.timestamp),
    [1149, 1148],
  );
  assert.equal(back.length, 150);

  // The partial line completes; only the appended bytes are read.
  await appendFile(file, 'age":"late"}\n' + line(5001, 'later') + '{"timestamp":5002,"messsage":"typo"}\n');
  await index.refresh();
  assert.equal(index.summary().count, 302);
  const tail = await collect(index.backward(index.size));
  assert.deepEqual(
    tail.slice(0, 2).map((e) => e.message),
    ['later', 'late'],
  );
});
