/**
 * @module platform/storage/blob-store
 * Content-addressed blobs (zips) on disk, named by SHA-256. A blob is written to a temporary file on the same
 * file system, fsynced, renamed into place and its directory fsynced: a half-written upload is never visible and
 * an acknowledged one survives `kill -9`. Identical content is stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface BlobInfo {
  sha256Hex: string;
  /** Lambda's `CodeSha256`: base64 of the SHA-256 of the bytes. */
  sha256Base64: string;
  size: number;
  path: string;
}

export class BlobStore {
  readonly #root: string;

  constructor(rootDir: string) {
    this.#root = rootDir;
  }

  path(sha256Hex: string): string {
    return join(this.#root, sha256Hex.slice(0, 2), sha256Hex);
  }

  async has(sha256Hex: string): Promise<boolean> {
    return stat(this.path(sha256Hex)).then(
      () => true,
      () => false,
    );
  }

  putBuffer(data: Buffer): Promise<BlobInfo> {
    return this.putStream(Readable.from([data]));
  }

  putFile(srcPath: string): Promise<BlobInfo> {
    return this.putStream(createReadStream(srcPath));
  }

  async putStream(source: Readable): Promise<BlobInfo> {
    const tmpDir = join(this.#root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, tap, createWriteStream(tmp, { mode: 0o644 }));
      await fsync(tmp);
      const digest = hash.digest();
      const sha256Hex = digest.toString('hex');
      const final = this.path(sha256Hex);
      await mkdir(join(final, '..'), { recursive: true });
      await rename(tmp, final);
      await fsync(join(final, '..'));
      return { sha256Hex, sha256Base64: digest.toString('base64'), size, path: final };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async delete(sha256Hex: string): Promise<void> {
    await rm(this.path(sha256Hex), { force: true });
  }
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
