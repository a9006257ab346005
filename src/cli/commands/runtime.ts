/**
 * @module cli/commands/runtime
 * `lambkin runtime build [--with-node] [--out FILE]`: the Lambkin runtime as a layer zip.
 */
import { Command } from 'commander';

export function runtimeCommand(): Command {
  const runtime = new Command('runtime').description('the Lambkin TypeScript runtime layer');
  runtime
    .command('build')
    .description('build the runtime layer zip (bootstrap at the root)')
    .option('--with-node', 'bundle a Node 24 binary so the layer runs on AWS provided.al2023', false)
    .option('--out <file>', 'where to write the zip', 'lambkin-runtime.zip')
    .addHelpText('after', '\nExample:\n  $ lambkin runtime build --with-node --out lambkin-runtime.zip')
    .action(async (opts: { withNode: boolean; out: string }) => {
      const { runtimeBuild } = await import('./runtime-build.ts');
      const { out, bytes } = await runtimeBuild({ withNode: opts.withNode, out: opts.out });
      process.stdout.write(`wrote ${out} (${(bytes / 1048576).toFixed(1)} MB zipped)\n`);
    });
  return runtime;
}
