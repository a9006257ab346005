/**
 * @module platform/storage/extraction-cache
 * Host directories for /var/task and /opt. Function code is extracted once per content hash; merged layers once
 * per *ordered* list of layer hashes (the same layers in another order are another /opt). Each directory is built
 * in a scratch directory and renamed into place, with a marker written last, so a crash never leaves a half-built
 * directory in use, and finished directories are reused across restarts. Concurrent requests share one build.
 */
import { createHash } from 'node:crypto';
import { cp, chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveRef } from '../environments/function-spec.ts';
import { extractZip, type ZipLimits } from './zip.ts';

const MARKER = '.complete';

export class ExtractionCache {
  readonly #root: string;
  readonly #limits: Partial<ZipLimits>;
  readonly #inFlight = new Map<string, Promise<string>>();
  #rootReady: Promise<void> | null = null;

  constructor(options: { rootDir: string; limits?: Partial<ZipLimits> }) {
    this.#root = options.rootDir;
    this.#limits = options.limits ?? {};
  }

  /** The extracted function code (read-only inside the sandbox at /var/task). */
  codeDir(code: ArchiveRef): Promise<string> {
    return this.#build(join('code', code.sha256), [code]);
  }

  /** The merged layers (at /opt), later layers overwriting earlier ones; null when there are none. */
  async optDir(layers: readonly ArchiveRef[]): Promise<string | null> {
    if (layers.length === 0) return null;
    const key = createHash('sha256')
      .update(layers.map((l) => l.sha256).join('\n'))
      .digest('hex');
    return this.#build(join('opt', key), layers);
  }

  #build(rel: string, sources: readonly ArchiveRef[]): Promise<string> {
    let pending = this.#inFlight.get(rel);
    if (pending === undefined) {
      pending = this.#make(rel, sources).finally(() => this.#inFlight.delete(rel));
      this.#inFlight.set(rel, pending);
    }
    return pending;
  }

  async #make(rel: string, sources: readonly ArchiveRef[]): Promise<string> {
    const target = join(this.#root, rel);
    const marker = `${target}${MARKER}`;
    if (await exists(marker)) return target;
    await this.#ensureRoot();
    const scratch = await mkdtemp(join(this.#root, 'tmp', 'build-'));
    try {
      const out = join(scratch, 'out');
      await mkdir(out);
      for (const source of sources) {
        const st = await stat(source.path);
        if (st.isDirectory()) await cp(source.path, out, { recursive: true, verbatimSymlinks: true, force: true });
        else await extractZip(source.path, out, this.#limits);
      }
      // Lambda runs code as a user that owns none of it: the tree must be traversable by others.
      await chmod(out, 0o755);
      await mkdir(join(this.#root, rel, '..'), { recursive: true });
      await rm(target, { recursive: true, force: true });
      await rename(out, target);
      // Written last, beside the directory (not inside it: /opt and /var/task hold exactly the archives' files).
      await writeFile(marker, '');
      return target;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  #ensureRoot(): Promise<void> {
    this.#rootReady ??= (async () => {
      await mkdir(join(this.#root, 'tmp'), { recursive: true });
      await chmod(this.#root, 0o755);
    })();
    return this.#rootReady;
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
