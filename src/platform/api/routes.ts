/**
 * @module platform/api/routes
 * The Lambda REST operations: each handler parses and validates its request, then calls the service (or the
 * invoker) with a typed command. Paths and status codes follow the AWS service model (LAMBDA-FACTS §5).
 */
import { MAX_ASYNC_EVENT_BYTES, MAX_SYNC_EVENT_BYTES } from '../../protocol/runtime-api.ts';
import { isPlatformError } from '../errors.ts';
import type { AsyncQueue } from '../invoke/async-queue.ts';
import type { Invoker } from '../invoke/types.ts';
import { functionArn, parseFunctionName, parseLayerName, parseLayerVersionArn } from './arns.ts';
import { apiError, LambdaApiError } from './errors.ts';
import { route, type ApiRequest, type ApiResponse, type Route } from './router.ts';
import type { CreateFunctionCommand, LambdaService, UpdateConfigurationCommand } from './service.ts';

const JSON_BODY = 1024 * 1024;
/** 50 MB of zip as base64, plus room for the JSON around it. */
export const UPLOAD_BODY = 69_905_067 + 64 * 1024;

export interface RouteDeps {
  service: LambdaService;
  invoker: Invoker;
  queue: AsyncQueue;
}

export function lambdaRoutes({ service, invoker, queue }: RouteDeps): Route[] {
  const ctx = service.ctx;
  const fn = (req: ApiRequest, qualifier?: string) => parseFunctionName(ctx, req.params.FunctionName ?? '', qualifier);
  const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });

  return [
    // ── layers ──
    route('POST', '/2018-10-31/layers/{LayerName}/versions', 'PublishLayerVersion', UPLOAD_BODY, async (req) =>
      ok(await service.publishLayerVersion(parseLayerName(ctx, req.params.LayerName ?? ''), json(req)), 201),
    ),
    route('GET', '/2018-10-31/layers/{LayerName}/versions', 'ListLayerVersions', 0, (req) => {
      const name = parseLayerName(ctx, req.params.LayerName ?? '');
      let versions = service.store.listLayerVersions(name);
      versions = filterCompatible(versions, req.query);
      const page = paginate(versions, req.query, (v) => String(v.version), 50);
      return ok({ LayerVersions: page.items.map((v) => service.layerVersionListItem(v)), ...page.next });
    }),
    route('GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'GetLayerVersion', 0, (req) =>
      ok(
        service.getLayerVersion(
          parseLayerName(ctx, req.params.LayerName ?? ''),
          versionNumber(req.params.VersionNumber),
        ),
      ),
    ),
    route('DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'DeleteLayerVersion', 0, (req) => {
      service.store.deleteLayerVersion(
        parseLayerName(ctx, req.params.LayerName ?? ''),
        versionNumber(req.params.VersionNumber),
      );
      return { status: 204 };
    }),
    route('GET', '/2018-10-31/layers', 'ListLayers', 0, (req) => {
      if (req.query.get('find') === 'LayerVersion') {
        const arn = req.query.get('Arn') ?? '';
        const parsed = parseLayerVersionArn(ctx, arn);
        if (parsed === null) {
          throw apiError.validation(
            'arn',
            arn,
            'Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+',
          );
        }
        return ok(service.getLayerVersion(parsed.name, parsed.version));
      }
      const layers = [];
      for (const name of service.store.listLayerNames()) {
        const latest = filterCompatible(service.store.listLayerVersions(name), req.query)[0];
        if (latest === undefined) continue;
        layers.push({ name, latest });
      }
      const page = paginate(layers, req.query, (l) => l.name, 50);
      return ok({
        Layers: page.items.map((l) => ({
          LayerName: l.name,
          LayerArn: `arn:aws:lambda:${ctx.region}:${ctx.accountId}:layer:${l.name}`,
          LatestMatchingVersion: service.layerVersionListItem(l.latest),
        })),
        ...page.next,
      });
    }),

    // ── functions ──
    route('POST', '/2015-03-31/functions', 'CreateFunction', UPLOAD_BODY, async (req) =>
      ok(await service.createFunction(json<CreateFunctionCommand>(req)), 201),
    ),
    route('GET', '/2015-03-31/functions', 'ListFunctions', 0, (req) => {
      const all = req.query.get('FunctionVersion') === 'ALL';
      const max = Math.min(50, maxItems(req.query, 10000));
      const marker = req.query.get('Marker');
      const after = marker === null ? null : decodeMarker(marker);
      const records = service.store.listFunctions(after, max + 1);
      const more = records.length > max;
      const items = records.slice(0, max);
      const out: Record<string, unknown>[] = [];
      for (const r of items) {
        if (all) out.push(...service.listVersions(r.name));
        else out.push(service.configurationOut(r));
      }
      const last = items.at(-1);
      return ok({ Functions: out, ...(more && last !== undefined ? { NextMarker: encodeMarker(last.name) } : {}) });
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}', 'GetFunction', 0, (req) => {
      const { name, qualifier } = fn(req, req.query.get('Qualifier') ?? undefined);
      return ok(service.getFunction(name, qualifier));
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}/configuration', 'GetFunctionConfiguration', 0, (req) => {
      const { name, qualifier } = fn(req, req.query.get('Qualifier') ?? undefined);
      return ok(service.configurationOut(service.resolve(name, qualifier).record, qualifier !== undefined));
    }),
    route('PUT', '/2015-03-31/functions/{FunctionName}/code', 'UpdateFunctionCode', UPLOAD_BODY, async (req) =>
      ok(await service.updateFunctionCode(unqualified(fn(req)), json(req))),
    ),
    route(
      'PUT',
      '/2015-03-31/functions/{FunctionName}/configuration',
      'UpdateFunctionConfiguration',
      JSON_BODY,
      (req) => ok(service.updateFunctionConfiguration(unqualified(fn(req)), json<UpdateConfigurationCommand>(req))),
    ),
    route('DELETE', '/2015-03-31/functions/{FunctionName}', 'DeleteFunction', 0, (req) => {
      const { name, qualifier } = fn(req, req.query.get('Qualifier') ?? undefined);
      service.deleteFunction(name, qualifier);
      return { status: 204 };
    }),

    // ── versions and aliases ──
    route('POST', '/2015-03-31/functions/{FunctionName}/versions', 'PublishVersion', JSON_BODY, (req) =>
      ok(service.publishVersion(unqualified(fn(req)), json(req)), 201),
    ),
    route('GET', '/2015-03-31/functions/{FunctionName}/versions', 'ListVersionsByFunction', 0, (req) => {
      const versions = service.listVersions(unqualified(fn(req)));
      const page = paginate(versions, req.query, (v) => String(v.Version), 50);
      return ok({ Versions: page.items, ...page.next });
    }),
    route('POST', '/2015-03-31/functions/{FunctionName}/aliases', 'CreateAlias', JSON_BODY, (req) =>
      ok(service.createAlias(unqualified(fn(req)), json(req)), 201),
    ),
    route('GET', '/2015-03-31/functions/{FunctionName}/aliases', 'ListAliases', 0, (req) => {
      const name = unqualified(fn(req));
      service.resolve(name, undefined);
      const version = req.query.get('FunctionVersion');
      const aliases = service.store.listAliases(name).filter((a) => version === null || a.functionVersion === version);
      const page = paginate(aliases, req.query, (a) => a.name, 50);
      return ok({ Aliases: page.items.map((a) => service.aliasOut(a)), ...page.next });
    }),
    route('GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'GetAlias', 0, (req) =>
      ok(service.aliasOut(service.getAliasRecord(unqualified(fn(req)), req.params.Name ?? ''))),
    ),
    route('PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'UpdateAlias', JSON_BODY, (req) =>
      ok(service.updateAlias(unqualified(fn(req)), req.params.Name ?? '', json(req))),
    ),
    route('DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'DeleteAlias', 0, (req) => {
      const name = unqualified(fn(req));
      service.resolve(name, undefined);
      service.store.deleteAlias(name, req.params.Name ?? '');
      return { status: 204 };
    }),

    // ── concurrency, account, tags ──
    route('PUT', '/2017-10-31/functions/{FunctionName}/concurrency', 'PutFunctionConcurrency', JSON_BODY, (req) =>
      ok(
        service.putConcurrency(
          unqualified(fn(req)),
          json<{ ReservedConcurrentExecutions?: unknown }>(req).ReservedConcurrentExecutions,
        ),
      ),
    ),
    route('GET', '/2019-09-30/functions/{FunctionName}/concurrency', 'GetFunctionConcurrency', 0, (req) => {
      const name = unqualified(fn(req));
      service.resolve(name, undefined);
      const value = service.store.getReservedConcurrency(name);
      return ok(value === null ? {} : { ReservedConcurrentExecutions: value });
    }),
    route('DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', 'DeleteFunctionConcurrency', 0, (req) => {
      const name = unqualified(fn(req));
      service.resolve(name, undefined);
      service.store.setReservedConcurrency(name, null);
      return { status: 204 };
    }),
    route('GET', '/2016-08-19/account-settings', 'GetAccountSettings', 0, () => ok(service.accountSettings())),
    route('GET', '/2017-03-31/tags/{ARN}', 'ListTags', 0, (req) =>
      ok({ Tags: service.store.getTags(taggedFunction(req)) }),
    ),
    route('POST', '/2017-03-31/tags/{ARN}', 'TagResource', JSON_BODY, (req) => {
      const name = taggedFunction(req);
      const tags = json<{ Tags?: unknown }>(req).Tags;
      if (typeof tags !== 'object' || tags === null || Object.values(tags).some((v) => typeof v !== 'string')) {
        throw apiError.invalid('Tags must be a map of strings');
      }
      service.store.setTags(name, { ...service.store.getTags(name), ...(tags as Record<string, string>) });
      return { status: 204 };
    }),
    route('DELETE', '/2017-03-31/tags/{ARN}', 'UntagResource', 0, (req) => {
      const name = taggedFunction(req);
      const remove = new Set(req.query.getAll('tagKeys'));
      const tags = Object.entries(service.store.getTags(name)).filter(([key]) => !remove.has(key));
      service.store.setTags(name, Object.fromEntries(tags));
      return { status: 204 };
    }),

    // ── invoke ──
    route('POST', '/2015-03-31/functions/{FunctionName}/invocations', 'Invoke', MAX_SYNC_EVENT_BYTES + 1, (req) =>
      invoke(req, service, invoker, queue),
    ),
  ];

  function taggedFunction(req: ApiRequest): string {
    const arn = req.params.ARN ?? '';
    const { name, qualifier } = parseFunctionName(ctx, arn);
    if (qualifier !== undefined || !arn.startsWith('arn:')) {
      throw apiError.invalid(`${arn} is not a valid function ARN for tagging`);
    }
    service.resolve(name, undefined);
    return name;
  }
}

