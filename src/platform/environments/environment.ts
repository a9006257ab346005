/**
 * @module platform/environments/environment
 * One execution environment: a sandboxed process tree running the runtime's `bootstrap`, its own Runtime API
 * server, and its log stream. It runs one invocation at a time and follows the state machine in `states.ts`.
 *
 * An invocation has two ends: the caller's (the runtime posted `/response` or `/error`: `result` settles at once,
 * as on Lambda) and the environment's (the runtime asked for the next event, or died: `done` settles, the REPORT
 * line is written and the pool may hand the environment out again).
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { ISOLATED_RUNTIME_API, MANAGED_NODE_RUNTIMES } from '../../protocol/environment.ts';
import { PLATFORM_ERROR } from '../../protocol/platform-errors.ts';
import { COMPILE_CACHE_ENV, COMPILE_CACHE_MOUNT } from '../../protocol/typescript-cache.ts';
import { isPlatformError, PlatformError } from '../errors.ts';
import type { InvokeReport, InvokeResult } from '../invoke/types.ts';
import { LogCapture, LogTail } from '../logs/capture.ts';
import {
  billedDuration,
  endLine,
  initReportLine,
  initStartLine,
  logStreamName,
  reportLine,
  startLine,
  timeoutLine,
} from '../logs/format.ts';
import type { LogStore, LogStreamWriter } from '../logs/log-store.ts';
import type { RuntimeApiServer } from '../runtime-api/server.ts';
import type { ChunkConsumer, InvocationOutcome } from '../runtime-api/types.ts';
import type { FunctionSpec } from './function-spec.ts';
import type { SandboxDriver, SandboxExit, SandboxHandle } from './sandbox/types.ts';
import { canTransition, type EnvironmentState } from './states.ts';
import { buildEnvironment } from './variables.ts';

const log = debuglog('lambkin:env');
const envStartChannel = channel('lambkin:env:start');
const envEndChannel = channel('lambkin:env:end');
const invokeEndChannel = channel('lambkin:invoke:end');

/** Lambda's on-demand init limit. */
const INIT_TIMEOUT_MS = 10_000;
const MIB = 1024 * 1024;

export interface EnvironmentDeps {
  driver: SandboxDriver;
  cache: {
    codeDir(code: FunctionSpec['code']): Promise<string>;
    optDir(layers: FunctionSpec['layers']): Promise<string | null>;
    compileCacheDir(code: FunctionSpec['code']): Promise<string | null>;
  };
  logs: LogStore;
  startRuntimeApi: (options: { socketPath?: string; events: RuntimeApiEventsLike }) => Promise<RuntimeApiServer>;
  settings: EnvironmentSettings;
}

export interface RuntimeApiEventsLike {
  onReady?(): void;
  onInitError?(error: { errorType: string; body: Buffer }): void;
  onInvokeEnd?(requestId: string): void;
}

export interface EnvironmentSettings {
  region: string;
  /** Where per-environment state lives (sockets). */
  stateDir: string;
  network: 'host' | 'isolated';
  /** Host directory holding the managed Node runtime (`bootstrap` + runtime), mounted at /var/runtime. */
  managedRuntimeDir: string | null;
  /** Host directory with `bin/node` (Node 24), mounted at /var/lang for managed runtimes. */
  langDir: string | null;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** Most processes/threads per environment. */
  maxProcesses: number;
}

export interface InvocationRequest {
  requestId: string;
  payload: Buffer;
  invokedFunctionArn: string;
  clientContext?: string;
  logTail: boolean;
  /** Each chunk of a streamed response as it arrives, with the stream's content type (not kept in the result). */
  onChunk?: ChunkConsumer;
}

export interface InvocationHandle {
  /** Settles when the caller can have its answer. Never rejects. */
  result: Promise<InvokeResult>;
  /** Settles when the environment is done with the invocation: true = reusable, false = gone. Never rejects. */
  done: Promise<boolean>;
}

interface Running {
  requestId: string;
  startedAt: number;
  tail: LogTail | null;
  ended: (how: 'next' | 'exit') => void;
}

