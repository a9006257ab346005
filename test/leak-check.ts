/**
 * Global teardown of the test run (`node --test --test-global-setup=test/leak-check.ts`): fails the run if any
 * execution environment outlived its test, i.e. a process with a Lambda environment is still alive.
 */
import { readdir, readFile } from 'node:fs/promises';

async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const env = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    if (!env.includes('AWS_LAMBDA_RUNTIME_API=')) continue;
    const cmd = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
    const fn = /AWS_LAMBDA_FUNCTION_NAME=([^\0]*)/.exec(env)?.[1] ?? '?';
    found.push(`pid ${name} (function ${fn}): ${cmd.slice(0, 120)}`);
  }
  return found;
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
