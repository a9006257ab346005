/**
 * @module platform/api/service
 * The Lambda control plane's logic: typed commands in, AWS-shaped records out, `LambdaApiError` on bad input.
 * HTTP parsing lives in routes.ts; storage in storage/metadata.ts and storage/blob-store.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CUSTOM_RUNTIMES, MANAGED_NODE_RUNTIMES, reservedKeysIn } from '../../protocol/environment.ts';
import type { FunctionSpec } from '../environments/function-spec.ts';
import { isPlatformError } from '../errors.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { AliasRecord, FunctionRecord, LayerVersionRecord, MetadataStore } from '../storage/metadata.ts';
import { inspectZip } from '../storage/zip.ts';
import {
  ALIAS_NAME,
  type ArnContext,
  FUNCTION_NAME,
  functionArn,
  layerArn,
  layerVersionArn,
  parseLayerVersionArn,
} from './arns.ts';
import { apiError, LambdaApiError } from './errors.ts';

export const RUNTIMES: readonly string[] = [...CUSTOM_RUNTIMES, ...Object.keys(MANAGED_NODE_RUNTIMES)];
export const MAX_ZIPPED_BYTES = 52_428_800;
export const MAX_UNZIPPED_BYTES = 262_144_000;
export const ACCOUNT_CONCURRENCY = 1000;
const MIN_UNRESERVED = 100;
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;

export interface CreateFunctionCommand {
  FunctionName?: unknown;
  Runtime?: unknown;
  Role?: unknown;
  Handler?: unknown;
  Code?: { ZipFile?: unknown; S3Bucket?: unknown; S3Key?: unknown; ImageUri?: unknown } | undefined;
  Description?: unknown;
  Timeout?: unknown;
  MemorySize?: unknown;
  Publish?: unknown;
  Environment?: { Variables?: unknown } | undefined;
  Layers?: unknown;
  Architectures?: unknown;
  EphemeralStorage?: { Size?: unknown } | undefined;
  LoggingConfig?: { LogFormat?: unknown; LogGroup?: unknown; ApplicationLogLevel?: unknown; SystemLogLevel?: unknown };
  TracingConfig?: { Mode?: unknown } | undefined;
  PackageType?: unknown;
  Tags?: unknown;
}

export type UpdateConfigurationCommand = Omit<
  CreateFunctionCommand,
  'FunctionName' | 'Code' | 'Publish' | 'PackageType' | 'Tags'
> & {
  RevisionId?: unknown;
};

export interface ServiceOptions {
  store: MetadataStore;
  blobs: BlobStore;
  ctx: ArnContext;
  /** Base URL for `Code.Location` / `Content.Location` downloads. */
  publicUrl: string;
  /** Prepares environments for a new configuration (extraction); resolves when the function may run. */
  prepare?: (spec: FunctionSpec) => Promise<void>;
  /** Called after $LATEST changed: warm environments of older configurations retire. */
  retire?: (functionName: string, keepKey: string) => void;
}

export class LambdaService {
  readonly #o: ServiceOptions;
  readonly ctx: ArnContext;
  /** FunctionSpecs by version and revision: building one hashes the configuration, so Invoke reuses them. */
  readonly #specs = new Map<string, FunctionSpec>();

  constructor(options: ServiceOptions) {
    this.#o = options;
    this.ctx = options.ctx;
  }

  get store(): MetadataStore {
    return this.#o.store;
  }

  // ── layers ─────────────────────────────────────────────────────────────────────────────────────────────────

