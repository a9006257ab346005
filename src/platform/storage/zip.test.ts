import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test, type TestContext } from 'node:test';
import yazl from 'yazl';
import { buildZip, dirEntry, fileEntry, hostileZips, symlinkEntry, type TestZipEntry } from './test-zip.ts';
import { copyTree, extractZip, inspectZip } from './zip.ts';

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-zip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeZip(path: string, entries: TestZipEntry[]): Promise<string> {
  await writeFile(path, buildZip(entries));
  return path;
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

test('extract: a yazl archive keeps its modes, directories become 0755, symlinks stay links, whatever the umask', async (t) => {
  const dir = await scratch(t);
  const previous = process.umask(0o077);
  t.after(() => process.umask(previous));
  const mtime = new Date('2021-05-06T07:08:10Z');
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('#!/bin/sh\necho hi\n'), 'bootstrap', { mode: 0o100755, mtime });
  zip.addBuffer(Buffer.from('exports.handler = 1;\n'), 'handler.js', { mode: 0o100644 });
  zip.addEmptyDirectory('lib', { mode: 0o040700 });
  zip.addBuffer(Buffer.from('ELF'), 'lib/libx.so.1', { mode: 0o100755 });
  zip.addBuffer(Buffer.from('libx.so.1'), 'lib/libx.so', { mode: 0o120777 });
  zip.addBuffer(Buffer.from('/etc/ssl/certs/ca-certificates.crt'), 'ca.pem', { mode: 0o120777 });
  zip.addBuffer(Buffer.from('x'), 'setuid', { mode: 0o106755 });
  zip.addBuffer(Buffer.from('secret'), 'private.txt', { mode: 0o100600 });
  zip.addBuffer(Buffer.alloc(100_000, 'a'), 'deep/er/big.txt', { mode: 0o100644, compress: true });
  zip.end();
  const file = join(dir, 'code.zip');
  await writeFile(file, await buffer(zip.outputStream));

  const out = join(dir, 'out');
  await mkdir(out);
  const expectedBytes = 18 + 21 + 3 + 9 + 34 + 1 + 6 + 100_000;
  assert.deepEqual(await inspectZip(file), { entries: 9, unzippedBytes: expectedBytes });
  assert.deepEqual(await readdir(out), [], 'inspect writes nothing');
  assert.deepEqual(await extractZip(file, out), { entries: 9, unzippedBytes: expectedBytes });

  assert.equal(await modeOf(join(out, 'bootstrap')), 0o755);
  assert.equal(await modeOf(join(out, 'handler.js')), 0o644);
  assert.equal(await modeOf(join(out, 'lib')), 0o755);
  assert.equal(await modeOf(join(out, 'deep')), 0o755, 'implicit parents are 0755 too');
  assert.equal(await modeOf(join(out, 'deep/er')), 0o755);
  assert.equal(await modeOf(join(out, 'lib/libx.so.1')), 0o755);
  assert.equal(await modeOf(join(out, 'setuid')), 0o755, 'setuid and setgid stripped');
  assert.equal(await modeOf(join(out, 'private.txt')), 0o600, 'kept as in the zip, as Lambda does');
  assert.equal(await readlink(join(out, 'lib/libx.so')), 'libx.so.1');
  assert.equal(await readlink(join(out, 'ca.pem')), '/etc/ssl/certs/ca-certificates.crt');
  assert.equal(await readFile(join(out, 'deep/er/big.txt'), 'utf8'), 'a'.repeat(100_000));
  assert.equal((await stat(join(out, 'bootstrap'))).mtime.getTime(), mtime.getTime(), 'mtime from the archive');
});

