/**
 * @module platform/api/routes/functions
 * CreateFunction, GetFunction, GetFunctionConfiguration, UpdateFunctionCode, UpdateFunctionConfiguration,
 * DeleteFunction, ListFunctions. Members are checked against the service model here; what only the service can
 * judge (runtimes Lambkin runs, limits, layers) is checked there.
 */
import { RESERVED_ENV_KEYS } from '../../../protocol/environment.ts';
import { parseFunctionName } from '../arns.ts';
import { apiError } from '../errors.ts';
import { maxItems } from '../pagination.ts';
import { route, type Route } from '../router.ts';
import type { FunctionConfigChanges } from '../services/functions.ts';
import { Checker, parseJsonBody } from '../validate.ts';
import {
  JSON_BODY,
  ok,
  qualifiedFunction,
  refuseRemoteCode,
  unqualifiedFunction,
  UPLOAD_BODY,
  zipFile,
  type RouteDeps,
} from './common.ts';

const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const HANDLER = /^[^\s]+$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$/;
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]+$/;
const MAX_TIMEOUT = 900;

export function functionRoutes({ service }: RouteDeps): Route[] {
  return [
    route('POST', '/2015-03-31/functions', 'CreateFunction', UPLOAD_BODY, async (req) => {
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const rawName = check.string(body.FunctionName, 'functionName', { required: true, min: 1, max: 140 });
      const role = check.string(body.Role, 'role', { required: true, pattern: ROLE, patternText: ROLE_TEXT });
      const code = check.object(body.Code, 'code', true);
      const zip = code === undefined ? undefined : zipFile(code.ZipFile, 'code.zipFile', check, 'CreateFunction');
      const config = configChanges(body, check);
      const publish = check.bool(body.Publish, 'publish') ?? false;
      const packageType = check.string(body.PackageType, 'packageType', { enum: ['Zip', 'Image'] });
      const tags = check.stringMap(body.Tags, 'tags') ?? {};
      const tenancy = check.object(body.TenancyConfig, 'tenancyConfig');
      const isolation =
        tenancy === undefined
          ? undefined
          : check.string(tenancy.TenantIsolationMode, 'tenancyConfig.tenantIsolationMode', {
              required: true,
              enum: ['PER_TENANT'],
            });
      check.done();
      const { name, qualifier } = parseFunctionName(service.arn, rawName ?? '');
      if (qualifier !== undefined)
        throw apiError.invalid('A function name cannot carry a qualifier in CreateFunction.');
      if (packageType === 'Image') {
        throw apiError.invalid('Lambkin runs Zip functions only (PackageType Image is not supported).');
      }
      if (code !== undefined) refuseRemoteCode(code);
      if (zip === undefined) throw apiError.invalid('Uploaded file must be a non-empty zip');
      const out = await service.functions.create({
        ...config,
        name,
        role: role ?? '',
        zipFile: zip,
        publish,
        tags,
        ...(isolation === 'PER_TENANT' ? { tenantIsolationMode: 'PER_TENANT' as const } : {}),
      });
      return ok(out, 201);
    }),
    route('GET', '/2015-03-31/functions', 'ListFunctions', 0, (req) => {
      const check = new Checker();
      const all = check.string(req.query.get('FunctionVersion'), 'functionVersion', { enum: ['ALL'] }) === 'ALL';
      const limit = maxItems(req.query, check, 10000, 50);
      check.done();
      return ok(service.functions.list(req.query.get('Marker'), limit, all));
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}', 'GetFunction', 0, (req) => {
      const { name, qualifier } = qualifiedFunction(req, service);
      return ok(service.functions.get(name, qualifier));
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}/configuration', 'GetFunctionConfiguration', 0, (req) => {
      const { name, qualifier } = qualifiedFunction(req, service);
      return ok(service.functions.getConfiguration(name, qualifier));
    }),
    route('PUT', '/2015-03-31/functions/{FunctionName}/code', 'UpdateFunctionCode', UPLOAD_BODY, async (req) => {
      const name = unqualifiedFunction(req, service);
      const body = parseJsonBody(req.body);
      const check = new Checker();
      const zip = zipFile(body.ZipFile, 'zipFile', check, 'UpdateFunctionCode');
      const publish = check.bool(body.Publish, 'publish') ?? false;
      const dryRun = check.bool(body.DryRun, 'dryRun') ?? false;
      const revisionId = check.string(body.RevisionId, 'revisionId');
      const architectures = architecturesOf(body.Architectures, check);
      check.done();
      refuseRemoteCode(body);
      if (zip === undefined) throw apiError.invalid('Uploaded file must be a non-empty zip');
      const out = await service.functions.updateCode({
        name,
        zipFile: zip,
        publish,
        dryRun,
        ...(revisionId !== undefined ? { revisionId } : {}),
        ...(architectures !== undefined ? { architectures } : {}),
      });
      return ok(out);
    }),
    route(
      'PUT',
      '/2015-03-31/functions/{FunctionName}/configuration',
      'UpdateFunctionConfiguration',
      JSON_BODY,
      (req) => {
        const name = unqualifiedFunction(req, service);
        const body = parseJsonBody(req.body);
        const check = new Checker();
        const role = check.string(body.Role, 'role', { pattern: ROLE, patternText: ROLE_TEXT });
        const config = configChanges(body, check);
        const revisionId = check.string(body.RevisionId, 'revisionId');
        check.done();
        return ok(
          service.functions.updateConfiguration({
            ...config,
            ...(role !== undefined ? { role } : {}),
            name,
            ...(revisionId !== undefined ? { revisionId } : {}),
          }),
        );
      },
    ),
    route('DELETE', '/2015-03-31/functions/{FunctionName}', 'DeleteFunction', 0, (req) => {
      const { name, qualifier } = qualifiedFunction(req, service);
      service.functions.delete(name, qualifier);
      return { status: 204 };
    }),
  ];
}

