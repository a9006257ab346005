import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { sandboxVisibleDir, traversableByOthers } from './visible-dir.ts';

test('visible dir: a dir others cannot reach gets a stand-in whose parents others can traverse, even after a private mkdir', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lambkin-visible-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await chmod(root, 0o700);
  const hidden = join(root, 'data', 'cache');
  const standIn = sandboxVisibleDir(hidden);
  assert.notEqual(standIn, hidden);
  t.after(() => rm(standIn, { recursive: true, force: true }));
  // What the extraction cache does first: a private scratch dir inside, created with its parents (then it makes
  // its own root 0755).
  await mkdir(join(standIn, 'tmp'), { recursive: true, mode: 0o700 });
  assert.equal(traversableByOthers(dirname(standIn)), true, 'the sandbox user reaches the stand-ins');
  assert.equal((await stat(dirname(standIn))).mode & 0o777, 0o711);
  assert.equal(sandboxVisibleDir(hidden), standIn, 'stable');
  const visible = join(tmpdir(), 'lambkin-reachable');
  assert.equal(sandboxVisibleDir(visible), visible);
});
