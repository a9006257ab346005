import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { cacheEntry, compileCacheKey, compileCacheSubdir, compileTypeScript } from '../../protocol/typescript-cache.ts';
import type { ArchiveRef } from '../environments/function-spec.ts';
import { ExtractionCache } from './extraction-cache.ts';
import { buildZip, fileEntry, symlinkEntry, type TestZipEntry } from './test-zip.ts';

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function archive(dir: string, entries: TestZipEntry[]): Promise<ArchiveRef> {
  const bytes = buildZip(entries);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = join(dir, `${sha256}.zip`);
  await writeFile(path, bytes);
  return { sha256, path };
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

test('cache: code is extracted once per sha, traversable by others whatever the umask', async (t) => {
  const dir = await scratch(t);
  const previous = process.umask(0o077);
  t.after(() => process.umask(previous));
  const root = join(dir, 'cache');
  const cache = new ExtractionCache({ rootDir: root });
  t.after(() => cache.dispose());
  const code = await archive(dir, [fileEntry('bootstrap', '#!/bin/sh\n', 0o755), fileEntry('lib/a.txt', 'a')]);

  const first = cache.codeDir(code);
  assert.equal(cache.codeDir(code), first, 'concurrent calls share one build');
  const codeDir = await first;
  assert.equal(codeDir, join(root, 'code', code.sha256));
  assert.equal(await readFile(join(codeDir, 'lib/a.txt'), 'utf8'), 'a');
  for (const path of [root, join(root, 'code'), codeDir, join(codeDir, 'lib'), join(codeDir, 'bootstrap')]) {
    assert.equal(await modeOf(path), 0o755, path);
  }
  assert.equal(await modeOf(join(codeDir, 'lib/a.txt')), 0o644);
  assert.deepEqual((await readdir(codeDir)).sort(), ['bootstrap', 'lib'], 'the marker is not inside /var/task');
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
  assert.notEqual(cache.codeDir(code), first, 'a finished build is not pinned in memory');
  assert.equal(await cache.codeDir(code), codeDir);
});

test('cache: a finished directory is reused across restarts, an unfinished one is rebuilt', async (t) => {
  const dir = await scratch(t);
  const root = join(dir, 'cache');
  const code = await archive(dir, [fileEntry('index.js', 'v1')]);
  const before = new ExtractionCache({ rootDir: root });
  const built = await before.codeDir(code);
  await before.dispose();
  await writeFile(join(built, 'sentinel'), 'still here');

  const after = new ExtractionCache({ rootDir: root });
  t.after(() => after.dispose());
  assert.equal(await after.codeDir(code), built);
  assert.equal(await readFile(join(built, 'sentinel'), 'utf8'), 'still here', 'reused, not rebuilt');

  await rm(`${built}.complete`);
  const again = new ExtractionCache({ rootDir: root });
  t.after(() => again.dispose());
  assert.equal(await again.codeDir(code), built);
  assert.deepEqual(await readdir(built), ['index.js'], 'rebuilt without the leftover');
  assert.ok((await lstat(`${built}.complete`)).isFile());
});

test('cache: /opt merges layers in order, keyed by the ordered list', async (t) => {
  const dir = await scratch(t);
  const root = join(dir, 'cache');
  const cache = new ExtractionCache({ rootDir: root });
  t.after(() => cache.dispose());
  const a = await archive(dir, [fileEntry('bootstrap', 'from a', 0o755), fileEntry('a-only', 'a')]);
  const b = await archive(dir, [fileEntry('bootstrap', 'from b', 0o755), symlinkEntry('b-link', 'bootstrap')]);

  assert.equal(await cache.optDir([]), null);
  const [ab, ba] = await Promise.all([cache.optDir([a, b]), cache.optDir([b, a])]);
  assert.ok(ab !== null && ba !== null);
  assert.notEqual(ab, ba);
  assert.equal(await readFile(join(ab, 'bootstrap'), 'utf8'), 'from b');
  assert.equal(await readFile(join(ba, 'bootstrap'), 'utf8'), 'from a');
  assert.equal(await readlink(join(ab, 'b-link')), 'bootstrap');
  assert.deepEqual((await readdir(ab)).sort(), ['a-only', 'b-link', 'bootstrap']);
  assert.equal(await modeOf(join(root, 'opt')), 0o755);
  assert.equal(await cache.optDir([a, b]), ab);
  assert.notEqual(await cache.optDir([a]), ab);
});

test('cache: a directory source is copied, symlinks verbatim', async (t) => {
  const dir = await scratch(t);
  const src = join(dir, 'runtime');
  await mkdir(join(src, 'bin'), { recursive: true });
  await writeFile(join(src, 'bin/node'), 'ELF');
  await symlink('/etc/ssl/certs/ca-certificates.crt', join(src, 'ca.pem'));
  const layer = await archive(dir, [fileEntry('extra.txt', 'extra')]);
  const cache = new ExtractionCache({ rootDir: join(dir, 'cache') });
  t.after(() => cache.dispose());
  const opt = await cache.optDir([{ sha256: 'runtime-dir-v1', path: src }, layer]);
  assert.ok(opt !== null);
  assert.deepEqual((await readdir(opt)).sort(), ['bin', 'ca.pem', 'extra.txt']);
  assert.equal(await readlink(join(opt, 'ca.pem')), '/etc/ssl/certs/ca-certificates.crt');
  assert.equal(await readFile(join(opt, 'bin/node'), 'utf8'), 'ELF');
});

test('cache: a refused layer leaves no directory, no marker and no scratch behind; the byte budget is shared', async (t) => {
  const dir = await scratch(t);
  const root = join(dir, 'cache');
  const cache = new ExtractionCache({ rootDir: root, limits: { maxUnzippedBytes: 150 } });
  t.after(() => cache.dispose());
  const good = await archive(dir, [fileEntry('ok', 'x'.repeat(100))]);
  const evil = await archive(dir, [symlinkEntry('up', '../../..'), fileEntry('z', 'z')]);
  await assert.rejects(cache.optDir([good, evil]), { code: 'ERR_ZIP_UNSAFE' });
  await assert.rejects(cache.optDir([good, good]), { code: 'ERR_ZIP_TOO_LARGE' });
  assert.ok((await cache.optDir([good])) !== null);
  assert.equal((await readdir(join(root, 'opt'))).length, 2, 'one directory and its marker');
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => !n.endsWith('.zip')),
    ['cache'],
  );
});

