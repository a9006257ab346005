/**
 * @module cli/main
 * The `lambkin` command: `<noun> <verb>` subcommands, one file per noun under commands/. Every command but
 * `serve` and `runtime build` talks to a server only through the public Lambda and CloudWatch Logs APIs.
 */
import { Command, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { devCommand } from './commands/dev.ts';
import { functionCommand } from './commands/function.ts';
import { initCommand } from './commands/init.ts';
import { invokeCommand } from './commands/invoke.ts';
import { layerCommand } from './commands/layer.ts';
import { logsCommand } from './commands/logs.ts';
import { runtimeCommand } from './commands/runtime.ts';
import { serveCommand } from './commands/serve.ts';
import { EXIT, formatError } from './errors.ts';
import { LOCAL_ENDPOINT } from './session.ts';

const program = new Command('lambkin')
  .description('AWS Lambda on your own machine — and the same commands toward AWS')
  .version('0.1.0')
  .addOption(
    new Option('--endpoint <url|aws>', `Lambda endpoint; "aws" for AWS itself (default ${LOCAL_ENDPOINT})`).env(
      'LAMBKIN_ENDPOINT',
    ),
  )
  .option('--profile <name>', 'AWS profile (credentials and region)')
  .option('--region <region>', 'AWS region (default from the environment, else us-east-1)')
  .option('--json', 'machine-readable output', false)
  .option('--debug', 'show stack traces', false)
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => {
      write(pc.red(text));
    },
  });

for (const command of [
  serveCommand(),
  initCommand(),
  devCommand(),
  functionCommand(),
  layerCommand(),
  invokeCommand(),
  logsCommand(),
  runtimeCommand(),
])
  program.addCommand(command);

// Subcommands inherit the root's error handling (exitOverride) and output.
const inherit = (command: Command): void => {
  for (const sub of command.commands) {
    sub.exitOverride().showHelpAfterError();
    inherit(sub);
  }
};
inherit(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  const options = program.opts<{ debug?: boolean; json?: boolean; endpoint?: string }>();
  const { line, exitCode } = formatError(err, options.endpoint ?? LOCAL_ENDPOINT);
  process.stderr.write(`${pc.red('error')} ${line.replaceAll('\n', ' ')}\n`);
  if (options.debug === true && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCode);
}
