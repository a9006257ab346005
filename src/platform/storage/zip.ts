/**
 * @module platform/storage/zip
 * Zip archives (function code and layers) are hostile input. This module never holds a whole archive in memory
 * (entries of at most 1 MiB are read whole, larger ones are streamed, the central directory is read in blocks),
 * counts the real decompressed bytes (declared sizes lie in zip bombs), checks every CRC-32, and refuses anything
 * that could write outside its destination: absolute names, `..` segments, backslash separators, NUL bytes,
 * duplicate names, relative symlinks that resolve outside the archive root, and entries that would pass through a
 * symlink (one from this archive, or one already in the destination).
 *
 * Modes follow LAMBDA-FACTS §7: the Unix mode from the external attributes (`>>> 16`) when the entry was made on
 * Unix, with setuid/setgid/sticky stripped; 0644 for files without Unix attributes; 0755 for every directory.
 * Absolute symlink targets are kept: they resolve inside the sandbox at run time, and the host never follows them.
 *
 * `copyTree` applies the same rules to a directory source (an {@link ArchiveRef} may name a directory).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
  unlink,
  utimes,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { isPlatformError, PlatformError } from '../errors.ts';

export interface ZipLimits {
  /** Total decompressed bytes of the archive (Lambda: 262,144,000 for function + layers). */
  maxUnzippedBytes: number;
  /** Entries of the archive, directories included. */
  maxEntries: number;
  /** Largest decompressed:compressed ratio of one entry, checked once the entry passes 1 MiB. */
  maxRatio: number;
}

/**
 * Deflate cannot do better than about 1032:1, so a cap of 1000 refuses only entries over 1 MiB that are almost
 * entirely one repeated byte (the classic bomb kernel); the real defence is counting every decompressed byte.
 */
export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxUnzippedBytes: 262_144_000,
  maxEntries: 50_000,
  maxRatio: 1000,
});

/** Entries that decompress to less than this are never refused for their ratio. */
const RATIO_FLOOR_BYTES = 1024 * 1024;
/** Linux PATH_MAX minus the terminating NUL. */
const MAX_LINK_TARGET_BYTES = 4095;
/** Linux gives up (ELOOP) after 40 links; so does the escape check. */
const MAX_LINK_HOPS = 40;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** "Version made by" host bytes whose external attributes carry a Unix mode: 3 = Unix, 19 = OS X. */
const UNIX_HOSTS = new Set([3, 19]);
/** MS-DOS directory attribute, in the low byte of the external attributes. */
const DOS_DIRECTORY = 0x10;

export interface ZipSummary {
  entries: number;
  unzippedBytes: number;
}

type EntryKind = 'file' | 'directory' | 'symlink';

/**
 * Validates an archive completely without writing anything: structure, names, symlink targets, the real size of
 * every entry (each one is decompressed and counted) and every CRC-32. Stops at the first limit passed.
 */
export function inspectZip(zipPath: string, limits?: Partial<ZipLimits>): Promise<ZipSummary> {
  return walkZip(zipPath, resolveLimits(limits), null);
}

/**
 * Extracts into `destDir`, which may already hold earlier layers: directories merge, a file or symlink replaces
 * whatever was at its path (unlinked first, never written through), and no entry is ever created through a
 * symlink. A refused archive stops at the first bad entry and may leave a partial tree inside `destDir` (never
 * outside it): callers extract into a scratch directory and discard it on error.
 */
export function extractZip(zipPath: string, destDir: string, limits?: Partial<ZipLimits>): Promise<ZipSummary> {
  return walkZip(zipPath, resolveLimits(limits), new TreeWriter(destDir));
}

/**
 * Copies a directory tree into `destDir` by the rules of {@link extractZip}: symlinks are copied verbatim (never
 * followed, relative ones must stay inside the tree), directories become 0755, special files are skipped, and the
 * same limits apply. Files get at least 0644 (execute bits for all when the owner has one): a directory on the
 * host was not packed for another uid, and Lambda code must be world-readable.
 */
