/**
 * @module platform/storage/typescript-precompile
 * Compiles a function's TypeScript files into the cache the runtime reads first (protocol/typescript-cache.ts),
 * once per code hash, outside the sandbox. Runs in a worker thread with a memory cap: the files are untrusted and
 * compiling is synchronous, so the server's event loop never waits on it and a hostile file cannot exhaust it.
 *
 * A file that does not compile is left out: the runtime compiles it itself and reports the error as Lambda would.
 */
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { TASK_ROOT } from '../../protocol/environment.ts';
import { compileCacheKey, compileCacheSubdir, compileTypeScript } from '../../protocol/typescript-cache.ts';

const TS_FILE = /\.[cm]?ts$/;
/** Files larger than this are left to the runtime (Lambda's own limit is the 250 MB of the whole code). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 5000;

interface Job {
  taskDir: string;
  outDir: string;
}

/** Fills `outDir` for the code extracted at `taskDir`; resolves with the number of files compiled. */
export function precompileTypeScript(taskDir: string, outDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { taskDir, outDir } satisfies Job,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: true,
      stderr: true,
    });
    worker.once('message', (count: number) => {
      resolve(count);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the TypeScript precompiler exited with ${String(code)}`));
    });
  });
}

async function run({ taskDir, outDir }: Job): Promise<number> {
  const { stripTypeScriptTypes } = await import('node:module');
  // Node warns that its TypeScript support is experimental; the server's log does not need it.
  process.removeAllListeners('warning');
  const dir = join(outDir, compileCacheSubdir(process.version));
  let count = 0;
  let seen = 0;
  const visit = async (current: string): Promise<void> => {
    for (const name of (await readdir(current)).sort()) {
      if (name === 'node_modules' || seen >= MAX_FILES) continue;
      const full = join(current, name);
      const st = await lstat(full);
      if (st.isDirectory()) await visit(full);
      if (!st.isFile() || !TS_FILE.test(name) || st.size > MAX_FILE_BYTES) continue;
      seen++;
      const source = await readFile(full, 'utf8');
      const url = pathToFileURL(join(TASK_ROOT, relative(taskDir, full))).href;
      let code: string;
      try {
        code = compileTypeScript(stripTypeScriptTypes, source, url);
      } catch {
        continue;
      }
      if (count === 0) await mkdir(dir, { recursive: true, mode: 0o755 });
      await writeFile(join(dir, compileCacheKey(url, source)), code, { mode: 0o644 });
      count++;
    }
  };
  await visit(taskDir);
  return count;
}

if (!isMainThread && parentPort !== null && (workerData as Partial<Job> | null)?.taskDir !== undefined) {
  const port = parentPort;
  void run(workerData as Job).then((count) => {
    port.postMessage(count);
  });
}
