/**
 * @module cli/commands/serve
 * `lambkin serve`: the Lambda API and the Runtime APIs of the execution environments, on one machine.
 */
import { Command } from 'commander';
import pc from 'picocolors';
import { parseConfig, type ConfigFlags } from '../../platform/config.ts';
import { startLambkin } from '../../platform/server.ts';

export function serveCommand(): Command {
  return new Command('serve')
    .description('start the Lambda endpoint (embedded defaults, no configuration needed)')
    .option('--host <host>', 'address to listen on (env LAMBKIN_HOST)', undefined)
    .option('--port <port>', 'port to listen on (env LAMBKIN_PORT; default 9777)')
    .option('--data-dir <dir>', 'where functions, layers and logs are kept (env LAMBKIN_DATA_DIR; default ./.lambkin)')
    .option('--sandbox <driver>', 'bwrap (default) or process (no isolation, for machines without namespaces)')
    .option('--network <mode>', 'host (default: functions share the host network) or isolated')
    .option('--auth <mode>', 'loopback (default: any well-formed signature) or strict (verify SigV4)')
    .option('--region <region>', 'region in ARNs (default us-east-1)')
    .option('--account-id <id>', 'account id in ARNs (default 000000000000)')
    .option('--idle-timeout <ms>', 'reap environments idle this long (default 600000)')
    .addHelpText(
      'after',
      '\nExample:\n  $ npx lambkin serve --port 9777\n  $ aws lambda list-functions --endpoint-url http://127.0.0.1:9777',
    )
    .action(async (flags: ConfigFlags, command: Command) => {
      // `--region` is also the root command's option (for the client commands); after `serve` it is serve's.
      const region = flags.region ?? command.optsWithGlobals<{ region?: string }>().region;
      const config = parseConfig({ ...flags, ...(region !== undefined ? { region } : {}) });
      const lambkin = await startLambkin(config);
      const features = Object.entries(lambkin.sandbox.features)
        .filter(([, on]) => on)
        .map(([name]) => name)
        .join(', ');
      process.stdout.write(
        `${pc.bold('Lambkin')} listening on ${pc.cyan(lambkin.url)}\n` +
          `  data dir  ${config.dataDir}\n` +
          `  sandbox   ${config.sandbox}${features ? ` (${features})` : ''}, network ${config.network}, auth ${config.auth}\n` +
          // How each limit is enforced here, or why it is not (e.g. no memory cgroup for a user without root).
          (lambkin.sandbox.notes ?? []).map((note) => `            ${pc.dim(note)}\n`).join('') +
          `  console   ${pc.cyan(`${lambkin.url}/`)}\n` +
          `  try       aws lambda list-functions --endpoint-url ${lambkin.url}\n`,
      );
      const stop = (signal: string) => {
        process.stdout.write(`\n${signal}: stopping (killing every environment)…\n`);
        void lambkin.close().then(() => process.exit(0));
      };
      process.once('SIGINT', () => {
        stop('SIGINT');
      });
      process.once('SIGTERM', () => {
        stop('SIGTERM');
      });
    });
}