  async publishLayerVersion(
    layerName: string,
    body: {
      Content?: { ZipFile?: unknown; S3Bucket?: unknown };
      Description?: unknown;
      CompatibleRuntimes?: unknown;
      CompatibleArchitectures?: unknown;
      LicenseInfo?: unknown;
    },
  ): Promise<Record<string, unknown>> {
    const description = optString(body.Description, 'description', 256) ?? '';
    const licenseInfo = optString(body.LicenseInfo, 'licenseInfo', 512) ?? null;
    const runtimes = optStringList(body.CompatibleRuntimes, 'compatibleRuntimes', 15);
    for (const r of runtimes) if (!RUNTIMES.includes(r)) throw runtimeError(r, 'compatibleRuntimes');
    const architectures = optStringList(body.CompatibleArchitectures, 'compatibleArchitectures', 2);
    for (const a of architectures) if (a !== 'x86_64' && a !== 'arm64') throw architectureError(a);
    if (body.Content?.ZipFile === undefined) {
      if (body.Content?.S3Bucket !== undefined)
        throw apiError.invalid('Lambkin does not read code from S3; upload it as ZipFile.');
      throw apiError.invalid('Uploaded file must be a non-empty zip');
    }
    const zip = await this.#storeZip(body.Content.ZipFile, MAX_UNZIPPED_BYTES);
    const record = this.#o.store.addLayerVersion({
      layerName,
      description,
      licenseInfo,
      compatibleRuntimes: runtimes,
      compatibleArchitectures: architectures,
      codeSha256Hex: zip.sha256Hex,
      codeSha256: zip.sha256Base64,
      codeSize: zip.size,
      unzippedSize: zip.unzippedBytes,
      createdDate: lambdaDate(),
    });
    return this.layerVersionOut(record);
  }

  getLayerVersion(layerName: string, version: number): Record<string, unknown> {
    const record = this.#o.store.getLayerVersion(layerName, version);
    if (record === null) throw apiError.notFound('The resource you requested does not exist.');
    return this.layerVersionOut(record);
  }

  layerVersionOut(r: LayerVersionRecord): Record<string, unknown> {
    return {
      Content: {
        Location: `${this.#o.publicUrl}/_lambkin/blobs/${r.codeSha256Hex}`,
        CodeSha256: r.codeSha256,
        CodeSize: r.codeSize,
      },
      LayerArn: layerArn(this.ctx, r.layerName),
      LayerVersionArn: layerVersionArn(this.ctx, r.layerName, r.version),
      Description: r.description,
      CreatedDate: r.createdDate,
      Version: r.version,
      CompatibleRuntimes: r.compatibleRuntimes,
      ...(r.licenseInfo !== null ? { LicenseInfo: r.licenseInfo } : {}),
      CompatibleArchitectures: r.compatibleArchitectures,
    };
  }

  layerVersionListItem(r: LayerVersionRecord): Record<string, unknown> {
    return {
      LayerVersionArn: layerVersionArn(this.ctx, r.layerName, r.version),
      Version: r.version,
      Description: r.description,
      CreatedDate: r.createdDate,
      CompatibleRuntimes: r.compatibleRuntimes,
      ...(r.licenseInfo !== null ? { LicenseInfo: r.licenseInfo } : {}),
      CompatibleArchitectures: r.compatibleArchitectures,
    };
  }

  // ── functions ──────────────────────────────────────────────────────────────────────────────────────────────

  async createFunction(cmd: CreateFunctionCommand): Promise<Record<string, unknown>> {
    const name = requireString(cmd.FunctionName, 'functionName');
    if (!FUNCTION_NAME.test(name) || name.length > 64) {
      throw apiError.validation('functionName', name, 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+');
    }
    if (cmd.PackageType !== undefined && cmd.PackageType !== 'Zip') {
      throw apiError.invalid('Lambkin runs Zip functions only (PackageType Image is not supported).');
    }
    const runtime = requireString(cmd.Runtime, 'runtime');
    const handler = requireString(cmd.Handler, 'handler');
    const role = requireString(cmd.Role, 'role');
    const config = this.#validateConfig({ ...cmd, Runtime: runtime, Handler: handler, Role: role }, null);
    if (this.#o.store.getFunction(name) !== null) throw apiError.conflict(`Function already exist: ${name}`);
    if (cmd.Code?.ZipFile === undefined) {
      if (cmd.Code?.S3Bucket !== undefined || cmd.Code?.ImageUri !== undefined) {
        throw apiError.invalid('Lambkin does not read code from S3 or images; upload it as ZipFile.');
      }
      throw apiError.invalid('Uploaded file must be a non-empty zip');
    }
    const layersSize = config.layers.reduce((n, l) => n + l.unzippedSize, 0);
    const zip = await this.#storeZip(cmd.Code.ZipFile, MAX_UNZIPPED_BYTES - layersSize);
    const tags = optStringMap(cmd.Tags, 'tags') ?? {};
    const record: FunctionRecord = {
      name,
      version: '$LATEST',
      ...config,
      logGroup: config.logGroup ?? `/aws/lambda/${name}`,
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
    };
    if (!this.#o.store.createFunction(record, tags)) throw apiError.conflict(`Function already exist: ${name}`);
    let out = record;
    if (cmd.Publish === true) out = this.#publish(record, '');
    this.#activate(name, record.revisionId);
    return this.configurationOut(out);
  }

  /** Prepares the new configuration's environments (extraction) in the background, then marks it ready. */
  #activate(name: string, revisionId: string): void {
    const record = this.#o.store.getFunction(name);
    if (record === null) return;
    const spec = this.specFor(record, null);
    const prepare = this.#o.prepare?.(spec) ?? Promise.resolve();
    void prepare
      .then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      )
      .then((failure) => {
        const current = this.#o.store.getFunction(name);
        if (current?.revisionId !== revisionId) return;
        if (failure === undefined) {
          current.state = 'Active';
          current.lastUpdateStatus = 'Successful';
          delete current.stateReason;
          delete current.stateReasonCode;
          delete current.lastUpdateStatusReason;
          delete current.lastUpdateStatusReasonCode;
        } else if (current.state === 'Pending') {
          current.state = 'Failed';
          current.stateReason = failure;
          current.stateReasonCode = 'InvalidZipFileException';
        } else {
          current.lastUpdateStatus = 'Failed';
          current.lastUpdateStatusReason = failure;
          current.lastUpdateStatusReasonCode = 'InvalidZipFileException';
        }
        this.#o.store.putFunction(current);
        this.#o.retire?.(name, this.specFor(current, null).key);
      });
  }

  async updateFunctionCode(
    name: string,
    body: { ZipFile?: unknown; S3Bucket?: unknown; Publish?: unknown; RevisionId?: unknown; Architectures?: unknown },
  ): Promise<Record<string, unknown>> {
    const record = this.#latest(name);
    this.#checkRevision(record, body.RevisionId);
    this.#checkNotUpdating(record);
    if (body.ZipFile === undefined) {
      if (body.S3Bucket !== undefined)
        throw apiError.invalid('Lambkin does not read code from S3; upload it as ZipFile.');
      throw apiError.invalid('Uploaded file must be a non-empty zip');
    }
    if (body.Architectures !== undefined) record.architectures = architectures(body.Architectures);
    const layersSize = record.layers.reduce((n, l) => n + l.unzippedSize, 0);
    const zip = await this.#storeZip(body.ZipFile, MAX_UNZIPPED_BYTES - layersSize);
    record.codeSha256Hex = zip.sha256Hex;
    record.codeSha256 = zip.sha256Base64;
    record.codeSize = zip.size;
    record.unzippedSize = zip.unzippedBytes;
    return this.#commitUpdate(record, body.Publish === true);
  }

  updateFunctionConfiguration(name: string, cmd: UpdateConfigurationCommand): Record<string, unknown> {
    const record = this.#latest(name);
    this.#checkRevision(record, cmd.RevisionId);
    this.#checkNotUpdating(record);
    const config = this.#validateConfig(cmd, record);
    Object.assign(record, config, { logGroup: config.logGroup ?? record.logGroup });
    const total = record.unzippedSize + record.layers.reduce((n, l) => n + l.unzippedSize, 0);
    if (total > MAX_UNZIPPED_BYTES) {
      throw apiError.invalid(`Layers consume more than the available size of ${MAX_UNZIPPED_BYTES} bytes`);
    }
    return this.#commitUpdate(record, false);
  }

  #commitUpdate(record: FunctionRecord, publish: boolean): Record<string, unknown> {
    record.lastModified = lambdaDate();
    record.revisionId = randomUUID();
    record.lastUpdateStatus = 'InProgress';
    record.lastUpdateStatusReason = 'The function is being created.';
    record.lastUpdateStatusReasonCode = 'Creating';
    this.#o.store.putFunction(record);
    const out = publish ? this.#publish(record, '') : record;
    this.#activate(record.name, record.revisionId);
    return this.configurationOut(out);
  }

  deleteFunction(name: string, qualifier: string | undefined): void {
    this.#latest(name);
    if (qualifier === undefined || qualifier === '$LATEST') {
      if (qualifier === '$LATEST')
        throw apiError.invalid('$LATEST version cannot be deleted without deleting the function.');
      this.#o.store.deleteFunction(name);
      this.#o.retire?.(name, '');
      return;
    }
    if (this.#o.store.getVersion(name, qualifier) === null) {
      throw apiError.notFound(`Function not found: ${functionArn(this.ctx, name, qualifier)}`);
    }
    const used = this.#o.store.listAliases(name).find((a) => a.functionVersion === qualifier);
    if (used !== undefined) {
      throw apiError.conflict(`Unable to delete version because the following aliases reference it: [${used.name}]`);
    }
    this.#o.store.deleteVersion(name, qualifier);
  }

  /** $LATEST, a version, or an alias (resolved to its version). */
  resolve(name: string, qualifier: string | undefined): { record: FunctionRecord; alias: AliasRecord | null } {
    const latest = this.#o.store.getFunction(name);
    const notFound = () => apiError.notFound(`Function not found: ${functionArn(this.ctx, name, qualifier)}`);
    if (latest === null) throw notFound();
    if (qualifier === undefined || qualifier === '$LATEST') return { record: latest, alias: null };
    if (/^\d+$/.test(qualifier)) {
      const version = this.#o.store.getVersion(name, qualifier);
      if (version === null) throw notFound();
      return { record: version, alias: null };
    }
    const alias = this.#o.store.getAlias(name, qualifier);
    if (alias === null) throw notFound();
    const version =
      alias.functionVersion === '$LATEST' ? latest : this.#o.store.getVersion(name, alias.functionVersion);
    if (version === null) throw notFound();
    return { record: version, alias };
  }

  getFunction(name: string, qualifier: string | undefined): Record<string, unknown> {
    const { record } = this.resolve(name, qualifier);
    const tags = this.#o.store.getTags(name);
    const reserved = this.#o.store.getReservedConcurrency(name);
    return {
      Configuration: this.configurationOut(record, qualifier !== undefined),
      Code: { RepositoryType: 'S3', Location: `${this.#o.publicUrl}/_lambkin/blobs/${record.codeSha256Hex}` },
      ...(Object.keys(tags).length > 0 ? { Tags: tags } : {}),
      ...(reserved !== null ? { Concurrency: { ReservedConcurrentExecutions: reserved } } : {}),
    };
  }

  configurationOut(r: FunctionRecord, qualified = r.version !== '$LATEST'): Record<string, unknown> {
    return {
      FunctionName: r.name,
      FunctionArn: functionArn(this.ctx, r.name, qualified ? r.version : undefined),
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
    };
  }

  /** What the engine runs for `record` (one version at one revision). */
  specFor(record: FunctionRecord, reserved: number | null | undefined): FunctionSpec {
    const reservedConcurrency = reserved === undefined ? this.#o.store.getReservedConcurrency(record.name) : reserved;
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
    const key = `${record.name}:${record.version}:${createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 24)}`;
    const spec: FunctionSpec = {
      key,
      functionName: record.name,
      functionArn: functionArn(this.ctx, record.name),
      version: record.version,
      runtime: record.runtime,
      handler: record.handler,
      memoryMb: record.memorySize,
      timeoutSec: record.timeout,
      ephemeralStorageMb: record.ephemeralStorage,
      environment: record.environment,
      code: { sha256: record.codeSha256Hex, path: this.#o.blobs.path(record.codeSha256Hex) },
      layers: record.layers.map((l) => ({ sha256: l.codeSha256Hex, path: this.#o.blobs.path(l.codeSha256Hex) })),
      logGroup: record.logGroup,
      logFormat: record.logFormat,
      ...(record.applicationLogLevel !== undefined ? { applicationLogLevel: record.applicationLogLevel } : {}),
      ...(record.systemLogLevel !== undefined ? { systemLogLevel: record.systemLogLevel } : {}),
      reservedConcurrency,
    };
    this.#specs.set(cacheKey, spec);
    return spec;
  }

  // ── versions and aliases ───────────────────────────────────────────────────────────────────────────────────

  publishVersion(
    name: string,
    body: { Description?: unknown; CodeSha256?: unknown; RevisionId?: unknown },
  ): Record<string, unknown> {
    const record = this.#latest(name);
    this.#checkRevision(record, body.RevisionId);
    if (body.CodeSha256 !== undefined && body.CodeSha256 !== record.codeSha256) {
      throw new LambdaApiError(
        'PreconditionFailedException',
        `CodeSHA256 (${JSON.stringify(body.CodeSha256)}) is different from current CodeSHA256 in $LATEST (${record.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    this.#checkNotUpdating(record);
    return this.configurationOut(this.#publish(record, optString(body.Description, 'description', 256)));
  }

  #publish(record: FunctionRecord, description: string | undefined): FunctionRecord {
    // Publishing twice with nothing changed returns the latest version.
    const versions = this.#o.store.listVersions(record.name);
    const last = versions.at(-1);
    if (last !== undefined && sameSnapshot(last, record)) return last;
    return this.#o.store.publishVersion(record.name, (version) => ({
      ...record,
      version,
      description: description === undefined || description === '' ? record.description : description,
      lastModified: lambdaDate(),
      revisionId: randomUUID(),
    }));
  }

  listVersions(name: string): Record<string, unknown>[] {
    const latest = this.#latest(name);
    return [
      this.configurationOut(latest, true),
      ...this.#o.store.listVersions(name).map((v) => this.configurationOut(v)),
    ].map((c, i) => (i === 0 ? { ...c, FunctionArn: functionArn(this.ctx, name, '$LATEST') } : c));
  }

  createAlias(
    name: string,
    body: { Name?: unknown; FunctionVersion?: unknown; Description?: unknown; RoutingConfig?: unknown },
  ): Record<string, unknown> {
    this.#latest(name);
    const alias = requireString(body.Name, 'name');
    if (!ALIAS_NAME.test(alias) || alias.length > 128) {
      throw apiError.validation(
        'name',
        alias,
        'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)',
      );
    }
    const record: AliasRecord = {
      functionName: name,
      name: alias,
      functionVersion: this.#checkVersion(name, requireString(body.FunctionVersion, 'functionVersion')),
      description: optString(body.Description, 'description', 256) ?? '',
      additionalVersionWeights: this.#weights(name, body.RoutingConfig),
      revisionId: randomUUID(),
    };
    if (!this.#o.store.putAlias(record, true)) {
      throw apiError.conflict(`Alias already exists: ${functionArn(this.ctx, name, alias)}`);
    }
    return this.aliasOut(record);
  }

  updateAlias(
    name: string,
    alias: string,
    body: { FunctionVersion?: unknown; Description?: unknown; RoutingConfig?: unknown; RevisionId?: unknown },
  ): Record<string, unknown> {
    const record = this.getAliasRecord(name, alias);
    if (body.RevisionId !== undefined && body.RevisionId !== record.revisionId) {
      throw new LambdaApiError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id',
      );
    }
    if (body.FunctionVersion !== undefined)
      record.functionVersion = this.#checkVersion(name, requireString(body.FunctionVersion, 'functionVersion'));
    if (body.Description !== undefined) record.description = optString(body.Description, 'description', 256) ?? '';
    if (body.RoutingConfig !== undefined) record.additionalVersionWeights = this.#weights(name, body.RoutingConfig);
    record.revisionId = randomUUID();
    this.#o.store.putAlias(record, false);
    return this.aliasOut(record);
  }

  getAliasRecord(name: string, alias: string): AliasRecord {
    this.#latest(name);
    const record = this.#o.store.getAlias(name, alias);
    if (record === null) throw apiError.notFound(`Cannot find alias arn: ${functionArn(this.ctx, name, alias)}`);
    return record;
  }

  aliasOut(a: AliasRecord): Record<string, unknown> {
    return {
      AliasArn: functionArn(this.ctx, a.functionName, a.name),
      Name: a.name,
      FunctionVersion: a.functionVersion,
      Description: a.description,
      ...(Object.keys(a.additionalVersionWeights).length > 0
        ? { RoutingConfig: { AdditionalVersionWeights: a.additionalVersionWeights } }
        : {}),
      RevisionId: a.revisionId,
    };
  }

  #checkVersion(name: string, version: string): string {
    if (version !== '$LATEST' && this.#o.store.getVersion(name, version) === null) {
      throw apiError.notFound(`Function not found: ${functionArn(this.ctx, name, version)}`);
    }
    return version;
  }

  #weights(name: string, routing: unknown): Record<string, number> {
    if (routing === undefined || routing === null) return {};
    const weights = (routing as { AdditionalVersionWeights?: unknown }).AdditionalVersionWeights;
    if (weights === undefined) return {};
    if (typeof weights !== 'object' || weights === null)
      throw apiError.invalid('AdditionalVersionWeights must be a map');
    const out: Record<string, number> = {};
    for (const [version, weight] of Object.entries(weights as Record<string, unknown>)) {
      if (typeof weight !== 'number' || weight < 0 || weight > 1)
        throw apiError.invalid(`Invalid weight for version ${version}: must be between 0.0 and 1.0`);
      this.#checkVersion(name, version);
      out[version] = weight;
    }
    if (Object.keys(out).length > 1)
      throw apiError.invalid('Number of items in AdditionalVersionWeights cannot be greater than 1');
    return out;
  }

  // ── concurrency ────────────────────────────────────────────────────────────────────────────────────────────

  putConcurrency(name: string, value: unknown): Record<string, unknown> {
    this.#latest(name);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw apiError.validation(
        'reservedConcurrentExecutions',
        value,
        'Member must have value greater than or equal to 0',
      );
    }
    const others = this.#o.store.totalReservedConcurrency(name);
    if (ACCOUNT_CONCURRENCY - others - value < MIN_UNRESERVED) {
      throw apiError.invalid(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED}].`,
      );
    }
    this.#o.store.setReservedConcurrency(name, value);
    return { ReservedConcurrentExecutions: value };
  }

  accountSettings(): Record<string, unknown> {
    const usage = this.#o.store.countFunctions();
    return {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: MAX_UNZIPPED_BYTES,
        CodeSizeZipped: MAX_ZIPPED_BYTES,
        ConcurrentExecutions: ACCOUNT_CONCURRENCY,
        UnreservedConcurrentExecutions: ACCOUNT_CONCURRENCY - this.#o.store.totalReservedConcurrency(),
      },
      AccountUsage: { TotalCodeSize: usage.codeSize, FunctionCount: usage.count },
    };
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────────────────────

  #latest(name: string): FunctionRecord {
    const record = this.#o.store.getFunction(name);
    if (record === null) throw apiError.notFound(`Function not found: ${functionArn(this.ctx, name)}`);
    return record;
  }

  #checkRevision(record: FunctionRecord, revisionId: unknown): void {
    if (revisionId !== undefined && revisionId !== record.revisionId) {
      throw new LambdaApiError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
  }

  #checkNotUpdating(record: FunctionRecord): void {
    if (record.lastUpdateStatus === 'InProgress' || record.state === 'Pending') {
      throw apiError.conflict(
        `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(this.ctx, record.name)}`,
      );
    }
  }

  /** Decodes, checks and stores an uploaded zip; nothing is stored when it is refused. */
  async #storeZip(
    zipFile: unknown,
    maxUnzipped: number,
  ): Promise<{ sha256Hex: string; sha256Base64: string; size: number; unzippedBytes: number }> {
    if (typeof zipFile !== 'string' || zipFile === '') throw apiError.invalid('Uploaded file must be a non-empty zip');
    const bytes = Buffer.from(zipFile, 'base64');
    if (bytes.length === 0) throw apiError.invalid('Uploaded file must be a non-empty zip');
    if (bytes.length > MAX_ZIPPED_BYTES) {
      throw new LambdaApiError(
        'RequestEntityTooLargeException',
        `Request must be smaller than 69905067 bytes for the CreateFunction operation`,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-upload-'));
    try {
      const file = join(dir, 'upload.zip');
      await writeFile(file, bytes);
      let unzippedBytes: number;
      try {
        ({ unzippedBytes } = await inspectZip(file, { maxUnzippedBytes: maxUnzipped }));
      } catch (err) {
        if (isPlatformError(err, 'ERR_ZIP_TOO_LARGE') && /Unzipped size/.test(err.message)) {
          throw apiError.invalid(`Unzipped size must be smaller than ${maxUnzipped} bytes`);
        }
        if (isPlatformError(err)) {
          const detail =
            err.message.startsWith('Could not unzip') || err.message.startsWith('Uploaded file')
              ? err.message
              : `Could not unzip uploaded file: ${err.message}`;
          throw apiError.invalid(
            detail.startsWith('Uploaded file')
              ? detail
              : `${detail.replace(/\.$/, '')}. Please check your file, then try to upload again.`,
          );
        }
        throw err;
      }
      const blob = await this.#o.blobs.putFile(file);
      return { sha256Hex: blob.sha256Hex, sha256Base64: blob.sha256Base64, size: blob.size, unzippedBytes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Validates every configuration field of Create/UpdateFunctionConfiguration; `base` supplies unchanged ones. */
  #validateConfig(cmd: UpdateConfigurationCommand, base: FunctionRecord | null) {
    const runtime = cmd.Runtime === undefined ? (base?.runtime ?? '') : requireString(cmd.Runtime, 'runtime');
    if (!RUNTIMES.includes(runtime)) throw runtimeError(runtime, 'runtime');
    const handler = cmd.Handler === undefined ? (base?.handler ?? '') : requireString(cmd.Handler, 'handler');
    if (handler.length > 128 || !/^[^\s]+$/.test(handler)) {
      throw apiError.validation('handler', handler, 'Member must satisfy regular expression pattern: [^\\s]+');
    }
    const role = cmd.Role === undefined ? (base?.role ?? '') : requireString(cmd.Role, 'role');
    if (!ROLE.test(role)) {
      throw apiError.validation(
        'role',
        role,
        'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+',
      );
    }
    const description =
      cmd.Description === undefined
        ? (base?.description ?? '')
        : (optString(cmd.Description, 'description', 256) ?? '');
    const timeout = cmd.Timeout === undefined ? (base?.timeout ?? 3) : intIn(cmd.Timeout, 'timeout', 1, 900);
    const memorySize =
      cmd.MemorySize === undefined ? (base?.memorySize ?? 128) : intIn(cmd.MemorySize, 'memorySize', 128, 10240);
    let environment = base?.environment ?? {};
    if (cmd.Environment !== undefined) environment = envVariables(cmd.Environment.Variables);
    let layers = base?.layers ?? [];
    if (cmd.Layers !== undefined) layers = this.#layers(cmd.Layers);
    const ephemeralStorage =
      cmd.EphemeralStorage === undefined
        ? (base?.ephemeralStorage ?? 512)
        : intIn(cmd.EphemeralStorage.Size, 'ephemeralStorage.size', 512, 10240);
    const archs =
      cmd.Architectures === undefined ? (base?.architectures ?? ['x86_64']) : architectures(cmd.Architectures);
    let logFormat = base?.logFormat ?? 'Text';
    let logGroup: string | undefined = base?.logGroup;
    let applicationLogLevel = base?.applicationLogLevel;
    let systemLogLevel = base?.systemLogLevel;
    if (cmd.LoggingConfig !== undefined) {
      const lc = cmd.LoggingConfig;
      if (lc.LogFormat !== undefined) {
        if (lc.LogFormat !== 'Text' && lc.LogFormat !== 'JSON') {
          throw apiError.validation(
            'loggingConfig.logFormat',
            lc.LogFormat,
            'Member must satisfy enum value set: [Text, JSON]',
          );
        }
        logFormat = lc.LogFormat;
      }
      if (lc.LogGroup !== undefined) logGroup = requireString(lc.LogGroup, 'loggingConfig.logGroup');
      const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
      if (lc.ApplicationLogLevel !== undefined) {
        const v = requireString(lc.ApplicationLogLevel, 'loggingConfig.applicationLogLevel');
        if (!levels.includes(v))
          throw apiError.validation(
            'loggingConfig.applicationLogLevel',
            v,
            `Member must satisfy enum value set: [${levels.join(', ')}]`,
          );
        applicationLogLevel = v;
      }
      if (lc.SystemLogLevel !== undefined) {
        const v = requireString(lc.SystemLogLevel, 'loggingConfig.systemLogLevel');
        if (!['DEBUG', 'INFO', 'WARN'].includes(v))
          throw apiError.validation(
            'loggingConfig.systemLogLevel',
            v,
            'Member must satisfy enum value set: [DEBUG, INFO, WARN]',
          );
        systemLogLevel = v;
      }
      if ((applicationLogLevel !== undefined || systemLogLevel !== undefined) && logFormat !== 'JSON') {
        throw apiError.invalid('To set ApplicationLogLevel or SystemLogLevel, LogFormat must be JSON.');
      }
    }
    const tracingMode = cmd.TracingConfig?.Mode === 'Active' ? 'Active' : (base?.tracingMode ?? 'PassThrough');
    return {
      runtime,
      handler,
      role,
      description,
      timeout,
      memorySize,
      environment,
      layers,
      ephemeralStorage,
      architectures: archs,
      logFormat,
      logGroup,
      applicationLogLevel,
      systemLogLevel,
      tracingMode,
    };
  }

  #layers(value: unknown): FunctionRecord['layers'] {
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
      throw apiError.invalid('Layers must be a list of layer version ARNs');
    const arns = value as string[];
    if (arns.length > 5) throw apiError.invalid('Cannot reference more than 5 layers.');
    const seen = new Set<string>();
    return arns.map((arn) => {
      const parsed = parseLayerVersionArn(this.ctx, arn);
      if (parsed === null) {
        throw apiError.validation(
          'layers',
          arn,
          'Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+',
        );
      }
      if (seen.has(parsed.name))
        throw apiError.invalid(
          `Two different versions of the same layer are not allowed to be referenced in the same function. ${arn} and another version of ${parsed.name}.`,
        );
      seen.add(parsed.name);
      const record = this.#o.store.getLayerVersion(parsed.name, parsed.version);
      if (record === null) throw apiError.invalid(`Layer version ${arn} does not exist.`);
      return { arn, codeSize: record.codeSize, codeSha256Hex: record.codeSha256Hex, unzippedSize: record.unzippedSize };
    });
  }
}

function sameSnapshot(a: FunctionRecord, b: FunctionRecord): boolean {
  const strip = (r: FunctionRecord) => ({
    ...r,
    version: '',
    description: '',
    lastModified: '',
    revisionId: '',
    state: '',
    lastUpdateStatus: '',
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** `2024-05-01T12:34:56.789+0000` */
export function lambdaDate(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw apiError.validation(field, value ?? 'null', 'Member must not be null');
  }
  return value;
}

function optString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw apiError.invalid(`${field} must be a string`);
  if (value.length > max)
    throw apiError.validation(field, value, `Member must have length less than or equal to ${max}`);
  return value;
}

function optStringList(value: unknown, field: string, max: number): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw apiError.invalid(`${field} must be a list of strings`);
  if (value.length > max)
    throw apiError.validation(field, JSON.stringify(value), `Member must have length less than or equal to ${max}`);
  return value as string[];
}

function optStringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw apiError.invalid(`${field} must be a map of strings`);
  for (const v of Object.values(value))
    if (typeof v !== 'string') throw apiError.invalid(`${field} must be a map of strings`);
  return value as Record<string, string>;
}

function intIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw apiError.validation(field, value, 'Member must be an integer');
  if (value < min) throw apiError.validation(field, value, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw apiError.validation(field, value, `Member must have value less than or equal to ${max}`);
  return value;
}

function envVariables(value: unknown): Record<string, string> {
  const vars = optStringMap(value, 'Environment.Variables') ?? {};
  const reserved = reservedKeysIn(vars);
  if (reserved.length > 0) {
    throw apiError.invalid(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  for (const key of Object.keys(vars)) {
    if (!ENV_KEY.test(key)) {
      throw apiError.validation(
        'environment.variables',
        '[sensitive]',
        'Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+',
      );
    }
  }
  const measured = JSON.stringify(vars);
  if (Buffer.byteLength(measured) > 4096) {
    throw apiError.invalid(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return vars;
}

function architectures(value: unknown): string[] {
  const list = optStringList(value, 'architectures', 1);
  for (const a of list) if (a !== 'x86_64' && a !== 'arm64') throw architectureError(a);
  return list.length === 0 ? ['x86_64'] : list;
}

function runtimeError(runtime: string, field: string) {
  return apiError.invalid(
    `Value ${runtime} at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [${RUNTIMES.join(', ')}] or be a valid ARN`,
  );
}

function architectureError(value: string) {
  return apiError.validation('architectures', value, 'Member must satisfy enum value set: [x86_64, arm64]');
}