export class Environment {
  readonly id: string;
  readonly spec: FunctionSpec;
  readonly createdAt = Date.now();
  lastUsedAt = Date.now();
  invocations = 0;
  /** Set by the pool when a newer configuration replaced this one: dispose after the current invocation. */
  retired = false;
  /**
   * True from the runtime's answer until the pool takes the environment back (the pool clears it, in the same
   * step as it makes the environment idle, so there is no moment where it is neither).
   */
  finishing = false;

  readonly #deps: EnvironmentDeps;
  readonly #streamName: string;
  #state: EnvironmentState = 'Starting';
  #rapi: RuntimeApiServer | null = null;
  #sandbox: SandboxHandle | null = null;
  #writer: LogStreamWriter | null = null;
  #capture: LogCapture | null = null;
  #exit: SandboxExit | null = null;
  #running: Running | null = null;
  #disposePromise: Promise<void> | null = null;
  #onGone: (() => void) | null = null;

  constructor(spec: FunctionSpec, deps: EnvironmentDeps) {
    const hex = randomBytes(16).toString('hex');
    this.id = hex.slice(0, 12);
    this.spec = spec;
    this.#deps = deps;
    this.#streamName = logStreamName(spec.version, hex);
  }

  get state(): EnvironmentState {
    return this.#state;
  }

  get logStreamName(): string {
    return this.#streamName;
  }

  get pid(): number | null {
    return this.#sandbox?.pid ?? null;
  }

  /** Peak memory in MB so far, when known. */
  get maxMemoryUsedMb(): number | null {
    const peak = this.#sandbox?.memoryPeakBytes() ?? null;
    return peak === null ? null : Math.ceil(peak / MIB);
  }

  /** Called once when the environment stops being usable (failed or disposed). */
  onGone(listener: () => void): void {
    this.#onGone = listener;
  }