export async function copyTree(srcDir: string, destDir: string, limits?: Partial<ZipLimits>): Promise<ZipSummary> {
  const budget = new Budget(resolveLimits(limits));
  const names = new NameRegistry();
  const writer = new TreeWriter(destDir);
  let entries = 0;
  const visit = async (rel: string): Promise<void> => {
    const dir = rel === '' ? srcDir : join(srcDir, rel);
    const children = (await readdir(dir)).sort();
    for (const name of children) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const full = join(dir, name);
      const st = await lstat(full);
      if (!st.isSymbolicLink() && !st.isDirectory() && !st.isFile()) continue;
      budget.countEntry(++entries);
      if (st.isSymbolicLink()) {
        const target = await readlink(full);
        names.add(childRel, 'symlink');
        names.link(childRel, target);
        await writer.symlink(childRel, target);
      } else if (st.isDirectory()) {
        names.add(childRel, 'directory');
        await writer.directory(childRel);
        await visit(childRel);
      } else {
        names.add(childRel, 'file');
        const perms = st.mode & 0o777;
        const mode = perms | 0o644 | ((perms & 0o100) !== 0 ? 0o111 : 0);
        await writer.writeStream(
          childRel,
          mode,
          st.mtime,
          createReadStream(full),
          budget.meter(childRel, st.size, null),
        );
      }
    }
  };
  await visit('');
  names.checkAllLinks();
  return { entries, unzippedBytes: budget.total };
}

function resolveLimits(limits: Partial<ZipLimits> | undefined): ZipLimits {
  const resolved = { ...DEFAULT_ZIP_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!(value >= 0)) throw new PlatformError('ERR_INTERNAL', `Zip limit ${key} must be a number >= 0`);
  }
  return resolved;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading an archive

async function walkZip(zipPath: string, limits: ZipLimits, writer: TreeWriter | null): Promise<ZipSummary> {
  const { zip, bytes } = await openZip(zipPath);
  const reader = new EntryReader(zip);
  const budget = new Budget(limits);
  const names = new NameRegistry();
  const writes = new WriteQueue();
  let entries = 0;
  try {
    if (zip.entryCount === 0) throw invalid('Uploaded file must be a non-empty zip');
    budget.countEntry(zip.entryCount);
    for (let entry = await reader.next(); entry !== null; entry = await reader.next()) {
      budget.countEntry(++entries);
      const { path, kind, mode } = describeEntry(entry);
      if (path === '') continue; // "./": the archive root itself
      // Every name is checked here, in archive order, before anything is written for it.
      names.add(path, kind);
      if (kind === 'directory') {
        await writer?.directory(path);
      } else if (kind === 'symlink') {
        const target = await readLinkTarget(zip, entry, budget, path);
        names.link(path, target);
        if (writer !== null) await writes.add(writer.symlink(path, target));
      } else if (isSmall(entry)) {
        const data = await readSmall(zip, bytes, entry, budget, path);
        if (writer !== null) await writes.add(writer.writeBuffer(path, mode, entry.getLastModDate(), data));
      } else {
        const source = await openEntry(zip, entry);
        const meter = budget.meter(path, entry.compressedSize, entry.crc32);
        if (writer === null) await pipeline(source, meter, discard());
        else await writer.writeStream(path, mode, entry.getLastModDate(), source, meter);
      }
    }
    // Links may point through links that come later in the archive: check them all once every link is known.
    names.checkAllLinks();
    await writes.drain();
    return { entries, unzippedBytes: budget.total };
  } catch (err) {
    // Nothing may still be writing once the caller sees the error (it is about to remove the destination).
    await writes.settle();
    zip.close();
    // Ours are final; a failing system call (ENOSPC, EIO, …) is the host's fault, not the archive's.
    if (err instanceof PlatformError || (err as NodeJS.ErrnoException).syscall !== undefined) throw err;
    throw invalid(`Could not unzip uploaded file: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/**
 * Small files (most of a node_modules tree) are written a few at a time, while the next entries are read: one at a
 * time, extraction is bound by file-system round trips. Safe because no two entries of an archive share a path
 * (duplicates are refused) and directories are created once, whoever asks first.
 */
class WriteQueue {
  static readonly MAX_PENDING = 16;
  readonly #pending = new Set<Promise<void>>();
  #failure: { error: unknown } | null = null;

  /** Queues a write; resolves once there is room for another, rejects with the first failure. */
  async add(write: Promise<void>): Promise<void> {
    const tracked: Promise<void> = write.then(
      () => {
        this.#pending.delete(tracked);
      },
      (error: unknown) => {
        this.#pending.delete(tracked);
        this.#failure ??= { error };
      },
    );
    this.#pending.add(tracked);
    while (this.#pending.size >= WriteQueue.MAX_PENDING) await Promise.race(this.#pending);
    this.#check();
  }

  /** Waits for every write; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.#check();
  }

  /** Waits for every write, ignoring failures. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending);
  }

  #check(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }
}

/** Entries read into memory whole (then inflated synchronously): both sizes at most this. */
const SMALL_ENTRY_BYTES = 1024 * 1024;

function isSmall(entry: yauzl.Entry): boolean {
  return (
    (entry.compressionMethod === 0 || entry.compressionMethod === 8) &&
    entry.compressedSize <= SMALL_ENTRY_BYTES &&
    entry.uncompressedSize <= SMALL_ENTRY_BYTES
  );
}

/**
 * Reads a small entry whole: the compressed bytes (≤ 1 MiB), inflated with an output cap of the declared size, so a
 * lying entry costs at most 1 MiB before it is refused. Sizes, CRC and limits are checked as for a stream.
 */
async function readSmall(
  zip: yauzl.ZipFile,
  bytes: BlockReader,
  entry: yauzl.Entry,
  budget: Budget,
  path: string,
): Promise<Buffer> {
  // yauzl finds the data (and checks it lies inside the file); reading it directly skips three streams per entry.
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  const raw = Buffer.allocUnsafe(entry.compressedSize);
  if ((await bytes.readAt(raw, fileDataStart)) !== raw.length)
    throw invalid('Could not unzip uploaded file: unexpected EOF');
  let data = raw;
  if (entry.compressionMethod === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw invalid(`Entry ${printable(path)} is larger than its declared size`);
      }
      throw invalid(`Could not unzip uploaded file: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
  if (data.length !== entry.uncompressedSize) {
    throw invalid(`Entry ${printable(path)} is ${data.length} bytes, not its declared ${entry.uncompressedSize}`);
  }
  budget.count(path, data.length, data.length, entry.compressedSize);
  if (crc32(data) >>> 0 !== entry.crc32 >>> 0) throw invalid(`Entry ${printable(path)} fails its CRC-32 check`);
  return data;
}

async function openZip(zipPath: string): Promise<{ zip: yauzl.ZipFile; bytes: BlockReader }> {
  const handle = await open(zipPath, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw err;
  }
  const bytes = new BlockReader(handle, size);
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      bytes,
      size,
      // decodeStrings off: names are checked here, by stricter rules and with clearer messages.
      { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => {
        if (err === null) {
          resolve({ zip, bytes });
          return;
        }
        reject(invalid(`Could not unzip uploaded file: ${err.message}`, err));
        handle.close().catch(() => undefined);
      },
    );
  });
}