test('extract: large entries stream, many small ones are written concurrently, all intact', async (t) => {
  const dir = await scratch(t);
  const big = randomBytes(1536 * 1024 + 5);
  const zip = new yazl.ZipFile();
  zip.addBuffer(big, 'data/big.bin', { mode: 0o100640, compress: true });
  zip.addBuffer(big, 'data/big-stored.bin', { mode: 0o100644, compress: false });
  for (let i = 0; i < 300; i++) {
    zip.addBuffer(Buffer.from(`file ${i}\n`.repeat(i)), `node_modules/p${i % 13}/lib/f${i}.js`, { mode: 0o100644 });
  }
  zip.end();
  const file = join(dir, 'many.zip');
  await writeFile(file, await buffer(zip.outputStream));
  const out = join(dir, 'out');
  await mkdir(out);
  assert.equal((await extractZip(file, out)).entries, 302);
  assert.ok((await readFile(join(out, 'data/big.bin'))).equals(big));
  assert.ok((await readFile(join(out, 'data/big-stored.bin'))).equals(big));
  assert.equal(await modeOf(join(out, 'data/big.bin')), 0o640);
  await Promise.all(
    Array.from({ length: 300 }, async (_, i) => {
      const path = join(out, `node_modules/p${i % 13}/lib/f${i}.js`);
      assert.equal(await readFile(path, 'utf8'), `file ${i}\n`.repeat(i), path);
    }),
  );
});

test('extract: entries without Unix attributes (Windows-made) get 0644, directories 0755', async (t) => {
  const dir = await scratch(t);
  const file = await writeZip(join(dir, 'win.zip'), [
    { name: 'dos.txt', data: 'dos' },
    { name: 'ntfs.exe', data: 'MZ', versionMadeBy: (10 << 8) | 20, externalAttributes: 0x20 },
    { name: 'folder', versionMadeBy: 20, externalAttributes: 0x10 },
    { name: 'folder/inside.txt', data: 'in' },
    { name: 'typeless', data: 'unix, no permission bits', mode: 0o100000 },
  ]);
  const out = join(dir, 'out');
  await mkdir(out);
  await extractZip(file, out);
  assert.equal(await modeOf(join(out, 'dos.txt')), 0o644);
  assert.equal(await modeOf(join(out, 'ntfs.exe')), 0o644);
  assert.ok((await stat(join(out, 'folder'))).isDirectory());
  assert.equal(await modeOf(join(out, 'folder')), 0o755);
  assert.equal(await modeOf(join(out, 'folder/inside.txt')), 0o644);
  assert.equal(await modeOf(join(out, 'typeless')), 0o644);
});

test('extract: UTF-8 and CP437 names decode as unzip would', async (t) => {
  const dir = await scratch(t);
  const file = await writeZip(join(dir, 'names.zip'), [
    fileEntry('ünïcödé.txt', 'utf8'),
    { name: Buffer.from([0x81, 0x2e, 0x74, 0x78, 0x74]), data: 'cp437', mode: 0o100644, flags: 0 },
  ]);
  const out = join(dir, 'out');
  await mkdir(out);
  await extractZip(file, out);
  assert.deepEqual((await readdir(out)).sort(), ['ü.txt', 'ünïcödé.txt']);
});

test('extract: three overlapping layers merge in order (files overwritten, directories merged, file ⇄ symlink)', async (t) => {
  const dir = await scratch(t);
  const opt = join(dir, 'opt');
  await mkdir(opt);
  const l1 = await writeZip(join(dir, '1.zip'), [
    fileEntry('bin/tool', 'tool v1', 0o755),
    fileEntry('lib/a.txt', 'a1'),
    fileEntry('share/x', 'x is a file in layer 1'),
    symlinkEntry('link', 'lib/a.txt'),
    dirEntry('gone'),
    fileEntry('gone/child', 'will be replaced by a file'),
  ]);
  const l2 = await writeZip(join(dir, '2.zip'), [
    fileEntry('lib/a.txt', 'a2'),
    fileEntry('lib/b.txt', 'b2'),
    symlinkEntry('share/x', '../lib/b.txt'),
    fileEntry('link', 'link is a file in layer 2'),
    fileEntry('gone', 'a file where layer 1 had a directory'),
  ]);
  const l3 = await writeZip(join(dir, '3.zip'), [
    fileEntry('lib/a.txt', 'a3 (shorter)'.slice(0, 2)),
    fileEntry('lib/c.txt', 'c3'),
    fileEntry('share/x', 'x is a file again'),
    fileEntry('bin/tool', 'tool v3', 0o700),
  ]);
  await extractZip(l1, opt);
  await extractZip(l2, opt);
  assert.equal(await readFile(join(opt, 'lib/a.txt'), 'utf8'), 'a2', 'layer 2 file not written through the link');
  assert.equal(await readlink(join(opt, 'share/x')), '../lib/b.txt', 'a file replaced by a later symlink');
  assert.equal(await readFile(join(opt, 'link'), 'utf8'), 'link is a file in layer 2', 'a symlink replaced by a file');
  assert.equal(await readFile(join(opt, 'gone'), 'utf8'), 'a file where layer 1 had a directory');
  await extractZip(l3, opt);
  assert.equal(await readFile(join(opt, 'lib/a.txt'), 'utf8'), 'a3');
  assert.deepEqual((await readdir(join(opt, 'lib'))).sort(), ['a.txt', 'b.txt', 'c.txt'], 'directories merge');
  assert.ok((await lstat(join(opt, 'share/x'))).isFile(), 'a symlink replaced by a later file');
  assert.equal(await readFile(join(opt, 'share/x'), 'utf8'), 'x is a file again');
  assert.equal(await readFile(join(opt, 'lib/b.txt'), 'utf8'), 'b2', 'the old link target is untouched');
  assert.equal(await readFile(join(opt, 'bin/tool'), 'utf8'), 'tool v3');
  assert.equal(await modeOf(join(opt, 'bin/tool')), 0o700, 'the later layer’s mode wins');
});

