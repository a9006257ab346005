/**
 * @module platform/storage/visible-dir
 * Directories that sandboxes mount (code, merged layers, sockets) must be reachable by the unprivileged sandbox
 * user, because bubblewrap resolves bind sources as that user. When Lambkin's data dir sits somewhere that user
 * cannot traverse (e.g. under root's 0700 home), such directories move to a world-traversable cache location.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** True when every existing ancestor of `dir` is searchable by others (o+x). */
export function traversableByOthers(dir: string): boolean {
  let current = resolve(dir);
  for (;;) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      // Not created yet: the creator decides its mode.
    }
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** `dir` itself when the sandbox user can reach it, else a stable stand-in under /var/tmp (or the temp dir). */
export function sandboxVisibleDir(dir: string): string {
  const parent = dirname(resolve(dir));
  if (traversableByOthers(parent)) return dir;
  const base = traversableByOthers('/var/tmp') ? '/var/tmp' : tmpdir();
  const id = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  return join(base, `lambkin-${process.getuid?.() ?? 'user'}`, id);
}