  /**
   * Runs one invocation. The first one also starts the environment (cold start). Only call while the state is
   * `Starting` (new) or `Ready`.
   */
  invoke(request: InvocationRequest): InvocationHandle {
    if (this.#state !== 'Starting' && this.#state !== 'Ready') {
      throw new PlatformError('ERR_INTERNAL', `environment ${this.id} is ${this.#state}, not ready for an invocation`);
    }
    this.lastUsedAt = Date.now();
    this.invocations++;
    const { promise: result, resolve: resolveResult } = Promise.withResolvers<InvokeResult>();
    const { promise: done, resolve: resolveDone } = Promise.withResolvers<boolean>();
    this.#run(request, resolveResult, resolveDone).catch((err: unknown) => {
      // Last line of defence: a platform fault becomes Sandbox.Failure for the caller, never a crash.
      log('invoke failed: %o', err);
      resolveResult(this.#platformFailure(request.requestId, PLATFORM_ERROR.SandboxFailure, describe(err)));
      resolveDone(false);
      void this.dispose();
    });
    return { result, done };
  }

  async #run(
    request: InvocationRequest,
    resolveResult: (r: InvokeResult) => void,
    resolveDone: (reusable: boolean) => void,
  ): Promise<void> {
    const { requestId } = request;
    const tail = request.logTail ? new LogTail() : null;
    let initDurationMs: number | undefined;

    if (this.#state === 'Starting') {
      const init = await this.#start(tail);
      if (init.kind === 'failed') {
        this.#capture?.platformLine(startLine(requestId, this.spec.version));
        const report = this.#report(0, init.initDurationMs, 'error', init.errorType);
        this.#capture?.platformLine(endLine(requestId));
        this.#capture?.platformLine(reportLine(requestId, report));
        resolveResult({
          requestId,
          payload: init.payload,
          functionError: 'Unhandled',
          errorType: init.errorType,
          report,
          ...(tail ? { logTail: tail.text() } : {}),
        });
        resolveDone(false);
        await this.dispose();
        return;
      }
      initDurationMs = init.initDurationMs;
    } else {
      this.#transition('Invoking');
    }

    const capture = this.#requireCapture();
    const rapi = this.#requireRapi();
    capture.setTail(tail);
    capture.platformLine(startLine(requestId, this.spec.version));

    const ended = new Promise<'next' | 'exit'>((resolve) => {
      this.#running = {
        requestId,
        startedAt: performance.now(),
        tail,
        ended: resolve,
      };
    });
    const running = this.#requireRunning();
    const deadlineMs = Date.now() + this.spec.timeoutSec * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, this.spec.timeoutSec * 1000);
    });

    const outcomePromise = rapi.invoke({
      requestId,
      payload: request.payload,
      deadlineMs,
      invokedFunctionArn: request.invokedFunctionArn,
      traceId: newTraceId(),
      ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
      ...(this.spec.tenantId !== undefined ? { tenantId: this.spec.tenantId } : {}),
      ...(request.onChunk ? { onChunk: request.onChunk } : {}),
    });

    const first = await Promise.race([outcomePromise, timedOut, ended]);

    if (first === 'timeout') {
      rapi.abort('timeout');
      capture.platformLine(timeoutLine(requestId, this.spec.timeoutSec));
      const durationMs = performance.now() - running.startedAt;
      await this.#killForFailure();
      await capture.settle();
      const report = this.#report(durationMs, initDurationMs, 'timeout');
      this.#finishLog(requestId, report);
      resolveResult({
        requestId,
        payload: errorPayload(
          PLATFORM_ERROR.Timedout,
          `RequestId: ${requestId} Error: Task timed out after ${this.spec.timeoutSec.toFixed(2)} seconds`,
        ),
        functionError: 'Unhandled',
        errorType: PLATFORM_ERROR.Timedout,
        report,
        ...(tail ? { logTail: tail.text() } : {}),
      });
      clearTimeout(timer);
      resolveDone(false);
      await this.dispose();
      return;
    }

    if (first === 'exit' || first === 'next') {
      // The runtime died (or asked for the next event) without posting a result for this one.
      rapi.abort(first);
      if (first === 'next') {
        // A runtime that calls /next without answering gets the same event again (as the emulator does); here
        // the Runtime API re-delivers it, so only an exit can lead us to this branch.
      }
      clearTimeout(timer);
      const durationMs = performance.now() - running.startedAt;
      await capture.settle();
      const { errorType, message } = this.#exitError(requestId);
      const report = this.#report(durationMs, initDurationMs, 'error', errorType);
      this.#finishLog(requestId, report);
      resolveResult({
        requestId,
        payload: errorPayload(errorType, message),
        functionError: 'Unhandled',
        errorType,
        report,
        ...(tail ? { logTail: tail.text() } : {}),
      });
      resolveDone(false);
      await this.dispose();
      return;
    }

    // The runtime posted its result.
    const outcome: InvocationOutcome = first;
    this.finishing = true;
    const answer = this.#answer(requestId, outcome);
    if (!request.logTail && answer.functionError === undefined) resolveResult(answer);

    const how = await Promise.race([ended, timedOut]);
    clearTimeout(timer);
    const durationMs = performance.now() - running.startedAt;
    this.#running = null;
    if (how === 'timeout') {
      // Posted a result but never asked for the next event: Lambda counts the invoke until then.
      capture.platformLine(timeoutLine(requestId, this.spec.timeoutSec));
      await this.#killForFailure();
    }
    await capture.settle();
    if (initDurationMs !== undefined) await this.#sandbox?.chargeMappedFiles();
    const status = how === 'timeout' ? 'timeout' : answer.functionError === undefined ? undefined : 'error';
    const report = this.#report(durationMs, initDurationMs, status, status === 'error' ? answer.errorType : undefined);
    this.#finishLog(requestId, report);
    capture.setTail(null);
    invokeEndChannel.publish({ environment: this, requestId, report });
    resolveResult({ ...answer, report, ...(tail ? { logTail: tail.text() } : {}) });
    const reusable = how === 'next' && this.#exit === null;
    if (reusable) {
      this.#transition('Ready');
      this.lastUsedAt = Date.now();
      resolveDone(true);
    } else {
      resolveDone(false);
      await this.dispose();
    }
  }

  /** Starts the sandbox and waits for the runtime's first `GET /next`. */
  async #start(
    tail: LogTail | null,
  ): Promise<
    | { kind: 'ready'; initDurationMs: number }
    | { kind: 'failed'; initDurationMs: number; errorType: string; payload: Buffer }
  > {
    const { spec } = this;
    const settings = this.#deps.settings;
    const started = performance.now();

    const fail = (errorType: string, message: string) => {
      if (this.#state !== 'Failed') this.#transition('Failed');
      return {
        kind: 'failed' as const,
        initDurationMs: performance.now() - started,
        errorType,
        payload: errorPayload(errorType, message),
      };
    };

    const init: { error: { errorType: string; body: Buffer } | null } = { error: null };
    const { promise: readyOrError, resolve: resolveReady } = Promise.withResolvers<'ready' | 'init-error'>();
    let socketPath: string | undefined;
    if (settings.network === 'isolated') {
      await mkdir(settings.stateDir, { recursive: true });
      socketPath = join(settings.stateDir, `rapi-${this.id}.sock`);
    }
    // What does not depend on each other starts at once (each is a round trip through the thread pool or a
    // listen): the Runtime API, the log stream, the code, layers and compiled-TypeScript directories.
    const [rapi, writer, dirs] = await Promise.allSettled([
      this.#deps.startRuntimeApi({
        ...(socketPath !== undefined ? { socketPath } : {}),
        events: {
          onReady: () => {
            resolveReady('ready');
          },
          onInitError: (e) => {
            init.error = e;
            resolveReady('init-error');
          },
          onInvokeEnd: (id) => {
            if (this.#running?.requestId === id) this.#running.ended('next');
          },
        },
      }),
      this.#deps.logs.openStream(spec.logGroup, this.#streamName),
      Promise.all([
        this.#deps.cache.codeDir(spec.code),
        this.#deps.cache.optDir(spec.layers),
        this.#deps.cache.compileCacheDir(spec.code),
      ]),
    ]);
    // Kept even when another step failed, so that dispose() closes them.
    if (rapi.status === 'fulfilled') this.#rapi = rapi.value;
    if (writer.status === 'fulfilled') this.#writer = writer.value;
    if (rapi.status === 'rejected') throw rapi.reason;
    if (writer.status === 'rejected') throw writer.reason;
    if (dirs.status === 'rejected') throw dirs.reason;
    this.#capture = new LogCapture(writer.value);
    this.#capture.setTail(tail);
    const [taskDir, optDir, compileCacheDir] = dirs.value;

    const managed = MANAGED_NODE_RUNTIMES[spec.runtime] !== undefined;
    const entrypoint = findBootstrap(taskDir, optDir, managed ? settings.managedRuntimeDir : null);
    if (entrypoint === null) {
      const message = managed
        ? `Couldn't find valid bootstrap(s): [/var/runtime/bootstrap]`
        : `Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]`;
      this.#capture.platformLine(initStartLine(spec.runtime, settings.region));
      this.#capture.platformLine(`Error: ${message}`);
      return fail(PLATFORM_ERROR.InvalidEntrypoint, message);
    }
    const runtimeApi = settings.network === 'isolated' ? ISOLATED_RUNTIME_API : rapi.value.address;
    const env = buildEnvironment(spec, {
      region: settings.region,
      runtimeApi,
      logStreamName: this.#streamName,
      credentials: settings.credentials,
    });
    // Compiled TypeScript, read-only: the runtime finds its handler already compiled (protocol/typescript-cache.ts).
    if (compileCacheDir !== null) env[COMPILE_CACHE_ENV] = COMPILE_CACHE_MOUNT;

    this.#capture.platformLine(initStartLine(spec.runtime, settings.region));
    try {
      this.#sandbox = await this.#deps.driver.start({
        id: this.id,
        optDir,
        taskDir,
        runtimeDir: managed ? settings.managedRuntimeDir : null,
        langDir: managed ? settings.langDir : null,
        compileCacheDir,
        entrypoint,
        env,
        memoryMb: spec.memoryMb,
        tmpMb: spec.ephemeralStorageMb,
        maxProcesses: settings.maxProcesses,
        network: settings.network,
        ...(socketPath !== undefined ? { runtimeApiSocket: socketPath } : {}),
      });
    } catch (err) {
      const message = isPlatformError(err) ? err.message : describe(err);
      this.#capture.platformLine(`Error: ${message}`);
      return fail(PLATFORM_ERROR.SandboxFailure, message);
    }
    envStartChannel.publish({ environment: this });
    this.#transition('Initializing');
    this.#capture.attach(this.#sandbox.stdout);
    this.#capture.attach(this.#sandbox.stderr);
    const exited = this.#sandbox.exited.then((exit) => {
      this.#exit = exit;
      this.#running?.ended('exit');
      if (this.#state === 'Ready') {
        this.#transition('Failed');
        void this.dispose();
      }
      return 'exit' as const;
    });

    let initTimer: NodeJS.Timeout | undefined;
    const initTimeout = new Promise<'timeout'>((resolve) => {
      initTimer = setTimeout(() => {
        resolve('timeout');
      }, INIT_TIMEOUT_MS);
    });
    const how = await Promise.race([readyOrError, exited, initTimeout]);
    clearTimeout(initTimer);
    const initDurationMs = performance.now() - started;

    if (how === 'ready') {
      this.#transition('Invoking');
      // The runtime's binary and libraries are mapped by now (the cold invoke's REPORT waits for this).
      void this.#sandbox.chargeMappedFiles();
      return { kind: 'ready', initDurationMs };
    }
    if (how === 'init-error' && init.error !== null) {
      const { errorType, body } = init.error;
      // The runtime is expected to exit after /init/error; give it a moment, then make sure.
      await Promise.race([exited, delay(500)]);
      await this.#killForFailure();
      await this.#capture.settle();
      this.#capture.platformLine(initReportLine(initDurationMs, 'init', 'error', errorType));
      return { kind: 'failed', initDurationMs, errorType, payload: body };
    }
    if (how === 'timeout') {
      await this.#killForFailure();
      await this.#capture.settle();
      this.#capture.platformLine(initReportLine(initDurationMs, 'init', 'timeout'));
      return fail(PLATFORM_ERROR.Timedout, `Init phase timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`);
    }
    // Exited during init.
    await this.#capture.settle();
    const { errorType, message } = this.#exitError(null);
    this.#capture.platformLine(initReportLine(initDurationMs, 'init', 'error', errorType));
    return fail(errorType, message);
  }

  #answer(requestId: string, outcome: InvocationOutcome): InvokeResult {
    switch (outcome.kind) {
      case 'response':
        return {
          requestId,
          payload: outcome.body,
          functionError: undefined,
          ...(outcome.contentType !== undefined ? { contentType: outcome.contentType } : {}),
        };
      case 'error':
        return { requestId, payload: outcome.body, functionError: 'Unhandled', errorType: outcome.errorType };
      case 'too-large':
        return {
          requestId,
          payload: errorPayload(
            PLATFORM_ERROR.ResponseSizeTooLarge,
            'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
          ),
          functionError: 'Unhandled',
          errorType: PLATFORM_ERROR.ResponseSizeTooLarge,
        };
      case 'aborted':
        return this.#platformFailure(requestId, PLATFORM_ERROR.SandboxFailure, outcome.reason);
    }
  }

  #exitError(requestId: string | null): { errorType: string; message: string } {
    const exit = this.#exit;
    const prefix = requestId === null ? '' : `RequestId: ${requestId} `;
    if (exit?.oomKilled === true) {
      return {
        errorType: PLATFORM_ERROR.OutOfMemory,
        message: `${prefix}Error: Runtime exited with error: signal: killed`,
      };
    }
    let reason: string;
    if (exit === null) reason = 'Runtime exited with error: signal: killed';
    else if (exit.signal !== null) reason = `Runtime exited with error: signal: ${signalWord(exit.signal)}`;
    else if (exit.code === 0) reason = 'Runtime exited without providing a reason';
    else reason = `Runtime exited with error: exit status ${exit.code ?? 'unknown'}`;
    return { errorType: PLATFORM_ERROR.ExitError, message: `${prefix}Error: ${reason}` };
  }

  #report(
    durationMs: number,
    initDurationMs: number | undefined,
    status?: 'error' | 'timeout',
    errorType?: string,
  ): InvokeReport {
    const peak = this.maxMemoryUsedMb;
    const report: InvokeReport = {
      durationMs,
      billedDurationMs: billedDuration(durationMs, initDurationMs),
      memorySizeMb: this.spec.memoryMb,
      maxMemoryUsedMb: Math.min(peak ?? 0, this.spec.memoryMb),
    };
    if (initDurationMs !== undefined) report.initDurationMs = initDurationMs;
    if (status !== undefined) report.status = status;
    if (errorType !== undefined) report.errorType = errorType;
    return report;
  }

  #finishLog(requestId: string, report: InvokeReport): void {
    const capture = this.#requireCapture();
    capture.platformLine(endLine(requestId));
    capture.platformLine(reportLine(requestId, report));
  }

  #platformFailure(requestId: string, errorType: string, message: string): InvokeResult {
    return {
      requestId,
      payload: errorPayload(errorType, `RequestId: ${requestId} Error: ${message}`),
      functionError: 'Unhandled',
      errorType,
    };
  }

  async #killForFailure(): Promise<void> {
    if (this.#state !== 'Failed' && this.#state !== 'Disposed') this.#transition('Failed');
    await this.#sandbox?.kill(0);
  }

  /** Ends the environment: SIGTERM then SIGKILL after `graceMs`. Idempotent. */
  dispose(graceMs = 0): Promise<void> {
    this.#disposePromise ??= this.#dispose(graceMs);
    return this.#disposePromise;
  }

  async #dispose(graceMs: number): Promise<void> {
    if (this.#state !== 'Failed' && this.#state !== 'Disposed') this.#transition('Failed');
    this.#onGone?.();
    this.#onGone = null;
    this.#rapi?.abort('disposed');
    await this.#sandbox?.kill(graceMs);
    await this.#rapi?.close();
    await this.#capture?.settle();
    await this.#writer?.close();
    this.#state = 'Disposed';
    envEndChannel.publish({ environment: this });
  }

  #transition(to: EnvironmentState): void {
    if (!canTransition(this.#state, to)) {
      throw new PlatformError('ERR_INTERNAL', `environment ${this.id}: ${this.#state} → ${to} is not allowed`);
    }
    if (to === 'Failed' && this.#state !== 'Failed') {
      this.#onGone?.();
      this.#onGone = null;
    }
    this.#state = to;
  }

  #requireCapture(): LogCapture {
    if (this.#capture === null) throw new PlatformError('ERR_INTERNAL', 'environment has no log capture');
    return this.#capture;
  }

  #requireRapi(): RuntimeApiServer {
    if (this.#rapi === null) throw new PlatformError('ERR_INTERNAL', 'environment has no Runtime API');
    return this.#rapi;
  }

  #requireRunning(): Running {
    if (this.#running === null) throw new PlatformError('ERR_INTERNAL', 'no invocation running');
    return this.#running;
  }
}

