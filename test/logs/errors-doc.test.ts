/**
 * docs/errors.md's Logs API section and the Logs API code name the same exceptions, both ways.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { LOGS_ERROR_STATUS } from '../../src/platform/logs/api-errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');

test('errors doc: every Logs API exception is documented with its status, and every documented one is used', async () => {
  const doc = await readFile(join(ROOT, 'docs/errors.md'), 'utf8');
  const heading = '## CloudWatch Logs API errors';
  const start = doc.indexOf(heading);
  assert.notEqual(start, -1, heading);
  const rest = doc.slice(start + heading.length);
  const end = rest.indexOf('\n## ');
  const body = end === -1 ? rest : rest.slice(0, end);
  const documented = new Map(
    [...body.matchAll(/^\|\s*`([A-Za-z]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1] ?? '', Number(m[2])]),
  );
  assert.deepEqual(new Map(Object.entries(LOGS_ERROR_STATUS)), documented);

  // Each name in the catalog is raised somewhere in the Logs API code (not just listed).
  const dir = join(ROOT, 'src/platform/logs');
  let code = '';
  for (const name of await readdir(dir)) {
    if (name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'api-errors.ts') {
      code += await readFile(join(dir, name), 'utf8');
    }
  }
  for (const name of Object.keys(LOGS_ERROR_STATUS)) assert.ok(code.includes(`'${name}'`), `${name} is raised`);
});
