/**
 * `npm run build` (also run by `npm ci` through `prepare`): the managed Node runtime that `nodejs22.x` and
 * `nodejs24.x` functions run on, in dist/runtime.
 */
import { resolve } from 'node:path';
import { buildRuntimeDir } from '../src/cli/commands/runtime-build.ts';

const out = resolve(import.meta.dirname, '../dist/runtime');
await buildRuntimeDir(out);
process.stdout.write(`built the Lambkin runtime into ${out}\n`);
