/**
 * @module platform/api/services/invoke
 * Invoke: RequestResponse runs the function through the engine (the `Invoker`) and returns its result; Event
 * persists the event in the async queue and returns at once; DryRun only checks that the function can be invoked.
 * Also runs the queued Event invocations for the queue (`runEvent`).
 */
import { debuglog } from 'node:util';
import { isPlatformError } from '../../errors.ts';
import type { AsyncQueue, EventOutcome } from '../../invoke/async-queue.ts';
import type { FunctionSpec } from '../../environments/function-spec.ts';
import type { InvokeResult, Invoker } from '../../invoke/types.ts';
import type { FunctionRecord, QueuedEvent } from '../../storage/metadata.ts';
import { functionArn } from '../arns.ts';
import { apiError, LambdaApiError } from '../errors.ts';
import type { ServiceContext } from './context.ts';
import type { FunctionService } from './functions.ts';

const log = debuglog('lambkin:api');

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface InvokeCommand {
  functionName: string;
  qualifier: string | undefined;
  type: InvocationType;
  payload: Buffer;
  logTail: boolean;
  /** JSON text, already base64-decoded. */
  clientContext?: string;
  requestId: string;
  signal?: AbortSignal;
  /** `X-Amz-Tenant-Id`: required by, and only accepted for, functions with tenant isolation. */
  tenantId?: string;
  /**
   * InvokeWithResponseStream: each chunk of a streamed response as it arrives, and what the stream is; a promise back
   * holds the stream until it settles (the caller's connection is full).
   */
  onChunk?: (chunk: Buffer, stream: { contentType: string; executedVersion: string }) => Promise<void> | undefined;
}

export type InvokeOutcome =
  { type: 'DryRun' } | { type: 'Event' } | { type: 'RequestResponse'; executedVersion: string; result: InvokeResult };

export class InvokeService {
  readonly #c: ServiceContext;
  readonly #functions: FunctionService;
  readonly #invoker: Invoker;
  #queue: AsyncQueue | null = null;
  /** What a (name, qualifier) resolves to, while the store has not changed: Invoke's hot path reads no SQL. */
  readonly #targets = new Map<string, { generation: number; record: FunctionRecord; spec: FunctionSpec }>();

  constructor(context: ServiceContext, functions: FunctionService, invoker: Invoker) {
    this.#c = context;
    this.#functions = functions;
    this.#invoker = invoker;
  }

  /** The queue that Event invocations go to (it runs them through `runEvent`). */
  attachQueue(queue: AsyncQueue): void {
    this.#queue = queue;
  }

  async invoke(cmd: InvokeCommand): Promise<InvokeOutcome> {
    const { record, spec } = this.#target(cmd.functionName, cmd.qualifier);
    checkInvokable(record);
    checkTenancy(record, cmd.tenantId);
    if (cmd.type === 'DryRun') return { type: 'DryRun' };
    if (cmd.type === 'Event') {
      if (this.#queue === null) throw new LambdaApiError('ServiceException', 'Event invocations are not available.');
      // Persisted before the caller hears 202: an accepted event survives a crash.
      this.#queue.enqueue(cmd.functionName, cmd.qualifier ?? '$LATEST', cmd.payload, cmd.requestId, cmd.tenantId);
      return { type: 'Event' };
    }
    const { onChunk } = cmd;
    const executedVersion = record.version;
    try {
      const result = await this.#invoker.invoke({
        spec: forTenant(spec, cmd.tenantId),
        payload: cmd.payload,
        invokedFunctionArn: functionArn(this.#c.arn, cmd.functionName, cmd.qualifier),
        logTail: cmd.logTail,
        requestId: cmd.requestId,
        ...(cmd.clientContext !== undefined ? { clientContext: cmd.clientContext } : {}),
        ...(cmd.signal !== undefined ? { signal: cmd.signal } : {}),
        ...(onChunk !== undefined
          ? {
              onChunk: (chunk: Buffer, contentType: string) => onChunk(chunk, { contentType, executedVersion }),
            }
          : {}),
      });
      return { type: 'RequestResponse', executedVersion, result };
    } catch (err) {
      if (isPlatformError(err, 'ERR_THROTTLED')) throw throttled(err.detail.reason);
      throw err;
    }
  }

