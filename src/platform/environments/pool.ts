/**
 * @module platform/environments/pool
 * Warm environments and concurrency. One in-flight invocation per environment; the most recently used idle
 * environment of the same configuration is reused first; new environments are created up to the function's
 * reserved concurrency and the account limit; idle environments are reaped after `idleTimeoutMs`.
 */
import { PlatformError } from '../errors.ts';
import type { Environment } from './environment.ts';
import type { FunctionSpec } from './function-spec.ts';

export interface PoolOptions {
  factory: (spec: FunctionSpec) => Environment;
  /** Account-wide concurrent executions (Lambda default 1,000). */
  accountConcurrency: number;
  /** Idle environments older than this are disposed. */
  idleTimeoutMs: number;
  /** Grace between SIGTERM and SIGKILL when an idle environment is reaped or retired. */
  shutdownGraceMs?: number;
}

interface FunctionEntry {
  /** Environments currently running an invocation (or starting for one). */
  busy: Set<Environment>;
  /** Idle environments by slot (spec key, and tenant); the last one is the most recently used. */
  idle: Map<string, Environment[]>;
  /** Invocations waiting for an environment that has answered and is about to ask for its next event. */
  waiters: Map<string, ((env: Environment | null) => void)[]>;
}

export interface PoolEnvironmentInfo {
  id: string;
  functionName: string;
  version: string;
  state: string;
  busy: boolean;
  createdAt: number;
  lastUsedAt: number;
  invocations: number;
  maxMemoryUsedMb: number | null;
  memorySizeMb: number;
  pid: number | null;
}

