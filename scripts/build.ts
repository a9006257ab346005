/**
 * `npm run build` (also run by `npm ci` through `prepare`): the managed Node runtime that `nodejs22.x` and
 * `nodejs24.x` functions run on, in dist/runtime, and the web console, in dist/console.
 */
import { resolve } from 'node:path';
import { buildRuntimeDir } from '../src/cli/commands/runtime-build.ts';
import { buildConsole } from '../src/console/build.ts';

const out = resolve(import.meta.dirname, '../dist/runtime');
await buildRuntimeDir(out);
process.stdout.write(`built the Lambkin runtime into ${out}\n`);

const consoleOut = resolve(import.meta.dirname, '../dist/console');
const built = await buildConsole(consoleOut);
process.stdout.write(
  `built the console into ${consoleOut} (JavaScript ${(built.jsGzipBytes / 1024).toFixed(1)} KB gzipped)\n`,
);
