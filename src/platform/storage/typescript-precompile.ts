/**
 * @module platform/storage/typescript-precompile
 * Compiles a function's TypeScript files into the cache the runtime reads first (protocol/typescript-cache.ts),
 * once per code hash, outside the sandbox. Runs in a worker thread with a memory cap: the files are untrusted and
 * compiling is synchronous, so the server's event loop never waits on it and a hostile file cannot exhaust it.
 * The worker is kept between jobs, so a `lambkin dev` push does not pay for loading the compiler again.
 *
 * A file that does not compile is left out: the runtime compiles it itself and reports the error as Lambda would.
 */
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { TASK_ROOT } from '../../protocol/environment.ts';
import { cacheEntry, compileCacheKey, compileCacheSubdir, compileTypeScript } from '../../protocol/typescript-cache.ts';

const TS_FILE = /\.[cm]?ts$/;
/** Files larger than this are left to the runtime (Lambda's own limit is the 250 MB of the whole code). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 5000;

interface Job {
  taskDir: string;
  outDir: string;
}

interface Reply {
  id: number;
  count?: number;
  error?: string;
}

/**
 * One worker, started on first use and kept (Node's compiler takes ~50 ms to load, once): jobs run one at a time.
 * A worker that dies (the heap cap, a crash) fails its job and is replaced by the next one. `unref`ed: it never
 * keeps the server alive; `dispose` ends it.
 */
export class TypeScriptPrecompiler {
  #worker: Worker | null = null;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();

  /** Fills `outDir` for the code extracted at `taskDir`; resolves with the number of files compiled. */
  compile(taskDir: string, outDir: string): Promise<number> {
    const worker = this.#ensure();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, taskDir, outDir } satisfies Job & { id: number });
    });
  }

  async dispose(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker !== null) await worker.terminate();
  }

  #ensure(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { precompiler: true },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: true,
      stderr: true,
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.error !== undefined) job?.reject(new Error(reply.error));
      else job?.resolve(reply.count ?? 0);
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = null;
      for (const job of this.#pending.values()) job.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      fail(new Error(`the TypeScript precompiler exited with ${String(code)}`));
    });
    this.#worker = worker;
    return worker;
  }
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
      await writeFile(join(dir, compileCacheKey(url, source)), cacheEntry(code), { mode: 0o644 });
      count++;
    }
  };
  await visit(taskDir);
  return count;
}

if (!isMainThread && parentPort !== null && (workerData as { precompiler?: boolean } | null)?.precompiler === true) {
  const port = parentPort;
  // Jobs one at a time, in order: the compiler is synchronous anyway.
  let chain = Promise.resolve();
  port.on('message', (job: Job & { id: number }) => {
    chain = chain.then(() =>
      run(job).then(
        (count) => {
          port.postMessage({ id: job.id, count } satisfies Reply);
        },
        (err: unknown) => {
          port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies Reply);
        },
      ),
    );
  });
}
