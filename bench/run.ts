/**
 * `npm run bench`: prints figures and ratios. Never run by the tests (tests do not assert on wall-clock times).
 * `npm run bench -- engine` runs one section.
 */
import { benchApi } from './api.ts';
import { benchConsole } from './console.ts';
import { benchDev } from './dev.ts';
import { benchEngine } from './engine.ts';
import { benchRuntime } from './runtime.ts';

const sections: Record<string, (out: (s: string) => void) => Promise<unknown>> = {
  engine: benchEngine,
  api: benchApi,
  runtime: benchRuntime,
  console: benchConsole,
  dev: benchDev,
};

const only = process.argv.slice(2);
const out = (s: string) => {
  process.stdout.write(`${s}\n`);
};
for (const [name, run] of Object.entries(sections)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await run(out);
  out('');
}
