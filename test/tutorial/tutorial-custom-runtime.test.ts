/**
 * docs/tutorial-custom-runtime.md, run as written: its files and commands, in order, in one bash session in an
 * empty directory, against a live in-process Lambkin, with the real aws CLI (v1, first on PATH) and Debian's php.
 * Every command's output must be what the tutorial shows (placeholders: test/tutorial/console.ts).
 *
 * The tutorial says `--endpoint-url=http://127.0.0.1:9777`; the server here listens on a free port, so that URL
 * is swapped for the real one in commands, and back in their output.
 *
 * After a change: `TUTORIAL_PRINTED=/tmp/printed.md node --test test/tutorial/` also writes the page with the
 * outputs as printed (placeholders put back where values vary), to diff against the page and copy from.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { awsEnv, startApi } from '../api/harness.ts';
import {
  mayFail,
  normalise,
  outputMatches,
  parseTutorial,
  PLACEHOLDERS,
  Shell,
  withPrinted,
  type Step,
} from './console.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TUTORIAL = join(ROOT, 'docs/tutorial-custom-runtime.md');
const EXAMPLES = join(ROOT, 'examples');
const DOC_URL = 'http://127.0.0.1:9777';
const COMMAND_TIMEOUT_MS = 120_000;

async function steps(): Promise<Step[]> {
  return parseTutorial(await readFile(TUTORIAL, 'utf8'));
}

const PRINTED = process.env.TUTORIAL_PRINTED;

test('tutorial-custom-runtime: every command prints what the tutorial shows', async (t) => {
  const tutorial = await steps();
  assert.ok(tutorial.filter((s) => s.kind === 'command').length > 20, 'the tutorial has its commands');

  const h = await startApi(t);
  const work = await mkdtemp(join(tmpdir(), 'lambkin-tutorial-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  // No credentials and no aws config from the machine: the tutorial exports what it needs.
  const { AWS_ACCESS_KEY_ID: _k, AWS_SECRET_ACCESS_KEY: _s, AWS_DEFAULT_REGION: _r, ...env } = awsEnv(h.dir);
  // The one setting a reader with aws CLI v2 needs (the tutorial says so); v1 ignores it. With it, the tutorial
  // also runs with v2 first on PATH.
  await writeFile(join(h.dir, 'aws-config'), '[default]\ncli_binary_format = raw-in-base64-out\n');
  const shell = new Shell(work, { ...env, HOME: work, LANG: 'C.UTF-8', TZ: 'UTC' });
  t.after(() => shell.close());

  const failures: string[] = [];
  const printed = new Map<Step, string>();
  for (const step of tutorial) {
    const where = `docs/tutorial-custom-runtime.md:${step.line}`;
    if (step.kind === 'file') {
      const written = await shell.writeFile(step.path, step.content);
      assert.equal(written.status, 0, `${where}: cannot write ${step.path}: ${written.output}`);
      continue;
    }
    const { output, status } = await shell.run(step.command.replaceAll(DOC_URL, h.url), COMMAND_TIMEOUT_MS);
    const actual = output.replaceAll(h.url, DOC_URL);
    printed.set(step, actual);
    if (!outputMatches(step.expected, actual))
      failures.push(
        `${where}: $ ${step.command}\n--- shown\n${normalise(step.expected)}\n--- printed\n${normalise(actual)}`,
      );
    else if (status !== 0 && !mayFail(step.expected))
      failures.push(`${where}: $ ${step.command}\nexit status ${status}\n${actual}`);
  }
  if (PRINTED !== undefined) await writeFile(PRINTED, withPrinted(await readFile(TUTORIAL, 'utf8'), tutorial, printed));
  assert.equal(failures.length, 0, `\n${failures.join('\n\n')}`);
});

test('tutorial-custom-runtime: shows each file of examples/ exactly as it is', async () => {
  const shown = new Map<string, string>();
  for (const step of await steps()) if (step.kind === 'file') shown.set(step.path, step.content);
  const files = (await readdir(EXAMPLES, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(EXAMPLES, join(e.parentPath, e.name)));
  assert.ok(files.length >= 7, 'examples/ has its files');
  for (const file of files) {
    const content = shown.get(file);
    assert.ok(content !== undefined, `the tutorial shows examples/${file} (a block with file=${file})`);
    assert.equal(content, await readFile(join(EXAMPLES, file), 'utf8'), `the tutorial's ${file} = examples/${file}`);
  }
  // Lambda runs bootstrap as a program; the PHP wrapper too.
  for (const file of ['php-runtime/bootstrap', 'php-runtime/php', 'bash-runtime/bootstrap'])
    assert.equal((await stat(join(EXAMPLES, file))).mode & 0o777, 0o755, `examples/${file} is mode 755`);
});

test('tutorial-custom-runtime: explains every placeholder it may use', async () => {
  const markdown = await readFile(TUTORIAL, 'utf8');
  const table = markdown.slice(markdown.indexOf('## How this page is tested'));
  for (const placeholder of Object.keys(PLACEHOLDERS)) assert.ok(table.includes(`\`${placeholder}\``), placeholder);
});
