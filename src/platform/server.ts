/**
 * @module platform/server
 * The composition root: builds every part of `lambkin serve` from one config and wires them together.
 * Nothing imports this file but the CLI and the tests.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createConsoleRoutes } from '../console/server/index.ts';
import { createLambdaApi, type LambdaApi } from './api/http.ts';
import type { LambkinConfig } from './config.ts';
import { createSandboxDriver } from './environments/sandbox/index.ts';
import type { SandboxCheck, SandboxDriver } from './environments/sandbox/types.ts';
import { PlatformError } from './errors.ts';
import { Engine, engineDirs } from './invoke/engine.ts';
import { createLogsApi } from './logs/api.ts';
import { LogStore } from './logs/log-store.ts';
import { BlobStore } from './storage/blob-store.ts';
import { MetadataStore } from './storage/metadata.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface RunningLambkin {
  url: string;
  config: LambkinConfig;
  sandbox: SandboxCheck;
  engine: Engine;
  logs: LogStore;
  api: LambdaApi;
  close(): Promise<void>;
}

/** Where the managed Node runtime (`nodejs22.x`, `nodejs24.x`) lives once built (`npm run build`). */
export function managedRuntimeDir(): string | null {
  const dir = join(REPO_ROOT, 'dist', 'runtime');
  return existsSync(join(dir, 'bootstrap')) ? dir : null;
}

/** A directory with `bin/node` for /var/lang: the Node that runs Lambkin (22 or newer). */
export function langDir(): string {
  return dirname(dirname(process.execPath));
}

/** Knobs tests turn (never set by the CLI). */
export interface StartOptions {
  retryDelaysMs?: number[];
  /** The built web console to serve (default dist/console). */
  consoleDir?: string;
}

export async function startLambkin(config: LambkinConfig, options: StartOptions = {}): Promise<RunningLambkin> {
  await mkdir(config.dataDir, { recursive: true });
  const dirs = engineDirs(config.dataDir);
  const driver: SandboxDriver = createSandboxDriver(config.sandbox, {
    stateDir: join(config.dataDir, 'sandbox'),
    ...(config.bwrap !== undefined ? { bwrap: config.bwrap } : {}),
  });
  const sandbox = await driver.check();
  if (!sandbox.ok) {
    await driver.dispose();
    throw new PlatformError(
      'ERR_SANDBOX_UNAVAILABLE',
      `the ${config.sandbox} sandbox cannot run here: ${sandbox.reason ?? 'unknown reason'}\n` +
        `  fix: ${sandbox.fix ?? 'see docs/design.md'}\n` +
        `  or run without isolation (not for untrusted code): lambkin serve --sandbox process`,
    );
  }
  const logs = new LogStore(dirs.logsDir);
  const engine = new Engine({
    driver,
    logs,
    cacheDir: dirs.cacheDir,
    stateDir: dirs.stateDir,
    region: config.region,
    network: config.network,
    accountConcurrency: config.accountConcurrency,
    idleTimeoutMs: config.idleTimeoutMs,
    managedRuntimeDir: managedRuntimeDir(),
    langDir: langDir(),
  });
  const store = new MetadataStore(join(config.dataDir, 'lambkin.db'));
  const blobs = new BlobStore(join(config.dataDir, 'blobs'));

  const server: Server = createServer({ keepAliveTimeout: 65_000 });
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const api = createLambdaApi({
    store,
    blobs,
    invoker: engine,
    logs,
    config: {
      region: config.region,
      accountId: config.accountId,
      publicUrl: url,
      auth: config.auth,
      credentials: config.credentials,
      ...(options.retryDelaysMs !== undefined ? { retryDelaysMs: options.retryDelaysMs } : {}),
    },
  });
  const consoleRoutes = createConsoleRoutes({
    dir: options.consoleDir ?? join(REPO_ROOT, 'dist', 'console'),
    list: (name) => engine.environments(name),
    auth: config.auth,
    credentials: config.credentials,
    region: config.region,
    accountId: config.accountId,
  });
  const logsApi = createLogsApi({
    logs,
    config: { region: config.region, accountId: config.accountId, auth: config.auth, credentials: config.credentials },
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // CloudWatch Logs (JSON 1.1, `X-Amz-Target: Logs_20140328.*`) for the functions' log groups.
    if (logsApi.accepts(req)) {
      logsApi.handle(req, res);
      return;
    }
    // The console (GET /, /console/*, /_lambkin/environments); everything else is the Lambda API.
    if (consoleRoutes.handle(req, res)) return;
    api.handle(req, res);
  });

  let closing: Promise<void> | null = null;
  return {
    url,
    config,
    sandbox,
    engine,
    logs,
    api,
    close() {
      closing ??= (async () => {
        await new Promise<void>((r) => {
          server.close(() => {
            r();
          });
          server.closeAllConnections();
        });
        await api.dispose();
        await engine.dispose();
        await driver.dispose();
        store.close();
      })();
      return closing;
    },
  };
}