async function invoke(
  req: ApiRequest,
  service: LambdaService,
  invoker: Invoker,
  queue: AsyncQueue,
): Promise<ApiResponse> {
  const type = headerValue(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
    throw apiError.validation(
      'invocationType',
      type,
      'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
    );
  }
  const { name, qualifier } = parseFunctionName(
    service.ctx,
    req.params.FunctionName ?? '',
    req.query.get('Qualifier') ?? undefined,
  );
  if (req.body.length > MAX_SYNC_EVENT_BYTES) {
    throw new LambdaApiError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${MAX_SYNC_EVENT_BYTES} bytes for the InvokeFunction operation`,
    );
  }
  if (type === 'Event' && req.body.length > MAX_ASYNC_EVENT_BYTES) {
    throw new LambdaApiError(
      'RequestEntityTooLargeException',
      `${req.body.length} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_EVENT_BYTES} bytes)`,
    );
  }
  const { record, alias } = service.resolve(name, qualifier);
  let executed = record;
  if (alias !== null) {
    // Weighted alias routing: one additional version takes its share of invocations.
    for (const [version, weight] of Object.entries(alias.additionalVersionWeights)) {
      if (Math.random() < weight) executed = service.resolve(name, version).record;
    }
  }
  if (executed.state !== 'Active') {
    throw apiError.conflict(
      `The operation cannot be performed at this time. The function is currently in the following state: ${executed.state}`,
    );
  }
  const payload = req.body.length === 0 ? Buffer.from('{}') : req.body;
  if (req.body.length > 0) checkJson(req.body);
  const invokedArn = functionArn(service.ctx, name, qualifier);
  if (type === 'DryRun') return { status: 204 };
  if (type === 'Event') {
    queue.enqueue(name, qualifier ?? '$LATEST', payload);
    return { status: 202, headers: { 'x-amzn-requestid': req.requestId } };
  }
  const clientContext = decodeClientContext(headerValue(req, 'x-amz-client-context'));
  const logTail = headerValue(req, 'x-amz-log-type') === 'Tail';
  try {
    const result = await invoker.invoke({
      spec: service.specFor(executed, undefined),
      payload,
      invokedFunctionArn: invokedArn,
      logTail,
      requestId: req.requestId,
      ...(clientContext !== undefined ? { clientContext } : {}),
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-executed-version': executed.version,
    };
    if (result.functionError !== undefined) headers['x-amz-function-error'] = result.functionError;
    if (logTail) headers['x-amz-log-result'] = Buffer.from(result.logTail ?? '').toString('base64');
    return { status: 200, body: result.payload, headers };
  } catch (err) {
    if (isPlatformError(err, 'ERR_THROTTLED')) {
      const reason = typeof err.detail.reason === 'string' ? err.detail.reason : 'ConcurrentInvocationLimitExceeded';
      throw new LambdaApiError('TooManyRequestsException', 'Rate Exceeded.', {
        extra: { Reason: reason },
        headers: { 'retry-after': '1' },
      });
    }
    throw err;
  }
}

function checkJson(body: Buffer): void {
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new LambdaApiError(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${detail}`,
    );
  }
}

