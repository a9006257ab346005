/**
 * @module runtime/invoke-store
 * `awslambda.InvokeStore`, as client 4.x (nodejs24.x) publishes it for libraries (`@aws/lambda-invoke-store`, used by
 * Powertools and the AWS SDK): the current invocation's request id, X-Ray trace id and tenant id, plus user keys.
 * One invocation at a time, so a single mutable context (the official client's `InvokeStoreSingle`).
 */

const PROTECTED_KEYS = {
  REQUEST_ID: Symbol.for('_AWS_LAMBDA_REQUEST_ID'),
  X_RAY_TRACE_ID: Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID'),
  TENANT_ID: Symbol.for('_AWS_LAMBDA_TENANT_ID'),
} as const;

type Store = Record<string | symbol, unknown>;

export class InvokeStore {
  static readonly PROTECTED_KEYS = PROTECTED_KEYS;
  #context: Store | undefined;

  isProtectedKey(key: string | symbol): boolean {
    return Object.values(PROTECTED_KEYS).includes(key as symbol);
  }
  getRequestId(): string {
    const id = this.get(PROTECTED_KEYS.REQUEST_ID);
    return typeof id === 'string' ? id : '-';
  }
  getXRayTraceId(): unknown {
    return this.get(PROTECTED_KEYS.X_RAY_TRACE_ID);
  }
  getTenantId(): unknown {
    return this.get(PROTECTED_KEYS.TENANT_ID);
  }
  getContext(): Store | undefined {
    return this.#context;
  }
  hasContext(): boolean {
    return this.#context !== undefined;
  }
  get(key: string | symbol): unknown {
    return this.#context?.[key];
  }
  set(key: string | symbol, value: unknown): void {
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    this.#context ??= {};
    this.#context[key] = value;
  }
  run<T>(context: Store, fn: () => T): T {
    this.#context = context;
    return fn();
  }
  /** The runtime's own entry: a new invocation starts. */
  begin(requestId: string, traceId: string | undefined): void {
    this.#context = { [PROTECTED_KEYS.REQUEST_ID]: requestId, [PROTECTED_KEYS.X_RAY_TRACE_ID]: traceId };
  }
}
