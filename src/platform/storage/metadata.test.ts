/**
 * MetadataStore: numbering that is never reused, transactions, migrations, the event queue, and durability across
 * `kill -9` of the writing process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { MetadataStore, SCHEMA_VERSION, type FunctionRecord } from './metadata.ts';

async function tempDb(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'db', 'lambkin.db');
}

function open(t: TestContext, file: string): MetadataStore {
  const store = new MetadataStore(file);
  t.after(() => {
    store.close();
  });
  return store;
}

function fn(name: string, extra: Partial<FunctionRecord> = {}): FunctionRecord {
  return {
    name,
    version: '$LATEST',
    runtime: 'provided',
    role: 'arn:aws:iam::000000000000:role/r',
    handler: 'f.h',
    description: '',
    timeout: 3,
    memorySize: 128,
    environment: {},
    layers: [],
    codeSha256Hex: 'a'.repeat(64),
    codeSha256: 'x',
    codeSize: 10,
    unzippedSize: 20,
    ephemeralStorage: 512,
    architectures: ['x86_64'],
    logFormat: 'Text',
    logGroup: `/aws/lambda/${name}`,
    tracingMode: 'PassThrough',
    lastModified: '',
    revisionId: 'r1',
    state: 'Active',
    lastUpdateStatus: 'Successful',
    ...extra,
  };
}

const layer = (layerName: string) => ({
  layerName,
  description: '',
  licenseInfo: null,
  compatibleRuntimes: [],
  compatibleArchitectures: [],
  codeSha256Hex: 'b'.repeat(64),
  codeSha256: 'y',
  codeSize: 1,
  unzippedSize: 1,
  createdDate: '',
});

test('metadata: layer version numbers start at 1 and are never reused, even after deletion and reopening', async (t) => {
  const file = await tempDb(t);
  const store = new MetadataStore(file);
  assert.equal(store.addLayerVersion(layer('rt')).version, 1);
  assert.equal(store.addLayerVersion(layer('rt')).version, 2);
  assert.equal(store.addLayerVersion(layer('other')).version, 1);
  assert.equal(store.deleteLayerVersion('rt', 2), true);
  assert.equal(store.deleteLayerVersion('rt', 2), false);
  assert.deepEqual(store.listLayerNames(), ['other', 'rt']);
  store.close();
  const again = open(t, file);
  assert.equal(again.addLayerVersion(layer('rt')).version, 3);
  assert.equal(again.deleteLayerVersion('rt', 1), true);
  assert.equal(again.deleteLayerVersion('rt', 3), true);
  assert.deepEqual(again.listLayerNames(), ['other'], 'a layer without versions is not listed');
  assert.equal(again.addLayerVersion(layer('rt')).version, 4);
});

test('metadata: function versions are never reused; deleting the function removes versions, aliases and events', async (t) => {
  const store = open(t, await tempDb(t));
  assert.equal(store.createFunction(fn('f'), { team: 'a' }), true);
  assert.equal(store.createFunction(fn('f'), {}), false, 'a second create of the same name is refused');
  const v1 = store.publishVersion('f', (version) => fn('f', { version }));
  const v2 = store.publishVersion('f', (version) => fn('f', { version }));
  assert.deepEqual([v1.version, v2.version], ['1', '2']);
  store.deleteVersion('f', '2');
  assert.equal(store.publishVersion('f', (version) => fn('f', { version })).version, '3');
  store.putAlias(
    {
      functionName: 'f',
      name: 'live',
      functionVersion: '1',
      description: '',
      additionalVersionWeights: {},
      revisionId: 'x',
    },
    true,
  );
  store.enqueueEvent({
    id: 'e1',
    functionName: 'f',
    qualifier: '$LATEST',
    payload: Buffer.from('{}'),
    attempts: 0,
    notBefore: 0,
    enqueuedAt: 0,
  });
  store.deleteFunction('f');
  assert.equal(store.getFunction('f'), null);
  assert.deepEqual(store.listVersions('f'), []);
  assert.deepEqual(store.listAliases('f'), []);
  assert.equal(store.pendingEvents(), 0);
});

test('metadata: a failing transaction changes nothing, nested ones join the outer one', async (t) => {
  const store = open(t, await tempDb(t));
  store.createFunction(fn('f'), {});
  assert.throws(() =>
    store.transaction(() => {
      store.setTags('f', { a: '1' });
      store.publishVersion('f', (version) => fn('f', { version }));
      throw new Error('boom');
    }),
  );
  assert.deepEqual(store.getTags('f'), {});
  assert.deepEqual(store.listVersions('f'), []);
  assert.equal(store.publishVersion('f', (version) => fn('f', { version })).version, '1', 'the counter rolled back');
  assert.deepEqual(store.updateTags('f', { a: '1', b: '2' }, []), { a: '1', b: '2' });
  assert.deepEqual(store.updateTags('f', { c: '3' }, ['a']), { b: '2', c: '3' });
});

test('metadata: reserved concurrency totals and functions still in transition', async (t) => {
  const store = open(t, await tempDb(t));
  store.createFunction(fn('a'), {});
  store.createFunction(fn('b', { state: 'Pending' }), {});
  store.createFunction(fn('c', { lastUpdateStatus: 'InProgress' }), {});
  store.setReservedConcurrency('a', 10);
  store.setReservedConcurrency('b', 5);
  assert.equal(store.totalReservedConcurrency(), 15);
  assert.equal(store.totalReservedConcurrency('a'), 5);
  assert.deepEqual(
    store.functionsInTransition().map((r) => r.name),
    ['b', 'c'],
  );
  assert.deepEqual(store.countFunctions(), { count: 3, codeSize: 30 });
});

test('metadata: the event queue hands out due events oldest first', async (t) => {
  const store = open(t, await tempDb(t));
  const event = (id: string, notBefore: number, enqueuedAt: number) => ({
    id,
    functionName: 'f',
    qualifier: '1',
    payload: Buffer.from(id),
    attempts: 0,
    notBefore,
    enqueuedAt,
  });
  store.enqueueEvent(event('late', 500, 1));
  store.enqueueEvent(event('b', 100, 2));
  store.enqueueEvent(event('a', 100, 1));
  assert.deepEqual(
    store.dueEvents(200, 10).map((e) => e.id),
    ['a', 'b'],
  );
  store.rescheduleEvent('a', 1, 1000);
  const due = store.dueEvents(600, 10);
  assert.deepEqual(
    due.map((e) => [e.id, e.payload.toString()]),
    [
      ['b', 'b'],
      ['late', 'late'],
    ],
  );
  assert.equal(store.dueEvents(1000, 10).find((e) => e.id === 'a')?.attempts, 1);
  store.deleteVersion('f', '1');
  assert.equal(store.pendingEvents(), 0, 'deleting a version drops its queued events');
});

test('metadata: schema migrations bring an older data directory forward; a newer one is refused', async (t) => {
  const file = await tempDb(t);
  // A data directory as the first schema left it (user_version 1).
  const first = new MetadataStore(file);
  first.createFunction(fn('kept'), {});
  first.close();
  const raw = new DatabaseSync(file);
  raw.exec(
    'DROP INDEX IF EXISTS event_queue_due; ALTER TABLE event_queue DROP COLUMN tenant_id; PRAGMA user_version = 1;',
  );
  raw.close();
  const migrated = new MetadataStore(file);
  assert.equal(migrated.schemaVersion, SCHEMA_VERSION);
  assert.equal(migrated.getFunction('kept')?.name, 'kept');
  migrated.enqueueEvent({
    id: 'e',
    functionName: 'kept',
    qualifier: '$LATEST',
    payload: Buffer.from('{}'),
    attempts: 0,
    notBefore: 0,
    enqueuedAt: 0,
    tenantId: 'blue',
  });
  assert.equal(migrated.dueEvents(1, 10)[0]?.tenantId, 'blue', 'the columns later migrations add are there');
  migrated.close();
  const newer = new DatabaseSync(file);
  newer.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1};`);
  newer.close();
  assert.throws(() => new MetadataStore(file), /written by a newer Lambkin/);
});

test('metadata: a write acknowledged by the store survives kill -9 of the process that made it', async (t) => {
  const file = await tempDb(t);
  const script = `
    import { MetadataStore } from ${JSON.stringify(join(import.meta.dirname, 'metadata.ts'))};
    const store = new MetadataStore(${JSON.stringify(file)});
    let i = 0;
    for (;;) {
      store.addLayerVersion({ layerName: 'l', description: '', licenseInfo: null, compatibleRuntimes: [],
        compatibleArchitectures: [], codeSha256Hex: '', codeSha256: '', codeSize: 0, unzippedSize: 0, createdDate: '' });
      i++;
      if (i === 20) process.stdout.write('acked 20\\n');
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('acked 20')) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', (code) => {
      reject(new Error(`writer exited early (${String(code)})`));
    });
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const store = open(t, file);
  const versions = store.listLayerVersions('l');
  assert.ok(versions.length >= 20, `every acknowledged write is there (found ${versions.length})`);
  assert.equal(versions[0]?.version, versions.length, 'no gap, no torn write');
  assert.equal(store.addLayerVersion(layer('l')).version, versions.length + 1);
});