export class EnvironmentPool {
  readonly #options: PoolOptions;
  readonly #functions = new Map<string, FunctionEntry>();
  readonly #all = new Set<Environment>();
  readonly #disposing = new Set<Promise<void>>();
  readonly #reaper: NodeJS.Timeout;
  #busyTotal = 0;
  #disposed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
    const every = Math.max(50, Math.min(1000, Math.floor(options.idleTimeoutMs / 2)));
    this.#reaper = setInterval(() => {
      this.#reap();
    }, every);
    this.#reaper.unref();
  }

  /**
   * Takes an environment for one invocation of `spec`: a warm one if there is one, else a new (cold) one.
   * Throws PlatformError ERR_THROTTLED with the Lambda reason when a concurrency limit is reached.
   */
  acquire(spec: FunctionSpec): Environment | Promise<Environment> {
    if (this.#disposed) throw new PlatformError('ERR_DISPOSED', 'the environment pool is shut down');
    const entry = this.#entry(spec.functionName);
    if (spec.reservedConcurrency !== null && entry.busy.size >= spec.reservedConcurrency) {
      throw new PlatformError('ERR_THROTTLED', 'Rate Exceeded.', {
        detail: { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
      });
    }
    if (this.#busyTotal >= this.#options.accountConcurrency) {
      throw new PlatformError('ERR_THROTTLED', 'Rate Exceeded.', {
        detail: { reason: 'ConcurrentInvocationLimitExceeded' },
      });
    }
    const idle = entry.idle.get(slotOf(spec));
    let env = idle?.pop();
    while (env !== undefined && env.state !== 'Ready') env = idle?.pop();
    if (env !== undefined) {
      this.#markBusy(entry, env);
      return env;
    }
    // An environment that has posted its answer asks for its next event within moments: on loopback the next
    // request often arrives before it does. Waiting for it beats a cold start (Lambda's callers are slower).
    let finishing = 0;
    for (const e of entry.busy) if (slotOf(e.spec) === slotOf(spec) && e.finishing && !e.retired) finishing++;
    const waiting = entry.waiters.get(slotOf(spec)) ?? [];
    if (finishing > waiting.length) {
      return new Promise<Environment>((resolve, reject) => {
        waiting.push((handed) => {
          if (handed !== null) resolve(handed);
          else if (this.#disposed) reject(new PlatformError('ERR_DISPOSED', 'the environment pool is shut down'));
          else resolve(this.#create(entry, spec));
        });
        entry.waiters.set(slotOf(spec), waiting);
      });
    }
    return this.#create(entry, spec);
  }

  #create(entry: FunctionEntry, spec: FunctionSpec): Environment {
    const env = this.#options.factory(spec);
    this.#all.add(env);
    env.onGone(() => {
      this.#forget(env);
    });
    this.#markBusy(entry, env);
    return env;
  }

  #markBusy(entry: FunctionEntry, env: Environment): void {
    entry.busy.add(env);
    this.#busyTotal++;
  }

  /** Gives an environment back after its invocation ended. `reusable` false: it is gone or going. */
  release(env: Environment, reusable: boolean): void {
    env.finishing = false;
    const entry = this.#functions.get(env.spec.functionName);
    const waiters = entry?.waiters.get(slotOf(env.spec));
    const waiter = waiters?.shift();
    if (waiters?.length === 0) entry?.waiters.delete(slotOf(env.spec));
    const usable = reusable && !env.retired && !this.#disposed && env.state === 'Ready';
    if (waiter !== undefined && usable) {
      // Handed straight to the next invocation: it stays busy.
      waiter(env);
      return;
    }
    if (entry?.busy.delete(env) === true) this.#busyTotal--;
    if (!usable) {
      this.#dispose(env);
      waiter?.(null);
      return;
    }
    const list = entry?.idle.get(slotOf(env.spec));
    if (list === undefined) entry?.idle.set(slotOf(env.spec), [env]);
    else list.push(env);
  }

  /** Retires every environment of `functionName` whose key is not `keepKey`: idle ones now, busy ones when done. */
  retire(functionName: string, keepKey?: string): void {
    const entry = this.#functions.get(functionName);
    if (entry === undefined) return;
    for (const env of entry.busy) if (env.spec.key !== keepKey) env.retired = true;
    for (const [slot, list] of entry.idle) {
      if (list[0]?.spec.key === keepKey) continue;
      entry.idle.delete(slot);
      for (const env of list) {
        env.retired = true;
        this.#dispose(env, this.#options.shutdownGraceMs ?? 300);
      }
    }
  }

  /** What is alive now (for the console and the tests). */
  list(functionName?: string): PoolEnvironmentInfo[] {
    const out: PoolEnvironmentInfo[] = [];
    for (const env of this.#all) {
      if (functionName !== undefined && env.spec.functionName !== functionName) continue;
      const busy = this.#functions.get(env.spec.functionName)?.busy.has(env) ?? false;
      out.push({
        id: env.id,
        functionName: env.spec.functionName,
        version: env.spec.version,
        state: env.state,
        busy,
        createdAt: env.createdAt,
        lastUsedAt: env.lastUsedAt,
        invocations: env.invocations,
        maxMemoryUsedMb: env.maxMemoryUsedMb,
        memorySizeMb: env.spec.memoryMb,
        pid: env.pid,
      });
    }
    return out;
  }

  get size(): number {
    return this.#all.size;
  }

  /** Kills every environment and waits until all are gone. Idempotent. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    clearInterval(this.#reaper);
    for (const env of this.#all) this.#dispose(env, this.#options.shutdownGraceMs ?? 300);
    while (this.#disposing.size > 0) await Promise.all(this.#disposing);
  }

  #entry(functionName: string): FunctionEntry {
    let entry = this.#functions.get(functionName);
    if (entry === undefined) {
      entry = { busy: new Set(), idle: new Map(), waiters: new Map() };
      this.#functions.set(functionName, entry);
    }
    return entry;
  }

  #reap(): void {
    const cutoff = Date.now() - this.#options.idleTimeoutMs;
    for (const entry of this.#functions.values()) {
      for (const [key, list] of entry.idle) {
        const keep = list.filter((env) => env.lastUsedAt > cutoff && env.state === 'Ready');
        for (const env of list) if (!keep.includes(env)) this.#dispose(env, this.#options.shutdownGraceMs ?? 300);
        if (keep.length === 0) entry.idle.delete(key);
        else entry.idle.set(key, keep);
      }
    }
  }

  #forget(env: Environment): void {
    const entry = this.#functions.get(env.spec.functionName);
    if (entry === undefined) return;
    const list = entry.idle.get(slotOf(env.spec));
    if (list !== undefined) {
      const i = list.indexOf(env);
      if (i !== -1) list.splice(i, 1);
    }
  }

  #dispose(env: Environment, graceMs = 0): void {
    this.#forget(env);
    const p = env.dispose(graceMs).finally(() => {
      this.#all.delete(env);
      this.#disposing.delete(p);
    });
    this.#disposing.add(p);
  }
}

/**
 * Environments are interchangeable when their configuration (`spec.key`) and their tenant are the same: a
 * tenant-isolated function never hands one tenant's environment to another.
 */
function slotOf(spec: FunctionSpec): string {
  return spec.tenantId === undefined ? spec.key : `${spec.key}\0${spec.tenantId}`;
}