/** Lambda's lookup: `/var/task/bootstrap`, then `/opt/bootstrap` (managed runtimes: `/var/runtime/bootstrap`). */
function findBootstrap(taskDir: string, optDir: string | null, runtimeDir: string | null): string | null {
  const candidates: [string, string][] =
    runtimeDir !== null
      ? [[join(runtimeDir, 'bootstrap'), '/var/runtime/bootstrap']]
      : [
          [join(taskDir, 'bootstrap'), '/var/task/bootstrap'],
          ...(optDir !== null ? [[join(optDir, 'bootstrap'), '/opt/bootstrap'] as [string, string]] : []),
        ];
  for (const [hostPath, sandboxPath] of candidates) {
    // A local stat takes microseconds; through the thread pool it would take a round trip on the cold path.
    const st = statSync(hostPath, { throwIfNoEntry: false });
    // Lambda runs the bootstrap as a non-root user that owns none of the files: it must be executable by others.
    if (st?.isFile() !== true || (st.mode & 0o001) === 0) continue;
    return sandboxPath;
  }
  return null;
}

export function errorPayload(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

function newTraceId(): string {
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  const bytes = randomHex(20);
  return `Root=1-${seconds}-${bytes.slice(0, 24)};Parent=${bytes.slice(24, 40)};Sampled=0`;
}

/** Random bytes come from a pool refilled 4 KB at a time: one `getrandom` per ~200 invokes, not one each. */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

function signalWord(signal: NodeJS.Signals): string {
  const words: Partial<Record<NodeJS.Signals, string>> = {
    SIGKILL: 'killed',
    SIGTERM: 'terminated',
    SIGSEGV: 'segmentation fault',
    SIGABRT: 'aborted',
    SIGINT: 'interrupt',
    SIGBUS: 'bus error',
    SIGILL: 'illegal instruction',
    SIGFPE: 'floating point exception',
  };
  return words[signal] ?? signal;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