test('cache: dispose waits for builds in flight, then calls fail with ERR_DISPOSED', async (t) => {
  const dir = await scratch(t);
  const cache = new ExtractionCache({ rootDir: join(dir, 'cache') });
  const code = await archive(dir, [fileEntry('f', Buffer.alloc(1024 * 1024, 1))]);
  const building = cache.codeDir(code);
  await cache.dispose();
  assert.ok((await lstat(await building)).isDirectory());
  await assert.rejects(cache.codeDir(code), { code: 'ERR_DISPOSED' });
  await assert.rejects(cache.optDir([]), { code: 'ERR_DISPOSED' });
  await cache.dispose();
});

test('cache: TypeScript is compiled once per code into the cache the runtime reads first; none for JS-only code', async (t) => {
  const dir = await scratch(t);
  const cache = new ExtractionCache({ rootDir: join(dir, 'cache') });
  t.after(() => cache.dispose());
  const enumSource = 'enum Mood { Happy = "happy" }\nexport const handler = async () => Mood.Happy;\n';
  const plainSource = 'export const add = (a: number, b: number): number => a + b;\n';
  const code = await archive(dir, [
    fileEntry('index.ts', enumSource),
    fileEntry('lib/my file.mts', plainSource),
    fileEntry('broken.ts', 'export const = ;'),
    fileEntry('node_modules/dep/index.ts', plainSource),
  ]);
  const out = await cache.compileCacheDir(code);
  assert.equal(out, join(dir, 'cache', 'ts', code.sha256));
  const sub = join(out, compileCacheSubdir(process.version));
  const { stripTypeScriptTypes } = await import('node:module');
  for (const [rel, source] of [
    ['index.ts', enumSource],
    ['lib/my file.mts', plainSource],
  ] as const) {
    const url = pathToFileURL(`/var/task/${rel}`).href;
    const compiled = await readFile(join(sub, compileCacheKey(url, source)), 'utf8');
    assert.equal(compiled, cacheEntry(compileTypeScript(stripTypeScriptTypes, source, url)), rel);
  }
  assert.equal((await readdir(sub)).length, 2, 'files that do not compile and node_modules are left to the runtime');
  assert.equal(await cache.compileCacheDir(code), out, 'reused');

  const js = await archive(dir, [fileEntry('index.mjs', 'export const handler = async () => 1;')]);
  assert.equal(await cache.compileCacheDir(js), null);
  const again = new ExtractionCache({ rootDir: join(dir, 'cache') });
  t.after(() => again.dispose());
  assert.equal(await again.compileCacheDir(js), null, 'the marker says so after a restart');
  assert.equal(await again.compileCacheDir(code), out);
});
