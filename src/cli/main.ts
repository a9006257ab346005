/**
 * @module cli/main
 * The `lambkin` command: `<noun> <verb>` subcommands, one file each under commands/.
 */
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { runtimeCommand } from './commands/runtime.ts';
import { serveCommand } from './commands/serve.ts';

const program = new Command('lambkin')
  .description('An AWS-Lambda-compatible platform for your own machine')
  .version('0.1.0')
  .option('--debug', 'show stack traces of unexpected errors')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(serveCommand());
program.addCommand(runtimeCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const debug = program.opts<{ debug?: boolean }>().debug === true;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${pc.red('error')} ${message}\n`);
  if (debug && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
