/**
 * @module platform/storage/blob-store
 * Content-addressed blobs (uploaded zips) on disk, at `<root>/<aa>/<sha256 hex>`. A blob is streamed to a temporary
 * file on the same file system (`<root>/tmp`), fsynced, renamed into place and its directory fsynced: a half-written
 * upload is never visible under its name, and an acknowledged one survives `kill -9` (and a power cut). Identical
 * content is stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PlatformError } from '../errors.ts';

export interface BlobInfo {
  /** Lower-case hex SHA-256: the blob's name. */
  sha256Hex: string;
  /** Lambda's `CodeSha256`: base64 of the SHA-256 of the bytes. */
  sha256Base64: string;
  size: number;
  path: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Temporary files of a live process are left alone unless they are this old (a pid can be reused). */
const STALE_TMP_MS = 24 * 60 * 60_000;

export class BlobStore {
  readonly #root: string;
  readonly #tmp: string;
  #ready: Promise<void> | null = null;

  constructor(rootDir: string) {
    this.#root = rootDir;
    this.#tmp = join(rootDir, 'tmp');
  }

  /** Where the blob named `sha256Hex` lives (whether or not it exists). */
  path(sha256Hex: string): string {
    if (!SHA256_HEX.test(sha256Hex)) {
      throw new PlatformError('ERR_INTERNAL', `Not a lower-case hex SHA-256: ${JSON.stringify(sha256Hex)}`);
    }
    return join(this.#root, sha256Hex.slice(0, 2), sha256Hex);
  }

  async has(sha256Hex: string): Promise<boolean> {
    if (!SHA256_HEX.test(sha256Hex)) return false;
    const st = await lstat(this.path(sha256Hex)).catch(() => null);
    return st?.isFile() === true;
  }

  putBuffer(data: Buffer): Promise<BlobInfo> {
    return this.putStream(Readable.from([data], { objectMode: false }));
  }

  putFile(srcPath: string): Promise<BlobInfo> {
    return this.putStream(createReadStream(srcPath));
  }

  /** Stores everything `source` yields; resolves once the blob is durable under its name. */
  async putStream(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    await this.#prepare();
    const tmp = join(this.#tmp, `${process.pid}-${randomBytes(8).toString('hex')}`);
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
      // `flush` fsyncs the file before it is closed.
      await pipeline(source, tap, createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: true }));
      const digest = hash.digest();
      const sha256Hex = digest.toString('hex');
      const final = this.path(sha256Hex);
      const info = { sha256Hex, sha256Base64: digest.toString('base64'), size, path: final };
      if (await this.has(sha256Hex)) return info; // dedupe: the same bytes are already stored
      const created = await mkdir(dirname(final), { recursive: true });
      await rename(tmp, final);
      await fsyncDir(dirname(final));
      if (created !== undefined) await fsyncDir(this.#root);
      return info;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async delete(sha256Hex: string): Promise<void> {
    if (!SHA256_HEX.test(sha256Hex)) return;
    await rm(this.path(sha256Hex), { force: true });
  }

  /** Creates the root once and removes temporary files left by a process that died mid-upload. */
  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#tmp, { recursive: true });
      for (const name of await readdir(this.#tmp)) {
        const pid = Number(name.split('-')[0]);
        const st = await lstat(join(this.#tmp, name)).catch(() => null);
        if (st === null) continue;
        const stale = Date.now() - st.mtimeMs > STALE_TMP_MS;
        if (!stale && Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) continue;
        await rm(join(this.#tmp, name), { recursive: true, force: true });
      }
    })().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