/**
 * Serves yauzl's many small reads (two per central directory record, one per local header) from a few cached
 * blocks instead of one system call each: 20,000 entries take a fraction of the time. Memory stays bounded
 * (BLOCK_BYTES × MAX_BLOCKS) whatever the archive size.
 */
class BlockReader extends yauzl.RandomAccessReader {
  static readonly BLOCK_BYTES = 256 * 1024;
  static readonly MAX_BLOCKS = 8;
  readonly #handle: FileHandle;
  readonly #size: number;
  /** Block index → bytes, in least-recently-used order. */
  readonly #blocks = new Map<number, Buffer>();

  constructor(handle: FileHandle, size: number) {
    super();
    this.#handle = handle;
    this.#size = size;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    this.#copy(buffer.subarray(offset, offset + length), position).then(
      (bytesRead) => {
        callback(null, bytesRead);
      },
      (err: unknown) => {
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(this.#range(start, end), { objectMode: false });
  }

  override close(callback: (err: Error | null) => void): void {
    this.#blocks.clear();
    this.#handle.close().then(
      () => {
        callback(null);
      },
      (err: unknown) => {
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  async *#range(start: number, end: number): AsyncGenerator<Buffer> {
    let position = start;
    while (position < end) {
      const index = Math.floor(position / BlockReader.BLOCK_BYTES);
      const block = await this.#block(index);
      const from = position - index * BlockReader.BLOCK_BYTES;
      const to = Math.min(block.length, end - index * BlockReader.BLOCK_BYTES);
      if (to <= from) throw new Error('unexpected EOF');
      // A copy: the block may be evicted and reused while the consumer still holds the chunk.
      yield Buffer.from(block.subarray(from, to));
      position += to - from;
    }
  }

  /** Fills `target` with the bytes at `position`; returns how many there were (fewer at the end of the file). */
  readAt(target: Buffer, position: number): Promise<number> {
    return this.#copy(target, position);
  }

  async #copy(target: Buffer, position: number): Promise<number> {
    let copied = 0;
    while (copied < target.length && position + copied < this.#size) {
      const at = position + copied;
      const index = Math.floor(at / BlockReader.BLOCK_BYTES);
      const block = await this.#block(index);
      const from = at - index * BlockReader.BLOCK_BYTES;
      if (from >= block.length) break;
      copied += block.copy(target, copied, from, Math.min(block.length, from + target.length - copied));
    }
    return copied;
  }

  async #block(index: number): Promise<Buffer> {
    const cached = this.#blocks.get(index);
    if (cached !== undefined) {
      this.#blocks.delete(index);
      this.#blocks.set(index, cached);
      return cached;
    }
    const start = index * BlockReader.BLOCK_BYTES;
    const bytes = Buffer.allocUnsafe(Math.max(0, Math.min(BlockReader.BLOCK_BYTES, this.#size - start)));
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await this.#handle.read(bytes, filled, bytes.length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const block = bytes.subarray(0, filled);
    this.#blocks.set(index, block);
    if (this.#blocks.size > BlockReader.MAX_BLOCKS) {
      const oldest = this.#blocks.keys().next();
      if (oldest.done !== true) this.#blocks.delete(oldest.value);
    }
    return block;
  }
}

/** Pulls entries one at a time. Keeps an error listener for the zip's whole life, so a late error never crashes. */
class EntryReader {
  readonly #zip: yauzl.ZipFile;
  #error: Error | null = null;
  #waiter: { resolve: (entry: yauzl.Entry | null) => void; reject: (err: Error) => void } | null = null;

  constructor(zip: yauzl.ZipFile) {
    this.#zip = zip;
    zip.on('entry', (entry: yauzl.Entry) => {
      this.#settle()?.resolve(entry);
    });
    zip.on('end', () => {
      this.#settle()?.resolve(null);
    });
    zip.on('error', (err: Error) => {
      this.#error = err;
      this.#settle()?.reject(err);
    });
  }

  next(): Promise<yauzl.Entry | null> {
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#zip.readEntry();
    });
  }

  #settle() {
    const waiter = this.#waiter;
    this.#waiter = null;
    return waiter;
  }
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err !== null) reject(err);
      else resolve(stream);
    });
  });
}

