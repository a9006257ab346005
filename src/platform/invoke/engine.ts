/**
 * @module platform/invoke/engine
 * The data plane: takes an environment from the pool, runs one invocation in it, gives it back.
 * Hot path: Invoke API → Engine.invoke → EnvironmentPool.acquire → Environment.invoke → Runtime API → runtime.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Environment, type EnvironmentSettings } from '../environments/environment.ts';
import type { FunctionSpec } from '../environments/function-spec.ts';
import { EnvironmentPool, type PoolEnvironmentInfo } from '../environments/pool.ts';
import type { SandboxDriver } from '../environments/sandbox/types.ts';
import type { LogStore } from '../logs/log-store.ts';
import { RuntimeApiServer } from '../runtime-api/server.ts';
import { ExtractionCache } from '../storage/extraction-cache.ts';
import { sandboxVisibleDir } from '../storage/visible-dir.ts';
import type { InvokeOptions, InvokeResult, Invoker } from './types.ts';

export interface EngineOptions {
  driver: SandboxDriver;
  logs: LogStore;
  /** Where extracted code and merged layers are cached. */
  cacheDir: string;
  /** Per-environment state (Unix sockets in isolated mode). */
  stateDir: string;
  region: string;
  network?: 'host' | 'isolated';
  accountConcurrency?: number;
  idleTimeoutMs?: number;
  shutdownGraceMs?: number;
  managedRuntimeDir?: string | null;
  langDir?: string | null;
  credentials?: EnvironmentSettings['credentials'];
}

export class Engine implements Invoker {
  readonly pool: EnvironmentPool;
  readonly #cache: ExtractionCache;
  #disposed: Promise<void> | null = null;

  constructor(options: EngineOptions) {
    this.#cache = new ExtractionCache({ rootDir: sandboxVisibleDir(options.cacheDir) });
    const settings: EnvironmentSettings = {
      region: options.region,
      stateDir: sandboxVisibleDir(options.stateDir),
      network: options.network ?? 'host',
      managedRuntimeDir: options.managedRuntimeDir ?? null,
      langDir: options.langDir ?? null,
      credentials: options.credentials ?? {
        accessKeyId: 'ASIALAMBKINLOCAL0000',
        secretAccessKey: 'lambkin-local-execution-role-secret-key',
        sessionToken: 'lambkin-local-session-token',
      },
      maxProcesses: 1024,
    };
    const cache = this.#cache;
    const deps = {
      driver: options.driver,
      cache,
      logs: options.logs,
      settings,
      startRuntimeApi: (o: Parameters<typeof RuntimeApiServer.start>[0]) =>
        RuntimeApiServer.start({ host: '127.0.0.1', port: 0, ...o }),
    };
    this.pool = new EnvironmentPool({
      factory: (spec) => new Environment(spec, deps),
      accountConcurrency: options.accountConcurrency ?? 1000,
      idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60_000,
      ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
    });
  }

  async invoke(options: InvokeOptions): Promise<InvokeResult> {
    const env = await this.pool.acquire(options.spec);
    const handle = env.invoke({
      requestId: options.requestId ?? randomUUID(),
      payload: options.payload,
      invokedFunctionArn: options.invokedFunctionArn,
      logTail: options.logTail,
      ...(options.clientContext !== undefined ? { clientContext: options.clientContext } : {}),
      ...(options.onChunk ? { onChunk: options.onChunk } : {}),
    });
    void handle.done.then((reusable) => {
      this.pool.release(env, reusable);
    });
    return handle.result;
  }

  /** Extracts code and layers ahead of the first invoke (called when a configuration is created or changed). */
  async prepare(spec: FunctionSpec): Promise<void> {
    await Promise.all([
      this.#cache.codeDir(spec.code),
      this.#cache.optDir(spec.layers),
      this.#cache.compileCacheDir(spec.code),
    ]);
  }

  retire(functionName: string, keepKey?: string): void {
    this.pool.retire(functionName, keepKey);
  }

  environments(functionName?: string): PoolEnvironmentInfo[] {
    return this.pool.list(functionName);
  }

  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      await this.pool.dispose();
      await this.#cache.dispose();
    })();
    return this.#disposed;
  }
}

/** Default layout of the engine's directories under a data dir. */
export function engineDirs(dataDir: string): { cacheDir: string; stateDir: string; logsDir: string } {
  return { cacheDir: join(dataDir, 'cache'), stateDir: join(dataDir, 'run'), logsDir: join(dataDir, 'logs') };
}

export type { FunctionSpec };
