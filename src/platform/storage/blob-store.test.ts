import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { BlobStore } from './blob-store.ts';

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-blob-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `openssl dgst -sha256 -binary | base64`, the way Lambda's CodeSha256 is usually checked by hand. */
function opensslBase64(path: string): string | null {
  try {
    return execFileSync('sh', ['-c', 'openssl dgst -sha256 -binary "$1" | base64', 'sh', path], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return null;
  }
}

test('blobs: names and hashes match the standard SHA-256 (hex and Lambda CodeSha256 base64)', async (t) => {
  const root = join(await scratch(t), 'blobs');
  const store = new BlobStore(root);
  const empty = await store.putBuffer(Buffer.alloc(0));
  assert.equal(empty.sha256Hex, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(empty.sha256Base64, '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  assert.equal(empty.size, 0);
  const abc = await store.putBuffer(Buffer.from('abc'));
  assert.equal(abc.sha256Hex, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(abc.sha256Base64, 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  assert.equal(abc.path, join(root, 'ba', abc.sha256Hex));
  assert.equal(store.path(abc.sha256Hex), abc.path);
  assert.equal(await readFile(abc.path, 'utf8'), 'abc');
  const fromOpenssl = opensslBase64(abc.path);
  if (fromOpenssl !== null) assert.equal(fromOpenssl, abc.sha256Base64);
});

test('blobs: identical content from a buffer, a file and a stream is stored once', async (t) => {
  const dir = await scratch(t);
  const root = join(dir, 'blobs');
  const store = new BlobStore(root);
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 'z');
  const src = join(dir, 'src.bin');
  await writeFile(src, data);
  const a = await store.putBuffer(data);
  const b = await store.putFile(src);
  const c = await store.putStream(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
  assert.equal(a.size, data.length);
  assert.deepEqual((await readdir(root)).sort(), [a.sha256Hex.slice(0, 2), 'tmp']);
  assert.deepEqual(await readdir(join(root, a.sha256Hex.slice(0, 2))), [a.sha256Hex]);
  assert.deepEqual(await readdir(join(root, 'tmp')), [], 'no temporary file left');
  assert.equal(await store.has(a.sha256Hex), true);
  await store.delete(a.sha256Hex);
  assert.equal(await store.has(a.sha256Hex), false);
  await store.delete(a.sha256Hex); // idempotent
});

test('blobs: an upload is invisible until complete, and a failed one leaves nothing', async (t) => {
  const root = join(await scratch(t), 'blobs');
  const store = new BlobStore(root);
  const source = new PassThrough();
  const put = store.putStream(source);
  source.write(Buffer.from('half of '));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const partial = await readdir(root);
  assert.deepEqual(partial, ['tmp'], 'only the temporary file exists mid-upload');
  assert.equal((await readdir(join(root, 'tmp'))).length, 1);
  source.end(Buffer.from('the bytes'));
  const info = await put;
  assert.equal(await readFile(info.path, 'utf8'), 'half of the bytes');

  const failing = new PassThrough();
  const failed = store.putStream(failing);
  failing.write(Buffer.from('doomed'));
  setTimeout(() => failing.destroy(new Error('client went away')), 20);
  await assert.rejects(failed, /client went away/);
  assert.deepEqual((await readdir(root)).sort(), [info.sha256Hex.slice(0, 2), 'tmp']);
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('blobs: bad names are refused, temporary files of dead processes are swept', async (t) => {
  const root = join(await scratch(t), 'blobs');
  await mkdir(join(root, 'tmp'), { recursive: true });
  const dead = join(root, 'tmp', '999999999-deadbeef');
  await writeFile(dead, 'left by kill -9');
  const old = join(root, 'tmp', `${process.pid}-old`);
  await writeFile(old, 'two days old');
  await utimes(old, new Date(Date.now() - 2 * 86_400_000), new Date(Date.now() - 2 * 86_400_000));
  const store = new BlobStore(root);
  assert.throws(() => store.path('../../etc/passwd'), { code: 'ERR_INTERNAL' });
  assert.throws(() => store.path('BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'));
  assert.equal(await store.has('../x'), false);
  await store.putBuffer(Buffer.from('x'));
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});
