import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostileCorpus, rawZip } from '../../../test/helpers/raw-zip.ts';
import { extractZip, inspectZip } from './zip.ts';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-zip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('zip: modes kept from Unix attributes, DOS entries get 0644, directories 0755, symlinks kept', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'a.zip');
  await writeFile(
    file,
    rawZip([
      { name: 'bootstrap', data: '#!/bin/sh\n', mode: 0o100755 },
      { name: 'lib/', mode: 0o040700 },
      { name: 'lib/data.txt', data: 'x', mode: 0o104644 },
      { name: 'dos.txt', data: 'y' },
      { name: 'lib/ca.pem', data: '/etc/ssl/certs/ca-certificates.crt', mode: 0o120777 },
      { name: 'lib/rel', data: 'data.txt', mode: 0o120777 },
    ]),
  );
  const out = join(dir, 'out');
  await mkdir(out);
  const summary = await extractZip(file, out);
  assert.equal(summary.entries, 6);
  assert.equal((await stat(join(out, 'bootstrap'))).mode & 0o7777, 0o755);
  assert.equal((await stat(join(out, 'lib'))).mode & 0o7777, 0o755);
  assert.equal((await stat(join(out, 'lib/data.txt'))).mode & 0o7777, 0o644, 'setuid stripped');
  assert.equal((await stat(join(out, 'dos.txt'))).mode & 0o7777, 0o644);
  assert.equal(await readlink(join(out, 'lib/ca.pem')), '/etc/ssl/certs/ca-certificates.crt');
  assert.ok((await lstat(join(out, 'lib/rel'))).isSymbolicLink());
});

test('zip: layers merge, a later file replaces an earlier symlink (never written through)', async (t) => {
  const dir = await scratch(t);
  const out = join(dir, 'opt');
  await mkdir(out);
  const victim = join(dir, 'victim.txt');
  await writeFile(victim, 'untouched');
  await writeFile(
    join(dir, '1.zip'),
    rawZip([
      { name: 'x', data: 'victim.txt', mode: 0o120777 },
      { name: 'd/one', data: '1', mode: 0o100644 },
    ]),
  );
  await writeFile(
    join(dir, '2.zip'),
    rawZip([
      { name: 'x', data: 'second', mode: 0o100644 },
      { name: 'd/two', data: '2', mode: 0o100644 },
    ]),
  );
  await extractZip(join(dir, '1.zip'), out);
  await extractZip(join(dir, '2.zip'), out);
  assert.equal(await readFile(join(out, 'x'), 'utf8'), 'second');
  assert.equal(await readFile(victim, 'utf8'), 'untouched');
  assert.deepEqual((await readdir(join(out, 'd'))).sort(), ['one', 'two']);
});

test('zip: a symlink left by an earlier layer is never passed through by a later one', async (t) => {
  const dir = await scratch(t);
  const out = join(dir, 'opt');
  await mkdir(out);
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, '1.zip'), rawZip([{ name: 'sub', data: '/tmp', mode: 0o120777 }]));
  await writeFile(join(dir, '2.zip'), rawZip([{ name: 'sub/evil.txt', data: 'x', mode: 0o100644 }]));
  await extractZip(join(dir, '1.zip'), out);
  await assert.rejects(extractZip(join(dir, '2.zip'), out), { code: 'ERR_ZIP_UNSAFE' });
  await assert.rejects(stat('/tmp/evil.txt'));
});

test('zip: every archive of the hostile corpus is refused and nothing lands outside', async (t) => {
  const dir = await scratch(t);
  const expected: Record<string, string> = {
    'zip-slip': 'ERR_ZIP_UNSAFE',
    'zip-slip-nested': 'ERR_ZIP_UNSAFE',
    'absolute-path': 'ERR_ZIP_UNSAFE',
    'backslash-slip': 'ERR_ZIP_UNSAFE',
    'symlink-escape-then-write': 'ERR_ZIP_UNSAFE',
    'symlink-relative-escape': 'ERR_ZIP_UNSAFE',
    'through-absolute-symlink': 'ERR_ZIP_UNSAFE',
    'duplicate-entries': 'ERR_ZIP_INVALID',
    'zip-bomb-ratio': 'ERR_ZIP_TOO_LARGE',
    'lying-size': 'ERR_ZIP_INVALID',
    'crc-mismatch': 'ERR_ZIP_INVALID',
    truncated: 'ERR_ZIP_INVALID',
    'corrupt-bytes': 'ERR_ZIP_INVALID',
    'not-a-zip': 'ERR_ZIP_INVALID',
    'empty-zip': 'ERR_ZIP_INVALID',
  };
  const corpus = hostileCorpus();
  assert.deepEqual(Object.keys(corpus).sort(), Object.keys(expected).sort());
  for (const [name, bytes] of Object.entries(corpus)) {
    const file = join(dir, `${name}.zip`);
    await writeFile(file, bytes);
    await assert.rejects(inspectZip(file), { code: expected[name] }, `inspect ${name}`);
    const out = join(dir, `out-${name}`, 'deep', 'dest');
    await mkdir(out, { recursive: true });
    await assert.rejects(extractZip(file, out), { code: expected[name] }, `extract ${name}`);
    assert.deepEqual(await readdir(join(dir, `out-${name}`)), ['deep'], `${name} wrote beside its destination`);
    assert.deepEqual(await readdir(join(dir, `out-${name}`, 'deep')), ['dest'], `${name} wrote beside its destination`);
  }
  await assert.rejects(stat(join(dir, 'evil.txt')));
});

test('zip: the unzipped-size limit counts real bytes', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'big.zip');
  await writeFile(file, rawZip([{ name: 'a', data: Buffer.alloc(4096, 1), declaredSize: 10, mode: 0o100644 }]));
  await assert.rejects(
    inspectZip(file, { maxUnzippedBytes: 1000 }),
    /Unzipped size must be smaller than 1000 bytes|Could not unzip/,
  );
  const fine = join(dir, 'fine.zip');
  await writeFile(fine, rawZip([{ name: 'a', data: Buffer.alloc(900, 1), mode: 0o100644 }]));
  assert.deepEqual(await inspectZip(fine, { maxUnzippedBytes: 1000 }), { entries: 1, unzippedBytes: 900 });
});
