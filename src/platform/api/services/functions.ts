/**
 * @module platform/api/services/functions
 * Functions: CreateFunction, GetFunction(Configuration), UpdateFunctionCode, UpdateFunctionConfiguration,
 * DeleteFunction, ListFunctions, and what the other services share (resolving qualifiers, the FunctionSpec the
 * engine runs, publishing a snapshot).
 *
 * States as Lambda reports them: CreateFunction answers `State: Pending` / `StateReasonCode: Creating`; an update
 * answers `LastUpdateStatus: InProgress`. The engine then prepares the new configuration (extraction) in the
 * background and the function becomes `Active` / `Successful` (or `Failed`). A change that was acknowledged but not
 * yet made ready when the server stopped is finished by `recover()` on the next start.
 */
import { createHash, randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import { CUSTOM_RUNTIMES, MANAGED_NODE_RUNTIMES, reservedKeysIn } from '../../../protocol/environment.ts';
import type { FunctionSpec } from '../../environments/function-spec.ts';
import type { AliasRecord, FunctionLayerRef, FunctionRecord } from '../../storage/metadata.ts';
import { functionArn, parseLayerVersionArn } from '../arns.ts';
import { apiError, LambdaApiError } from '../errors.ts';
import { encodeMarker, decodeMarker } from '../pagination.ts';
import { lambdaDate, MAX_UNZIPPED_BYTES, type ServiceContext } from './context.ts';
import { storeZip } from './zip-upload.ts';

const log = debuglog('lambkin:api');

/** Runtimes Lambkin runs: the custom runtimes and the managed Node runtimes it serves itself. */
export const RUNTIMES: readonly string[] = [...CUSTOM_RUNTIMES, ...Object.keys(MANAGED_NODE_RUNTIMES)];
/** Lambda's memory ceiling (the model allows up to 32768; the service refuses above this). */
export const MAX_MEMORY_MB = 10_240;
const MAX_LAYERS = 5;
const MAX_ENV_BYTES = 4096;

/** Configuration fields of Create/UpdateFunctionConfiguration, already checked against the model. */
export interface FunctionConfigChanges {
  runtime?: string;
  handler?: string;
  role?: string;
  description?: string;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, string>;
  /** Layer version ARNs, in order; `[]` removes all. */
  layers?: string[];
  ephemeralStorage?: number;
  architectures?: string[];
  logFormat?: 'Text' | 'JSON';
  logGroup?: string;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  tracingMode?: 'Active' | 'PassThrough';
}

export interface CreateFunctionCommand extends FunctionConfigChanges {
  name: string;
  role: string;
  zipFile: Buffer;
  publish: boolean;
  tags: Record<string, string>;
  /** `TenancyConfig` (cannot change after creation). */
  tenantIsolationMode?: 'PER_TENANT';
}

export interface UpdateFunctionCodeCommand {
  name: string;
  zipFile: Buffer;
  publish: boolean;
  dryRun: boolean;
  revisionId?: string;
  architectures?: string[];
}

export interface UpdateFunctionConfigurationCommand extends FunctionConfigChanges {
  name: string;
  revisionId?: string;
}

export class FunctionService {
  readonly #c: ServiceContext;
  /** FunctionSpecs by version and revision: building one hashes the configuration, so Invoke reuses them. */
  readonly #specs = new Map<string, FunctionSpec>();

  constructor(context: ServiceContext) {
    this.#c = context;
  }

  // ── create, update, delete ─────────────────────────────────────────────────────────────────────────────────

  async create(cmd: CreateFunctionCommand): Promise<Record<string, unknown>> {
    if (cmd.runtime === undefined || cmd.handler === undefined) {
      throw apiError.invalid(
        'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
      );
    }
    const config = this.#config(cmd, null);
    if (this.#c.store.getFunction(cmd.name) !== null) throw functionExists(cmd.name);
    const zip = await storeZip(this.#c.blobs, cmd.zipFile, MAX_UNZIPPED_BYTES - layersSize(config.layers));
    const record: FunctionRecord = {
      name: cmd.name,
      version: '$LATEST',
      ...config,
      logGroup: config.logGroup ?? `/aws/lambda/${cmd.name}`,
      codeSha256Hex: zip.sha256Hex,
      codeSha256: zip.sha256Base64,
      codeSize: zip.size,
      unzippedSize: zip.unzippedBytes,
      lastModified: lambdaDate(),
      revisionId: randomUUID(),
      state: 'Pending',
      stateReason: 'The function is being created.',
      stateReasonCode: 'Creating',
      lastUpdateStatus: 'Successful',
      ...(cmd.tenantIsolationMode !== undefined ? { tenantIsolationMode: cmd.tenantIsolationMode } : {}),
    };
    const out = this.#c.store.transaction(() => {
      if (!this.#c.store.createFunction(record, cmd.tags)) throw functionExists(cmd.name);
      return cmd.publish ? this.publishSnapshot(record, undefined) : record;
    });
    this.#activate(cmd.name, record.revisionId);
    return this.configurationOut(out);
  }

  async updateCode(cmd: UpdateFunctionCodeCommand): Promise<Record<string, unknown>> {
    const record = this.latest(cmd.name);
    this.checkRevision(record, cmd.revisionId);
    this.#checkNotUpdating(record);
    const zip = await storeZip(this.#c.blobs, cmd.zipFile, MAX_UNZIPPED_BYTES - layersSize(record.layers));
    // The upload took time: re-read, so a change that landed meanwhile is neither lost nor overwritten.
    const current = this.latest(cmd.name);
    if (current.revisionId !== record.revisionId) this.#checkNotUpdating(current);
    this.checkRevision(current, cmd.revisionId);
    if (cmd.architectures !== undefined) current.architectures = cmd.architectures;
    current.codeSha256Hex = zip.sha256Hex;
    current.codeSha256 = zip.sha256Base64;
    current.codeSize = zip.size;
    current.unzippedSize = zip.unzippedBytes;
    if (cmd.dryRun) return this.configurationOut(current);
    return this.#commitUpdate(current, cmd.publish);
  }

  updateConfiguration(cmd: UpdateFunctionConfigurationCommand): Record<string, unknown> {
    const record = this.latest(cmd.name);
    this.checkRevision(record, cmd.revisionId);
    this.#checkNotUpdating(record);
    const config = this.#config(cmd, record);
    if (cmd.layers !== undefined && record.unzippedSize + layersSize(config.layers) > MAX_UNZIPPED_BYTES) {
      throw apiError.invalid(`Layers consume more than the available size of ${MAX_UNZIPPED_BYTES} bytes`);
    }
    Object.assign(record, config, { logGroup: config.logGroup ?? record.logGroup });
    return this.#commitUpdate(record, false);
  }

  #commitUpdate(record: FunctionRecord, publish: boolean): Record<string, unknown> {
    record.lastModified = lambdaDate();
    record.revisionId = randomUUID();
    record.lastUpdateStatus = 'InProgress';
    record.lastUpdateStatusReason = 'The function is being created.';
    record.lastUpdateStatusReasonCode = 'Creating';
    const out = this.#c.store.transaction(() => {
      this.#c.store.putFunction(record);
      return publish ? this.publishSnapshot(record, undefined) : record;
    });
    this.#activate(record.name, record.revisionId);
    return this.configurationOut(out);
  }

  delete(name: string, qualifier: string | undefined): void {
    this.latest(name);
    if (qualifier === undefined) {
      this.#c.store.deleteFunction(name);
      this.#c.retire?.(name, '');
      return;
    }
    if (qualifier === '$LATEST') {
      throw apiError.invalid('$LATEST version cannot be deleted without deleting the function.');
    }
    if (!/^\d+$/.test(qualifier)) {
      throw apiError.invalid('Deletion of aliases is not supported by DeleteFunction; use DeleteAlias.');
    }
    if (this.#c.store.getVersion(name, qualifier) === null) {
      throw apiError.notFound(`Function not found: ${functionArn(this.#c.arn, name, qualifier)}`);
    }
    const used = this.#c.store
      .listAliases(name)
      .filter((a) => a.functionVersion === qualifier || qualifier in a.additionalVersionWeights);
    if (used.length > 0) {
      throw apiError.conflict(
        `Unable to delete version because the following aliases reference it: [${used.map((a) => a.name).join(', ')}]`,
      );
    }
    this.#c.store.deleteVersion(name, qualifier);
  }

  /** Finishes changes that were acknowledged before the last stop but never made ready. */
  recover(): void {
    for (const record of this.#c.store.functionsInTransition()) this.#activate(record.name, record.revisionId);
  }

  /** Prepares the new configuration's environments (extraction) in the background, then marks it ready. */
  #activate(name: string, revisionId: string): void {
    const record = this.#c.store.getFunction(name);
    if (record === null) return;
    const spec = this.specFor(record);
    const prepare = this.#c.prepare?.(spec) ?? Promise.resolve();
    void prepare
      .then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      )
      .then((failure) => {
        try {
          this.#settle(name, revisionId, failure);
        } catch (err) {
          // The store closed meanwhile (shutdown): the next start recovers the change.
          log('activation of %s not recorded: %o', name, err);
        }
      });
  }

  /** Records the outcome of an activation on $LATEST and on versions published with it. */
  #settle(name: string, revisionId: string, failure: string | undefined): void {
    const current = this.#c.store.getFunction(name);
    if (current?.revisionId !== revisionId) return;
    const key = this.#c.store.transaction(() => {
      const settle = (r: FunctionRecord) => {
        if (failure === undefined) {
          r.state = 'Active';
          r.lastUpdateStatus = 'Successful';
          delete r.stateReason;
          delete r.stateReasonCode;
          delete r.lastUpdateStatusReason;
          delete r.lastUpdateStatusReasonCode;
        } else if (r.state === 'Pending') {
          r.state = 'Failed';
          r.stateReason = failure;
          r.stateReasonCode = 'InvalidZipFileException';
        } else {
          r.lastUpdateStatus = 'Failed';
          r.lastUpdateStatusReason = failure;
          r.lastUpdateStatusReasonCode = 'InvalidZipFileException';
        }
      };
      settle(current);
      this.#c.store.putFunction(current);
      // Versions are immutable snapshots; one still in transition was published with this very change.
      for (const v of this.#c.store.listVersions(name)) {
        if (v.state !== 'Pending' && v.lastUpdateStatus !== 'InProgress') continue;
        settle(v);
        this.#c.store.putVersion(v);
      }
      return this.specFor(current).key;
    });
    this.#c.retire?.(name, key);
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────────────────────

  /** $LATEST, or 404 "Function not found". */
  latest(name: string): FunctionRecord {
    const record = this.#c.store.getFunction(name);
    if (record === null) throw apiError.notFound(`Function not found: ${functionArn(this.#c.arn, name)}`);
    return record;
  }

  /** $LATEST, a version, or an alias (resolved to its primary version). */
  resolve(name: string, qualifier: string | undefined): { record: FunctionRecord; alias: AliasRecord | null } {
    const latest = this.#c.store.getFunction(name);
    const notFound = () => apiError.notFound(`Function not found: ${functionArn(this.#c.arn, name, qualifier)}`);
    if (latest === null) throw notFound();
    if (qualifier === undefined || qualifier === '$LATEST') return { record: latest, alias: null };
    if (/^\d+$/.test(qualifier)) {
      const version = this.#c.store.getVersion(name, qualifier);
      if (version === null) throw notFound();
      return { record: version, alias: null };
    }
    const alias = this.#c.store.getAlias(name, qualifier);
    if (alias === null) throw notFound();
    const version =
      alias.functionVersion === '$LATEST' ? latest : this.#c.store.getVersion(name, alias.functionVersion);
    if (version === null) throw notFound();
    return { record: version, alias };
  }

  /** The version an invocation runs: an alias with a RoutingConfig sends each additional version its share. */
  pick(name: string, qualifier: string | undefined, random: () => number = Math.random): FunctionRecord {
    const { record, alias } = this.resolve(name, qualifier);
    if (alias === null) return record;
    let r = random();
    for (const [version, weight] of Object.entries(alias.additionalVersionWeights)) {
      if (r < weight) return this.resolve(name, version).record;
      r -= weight;
    }
    return record;
  }

  get(name: string, qualifier: string | undefined): Record<string, unknown> {
    const { record } = this.resolve(name, qualifier);
    const tags = this.#c.store.getTags(name);
    const reserved = this.#c.store.getReservedConcurrency(name);
    return {
      Configuration: this.configurationOut(record, qualifier),
      Code: {
        RepositoryType: 'S3',
        Location: this.#c.codeUrls.sign(`function:${name}:${record.version}`, record.codeSha256Hex),
      },
      ...(Object.keys(tags).length > 0 ? { Tags: tags } : {}),
      ...(reserved !== null ? { Concurrency: { ReservedConcurrentExecutions: reserved } } : {}),
    };
  }

  getConfiguration(name: string, qualifier: string | undefined): Record<string, unknown> {
    return this.configurationOut(this.resolve(name, qualifier).record, qualifier);
  }

  /** ListFunctions: one page of functions by name ($LATEST each, or every version with `all`). */
  list(
    marker: string | null,
    limit: number,
    all: boolean,
  ): { Functions: Record<string, unknown>[]; NextMarker?: string } {
    const pageSize = Math.min(50, limit);
    const records = this.#c.store.listFunctions(decodeMarker(marker), pageSize + 1);
    const items = records.slice(0, pageSize);
    const out: Record<string, unknown>[] = [];
    for (const r of items) {
      if (all) out.push(...this.versionsOut(r));
      else out.push(this.configurationOut(r));
    }
    const last = items.at(-1);
    return {
      Functions: out,
      ...(records.length > pageSize && last !== undefined ? { NextMarker: encodeMarker(last.name) } : {}),
    };
  }

  /** $LATEST (with a `:$LATEST` ARN) then every published version, as ListVersionsByFunction shows them. */
  versionsOut(latest: FunctionRecord): Record<string, unknown>[] {
    return [
      { ...this.configurationOut(latest), FunctionArn: functionArn(this.#c.arn, latest.name, '$LATEST') },
      ...this.#c.store.listVersions(latest.name).map((v) => this.configurationOut(v)),
    ];
  }

  /**
   * FunctionConfiguration as Lambda returns it. `qualifier` is what the caller asked for (version or alias): the
   * ARN is qualified with it; a published version read without one shows its number.
   */
  configurationOut(r: FunctionRecord, qualifier?: string): Record<string, unknown> {
    const arnQualifier = qualifier ?? (r.version !== '$LATEST' ? r.version : undefined);
    return {
      FunctionName: r.name,
      FunctionArn: functionArn(this.#c.arn, r.name, arnQualifier),
      Runtime: r.runtime,
      Role: r.role,
      Handler: r.handler,
      CodeSize: r.codeSize,
      Description: r.description,
      Timeout: r.timeout,
      MemorySize: r.memorySize,
      LastModified: r.lastModified,
      CodeSha256: r.codeSha256,
      Version: r.version,
      ...(Object.keys(r.environment).length > 0 ? { Environment: { Variables: r.environment } } : {}),
      TracingConfig: { Mode: r.tracingMode },
      RevisionId: r.revisionId,
      ...(r.layers.length > 0 ? { Layers: r.layers.map((l) => ({ Arn: l.arn, CodeSize: l.codeSize })) } : {}),
      State: r.state,
      ...(r.stateReason !== undefined ? { StateReason: r.stateReason } : {}),
      ...(r.stateReasonCode !== undefined ? { StateReasonCode: r.stateReasonCode } : {}),
      LastUpdateStatus: r.lastUpdateStatus,
      ...(r.lastUpdateStatusReason !== undefined ? { LastUpdateStatusReason: r.lastUpdateStatusReason } : {}),
      ...(r.lastUpdateStatusReasonCode !== undefined
        ? { LastUpdateStatusReasonCode: r.lastUpdateStatusReasonCode }
        : {}),
      PackageType: 'Zip',
      Architectures: r.architectures,
      EphemeralStorage: { Size: r.ephemeralStorage },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: {
        LogFormat: r.logFormat,
        LogGroup: r.logGroup,
        ...(r.applicationLogLevel !== undefined ? { ApplicationLogLevel: r.applicationLogLevel } : {}),
        ...(r.systemLogLevel !== undefined ? { SystemLogLevel: r.systemLogLevel } : {}),
      },
      ...(r.tenantIsolationMode !== undefined ? { TenancyConfig: { TenantIsolationMode: r.tenantIsolationMode } } : {}),
    };
  }

  /**
   * What the engine runs for `record` (one version at one revision). The key hashes everything that shapes an
   * environment (code, layers, environment, memory, timeout, handler, runtime, logging), so a change retires the
   * warm environments of the old configuration.
   */
  specFor(record: FunctionRecord): FunctionSpec {
    const reservedConcurrency = this.#c.store.getReservedConcurrency(record.name);
    const cacheKey = `${record.name}\0${record.version}\0${record.revisionId}\0${String(reservedConcurrency)}`;
    const cached = this.#specs.get(cacheKey);
    if (cached !== undefined) return cached;
    if (this.#specs.size > 1000) this.#specs.clear();
    const shape = {
      runtime: record.runtime,
      handler: record.handler,
      memoryMb: record.memorySize,
      timeoutSec: record.timeout,
      ephemeralStorageMb: record.ephemeralStorage,
      environment: record.environment,
      code: record.codeSha256Hex,
      layers: record.layers.map((l) => l.codeSha256Hex),
      logFormat: record.logFormat,
      logGroup: record.logGroup,
      app: record.applicationLogLevel,
      sys: record.systemLogLevel,
    };
    const hash = createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 24);
    const spec: FunctionSpec = {
      key: `${record.name}:${record.version}:${hash}`,
      functionName: record.name,
      functionArn: functionArn(this.#c.arn, record.name),
      version: record.version,
      runtime: record.runtime,
      handler: record.handler,
      memoryMb: record.memorySize,
      timeoutSec: record.timeout,
      ephemeralStorageMb: record.ephemeralStorage,
      environment: record.environment,
      code: { sha256: record.codeSha256Hex, path: this.#c.blobs.path(record.codeSha256Hex) },
      layers: record.layers.map((l) => ({ sha256: l.codeSha256Hex, path: this.#c.blobs.path(l.codeSha256Hex) })),
      logGroup: record.logGroup,
      logFormat: record.logFormat,
      ...(record.applicationLogLevel !== undefined ? { applicationLogLevel: record.applicationLogLevel } : {}),
      ...(record.systemLogLevel !== undefined ? { systemLogLevel: record.systemLogLevel } : {}),
      reservedConcurrency,
    };
    this.#specs.set(cacheKey, spec);
    return spec;
  }

  // ── shared with the version and alias services ─────────────────────────────────────────────────────────────

  /** Publishes `record` as the next version; with nothing changed since the last version, returns that one. */
  publishSnapshot(record: FunctionRecord, description: string | undefined): FunctionRecord {
    const last = this.#c.store.listVersions(record.name).at(-1);
    if (last !== undefined && sameSnapshot(last, record)) return last;
    return this.#c.store.publishVersion(record.name, (version) => ({
      ...record,
      version,
      description: description === undefined || description === '' ? record.description : description,
      lastModified: lambdaDate(),
      revisionId: randomUUID(),
    }));
  }

  checkRevision(record: FunctionRecord, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== record.revisionId) {
      throw new LambdaApiError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
  }

  /** Refuses a change (or publish) while the previous one is still being made ready. */
  checkNotUpdating(record: FunctionRecord): void {
    this.#checkNotUpdating(record);
  }

  #checkNotUpdating(record: FunctionRecord): void {
    if (record.lastUpdateStatus === 'InProgress' || record.state === 'Pending') {
      throw apiError.conflict(
        `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(this.#c.arn, record.name)}`,
      );
    }
  }

  // ── configuration rules beyond the model ───────────────────────────────────────────────────────────────────

  /** Applies `cmd` over `base` (or the defaults) and checks what only the service can: runtimes, limits, layers. */
  #config(cmd: FunctionConfigChanges, base: FunctionRecord | null) {
    const runtime = cmd.runtime ?? base?.runtime ?? '';
    if (!RUNTIMES.includes(runtime)) {
      throw apiError.invalid(
        `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${RUNTIMES.join(', ')}] or be a valid ARN`,
      );
    }
    const memorySize = cmd.memorySize ?? base?.memorySize ?? 128;
    if (memorySize > MAX_MEMORY_MB) {
      throw apiError.invalid(
        `'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to ${MAX_MEMORY_MB}`,
      );
    }
    const environment = cmd.environment ?? base?.environment ?? {};
    if (cmd.environment !== undefined) checkEnvironment(cmd.environment);
    const layers = cmd.layers === undefined ? (base?.layers ?? []) : this.#layers(cmd.layers);
    const logFormat = cmd.logFormat ?? base?.logFormat ?? 'Text';
    const applicationLogLevel = cmd.applicationLogLevel ?? base?.applicationLogLevel;
    const systemLogLevel = cmd.systemLogLevel ?? base?.systemLogLevel;
    if ((cmd.applicationLogLevel !== undefined || cmd.systemLogLevel !== undefined) && logFormat !== 'JSON') {
      throw apiError.invalid('To set ApplicationLogLevel or SystemLogLevel, LogFormat must be JSON.');
    }
    return {
      runtime,
      handler: cmd.handler ?? base?.handler ?? '',
      role: cmd.role ?? base?.role ?? '',
      description: cmd.description ?? base?.description ?? '',
      timeout: cmd.timeout ?? base?.timeout ?? 3,
      memorySize,
      environment,
      layers,
      ephemeralStorage: cmd.ephemeralStorage ?? base?.ephemeralStorage ?? 512,
      architectures: cmd.architectures ?? base?.architectures ?? ['x86_64'],
      logFormat,
      logGroup: cmd.logGroup ?? base?.logGroup,
      ...(applicationLogLevel !== undefined && logFormat === 'JSON' ? { applicationLogLevel } : {}),
      ...(systemLogLevel !== undefined && logFormat === 'JSON' ? { systemLogLevel } : {}),
      tracingMode: cmd.tracingMode ?? base?.tracingMode ?? 'PassThrough',
    };
  }

  #layers(arns: readonly string[]): FunctionLayerRef[] {
    if (arns.length > MAX_LAYERS) throw apiError.invalid(`Cannot reference more than ${MAX_LAYERS} layers.`);
    const seen = new Map<string, string>();
    return arns.map((arn) => {
      const parsed = parseLayerVersionArn(this.#c.arn, arn);
      if (parsed === null) throw apiError.invalid(`Layer version ${arn} does not exist.`);
      const other = seen.get(parsed.name);
      if (other !== undefined) {
        throw apiError.invalid(
          `Two different versions of the same layer are not allowed to be referenced in the same function. ${other} and ${arn} are versions of the same layer.`,
        );
      }
      seen.set(parsed.name, arn);
      const record = this.#c.store.getLayerVersion(parsed.name, parsed.version);
      if (record === null) throw apiError.invalid(`Layer version ${arn} does not exist.`);
      return { arn, codeSize: record.codeSize, codeSha256Hex: record.codeSha256Hex, unzippedSize: record.unzippedSize };
    });
  }
}

function functionExists(name: string): LambdaApiError {
  return apiError.conflict(`Function already exist: ${name}`);
}

function layersSize(layers: readonly FunctionLayerRef[]): number {
  return layers.reduce((n, l) => n + l.unzippedSize, 0);
}

function checkEnvironment(vars: Record<string, string>): void {
  const reserved = reservedKeysIn(vars);
  if (reserved.length > 0) {
    throw apiError.invalid(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const measured = JSON.stringify(vars);
  if (Buffer.byteLength(measured) > MAX_ENV_BYTES) {
    throw apiError.invalid(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
}

/** Same code and configuration (what a published version snapshots), ignoring bookkeeping fields. */
function sameSnapshot(a: FunctionRecord, b: FunctionRecord): boolean {
  const strip = (r: FunctionRecord) => ({
    ...r,
    version: '',
    description: '',
    lastModified: '',
    revisionId: '',
    state: '',
    stateReason: undefined,
    stateReasonCode: undefined,
    lastUpdateStatus: '',
    lastUpdateStatusReason: undefined,
    lastUpdateStatusReasonCode: undefined,
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}
