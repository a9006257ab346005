/**
 * @module platform/storage/extraction-cache
 * Host directories for /var/task and /opt (and the compiled-TypeScript cache beside /var/task). Function code is extracted once per content hash (`<root>/code/<sha>`);
 * merged layers once per *ordered* list of layer hashes (`<root>/opt/<key>`: the same layers in another order are
 * another /opt). Each directory is built in a scratch directory under `<root>/tmp` and renamed into place; a marker
 * beside it (`<key>.complete`) is written last, so a crash never leaves a half-built directory in use and finished
 * directories are reused across restarts. Concurrent requests for one directory share one build.
 *
 * The sandbox runs code as a uid that owns none of these files: the root and every directory are 0755 (whatever the
 * umask), and files keep their archive modes (0644 when the archive has none).
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../errors.ts';
import type { ArchiveRef } from '../environments/function-spec.ts';
import { TypeScriptPrecompiler } from './typescript-precompile.ts';
import { copyTree, DEFAULT_ZIP_LIMITS, extractZip, type ZipLimits } from './zip.ts';

const MARKER_SUFFIX = '.complete';
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface ExtractionCacheOptions {
  rootDir: string;
  /** Limits for each code archive and for the layers of one /opt together (bytes) or each layer (entries, ratio). */
  limits?: Partial<ZipLimits>;
}

export class ExtractionCache {
  readonly #root: string;
  readonly #limits: ZipLimits;
  readonly #inFlight = new Map<string, Promise<string>>();
  /**
   * Directories known finished (content-addressed, so never changed afterwards): a cold start reuses them without
   * touching the disk. '' for "no compiled TypeScript".
   */
  readonly #finished = new Map<string, string>();
  readonly #precompiler = new TypeScriptPrecompiler();
  #ready: Promise<void> | null = null;
  #disposed: Promise<void> | null = null;

  constructor(options: ExtractionCacheOptions) {
    this.#root = options.rootDir;
    this.#limits = { ...DEFAULT_ZIP_LIMITS, ...options.limits };
  }

  /** The extracted function code (mounted read-only at /var/task). */
  codeDir(code: ArchiveRef): Promise<string> {
    return this.#get('code', keyOf(code.sha256), [code]);
  }

