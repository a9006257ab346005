/**
 * A live `lambkin serve` (in-process, real HTTP on 127.0.0.1:0, real bwrap) plus helpers to drive it with the real
 * aws CLI and the AWS SDK, as a user would.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parseConfig } from '../../src/platform/config.ts';
import { startLambkin, type RunningLambkin } from '../../src/platform/server.ts';
import { FIXTURES } from '../engine/harness.ts';
import { zipDirectory } from '../helpers/zip-dir.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown>;
}

export interface ApiHarness {
  lambkin: RunningLambkin;
  url: string;
  dir: string;
  /** Runs the aws CLI (v1 from PATH unless `bin` is given) against the server. */
  aws(args: string[], bin?: string): Promise<CliResult>;
  sdk: LambdaClient;
  /** Zips a fixture directory (relative to test/fixtures/engine) into the test's directory. */
  zip(fixture: string): Promise<string>;
}

/** Environment for the aws CLI: dummy credentials, no user config. */
export function awsEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'),
    AWS_PAGER: '',
  };
}

export function runAws(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> });
    });
  });
}

export async function startApi(
  t: TestContext,
  flags: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-api-'));
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'aws-config'), '');
  await writeFile(join(dir, 'aws-credentials'), '');
  const config = parseConfig({ port: 0, dataDir: join(dir, 'data'), ...flags }, env);
  const lambkin = await startLambkin(config, { retryDelaysMs: [200, 400] });
  const sdk = new LambdaClient({
    endpoint: lambkin.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  t.after(async () => {
    sdk.destroy();
    await lambkin.close();
    await rm(dir, { recursive: true, force: true });
  });
  const cliEnv = awsEnv(dir);
  await mkdir(join(dir, 'zips'), { recursive: true });
  return {
    lambkin,
    url: lambkin.url,
    dir,
    sdk,
    aws: (args, bin = 'aws') => runAws(bin, [...args, '--endpoint-url', lambkin.url], cliEnv, dir),
    zip: (fixture) => zipDirectory(join(FIXTURES, fixture), join(dir, 'zips', `${fixture.replaceAll('/', '-')}.zip`)),
  };
}

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
