import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileCacheSubdir } from '../../protocol/typescript-cache.ts';
import { TypeScriptPrecompiler } from './typescript-precompile.ts';

test('precompiler: one kept worker runs jobs in order; after it is gone, the next job starts another', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-precompile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const code = async (name: string, files: Record<string, string>) => {
    const root = join(dir, name);
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(join(root, rel, '..'), { recursive: true });
      await writeFile(join(root, rel), text);
    }
    return root;
  };
  const a = await code('a', { 'index.ts': 'export const a: number = 1;', 'lib/b.mts': 'enum E { X }\nexport { E };' });
  const b = await code('b', { 'index.js': 'export const b = 1;' });
  const pre = new TypeScriptPrecompiler();
  t.after(() => pre.dispose());
  const [na, nb] = await Promise.all([pre.compile(a, join(dir, 'out-a')), pre.compile(b, join(dir, 'out-b'))]);
  assert.equal(na, 2);
  assert.equal(nb, 0);
  assert.equal((await readdir(join(dir, 'out-a', compileCacheSubdir(process.version)))).length, 2);

  await pre.dispose();
  assert.equal(await pre.compile(a, join(dir, 'out-c')), 2, 'a new worker after the old one ended');
  await assert.rejects(pre.compile(join(dir, 'missing'), join(dir, 'out-d')), /ENOENT/);
  assert.equal(await pre.compile(a, join(dir, 'out-e')), 2, 'a failed job does not stop the worker');
});
