/**
 * Drives the real Lambkin runtime process against a real Runtime API server on 127.0.0.1:0, without a sandbox:
 * the runtime as users get it (built by `runtime-build.ts`, started through its `bootstrap`) or straight from the
 * sources (`node src/runtime/index.ts`). Fixtures are copied out of the repository first, so that, as in /var/task,
 * no package.json of ours decides their module type.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { buildRuntimeDir } from '../../src/cli/commands/runtime-build.ts';
import { RuntimeApiServer } from '../../src/platform/runtime-api/server.ts';
import type { ChunkConsumer, InitError, Invocation, InvocationOutcome } from '../../src/platform/runtime-api/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const SOURCE_ENTRY = join(ROOT, 'src/runtime/index.ts');

let workDir: Promise<{ dir: string; functions: string; runtime: string }> | null = null;

/** One temporary copy of the fixtures and one build of the runtime per test process. */
export function workspace(): Promise<{ dir: string; functions: string; runtime: string }> {
  workDir ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-rt-test-'));
    process.on('exit', () => {
      void rm(dir, { recursive: true, force: true });
    });
    const functions = join(dir, 'functions');
    await cp(join(ROOT, 'test/fixtures/functions'), functions, { recursive: true });
    const runtime = join(dir, 'runtime');
    await buildRuntimeDir(runtime);
    return { dir, functions, runtime };
  })();
  return workDir;
}

export interface StartOptions {
  fixture: string;
  handler: string;
  /** `nodejs24.x` (default), `nodejs22.x`, `nodejs20.x`, or `provided` (no AWS_EXECUTION_ENV). */
  runtime?: string;
  env?: Record<string, string>;
  /** `bundle` (bootstrap + bundled runtime, default) or `source` (node src/runtime/index.ts). */
  entry?: 'bundle' | 'source';
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RuntimeProcess {
  api: RuntimeApiServer;
  child: ChildProcess;
  /** Everything the runtime wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** stdout's lines (without the final empty one). */
  lines(): string[];
  /** Resolves at the first `/next` (init done). */
  ready: Promise<undefined>;
  /** Resolves with the `/init/error` post, if one comes. */
  initError: Promise<InitError>;
  exited: Promise<Exit>;
  /** One invocation; it is aborted (`exit`, `timeout`) when the process ends or `timeoutMs` passes. */
  invoke(payload: unknown, options?: InvokeOptions): Promise<InvocationOutcome & { requestId: string }>;
}

export interface InvokeOptions {
  requestId?: string;
  timeoutMs?: number;
  traceId?: string | null;
  clientContext?: string;
  cognitoIdentity?: string;
  raw?: Buffer;
  onChunk?: ChunkConsumer;
}

export const TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
let counter = 0;

export async function startRuntime(t: TestContext, options: StartOptions): Promise<RuntimeProcess> {
  const ws = await workspace();
  const { promise: ready, resolve: onReady } = Promise.withResolvers<undefined>();
  const { promise: initError, resolve: onInitError } = Promise.withResolvers<InitError>();
  const api = await RuntimeApiServer.start({
    host: '127.0.0.1',
    port: 0,
    events: {
      onReady: () => {
        onReady(undefined);
      },
      onInitError: (e) => {
        onInitError(e);
      },
    },
  });
  t.after(() => api.close());
  const runtime = options.runtime ?? 'nodejs24.x';
  const env: Record<string, string> = {
    // The node running the tests (24) first on PATH: the bootstrap falls back to `node` from PATH.
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    _HANDLER: options.handler,
    LAMBDA_TASK_ROOT: join(ws.functions, options.fixture),
    LAMBDA_RUNTIME_DIR: ws.runtime,
    AWS_LAMBDA_RUNTIME_API: api.address,
    AWS_LAMBDA_FUNCTION_NAME: 'fn',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_REGION: 'us-east-1',
    TZ: ':UTC',
    ...(runtime === 'provided' ? {} : { AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}` }),
    ...options.env,
  };
  const [command, args] =
    options.entry === 'source' ? [process.execPath, [SOURCE_ENTRY]] : [join(ws.runtime, 'bootstrap'), []];
  const child = spawn(command, args, { cwd: env.LAMBDA_TASK_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolveExit) => {
    child.on('exit', (code, signal) => {
      api.abort('exit');
      resolveExit({ code, signal });
    });
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return {
    api,
    child,
    stdout: () => out,
    stderr: () => err,
    lines: () => out.split('\n').slice(0, -1),
    ready,
    initError,
    exited,
    async invoke(payload, o = {}) {
      const requestId = o.requestId ?? `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
      const inv: Invocation = {
        requestId,
        payload: o.raw ?? Buffer.from(JSON.stringify(payload)),
        deadlineMs: Date.now() + (o.timeoutMs ?? 10_000),
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
        traceId: o.traceId === null ? '' : (o.traceId ?? TRACE_ID),
        ...(o.clientContext !== undefined ? { clientContext: o.clientContext } : {}),
        ...(o.cognitoIdentity !== undefined ? { cognitoIdentity: o.cognitoIdentity } : {}),
        ...(o.onChunk !== undefined ? { onChunk: o.onChunk } : {}),
      };
      const timer = setTimeout(() => {
        api.abort('timeout');
      }, o.timeoutMs ?? 10_000);
      try {
        const outcome = await api.invoke(inv);
        // The runtime writes its log lines (synchronously, to a pipe) before it posts the result, but the pipe and
        // the HTTP connection are two descriptors whose events may come in either order: let the poll phase run
        // twice so that what is already in the pipe has been read before the caller looks at stdout.
        for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
        return { ...outcome, requestId };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The body of an outcome as JSON. */
export function json(outcome: InvocationOutcome): unknown {
  if (outcome.kind !== 'response' && outcome.kind !== 'error') {
    throw new Error(`no body: ${JSON.stringify(outcome)}`);
  }
  return JSON.parse(outcome.body.toString('utf8'));
}