  #target(name: string, qualifier: string | undefined): { record: FunctionRecord; spec: FunctionSpec } {
    const key = `${name}\0${qualifier ?? ''}`;
    const generation = this.#c.store.generation;
    const hit = this.#targets.get(key);
    if (hit?.generation === generation) return hit;
    const { alias } = this.#functions.resolve(name, qualifier);
    const record = this.#functions.pick(name, qualifier);
    const target = { generation, record, spec: this.#functions.specFor(record) };
    // An alias that routes between versions picks anew on every call.
    const routed = alias !== null && Object.keys(alias.additionalVersionWeights).length > 0;
    if (!routed) {
      if (this.#targets.size > 1000) this.#targets.clear();
      this.#targets.set(key, target);
    }
    return target;
  }

  /** One attempt of a queued Event invocation. Never rejects. */
  async runEvent(event: QueuedEvent): Promise<EventOutcome> {
    try {
      const qualifier = event.qualifier === '$LATEST' ? undefined : event.qualifier;
      const record = this.#functions.pick(event.functionName, qualifier);
      if (record.state !== 'Active') return 'throttled'; // not ready yet: try again shortly, as Lambda does
      const result = await this.#invoker.invoke({
        spec: forTenant(this.#functions.specFor(record), event.tenantId),
        payload: event.payload,
        invokedFunctionArn: functionArn(this.#c.arn, event.functionName, qualifier),
        logTail: false,
        requestId: event.id,
      });
      return result.functionError === undefined ? 'ok' : 'error';
    } catch (err) {
      if (isPlatformError(err, 'ERR_THROTTLED')) return 'throttled';
      if (err instanceof LambdaApiError && err.code === 'ResourceNotFoundException') return 'gone';
      log('event %s failed: %o', event.id, err);
      return 'error';
    }
  }
}

/** Invoke needs an Active function; Lambda answers 409 while it is Pending (or after it Failed). */
function checkInvokable(record: FunctionRecord): void {
  if (record.state === 'Active') return;
  if (record.state === 'Failed') {
    throw apiError.conflict(
      `The operation cannot be performed at this time. The function is currently in the following state: Failed${record.stateReason === undefined ? '' : `. ${record.stateReason}`}`,
    );
  }
  throw apiError.conflict(
    `The operation cannot be performed at this time. The function is currently in the following state: ${record.state}`,
  );
}

/** A tenant-isolated function needs a tenant id on every invoke; any other function refuses one. */
function checkTenancy(record: FunctionRecord, tenantId: string | undefined): void {
  const isolated = record.tenantIsolationMode === 'PER_TENANT';
  if (isolated && tenantId === undefined) {
    throw apiError.invalid(
      'The invoked function is enabled with tenancy configuration. Add a valid tenant ID in your request and try again.',
    );
  }
  if (!isolated && tenantId !== undefined) {
    throw apiError.invalid(
      'The invoked function is not enabled with tenancy configuration. Remove the tenant ID from your request and try again.',
    );
  }
}

/** The spec of the environments that serve one tenant (never shared with another, see pool.ts). */
function forTenant(spec: FunctionSpec, tenantId: string | undefined): FunctionSpec {
  return tenantId === undefined ? spec : { ...spec, tenantId };
}

function throttled(reason: unknown): LambdaApiError {
  return new LambdaApiError('TooManyRequestsException', 'Rate Exceeded.', {
    extra: { Reason: typeof reason === 'string' ? reason : 'ConcurrentInvocationLimitExceeded' },
    headers: { 'retry-after': '1' },
  });
}