const ROLE_TEXT = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';

/** The configuration members Create and UpdateFunctionConfiguration share (Role is read by each). */
function configChanges(body: Record<string, unknown>, check: Checker): FunctionConfigChanges {
  const out: FunctionConfigChanges = {};
  const runtime = check.string(body.Runtime, 'runtime');
  if (runtime !== undefined) out.runtime = runtime;
  const handler = check.string(body.Handler, 'handler', { max: 128, pattern: HANDLER, patternText: '[^\\s]+' });
  if (handler !== undefined) out.handler = handler;
  const description = check.string(body.Description, 'description', { max: 256 });
  if (description !== undefined) out.description = description;
  const timeout = check.int(body.Timeout, 'timeout', { min: 1, max: MAX_TIMEOUT });
  if (timeout !== undefined) out.timeout = timeout;
  const memorySize = check.int(body.MemorySize, 'memorySize', { min: 128, max: 32768 });
  if (memorySize !== undefined) out.memorySize = memorySize;
  const environment = check.object(body.Environment, 'environment');
  if (environment !== undefined) {
    const vars = check.stringMap(environment.Variables, 'environment.variables') ?? {};
    // Reserved keys (some, like _HANDLER, break the pattern too) get the service's own message instead.
    const badKey = Object.keys(vars).find((k) => !ENV_KEY.test(k) && !RESERVED_ENV_KEYS.includes(k));
    if (badKey !== undefined) {
      check.fail(
        'environment.variables',
        vars,
        'Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]',
      );
    }
    out.environment = vars;
  }
  const layers = check.stringList(body.Layers, 'layers', {
    item: {
      min: 1,
      max: 140,
      pattern: LAYER_VERSION_ARN,
      patternText: 'arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+',
    },
  });
  if (layers !== undefined) out.layers = layers;
  const ephemeral = check.object(body.EphemeralStorage, 'ephemeralStorage');
  if (ephemeral !== undefined) {
    const size = check.int(ephemeral.Size, 'ephemeralStorage.size', { required: true, min: 512, max: 10240 });
    if (size !== undefined) out.ephemeralStorage = size;
  }
  const architectures = architecturesOf(body.Architectures, check);
  if (architectures !== undefined) out.architectures = architectures;
  const tracing = check.object(body.TracingConfig, 'tracingConfig');
  if (tracing !== undefined) {
    const mode = check.string(tracing.Mode, 'tracingConfig.mode', { enum: ['Active', 'PassThrough'] });
    if (mode === 'Active' || mode === 'PassThrough') out.tracingMode = mode;
  }
  const logging = check.object(body.LoggingConfig, 'loggingConfig');
  if (logging !== undefined) {
    const format = check.string(logging.LogFormat, 'loggingConfig.logFormat', { enum: ['JSON', 'Text'] });
    if (format === 'JSON' || format === 'Text') out.logFormat = format;
    const group = check.string(logging.LogGroup, 'loggingConfig.logGroup', {
      min: 1,
      max: 512,
      pattern: LOG_GROUP,
      patternText: '[\\.\\-_/#A-Za-z0-9]+',
    });
    if (group !== undefined) out.logGroup = group;
    const app = check.string(logging.ApplicationLogLevel, 'loggingConfig.applicationLogLevel', {
      enum: ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'],
    });
    if (app !== undefined) out.applicationLogLevel = app;
    const sys = check.string(logging.SystemLogLevel, 'loggingConfig.systemLogLevel', {
      enum: ['DEBUG', 'INFO', 'WARN'],
    });
    if (sys !== undefined) out.systemLogLevel = sys;
  }
  return out;
}

function architecturesOf(value: unknown, check: Checker): string[] | undefined {
  return check.stringList(value, 'architectures', { min: 1, max: 1, item: { enum: ['x86_64', 'arm64'] } });
}
