/**
 * @module platform/storage/visible-dir
 * Directories that sandboxes mount (code, merged layers, sockets) must be reachable by the unprivileged sandbox
 * user, because bubblewrap resolves bind sources as that user. When Lambkin's data dir sits somewhere that user
 * cannot traverse (e.g. under root's 0700 home), such directories move to a world-traversable cache location.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
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

/**
 * `dir` itself when the sandbox user can reach it, else a stable stand-in under /var/tmp (or the temp dir). The
 * stand-ins' parent is created here, traversable but not listable by others (0711): a recursive `mkdir` of a
 * stand-in with a private mode would otherwise create it 0700 and hide every stand-in from the sandbox.
 */
export function sandboxVisibleDir(dir: string): string {
  const parent = dirname(resolve(dir));
  if (traversableByOthers(parent)) return dir;
  const base = traversableByOthers('/var/tmp') ? '/var/tmp' : tmpdir();
  const id = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  const home = join(base, `lambkin-${process.getuid?.() ?? 'user'}`);
  mkdirSync(home, { recursive: true, mode: 0o711 });
  if ((statSync(home).mode & 0o711) !== 0o711) chmodSync(home, 0o711);
  return join(home, id);
}
