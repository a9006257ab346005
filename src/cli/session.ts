/**
 * @module cli/session
 * What every command shares: the global options (`--endpoint`, `--profile`, `--region`, `--json`, `--debug`),
 * the AWS SDK clients built from them, and the output helpers. Commands talk to the server only through the
 * public Lambda and CloudWatch Logs APIs, so `--endpoint aws` sends the same calls to AWS itself.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import { createOutput, type Output } from './output.ts';

/** Where Lambkin listens by default (`lambkin serve`). */
export const LOCAL_ENDPOINT = 'http://127.0.0.1:9777';

export interface GlobalOptions {
  endpoint?: string;
  profile?: string;
  region?: string;
  json?: boolean;
  debug?: boolean;
}

export interface Session {
  lambda: LambdaClient;
  logs: CloudWatchLogsClient;
  out: Output;
  /** True when talking to AWS itself (`--endpoint aws`). */
  aws: boolean;
  /** The endpoint URL, or `aws`. */
  endpoint: string;
  region: string;
}

/** The options of the root command, wherever the subcommand sits. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function openSession(command: Command, env: NodeJS.ProcessEnv = process.env): Session {
  const options = globalOptions(command);
  const endpoint = options.endpoint ?? env.LAMBKIN_ENDPOINT ?? LOCAL_ENDPOINT;
  const aws = endpoint === 'aws';
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const config: ConstructorParameters<typeof LambdaClient>[0] = { region, maxAttempts: aws ? 3 : 1 };
  if (!aws) config.endpoint = endpoint;
  if (options.profile !== undefined) config.profile = options.profile;
  // Locally any well-formed signature is accepted (`--auth loopback`), so a user with no AWS credentials at all
  // can still use Lambkin; with credentials in the environment or a profile, the SDK's usual chain is used.
  else if (!aws && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined)
    config.credentials = { accessKeyId: 'lambkin', secretAccessKey: 'lambkin' };
  return {
    lambda: new LambdaClient(config),
    logs: new CloudWatchLogsClient(config),
    out: createOutput({ json: options.json === true }),
    aws,
    endpoint,
    region,
  };
}