/** Decides the entry's normalised path, kind and mode, refusing unsafe names. */
function describeEntry(entry: yauzl.Entry): { path: string; kind: EntryKind; mode: number } {
  const raw = entry.fileNameRaw;
  // The name as yauzl would decode it (CP437 or UTF-8, or the Info-ZIP Unicode Path field), backslashes untouched.
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
  if (raw.includes(0) || name.includes('\0')) throw unsafe('Entry name contains a NUL byte');
  if (name.includes('\\')) throw unsafe(`Entry ${printable(name)} uses a backslash as a path separator`);
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw unsafe(`Entry ${printable(name)} has an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(`Entry ${printable(name)} escapes the archive with '..'`);
  const path = parts.join('/');

  const unixHost = UNIX_HOSTS.has(entry.versionMadeBy >>> 8);
  const unixMode = unixHost ? entry.externalFileAttributes >>> 16 : 0;
  const type = unixMode & S_IFMT;
  let kind: EntryKind = 'file';
  if (name.endsWith('/') || type === S_IFDIR || (!unixHost && (entry.externalFileAttributes & DOS_DIRECTORY) !== 0)) {
    kind = 'directory';
  } else if (type === S_IFLNK) {
    kind = 'symlink';
  }
  if (path === '' && kind !== 'directory') throw unsafe(`Entry ${printable(name)} has an empty name`);
  if (entry.isEncrypted()) throw invalid(`Entry ${printable(name)} is encrypted; encrypted archives are not supported`);
  // Other types (fifo, device, socket) are written as plain files, as Info-ZIP's unzip does.
  const perms = unixMode & 0o777;
  return { path, kind, mode: kind === 'directory' ? 0o755 : perms === 0 ? 0o644 : perms };
}

async function readLinkTarget(zip: yauzl.ZipFile, entry: yauzl.Entry, budget: Budget, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Writable({
    write(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > MAX_LINK_TARGET_BYTES) {
        cb(unsafe(`Symbolic link ${printable(path)} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
      cb();
    },
  });
  await pipeline(await openEntry(zip, entry), budget.meter(path, entry.compressedSize, entry.crc32), collect);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw invalid(`Symbolic link ${printable(path)} has a target that is not UTF-8`);
  }
}

