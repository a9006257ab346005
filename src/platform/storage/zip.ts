/**
 * @module platform/storage/zip
 * Zip archives are hostile input. This module reads them as a stream (never a whole archive in memory), counts
 * the real decompressed bytes (declared sizes lie in zip bombs), and refuses anything that could write outside
 * its destination: absolute names, `..` segments, backslash separators, NUL bytes, duplicate names, symlinks
 * whose relative target leaves the archive, and entries that would pass through a symlink.
 *
 * Modes follow LAMBDA-FACTS §7: the Unix mode from the external attributes when the entry was made on Unix
 * (setuid/setgid/sticky stripped), else 0644 for files and 0755 for directories.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { PlatformError } from '../errors.ts';

export interface ZipLimits {
  /** Total decompressed bytes. */
  maxUnzippedBytes: number;
  maxEntries: number;
  /** Largest decompressed/compressed ratio for entries that decompress to more than 1 MiB. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxUnzippedBytes: 262_144_000, maxEntries: 50_000, maxRatio: 250 };

export interface ZipSummary {
  entries: number;
  unzippedBytes: number;
}

type EntryKind = 'file' | 'directory' | 'symlink';

interface CheckedEntry {
  entry: yauzl.Entry;
  /** Normalised relative path (no trailing slash). */
  path: string;
  kind: EntryKind;
  mode: number;
}

/** Validates an archive completely (structure, names, real sizes, CRCs) without writing anything. */
export function inspectZip(zipPath: string, limits?: Partial<ZipLimits>): Promise<ZipSummary> {
  return walk(zipPath, { ...DEFAULT_ZIP_LIMITS, ...limits }, null);
}

/**
 * Extracts into `destDir`, which may already hold earlier layers: directories merge, a file replaces whatever
 * was at its path (never writing through a link). Extraction of a refused archive stops at the first bad entry;
 * callers extract into a scratch directory and discard it on error.
 */
export function extractZip(zipPath: string, destDir: string, limits?: Partial<ZipLimits>): Promise<ZipSummary> {
  return walk(zipPath, { ...DEFAULT_ZIP_LIMITS, ...limits }, destDir);
}

function open(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      zipPath,
      // decodeStrings off: names are checked here, by stricter rules with clearer messages.
      { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => {
        if (err !== null) reject(invalid(`Could not unzip uploaded file: ${err.message}`, err));
        else resolve(zip);
      },
    );
  });
}

async function walk(zipPath: string, limits: ZipLimits, destDir: string | null): Promise<ZipSummary> {
  const zip = await open(zipPath);
  const seen = new Set<string>();
  const symlinks = new Set<string>();
  let entries = 0;
  let total = 0;
  try {
    if (zip.entryCount === 0) throw invalid('Uploaded file must be a non-empty zip');
    if (zip.entryCount > limits.maxEntries) {
      throw tooLarge(`The archive has ${zip.entryCount} entries; at most ${limits.maxEntries} are allowed`);
    }
    for (;;) {
      const entry = await nextEntry(zip);
      if (entry === null) break;
      entries++;
      const checked = checkEntry(entry, seen, symlinks);
      if (checked.kind === 'directory') {
        if (destDir !== null) await makeDir(destDir, checked.path, checked.mode);
        continue;
      }
      const stream = await openEntry(zip, entry);
      let entryBytes = 0;
      let crc = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          entryBytes += chunk.length;
          crc = crc32(chunk, crc);
          total += chunk.length;
          if (total > limits.maxUnzippedBytes) {
            cb(tooLarge(`Unzipped size must be smaller than ${limits.maxUnzippedBytes} bytes`));
            return;
          }
          if (entryBytes > 1024 * 1024 && entryBytes / Math.max(1, entry.compressedSize) > limits.maxRatio) {
            cb(
              tooLarge(
                `Entry ${checked.path} decompresses more than ${limits.maxRatio}:1; refusing a probable zip bomb`,
              ),
            );
            return;
          }
          cb(null, chunk);
        },
        flush(cb) {
          // yauzl checks sizes but not checksums.
          cb(
            crc >>> 0 === entry.crc32 >>> 0 ? null : invalid(`Entry ${printable(checked.path)} fails its CRC-32 check`),
          );
        },
      });
      if (checked.kind === 'symlink') {
        const target = (await collect(stream.pipe(counter), 4096)).toString('utf8');
        checkLinkTarget(checked.path, target);
        symlinks.add(checked.path);
        if (destDir !== null) await writeLink(destDir, checked.path, target);
        continue;
      }
      if (destDir === null) {
        await pipeline(stream, counter, devNull());
      } else {
        const file = await prepareFile(destDir, checked.path);
        await pipeline(stream, counter, createWriteStream(file, { mode: 0o600 }));
        await chmod(file, checked.mode);
      }
    }
  } catch (err) {
    zip.close();
    if (err instanceof PlatformError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw invalid(`Could not unzip uploaded file: ${message}`, err);
  }
  return { entries, unzippedBytes: total };
}