  /** The merged layers (mounted at /opt), later layers overwriting earlier ones; null when there are none. */
  optDir(layers: readonly ArchiveRef[]): Promise<string | null> {
    if (this.#disposed === null && layers.length === 0) return Promise.resolve(null);
    const key = createHash('sha256')
      .update(JSON.stringify(layers.map((l) => l.sha256)))
      .digest('hex');
    return this.#get('opt', key, layers);
  }

  /**
   * The code's TypeScript files compiled for the runtime (`<root>/ts/<sha>`, mounted read-only; see
   * protocol/typescript-cache.ts), or null when the code has none.
   */
  async compileCacheDir(code: ArchiveRef): Promise<string | null> {
    const key = keyOf(code.sha256);
    const target = join(this.#root, 'ts', key);
    const known = this.#finished.get(`ts/${key}`);
    if (known !== undefined) return known === '' ? null : known;
    const marker = `${target}${MARKER_SUFFIX}`;
    const done = await readMarker(marker);
    if (done !== null) {
      this.#finished.set(`ts/${key}`, done.files > 0 ? target : '');
      return done.files > 0 ? target : null;
    }
    const taskDir = await this.codeDir(code);
    const files = await this.#memo(`ts/${key}`, async () => {
      await this.#prepare();
      const scratch = await mkdtemp(join(this.#root, 'tmp', `${process.pid}-`));
      try {
        const out = join(scratch, key);
        await mkdir(out, { mode: 0o755 });
        const count = await this.#precompiler.compile(taskDir, out);
        await chmod(out, 0o755);
        await rm(target, { recursive: true, force: true });
        await rename(out, target);
        await writeFile(marker, `${JSON.stringify({ files: count })}\n`, { mode: 0o644 });
        this.#finished.set(`ts/${key}`, count > 0 ? target : '');
        return String(count);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
    return Number(files) > 0 ? target : null;
  }

  /** Waits for builds in flight; later calls fail with ERR_DISPOSED. Idempotent. */
  dispose(): Promise<void> {
    this.#disposed ??= Promise.allSettled([...this.#inFlight.values()]).then(() => this.#precompiler.dispose());
    return this.#disposed;
  }

  #get(kind: 'code' | 'opt', key: string, sources: readonly ArchiveRef[]): Promise<string> {
    const id = `${kind}/${key}`;
    const known = this.#finished.get(id);
    if (known !== undefined && this.#disposed === null) return Promise.resolve(known);
    return this.#memo(id, async () => {
      const dir = await this.#build(kind, key, sources);
      this.#finished.set(id, dir);
      return dir;
    });
  }

  /** One build per id at a time: concurrent callers share it. */
  #memo(id: string, build: () => Promise<string>): Promise<string> {
    if (this.#disposed !== null) {
      return Promise.reject(new PlatformError('ERR_DISPOSED', 'The extraction cache is disposed'));
    }
    let pending = this.#inFlight.get(id);
    if (pending === undefined) {
      pending = build().finally(() => this.#inFlight.delete(id));
      this.#inFlight.set(id, pending);
    }
    return pending;
  }

  /**
   * 1. Reuse a finished directory (marker present).
   * 2. Build into `<root>/tmp/<pid>-*` /<key>: sources in order, later ones overwriting earlier ones.
   * 3. Replace any unfinished leftover at the target, rename the build into place, write the marker.
   */
  async #build(kind: 'code' | 'opt', key: string, sources: readonly ArchiveRef[]): Promise<string> {
    const target = join(this.#root, kind, key);
    const marker = `${target}${MARKER_SUFFIX}`;
    if ((await isFile(marker)) && (await isDirectory(target))) return target;
    await this.#prepare();
    const scratch = await mkdtemp(join(this.#root, 'tmp', `${process.pid}-`));
    try {
      const out = join(scratch, key);
      await mkdir(out, { mode: 0o700 });
      let remaining = this.#limits.maxUnzippedBytes;
      for (const source of sources) {
        const limits = { ...this.#limits, maxUnzippedBytes: remaining };
        const st = await stat(source.path);
        const summary = st.isDirectory()
          ? await copyTree(source.path, out, limits)
          : await extractZip(source.path, out, limits);
        remaining -= summary.unzippedBytes;
      }
      await chmod(out, 0o755);
      await rm(marker, { force: true });
      await rm(target, { recursive: true, force: true });
      await rename(out, target);
      // Beside the directory, not inside it: /opt and /var/task hold exactly the archives' files.
      await writeFile(marker, `${JSON.stringify({ sources: sources.map((s) => s.sha256) })}\n`, { mode: 0o644 });
      return target;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Creates the layout once (traversable by others whatever the umask) and removes builds of dead processes. */
  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      const tmp = join(this.#root, 'tmp');
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      await chmod(this.#root, 0o755);
      for (const sub of ['code', 'opt', 'ts']) {
        await mkdir(join(this.#root, sub), { recursive: true });
        await chmod(join(this.#root, sub), 0o755);
      }
      for (const name of await readdir(tmp)) {
        const pid = Number(name.split('-')[0]);
        if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) continue;
        await rm(join(tmp, name), { recursive: true, force: true });
      }
    })().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }
}

/** A path-safe cache key: the hex SHA-256 itself, or a hash of any other content id. */
function keyOf(id: string): string {
  return SHA256_HEX.test(id) ? id : createHash('sha256').update(id).digest('hex');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readMarker(path: string): Promise<{ files: number } | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { files?: unknown };
    return typeof parsed.files === 'number' ? { files: parsed.files } : null;
  } catch {
    return null;
  }
}

async function isFile(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => null);
  return st?.isFile() === true;
}

async function isDirectory(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => null);
  return st?.isDirectory() === true;
}
