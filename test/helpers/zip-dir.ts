/**
 * Zips a directory the way `zip -r` on Unix does (modes and symlinks kept), for tests that need real archives.
 */
import { createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

export async function zipDirectory(dir: string, outFile: string): Promise<string> {
  const zip = new yazl.ZipFile();
  const walk = async (current: string): Promise<void> => {
    const names = (await readdir(current)).sort();
    for (const name of names) {
      const full = join(current, name);
      const rel = relative(dir, full);
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        zip.addBuffer(Buffer.from(await readlink(full)), rel, { mode: 0o120777, mtime: new Date(0) });
      } else if (st.isDirectory()) {
        zip.addEmptyDirectory(rel, { mode: 0o40755, mtime: new Date(0) });
        await walk(full);
      } else {
        zip.addBuffer(await readFile(full), rel, { mode: st.mode, mtime: new Date(0) });
      }
    }
  };
  await walk(dir);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(outFile));
  return outFile;
}