/** Counts entries and decompressed bytes against the limits. */
class Budget {
  readonly limits: ZipLimits;
  total = 0;

  constructor(limits: ZipLimits) {
    this.limits = limits;
  }

  countEntry(count: number): void {
    if (count > this.limits.maxEntries) {
      throw tooLarge(`The archive has more than ${this.limits.maxEntries} entries`);
    }
  }

  /** Adds `bytes` decompressed bytes of an entry that has produced `entryBytes` so far; throws past a limit. */
  count(path: string, bytes: number, entryBytes: number, compressedSize: number): void {
    this.total += bytes;
    const { maxUnzippedBytes, maxRatio } = this.limits;
    if (this.total > maxUnzippedBytes) throw tooLarge(`Unzipped size must be smaller than ${maxUnzippedBytes} bytes`);
    if (entryBytes > RATIO_FLOOR_BYTES && entryBytes / Math.max(1, compressedSize) > maxRatio) {
      throw tooLarge(`Entry ${printable(path)} decompresses more than ${maxRatio}:1; refusing a probable zip bomb`);
    }
  }

  /** A pass-through that counts one entry's bytes and, when `expectedCrc` is given, checks its CRC-32 at the end. */
  meter(path: string, compressedSize: number, expectedCrc: number | null): Transform {
    let bytes = 0;
    let crc = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        bytes += chunk.length;
        if (expectedCrc !== null) crc = crc32(chunk, crc);
        try {
          this.count(path, chunk.length, bytes, compressedSize);
        } catch (err) {
          cb(err as Error);
          return;
        }
        cb(null, chunk);
      },
      flush: (cb) => {
        // yauzl checks sizes but not checksums.
        if (expectedCrc !== null && crc >>> 0 !== expectedCrc >>> 0) {
          cb(invalid(`Entry ${printable(path)} fails its CRC-32 check`));
        } else {
          cb();
        }
      },
    });
  }
}

/**
 * The names of one archive (or tree): refuses duplicates, a name used both as a directory and as a file or link,
 * entries below one of the archive's own symlinks, and relative link targets that resolve outside the root.
 */
class NameRegistry {
  readonly #explicit = new Map<string, EntryKind>();
  /** Every parent directory some entry needs. */
  readonly #implicit = new Set<string>();
  readonly #links = new Map<string, string>();

  add(path: string, kind: EntryKind): void {
    if (this.#explicit.has(path)) throw unsafe(`The archive holds ${printable(path)} twice`);
    if (kind !== 'directory' && this.#implicit.has(path)) {
      throw unsafe(`The archive uses ${printable(path)} both as a directory and as a ${kind}`);
    }
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const parent = path.slice(0, slash);
      const parentKind = this.#explicit.get(parent);
      if (parentKind === 'symlink') throw unsafe(`Entry ${printable(path)} passes through a symbolic link`);
      if (parentKind === 'file') {
        throw unsafe(`The archive uses ${printable(parent)} both as a file and as a directory`);
      }
      this.#implicit.add(parent);
    }
    this.#explicit.set(path, kind);
  }

  link(path: string, target: string): void {
    if (target === '') throw invalid(`Symbolic link ${printable(path)} has an empty target`);
    if (target.includes('\0')) throw unsafe(`Symbolic link ${printable(path)} has a target with a NUL byte`);
    this.#links.set(path, target);
    this.#checkLink(path, target);
  }

  checkAllLinks(): void {
    for (const [path, target] of this.#links) this.#checkLink(path, target);
  }

  #checkLink(path: string, target: string): void {
    if (this.#escapes(path)) {
      throw unsafe(`Symbolic link ${printable(path)} points outside the archive (${printable(target)})`);
    }
  }