function checkEntry(entry: yauzl.Entry, seen: Set<string>, symlinks: Set<string>): CheckedEntry {
  // With decodeStrings off, yauzl hands over the raw bytes of the name.
  const rawName: unknown = entry.fileName;
  const raw = Buffer.isBuffer(rawName) ? rawName.toString('utf8') : String(rawName);
  if (raw.includes('\0')) throw unsafe(`Entry name contains a NUL byte`);
  if (raw.includes('\\')) throw unsafe(`Entry ${printable(raw)} uses a backslash as a path separator`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw unsafe(`Entry ${printable(raw)} has an absolute path`);
  const isDirName = raw.endsWith('/');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(`Entry ${printable(raw)} escapes the archive with '..'`);
  if (parts.length === 0) throw unsafe(`Entry ${printable(raw)} has an empty name`);
  const path = parts.join('/');
  if (seen.has(path)) throw invalid(`The archive holds ${printable(path)} twice`);
  seen.add(path);
  // An entry may not pass through a symlink that this archive created.
  for (let i = 1; i < parts.length; i++) {
    if (symlinks.has(parts.slice(0, i).join('/')))
      throw unsafe(`Entry ${printable(raw)} passes through a symbolic link`);
  }
  const madeOnUnix = entry.versionMadeBy >> 8 === 3;
  const unixMode = madeOnUnix ? (entry.externalFileAttributes >>> 16) & 0o177777 : 0;
  const type = unixMode & 0o170000;
  if (type === 0o120000) return { entry, path, kind: 'symlink', mode: 0o777 };
  if (type === 0o040000 || isDirName) return { entry, path, kind: 'directory', mode: 0o755 };
  const perms = unixMode & 0o777;
  return { entry, path, kind: 'file', mode: madeOnUnix && perms !== 0 ? perms : 0o644 };
}

/** Relative targets must stay inside the archive root; absolute ones resolve inside the sandbox at run time. */
function checkLinkTarget(path: string, target: string): void {
  if (target === '' || target.includes('\0')) throw unsafe(`Symbolic link ${printable(path)} has an invalid target`);
  if (target.startsWith('/')) return;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw unsafe(`Symbolic link ${printable(path)} points outside the archive (${printable(target)})`);
  }
}

/** Creates every parent of `rel` under `root` as a real directory, refusing to go through links. */
async function makeParents(root: string, rel: string): Promise<void> {
  const parts = rel.split('/');
  let current = root;
  for (const part of parts.slice(0, -1)) {
    current = join(current, part);
    const st = await lstat(current).catch(() => null);
    if (st === null) {
      await mkdir(current, { mode: 0o755 });
      await chmod(current, 0o755);
    } else if (st.isSymbolicLink()) {
      throw unsafe(`Entry ${printable(rel)} passes through a symbolic link`);
    } else if (!st.isDirectory()) {
      // A file of an earlier layer where this layer has a directory: the later layer wins.
      await unlink(current);
      await mkdir(current, { mode: 0o755 });
      await chmod(current, 0o755);
    }
  }
}

async function makeDir(root: string, rel: string, mode: number): Promise<void> {
  await makeParents(root, rel);
  const full = join(root, rel);
  const st = await lstat(full).catch(() => null);
  if (st?.isDirectory() === true) return;
  if (st !== null) await rm(full, { force: true });
  await mkdir(full, { mode });
  await chmod(full, mode);
}

/** Clears the way for a file at `rel`: parents are real directories, whatever is at the path is removed. */
async function prepareFile(root: string, rel: string): Promise<string> {
  await makeParents(root, rel);
  const full = join(root, rel);
  const st = await lstat(full).catch(() => null);
  if (st !== null) {
    if (st.isDirectory()) await rm(full, { recursive: true, force: true });
    else await unlink(full);
  }
  return full;
}

async function writeLink(root: string, rel: string, target: string): Promise<void> {
  const full = await prepareFile(root, rel);
  await mkdir(dirname(full), { recursive: true });
  await symlink(target, full);
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err !== null) reject(err);
      else resolve(stream);
    });
  });
}

async function collect(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw unsafe('A symbolic link target is too long');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function devNull(): Writable {
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
