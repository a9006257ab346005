/**
 * Global setup and teardown of the test run (`node --test --test-global-setup=test/leak-check.ts`): fails the run if
 * any execution environment outlived its test, i.e. a process with a Lambda environment is still alive. Environments
 * that were already running when the run began (a `lambkin serve` of the developer's own) are not the tests'.
 */
import { readdir, readFile } from 'node:fs/promises';

/** `pid:start time` of each environment process alive when the run began. */
const before = new Set<string>();

async function environmentProcesses(): Promise<{ key: string; text: string }[]> {
  const found: { key: string; text: string }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const env = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    if (!env.includes('AWS_LAMBDA_RUNTIME_API=')) continue;
    const cmd = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
    const fn = /AWS_LAMBDA_FUNCTION_NAME=([^\0]*)/.exec(env)?.[1] ?? '?';
    // The start time (field 22 of stat, after the parenthesised command) tells a reused pid from the first.
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    found.push({ key: `${name}:${startTime}`, text: `pid ${name} (function ${fn}): ${cmd.slice(0, 120)}` });
  }
  return found;
}

async function leftovers(): Promise<string[]> {
  return (await environmentProcesses()).filter((p) => !before.has(p.key)).map((p) => p.text);
}

export async function globalSetup(): Promise<void> {
  for (const p of await environmentProcesses()) before.add(p.key);
}

export async function globalTeardown(): Promise<void> {
  // Environments end asynchronously after their test; give stragglers a moment.
  let left = await leftovers();
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = await leftovers();
  }
  if (left.length > 0) {
    process.stderr.write(
      `leak check: ${left.length} execution environment process(es) outlived the tests:\n  ${left.join('\n  ')}\n`,
    );
    process.exitCode = 1;
  }
}