  /**
   * Resolves a link the way the kernel would with the archive root as the top, following the archive's own links.
   * Absolute targets stop the walk: they resolve inside the sandbox, never on the host.
   */
  #escapes(linkPath: string): boolean {
    const stack = linkPath.split('/').slice(0, -1);
    let queue = (this.#links.get(linkPath) ?? '').split('/');
    if (queue[0] === '') return false;
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift();
      if (part === undefined || part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) return true;
        stack.pop();
        continue;
      }
      stack.push(part);
      const target = this.#links.get(stack.join('/'));
      if (target === undefined) continue;
      if (target.startsWith('/')) return false;
      if (++hops > MAX_LINK_HOPS) return false; // a loop: ELOOP at run time, harmless
      stack.pop();
      queue = [...target.split('/'), ...queue];
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Writing a tree

/**
 * Creates entries under a root without ever following a symlink: every parent component is checked with lstat
 * (once, by whichever entry needs it first), and whatever is at an entry's own path is removed before the entry is
 * created exclusively. Modes are set explicitly, so the umask does not matter. Writes for different paths may run
 * concurrently.
 */
class TreeWriter {
  readonly #root: string;
  /** Relative directory → the promise that made sure it is a real directory. */
  readonly #dirs = new Map<string, Promise<void>>();
  /** Directories this writer created: nothing was in them before, so their children need no lstat. */
  readonly #created = new Set<string>();

  constructor(root: string) {
    this.#root = root;
  }

  async directory(rel: string): Promise<void> {
    await this.#parents(rel);
    await this.#ensureDir(rel, rel);
  }

  async writeBuffer(rel: string, mode: number, mtime: Date, data: Buffer): Promise<void> {
    const full = await this.#clear(rel);
    // 'wx' (O_CREAT | O_EXCL) fails on anything at the path, a dangling link included: never written through.
    const handle = await open(full, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.chmod(mode);
      if (validTime(mtime)) await handle.utimes(mtime, mtime);
    } finally {
      await handle.close();
    }
  }

  async writeStream(rel: string, mode: number, mtime: Date, source: Readable, meter: Transform): Promise<void> {
    let full: string;
    try {
      full = await this.#clear(rel);
    } catch (err) {
      source.destroy();
      throw err;
    }
    await pipeline(source, meter, createWriteStream(full, { flags: 'wx', mode: 0o600 }));
    await chmod(full, mode);
    if (validTime(mtime)) await utimes(full, mtime, mtime);
  }

  async symlink(rel: string, target: string): Promise<void> {
    await symlink(target, await this.#clear(rel));
  }

  /** Makes the parents of `rel` real directories and removes whatever is at `rel`; returns its full path. */
  async #clear(rel: string): Promise<string> {
    await this.#parents(rel);
    const full = join(this.#root, rel);
    if (this.#created.has(parentOf(rel))) return full;
    const st = await lstatOrNull(full);
    if (st?.isDirectory() === true) {
      // A directory of an earlier layer where this one has a file: the later layer wins. rm never follows links.
      await rm(full, { recursive: true, force: true });
    } else if (st !== null) {
      await unlink(full);
    }
    return full;
  }

  async #parents(rel: string): Promise<void> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) await this.#ensureDir(parts.slice(0, i).join('/'), rel);
  }

  #ensureDir(dir: string, forEntry: string): Promise<void> {
    let pending = this.#dirs.get(dir);
    if (pending === undefined) {
      pending = this.#makeDir(dir);
      this.#dirs.set(dir, pending);
    }
    return pending.catch((err: unknown) => {
      throw isPlatformError(err, 'ERR_ZIP_UNSAFE') ? unsafe(`Entry ${printable(forEntry)} ${err.message}`) : err;
    });
  }

  async #makeDir(dir: string): Promise<void> {
    const full = join(this.#root, dir);
    const st = this.#created.has(parentOf(dir)) ? null : await lstatOrNull(full);
    if (st?.isDirectory() === true) return;
    // Refused for an explicit directory entry too: whether an archive lists its directories must not matter.
    if (st?.isSymbolicLink() === true) throw unsafe('passes through a symbolic link');
    // A file of an earlier layer where this layer has a directory: the later layer wins.
    if (st !== null) await unlink(full);
    await mkdir(full, { mode: 0o700 });
    await chmod(full, 0o755);
    this.#created.add(dir);
  }
}

/** The parent of a relative path; `.` (never created by a writer) for top-level names. */
function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash === -1 ? '.' : rel.slice(0, slash);
}

function validTime(date: Date): boolean {
  const time = date.getTime();
  return Number.isFinite(time) && time > 0;
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

function printable(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

function invalid(message: string, cause?: unknown): PlatformError {
  return new PlatformError('ERR_ZIP_INVALID', message, cause === undefined ? undefined : { cause });
}

function unsafe(message: string): PlatformError {
  return new PlatformError('ERR_ZIP_UNSAFE', message);
}

function tooLarge(message: string): PlatformError {
  return new PlatformError('ERR_ZIP_TOO_LARGE', message);
}