test('extract: a symlink already in the destination is never passed through, nor written through', async (t) => {
  const dir = await scratch(t);
  const opt = join(dir, 'opt');
  const outside = join(dir, 'outside');
  await mkdir(opt);
  await mkdir(outside);
  await writeFile(join(outside, 'victim.txt'), 'untouched');
  await symlink(outside, join(opt, 'sub'));
  await symlink(join(outside, 'victim.txt'), join(opt, 'victim.txt'));
  const through = await writeZip(join(dir, 'through.zip'), [fileEntry('sub/evil.txt', 'x')]);
  await assert.rejects(extractZip(through, opt), { code: 'ERR_ZIP_UNSAFE', message: /passes through a symbolic link/ });
  const deep = await writeZip(join(dir, 'deep.zip'), [dirEntry('sub/deeper')]);
  await assert.rejects(extractZip(deep, opt), { code: 'ERR_ZIP_UNSAFE' });
  const explicit = await writeZip(join(dir, 'explicit.zip'), [dirEntry('sub'), fileEntry('sub/evil.txt', 'x')]);
  await assert.rejects(extractZip(explicit, opt), { code: 'ERR_ZIP_UNSAFE' }, 'listing the directory changes nothing');
  const over = await writeZip(join(dir, 'over.zip'), [fileEntry('victim.txt', 'replaced')]);
  await extractZip(over, opt);
  assert.deepEqual(await readdir(outside), ['victim.txt']);
  assert.equal(await readFile(join(outside, 'victim.txt'), 'utf8'), 'untouched');
  assert.equal(await readFile(join(opt, 'victim.txt'), 'utf8'), 'replaced');
  assert.ok((await lstat(join(opt, 'victim.txt'))).isFile());
});

test('hostile corpus: inspect and extract refuse every archive with its code, and nothing lands outside', async (t) => {
  const dir = await scratch(t);
  for (const [name, { bytes, code }] of Object.entries(hostileZips())) {
    const file = join(dir, `${name}.zip`);
    await writeFile(file, bytes);
    await assert.rejects(inspectZip(file), { code }, `inspect ${name}`);
    const parent = join(dir, `out-${name}`);
    const dest = join(parent, 'deep', 'dest');
    await mkdir(dest, { recursive: true });
    await assert.rejects(extractZip(file, dest), { code }, `extract ${name}`);
    assert.deepEqual(await readdir(parent), ['deep'], `${name} wrote beside its destination`);
    assert.deepEqual(await readdir(join(parent, 'deep')), ['dest'], `${name} wrote beside its destination`);
  }
  assert.deepEqual(
    (await readdir(dir)).filter((n) => !n.endsWith('.zip') && !n.startsWith('out-')),
    [],
  );
});

test('hostile corpus: the empty archive gets the Lambda message', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'empty.zip');
  await writeFile(file, buildZip([]));
  await assert.rejects(inspectZip(file), { code: 'ERR_ZIP_INVALID', message: 'Uploaded file must be a non-empty zip' });
});

