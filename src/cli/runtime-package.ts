/**
 * @module cli/runtime-package
 * Packages the Lambkin runtime (src/runtime, guest code) into what Lambda runs: a directory or a layer zip with
 * `bootstrap` (mode 755) at its root and the runtime bundled into one file beside it (fast start), optionally with
 * a Node 24 binary in `bin/node` so the same layer runs on AWS `provided.al2023`, where no node exists.
 */
import { copyFile, chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { build } from 'esbuild';
import yazl from 'yazl';

const ROOT = resolve(import.meta.dirname, '../..');
export const RUNTIME_FILE = 'lambkin-runtime.mjs';

/** Writes `bootstrap` and the bundled runtime into `outDir` (the managed runtime's /var/runtime uses this). */
export async function buildRuntimeDir(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await chmod(outDir, 0o755);
  await build({
    entryPoints: [join(ROOT, 'src/runtime/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile: join(outDir, RUNTIME_FILE),
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'error',
  });
  await chmod(join(outDir, RUNTIME_FILE), 0o644);
  await copyFile(join(ROOT, 'src/runtime/bootstrap'), join(outDir, 'bootstrap'));
  await chmod(join(outDir, 'bootstrap'), 0o755);
}

/** The layer zip; returns its path and size. */
export async function buildRuntimeLayer(options: {
  withNode: boolean;
  out: string;
  node?: string;
}): Promise<{ out: string; bytes: number }> {
  const staging = join(ROOT, 'dist', 'runtime-layer-staging');
  await rm(staging, { recursive: true, force: true });
  await buildRuntimeDir(staging);
  const zip = new yazl.ZipFile();
  const mtime = new Date(0);
  zip.addBuffer(await readFile(join(staging, 'bootstrap')), 'bootstrap', { mode: 0o100755, mtime });
  zip.addBuffer(await readFile(join(staging, RUNTIME_FILE)), RUNTIME_FILE, {
    mode: 0o100644,
    mtime,
    compressionLevel: 9,
  });
  if (options.withNode) {
    const node = options.node ?? process.execPath;
    const major = Number(process.versions.node.split('.')[0]);
    if (options.node === undefined && major < 24)
      throw new Error(
        `--with-node bundles the node running this command, which is ${process.versions.node}; run it through npx (Node 24)`,
      );
    zip.addEmptyDirectory('bin', { mode: 0o40755, mtime });
    zip.addFile(node, 'bin/node', { mode: 0o100755, mtime, compressionLevel: 9 });
  }
  zip.end();
  const out = resolve(options.out);
  await pipeline(zip.outputStream, createWriteStream(out));
  await rm(staging, { recursive: true, force: true });
  return { out, bytes: (await stat(out)).size };
}
