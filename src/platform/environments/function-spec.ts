/**
 * @module platform/environments/function-spec
 * The immutable description of what an execution environment runs: one published version (or `$LATEST` at one
 * revision) of a function. The control plane builds it; the pool keys warm environments by `key`.
 */

/** A zip archive (or an already-extracted directory) held by storage, named by its SHA-256. */
export interface ArchiveRef {
  /** Lower-case hex SHA-256 of the zip bytes (or, for a directory, any stable content id). */
  sha256: string;
  /** Absolute path of the zip file, or of a directory whose contents are used as they are. */
  path: string;
}

export type LogFormat = 'Text' | 'JSON';

export interface FunctionSpec {
  /** Pool key: differs whenever anything that shapes an environment differs (code, layers, env, memory, …). */
  key: string;
  functionName: string;
  /** Unqualified function ARN. */
  functionArn: string;
  /** `$LATEST` or a published version number. */
  version: string;
  /** `provided`, `provided.al2`, `provided.al2023`, `nodejs22.x`, `nodejs24.x`, … */
  runtime: string;
  handler: string;
  memoryMb: number;
  timeoutSec: number;
  ephemeralStorageMb: number;
  /** User-defined variables (reserved keys are refused before this point). */
  environment: Record<string, string>;
  code: ArchiveRef;
  /** Layers in the order attached; later ones overwrite earlier ones in /opt. */
  layers: ArchiveRef[];
  logGroup: string;
  logFormat: LogFormat;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  /** Reserved concurrency, or null when the function draws on the unreserved account pool. */
  reservedConcurrency: number | null;
  /**
   * The tenant this environment serves (functions with `TenancyConfig: PER_TENANT`): environments are never shared
   * between tenants, and each invocation carries `Lambda-Runtime-Aws-Tenant-Id`.
   */
  tenantId?: string;
}
