/**
 * A live `lambkin serve` (in-process, real HTTP on 127.0.0.1:0, real bwrap) plus helpers to drive it with the real
 * aws CLI and the AWS SDK, as a user would.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createLambdaApi, type LambdaApi, type LambdaApiConfig } from '../../src/platform/api/http.ts';
import { parseConfig } from '../../src/platform/config.ts';
import type { FunctionSpec } from '../../src/platform/environments/function-spec.ts';
import { PlatformError } from '../../src/platform/errors.ts';
import type { InvokeOptions, InvokeResult, Invoker } from '../../src/platform/invoke/types.ts';
import { startLambkin, type RunningLambkin } from '../../src/platform/server.ts';
import { BlobStore } from '../../src/platform/storage/blob-store.ts';
import { MetadataStore } from '../../src/platform/storage/metadata.ts';
import { FIXTURES } from '../engine/harness.ts';
import { rawZip } from '../helpers/raw-zip.ts';
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

/**
 * A small real Invoker for API tests that do not need the engine: it answers from the payload.
 * `{"fail":true}` → a function error; `{"throttle":"<Reason>"}` → ERR_THROTTLED; otherwise it returns
 * `{"version","event","clientContext"}`. `prepare` waits for `gate` (to hold functions in Pending/InProgress).
 */
export class TestInvoker implements Invoker {
  readonly calls: InvokeOptions[] = [];
  readonly retired: [string, string | undefined][] = [];
  readonly prepared: string[] = [];
  gate: Promise<void> = Promise.resolve();

  async prepare(spec: FunctionSpec): Promise<void> {
    await this.gate;
    this.prepared.push(spec.key);
  }

  invoke(options: InvokeOptions): Promise<InvokeResult> {
    this.calls.push(options);
    const event = JSON.parse(options.payload.toString('utf8')) as { fail?: boolean; throttle?: string } | null;
    const requestId = options.requestId ?? 'no-id';
    if (typeof event?.throttle === 'string') {
      return Promise.reject(new PlatformError('ERR_THROTTLED', 'throttled', { detail: { reason: event.throttle } }));
    }
    const logTail = options.logTail ? `START RequestId: ${requestId} Version: ${options.spec.version}\n` : undefined;
    if (event?.fail === true) {
      return Promise.resolve({
        requestId,
        payload: Buffer.from('{"errorType":"Error","errorMessage":"asked to fail","trace":[]}'),
        functionError: 'Unhandled',
        errorType: 'Error',
        ...(logTail !== undefined ? { logTail } : {}),
      });
    }
    const body = { version: options.spec.version, event, clientContext: options.clientContext ?? null };
    return Promise.resolve({
      requestId,
      payload: Buffer.from(JSON.stringify(body)),
      functionError: undefined,
      ...(logTail !== undefined ? { logTail } : {}),
    });
  }

  retire(functionName: string, keepKey?: string): void {
    this.retired.push([functionName, keepKey]);
  }
}

export interface BareApi {
  url: string;
  dir: string;
  api: LambdaApi;
  store: MetadataStore;
  invoker: TestInvoker;
  sdk: LambdaClient;
  aws(args: string[], bin?: string): Promise<CliResult>;
  /** Stops the HTTP server and the API (the store stays open unless `closeStore`). */
  stop(closeStore?: boolean): Promise<void>;
}

/**
 * `createLambdaApi` mounted on a real HTTP server on 127.0.0.1:0, on a fresh data directory (or `dataDir`), with a
 * TestInvoker instead of the engine.
 */
export async function startBareApi(
  t: TestContext,
  options: { dataDir?: string; invoker?: TestInvoker; config?: Partial<LambdaApiConfig> } = {},
): Promise<BareApi> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-bare-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'aws-config'), '');
  await writeFile(join(dir, 'aws-credentials'), '');
  const dataDir = options.dataDir ?? join(dir, 'data');
  const store = new MetadataStore(join(dataDir, 'lambkin.db'));
  const blobs = new BlobStore(join(dataDir, 'blobs'));
  const invoker = options.invoker ?? new TestInvoker();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = createLambdaApi({
    store,
    blobs,
    invoker,
    config: {
      region: 'us-east-1',
      accountId: '000000000000',
      publicUrl: url,
      auth: 'loopback',
      retryDelaysMs: [50, 100],
      ...options.config,
    },
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    api.handle(req, res);
  });
  const sdk = new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  let stopped: Promise<void> | null = null;
  const stop = (closeStore = true) =>
    (stopped ??= (async () => {
      sdk.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await api.dispose();
      if (closeStore) store.close();
    })());
  t.after(() => stop());
  const cliEnv = awsEnv(dir);
  return {
    url,
    dir,
    api,
    store,
    invoker,
    sdk,
    stop,
    aws: (args, bin = 'aws') => runAws(bin, [...args, '--endpoint-url', url], cliEnv, dir),
  };
}

/** A valid function zip (one `function.sh`), distinct per `tag`. */
export function tinyZip(tag = ''): Buffer {
  return rawZip([{ name: 'function.sh', data: `handler() { echo "$1"; } # ${tag}\n`, mode: 0o100644 }]);
}
