/**
 * @module cli/archive
 * Directories → Lambda zips. Deterministic (sorted entries, fixed times: the same files give the same
 * CodeSha256, so an unchanged push is recognisable), Unix modes kept, symlinks kept only when they stay inside the
 * directory, checked against Lambda's limits before anything is uploaded.
 */
import { constants } from 'node:fs';
import { access, lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import yazl from 'yazl';
import { CliError } from './errors.ts';
import { humanBytes } from './output.ts';

/** Lambda's direct-upload limit (zipped). */
export const MAX_ZIPPED_BYTES = 52_428_800;
/** Lambda's limit for function code plus all its layers, unzipped. */
export const MAX_UNZIPPED_BYTES = 262_144_000;

const FIXED_TIME = new Date('2020-01-01T00:00:00Z');
/** Never packaged: version control and Lambkin's own state. */
const SKIPPED = new Set(['.git', '.lambkin', '.DS_Store']);

export interface PackedZip {
  zip: Buffer;
  files: number;
  unzippedBytes: number;
  /** True when a `bootstrap` sits at the root (a custom runtime). */
  hasBootstrap: boolean;
}

interface Entry {
  rel: string;
  kind: 'file' | 'dir' | 'link';
  mode: number;
  size: number;
  full: string;
}

/** Lists what will be zipped, refusing links that leave `root`. */
async function walk(root: string, skip: (rel: string) => boolean): Promise<Entry[]> {
  const realRoot = await realpath(root);
  const entries: Entry[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      if (SKIPPED.has(name)) continue;
      const full = join(dir, name);
      const rel = relative(root, full).split(sep).join('/');
      if (skip(rel)) continue;
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        const target = await readlink(full);
        const resolved = resolve(dir, target);
        const real = await realpath(full).catch(() => resolved);
        if (isAbsolute(target) || !inside(realRoot, real) || !inside(resolve(root), resolved))
          throw new CliError(
            'InvalidLayerContent',
            `${rel} is a link to ${target}, outside the directory: Lambda would not see that file`,
            { hint: 'copy the file in, or make the link relative and inside the directory' },
          );
        entries.push({ rel, kind: 'link', mode: 0o120777, size: 0, full });
      } else if (st.isDirectory()) {
        entries.push({ rel, kind: 'dir', mode: 0o40000 | (st.mode & 0o7777), size: 0, full });
        await visit(full);
      } else if (st.isFile()) {
        entries.push({ rel, kind: 'file', mode: 0o100000 | (st.mode & 0o7777), size: st.size, full });
      }
      // Sockets, FIFOs and devices are not files Lambda can hold: left out.
    }
  };
  await visit(root);
  return entries;
}

/** Whether `path` is `root` or below it. */
export function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export interface PackOptions {
  /** Require an executable `bootstrap` at the root (a runtime layer). */
  runtime?: boolean;
  /** Relative paths to leave out (e.g. the zip being written inside the directory). */
  skip?: (rel: string) => boolean;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/** Zips `dir` after checking it against Lambda's limits. */
export async function packDirectory(dir: string, options: PackOptions = {}): Promise<PackedZip> {
  const st = await stat(dir).catch(() => null);
  if (st === null || !st.isDirectory())
    throw new CliError('InvalidPath', `${dir} is not a directory`, { hint: 'give a directory or a .zip file' });
  const entries = await walk(dir, options.skip ?? (() => false));
  const files = entries.filter((e) => e.kind !== 'dir');
  if (files.length === 0)
    throw new CliError('InvalidLayerContent', `${dir} is empty: Lambda refuses an empty zip`, {
      hint: 'add the handler or bootstrap file first',
    });
  const unzippedBytes = entries.reduce((sum, e) => sum + e.size, 0);
  if (unzippedBytes > MAX_UNZIPPED_BYTES)
    throw new CliError(
      'InvalidLayerContent',
      `${dir} holds ${humanBytes(unzippedBytes)} unzipped; Lambda's limit for code and layers together is 250 MB (${MAX_UNZIPPED_BYTES} bytes)`,
      { hint: 'leave out what the function does not need at run time' },
    );
  const bootstrap = entries.find((e) => e.rel === 'bootstrap');
  if (bootstrap !== undefined) await checkBootstrap(bootstrap);
  else if (options.runtime === true)
    throw new CliError('InvalidLayerContent', `${dir} has no bootstrap at its root: a runtime layer needs one`, {
      hint: 'add an executable file named bootstrap that runs the Runtime API loop',
    });
  const zip = new yazl.ZipFile();
  let done = 0;
  for (const e of entries) {
    if (e.kind === 'dir') zip.addEmptyDirectory(e.rel, { mode: e.mode, mtime: FIXED_TIME });
    else if (e.kind === 'link')
      zip.addBuffer(Buffer.from(await readlink(e.full)), e.rel, { mode: e.mode, mtime: FIXED_TIME });
    else {
      zip.addBuffer(await readFile(e.full), e.rel, { mode: e.mode, mtime: FIXED_TIME });
      done += e.size;
      options.onProgress?.(done, unzippedBytes);
    }
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const out = Buffer.concat(chunks);
  checkZippedSize(out.length, dir);
  return { zip: out, files: files.length, unzippedBytes, hasBootstrap: bootstrap !== undefined };
}

async function checkBootstrap(entry: Entry): Promise<void> {
  if (entry.kind === 'dir')
    throw new CliError('InvalidLayerContent', 'bootstrap is a directory: Lambda needs an executable file');
  if (entry.kind === 'file' && (entry.mode & 0o111) === 0)
    throw new CliError(
      'InvalidLayerContent',
      'bootstrap is not executable: Lambda would fail with Runtime.InvalidEntrypoint',
      {
        hint: `chmod 755 ${entry.full}`,
      },
    );
  if (entry.kind === 'link')
    await access(entry.full, constants.X_OK).catch(() => {
      throw new CliError('InvalidLayerContent', 'bootstrap links to a file that is missing or not executable');
    });
}

export function checkZippedSize(bytes: number, what: string): void {
  if (bytes > MAX_ZIPPED_BYTES)
    throw new CliError(
      'RequestEntityTooLargeException',
      `${what} zips to ${humanBytes(bytes)}; Lambda's direct-upload limit is 50 MB (${MAX_ZIPPED_BYTES} bytes)`,
      { hint: 'leave out what the function does not need, or upload through S3 on AWS' },
    );
}

/** A directory is zipped; a `.zip` file is read as it is. */
export async function codeFrom(path: string, options: PackOptions = {}): Promise<PackedZip> {
  const st = await stat(path).catch(() => null);
  if (st === null)
    throw new CliError('InvalidPath', `${path} does not exist`, { hint: 'give a directory or a .zip file' });
  if (st.isDirectory()) return packDirectory(path, options);
  const zip = await readFile(path);
  if (zip.length < 22 || zip.readUInt32LE(0) !== 0x04034b50)
    throw new CliError('InvalidZipFile', `${path} is not a zip file`, { hint: 'give a directory or a .zip file' });
  checkZippedSize(zip.length, path);
  return { zip, files: 0, unzippedBytes: 0, hasBootstrap: false };
}
