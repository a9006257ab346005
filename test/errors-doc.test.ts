/**
 * docs/errors.md and the code name the same errors, both ways.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { PLATFORM_ERROR } from '../src/protocol/platform-errors.ts';

const ROOT = resolve(import.meta.dirname, '..');

async function sources(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (
      entry.isFile() &&
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      !entry.name.includes('.generated.')
    ) {
      text += await readFile(join(entry.parentPath, entry.name), 'utf8');
    }
  }
  return text;
}

function section(doc: string, heading: string): Set<string> {
  const start = doc.indexOf(heading);
  assert.notEqual(start, -1, heading);
  const rest = doc.slice(start + heading.length);
  const end = rest.indexOf('\n## ');
  const body = end === -1 ? rest : rest.slice(0, end);
  return new Set([...body.matchAll(/^\|\s*`([A-Za-z.]+)`\s*\|/gm)].map((m) => m[1] ?? ''));
}

test('errors doc: every API exception thrown is documented, and every documented one is thrown', async () => {
  const doc = await readFile(join(ROOT, 'docs/errors.md'), 'utf8');
  const code = await sources(join(ROOT, 'src/platform/api'));
  const thrown = new Set([...code.matchAll(/LambdaApiError\(\s*'(\w+)'/g)].map((m) => m[1] ?? ''));
  const helpers: Record<string, string> = {
    notFound: 'ResourceNotFoundException',
    invalid: 'InvalidParameterValueException',
    conflict: 'ResourceConflictException',
    validation: 'ValidationException',
  };
  for (const [helper, name] of Object.entries(helpers)) if (code.includes(`apiError.${helper}(`)) thrown.add(name);
  assert.deepEqual([...section(doc, '## Lambda API errors')].sort(), [...thrown].sort());
});

test('errors doc: every platform function error is documented, and only those', async () => {
  const doc = await readFile(join(ROOT, 'docs/errors.md'), 'utf8');
  const code = await sources(join(ROOT, 'src/platform'));
  const used = Object.entries(PLATFORM_ERROR)
    .filter(([key]) => code.includes(`PLATFORM_ERROR.${key}`))
    .map(([, value]) => value);
  assert.deepEqual([...section(doc, '## Function errors')].sort(), used.sort());
});

test('errors doc: every Runtime API error is documented, and only those', async () => {
  const doc = await readFile(join(ROOT, 'docs/errors.md'), 'utf8');
  const code = await readFile(join(ROOT, 'src/platform/runtime-api/server.ts'), 'utf8');
  const protocol = await readFile(join(ROOT, 'src/protocol/runtime-api.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of code.matchAll(/RUNTIME_API_ERROR\.(\w+)/g)) names.add(m[1] ?? '');
  for (const m of code.matchAll(/reply\(\s*req,\s*res,\s*\d+,\s*'(\w+)'/g)) names.add(m[1] ?? '');
  assert.ok(protocol.includes('InvalidRequestID'));
  assert.deepEqual([...section(doc, '## Runtime API errors')].sort(), [...names].sort());
});
