/**
 * The executable-tutorial machinery itself: parsing, placeholders, and a shell that keeps state. A tutorial test
 * that cannot fail proves nothing, so wrong outputs must be caught here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mayFail, outputMatches, parseTutorial, Shell, withPrinted, type Step } from './console.ts';

const MARKDOWN = [
  'Intro.',
  '',
  '```php file=dir/hello.php',
  '<?php echo "hi";',
  '```',
  '',
  '```sh',
  'not run',
  '```',
  '',
  '```console',
  '$ echo one \\',
  '  two',
  'one two',
  '$ true',
  '$ aws nope',
  'An error occurred (X) when calling the Y operation: no',
  '```',
].join('\n');

test('parseTutorial: file blocks, console commands with continuations and outputs; other blocks skipped', () => {
  assert.deepEqual(parseTutorial(MARKDOWN), [
    { kind: 'file', line: 3, path: 'dir/hello.php', content: '<?php echo "hi";\n' },
    { kind: 'command', line: 12, command: 'echo one \\\n  two', expected: 'one two', output: { line: 14, count: 1 } },
    { kind: 'command', line: 15, command: 'true', expected: '', output: { line: 16, count: 0 } },
    {
      kind: 'command',
      line: 16,
      command: 'aws nope',
      expected: 'An error occurred (X) when calling the Y operation: no',
      output: { line: 17, count: 1 },
    },
  ]);
  assert.throws(() => parseTutorial('```console\noutput first\n```'), /line 2: console block output before/);
  assert.throws(() => parseTutorial('```console\n$ ls\n'), /unclosed code block/);
});

test('withPrinted: puts each printed output in place of the shown one', () => {
  const steps = parseTutorial(MARKDOWN);
  const printed = new Map<Step, string>([
    [steps[1] as Step, 'one  two 0f4e3c1a-93b2-4d7e-8a51-2b7c9d0e6f13 Duration: 1.50 ms\n'],
    [steps[2] as Step, 'now\nsomething\n'],
  ]);
  const lines = withPrinted(MARKDOWN, steps, printed).split('\n');
  assert.deepEqual(lines.slice(12, 19), [
    '  two',
    'one  two <request-id> Duration: <ms> ms',
    '$ true',
    'now',
    'something',
    '$ aws nope',
    'An error occurred (X) when calling the Y operation: no',
  ]);
});

test('outputMatches: literal text must match exactly; placeholders match only their kind of value', () => {
  const report = 'REPORT RequestId: <request-id>\tDuration: <ms> ms\tMax Memory Used: <mb> MB';
  const real = 'REPORT RequestId: 0f4e3c1a-93b2-4d7e-8a51-2b7c9d0e6f13\tDuration: 2.01 ms\tMax Memory Used: 6 MB\t\n';
  assert.ok(outputMatches(report, real));
  assert.ok(!outputMatches(report, real.replace('Duration', 'Billed')), 'a changed word fails');
  assert.ok(!outputMatches(report, real.replace('2.01', 'fast')), 'a placeholder takes only its kind of value');
  assert.ok(!outputMatches(report, real.replace('0f4e3c1a-', '')), 'a request id is a whole UUID');
  assert.ok(!outputMatches(report, `${real}extra line\n`), 'an extra line fails');
  assert.ok(!outputMatches('{"a": 1}', '{"a": 1}\n{"b": 2}'), 'a prefix is not enough');
  assert.ok(!outputMatches('', 'unexpected'), 'no output shown means none printed');
  assert.ok(outputMatches('a.b (c)', 'a.b (c)  \n\n'), 'regex characters are literal; trailing space ignored');
  assert.ok(!outputMatches('a.b', 'axb'));
  assert.ok(outputMatches('"LastModified": "<timestamp>"', '"LastModified": "2026-11-24T19:25:32.105+0000"'));
  assert.ok(outputMatches('"CodeSha256": "<sha256>"', '"CodeSha256": "mR335u4dgUJlqwjHw66UW8Z33gDkOZPJ5heupyE4F9A="'));
  assert.ok(mayFail('An error occurred (InvalidParameterValueException) when calling'));
  assert.ok(!mayFail('{"StatusCode": 200}'));
});

test('Shell: state carries across commands; output, status, files, timeouts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-shell-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const shell = new Shell(dir, { PATH: process.env.PATH });
  t.after(() => shell.close());

  assert.deepEqual(await shell.run('X=42; mkdir sub && cd sub', 5000), { output: '', status: 0 });
  assert.deepEqual(await shell.run('echo "$X in $(basename "$PWD")"; echo oops >&2; false', 5000), {
    output: '42 in sub\noops\n',
    status: 1,
  });
  assert.equal((await shell.writeFile('a/b.txt', "it's $X `here`\n")).status, 0);
  assert.equal(await readFile(join(dir, 'sub/a/b.txt'), 'utf8'), "it's $X `here`\n");
  assert.deepEqual(await shell.run('cat', 5000), { output: '', status: 0 }, 'stdin is /dev/null');
  await assert.rejects(shell.run('sleep 5', 200), /timed out after 200 ms/);
});