function decodeClientContext(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > 3583) throw apiError.invalid('Client context must be at most 3583 bytes of base64.');
  const text = Buffer.from(value, 'base64').toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    throw apiError.invalid('Client context must be a valid Base64-encoded JSON object.');
  }
  return text;
}

function headerValue(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses the JSON body of a control-plane request (an empty body is `{}`). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the command shape it reads
export function json<T = Record<string, unknown>>(req: ApiRequest): T {
  if (req.body.length === 0) return {} as T;
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new LambdaApiError(
      'InvalidRequestContentException',
      `Could not parse request body into json: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LambdaApiError(
      'InvalidRequestContentException',
      'Could not parse request body into json: the body must be a JSON object',
    );
  }
  return parsed as T;
}

function unqualified({ name, qualifier }: { name: string; qualifier: string | undefined }): string {
  if (qualifier !== undefined) throw apiError.invalid('This operation does not accept a qualified function name.');
  return name;
}

function versionNumber(raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw apiError.validation('versionNumber', raw, 'Member must be a positive integer');
  return n;
}

function maxItems(query: URLSearchParams, max: number): number {
  const raw = query.get('MaxItems');
  if (raw === null) return max;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw apiError.validation('maxItems', raw, `Member must have value between 1 and ${max}`);
  return n;
}

function paginate<T>(
  items: T[],
  query: URLSearchParams,
  key: (item: T) => string,
  max: number,
): { items: T[]; next: { NextMarker?: string } } {
  const limit = maxItems(query, max);
  const marker = query.get('Marker');
  let start = 0;
  if (marker !== null) {
    const after = decodeMarker(marker);
    const i = items.findIndex((item) => key(item) === after);
    start = i === -1 ? items.length : i + 1;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < items.length && last !== undefined;
  return { items: page, next: more ? { NextMarker: encodeMarker(key(last)) } : {} };
}

function encodeMarker(value: string): string {
  return Buffer.from(value).toString('base64url');
}

function decodeMarker(marker: string): string {
  return Buffer.from(marker, 'base64url').toString('utf8');
}

function filterCompatible<T extends { compatibleRuntimes: string[]; compatibleArchitectures: string[] }>(
  items: T[],
  query: URLSearchParams,
): T[] {
  const runtime = query.get('CompatibleRuntime');
  const arch = query.get('CompatibleArchitecture');
  return items.filter(
    (v) =>
      (runtime === null || v.compatibleRuntimes.includes(runtime)) &&
      (arch === null || v.compatibleArchitectures.includes(arch)),
  );
}
