/**
 * @module cli/commands/runtime
 * `lambkin runtime build [--with-node] [--out FILE]`: the Lambkin runtime as a layer zip.
 */
import { Command } from 'commander';
import { MAX_ZIPPED_BYTES } from '../archive.ts';
import { runtimeBuild } from './runtime-build.ts';

export function runtimeCommand(): Command {
  const runtime = new Command('runtime').description('the Lambkin TypeScript/JavaScript runtime layer');
  runtime
    .command('build')
    .description('build the runtime layer zip (bootstrap at the root)')
    .option('--with-node', 'bundle the Node 24 binary so the layer also runs on AWS provided.al2023', false)
    .option('--out <file>', 'where to write the zip', 'lambkin-runtime.zip')
    .addHelpText('after', '\nExample:\n  $ npx lambkin runtime build --with-node --out lambkin-runtime.zip')
    .action(async (opts: { withNode: boolean; out: string }) => {
      const { out, bytes } = await runtimeBuild({ withNode: opts.withNode, out: opts.out });
      const mb = bytes / 1048576;
      process.stdout.write(
        `wrote ${out} (${mb.toFixed(1)} MB zipped${opts.withNode ? `; Lambda's direct-upload limit is 50 MB` : ''})\n`,
      );
      if (bytes > MAX_ZIPPED_BYTES) process.stderr.write('warning: over 50 MB: upload it through S3 on AWS\n');
    });
  return runtime;
}