test('limits: the unzipped total counts real bytes (overlapping entries), exactly the limit is allowed', async (t) => {
  const dir = await scratch(t);
  const kernel = randomBytes(100_000);
  const overlapping = await writeZip(join(dir, 'overlap.zip'), [
    fileEntry('k0', kernel),
    ...Array.from({ length: 9 }, (_, i): TestZipEntry => ({ name: `k${i + 1}`, mode: 0o100644, sameDataAs: 0 })),
  ]);
  assert.equal((await stat(overlapping)).size < 110_000, true, 'ten entries share one copy of the data');
  await assert.rejects(inspectZip(overlapping, { maxUnzippedBytes: 500_000 }), {
    code: 'ERR_ZIP_TOO_LARGE',
    message: 'Unzipped size must be smaller than 500000 bytes',
  });
  assert.deepEqual(await inspectZip(overlapping, { maxUnzippedBytes: 1_000_000 }), {
    entries: 10,
    unzippedBytes: 1_000_000,
  });
  const lying = await writeZip(join(dir, 'lying.zip'), [
    { ...fileEntry('a', Buffer.alloc(4096, 1)), declaredSize: 10 },
  ]);
  await assert.rejects(inspectZip(lying, { maxUnzippedBytes: 1000 }), (err: { code: string }) =>
    ['ERR_ZIP_INVALID', 'ERR_ZIP_TOO_LARGE'].includes(err.code),
  );
});

test('limits: too many entries, and the ratio cap (only past 1 MiB per entry)', async (t) => {
  const dir = await scratch(t);
  const five = await writeZip(
    join(dir, 'five.zip'),
    Array.from({ length: 5 }, (_, i) => fileEntry(`f${i}`, 'x')),
  );
  await assert.rejects(inspectZip(five, { maxEntries: 4 }), { code: 'ERR_ZIP_TOO_LARGE' });
  assert.equal((await inspectZip(five, { maxEntries: 5 })).entries, 5);

  const zeros = (size: number): TestZipEntry => ({ ...fileEntry('z', Buffer.alloc(size)), method: 'deflate' });
  const small = await writeZip(join(dir, 'small.zip'), [zeros(1024 * 1024)]);
  assert.equal((await inspectZip(small)).unzippedBytes, 1024 * 1024, 'a 1 MiB entry is never refused for its ratio');
  const bomb = await writeZip(join(dir, 'bomb.zip'), [zeros(4 * 1024 * 1024)]);
  await assert.rejects(inspectZip(bomb), { code: 'ERR_ZIP_TOO_LARGE', message: /zip bomb/ });
  assert.equal((await inspectZip(bomb, { maxRatio: 2000 })).unzippedBytes, 4 * 1024 * 1024);
});

test('copyTree: a directory source follows the extraction rules', async (t) => {
  const dir = await scratch(t);
  const src = join(dir, 'src');
  await mkdir(join(src, 'bin'), { recursive: true });
  await writeFile(join(src, 'bin/run'), '#!/bin/sh\n');
  await chmod(join(src, 'bin/run'), 0o700);
  await writeFile(join(src, 'private.txt'), 'p');
  await chmod(join(src, 'private.txt'), 0o600);
  await chmod(join(src, 'bin'), 0o700);
  await symlink('/etc/ssl/certs/ca-certificates.crt', join(src, 'ca.pem'));
  await symlink('bin/run', join(src, 'run'));
  const out = join(dir, 'out');
  await mkdir(out);
  assert.deepEqual(await copyTree(src, out), { entries: 5, unzippedBytes: 11 });
  assert.equal(await modeOf(join(out, 'bin')), 0o755);
  assert.equal(await modeOf(join(out, 'bin/run')), 0o755);
  assert.equal(await modeOf(join(out, 'private.txt')), 0o644);
  assert.equal(await readlink(join(out, 'ca.pem')), '/etc/ssl/certs/ca-certificates.crt');
  assert.equal(await readlink(join(out, 'run')), 'bin/run');

  const outside = join(dir, 'outside');
  await mkdir(outside);
  const linked = join(dir, 'linked');
  await mkdir(linked);
  await symlink(outside, join(linked, 'bin'));
  await assert.rejects(copyTree(src, linked), { code: 'ERR_ZIP_UNSAFE' });
  assert.deepEqual(await readdir(outside), []);

  const escaping = join(dir, 'escaping');
  await mkdir(escaping);
  await symlink('../outside', join(escaping, 'up'));
  await assert.rejects(copyTree(escaping, join(dir, 'out')), { code: 'ERR_ZIP_UNSAFE' });
});
