/**
 * @module console/app/lambda
 * The operations the console uses, with AWS's own names and shapes: Lambda REST (2015-03-31 functions, 2018-10-31
 * layers), CloudWatch Logs `FilterLogEvents`, and Lambkin's read-only environments listing.
 */
import { request, requestJson } from './api.ts';

export interface LayerVersion {
  LayerVersionArn: string;
  Version: number;
  Description?: string;
  CreatedDate: string;
  CompatibleRuntimes?: string[];
  LicenseInfo?: string;
}

export interface LayerSummary {
  LayerName: string;
  LayerArn: string;
  LatestMatchingVersion: LayerVersion;
}

export interface FunctionConfiguration {
  FunctionName: string;
  FunctionArn: string;
  Runtime?: string;
  Handler?: string;
  Role: string;
  Description?: string;
  MemorySize: number;
  Timeout: number;
  CodeSize: number;
  CodeSha256: string;
  LastModified: string;
  State?: string;
  StateReason?: string;
  LastUpdateStatus?: string;
  LastUpdateStatusReason?: string;
  Environment?: { Variables?: Record<string, string> };
  EphemeralStorage?: { Size: number };
  Layers?: { Arn: string; CodeSize: number }[];
  RevisionId?: string;
  LoggingConfig?: { LogGroup?: string };
}

export interface GetFunctionOutput {
  Configuration: FunctionConfiguration;
  Code: { Location?: string; RepositoryType?: string };
}

export interface ConfigInput {
  Runtime?: string;
  Handler?: string;
  Description?: string;
  MemorySize?: number;
  Timeout?: number;
  Environment?: { Variables: Record<string, string> };
  EphemeralStorage?: { Size: number };
  Layers?: string[];
}

export interface InvokeOutput {
  statusCode: number;
  functionError: string | null;
  executedVersion: string | null;
  logResult: string;
  payload: string;
}

export interface LogEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
  eventId: string;
}

export interface EnvironmentInfo {
  id: string;
  version: string;
  state: string;
  busy: boolean;
  createdAt: number;
  lastUsedAt: number;
  invocations: number;
  maxMemoryUsedMb: number | null;
  memorySizeMb: number;
}

const enc = encodeURIComponent;

async function paginate<T>(path: string, key: string): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  do {
    const page = await requestJson<Record<string, unknown>>('GET', path, { query: { Marker: marker, MaxItems: 50 } });
    out.push(...((page[key] as T[] | undefined) ?? []));
    marker = typeof page.NextMarker === 'string' ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return out;
}

export const lambda = {
  listLayers: () => paginate<LayerSummary>('/2018-10-31/layers', 'Layers'),
  listLayerVersions: (name: string) =>
    paginate<LayerVersion>(`/2018-10-31/layers/${enc(name)}/versions`, 'LayerVersions'),
  publishLayerVersion: (
    name: string,
    input: { Description: string; ZipFile: string; CompatibleRuntimes: string[] },
    onProgress?: (fraction: number) => void,
  ) =>
    requestJson<LayerVersion>('POST', `/2018-10-31/layers/${enc(name)}/versions`, {
      json: {
        Description: input.Description,
        Content: { ZipFile: input.ZipFile },
        ...(input.CompatibleRuntimes.length > 0 ? { CompatibleRuntimes: input.CompatibleRuntimes } : {}),
      },
      ...(onProgress !== undefined ? { onProgress } : {}),
    }),
  deleteLayerVersion: (name: string, version: number) =>
    request('DELETE', `/2018-10-31/layers/${enc(name)}/versions/${version}`),
  listFunctions: () => paginate<FunctionConfiguration>('/2015-03-31/functions', 'Functions'),
  getFunction: (name: string) => requestJson<GetFunctionOutput>('GET', `/2015-03-31/functions/${enc(name)}`),
  createFunction: (
    input: ConfigInput & { FunctionName: string; Role: string; ZipFile: string },
    onProgress?: (fraction: number) => void,
  ) => {
    const { ZipFile, ...rest } = input;
    return requestJson<FunctionConfiguration>('POST', '/2015-03-31/functions', {
      json: { ...rest, Code: { ZipFile } },
      ...(onProgress !== undefined ? { onProgress } : {}),
    });
  },
  updateFunctionConfiguration: (name: string, input: ConfigInput) =>
    requestJson<FunctionConfiguration>('PUT', `/2015-03-31/functions/${enc(name)}/configuration`, { json: input }),
  updateFunctionCode: (name: string, zipFile: string, onProgress?: (fraction: number) => void) =>
    requestJson<FunctionConfiguration>('PUT', `/2015-03-31/functions/${enc(name)}/code`, {
      json: { ZipFile: zipFile },
      ...(onProgress !== undefined ? { onProgress } : {}),
    }),
  deleteFunction: (name: string) => request('DELETE', `/2015-03-31/functions/${enc(name)}`),
  async invoke(name: string, payload: string): Promise<InvokeOutput> {
    const r = await request('POST', `/2015-03-31/functions/${enc(name)}/invocations`, {
      text: payload,
      headers: { 'x-amz-log-type': 'Tail', 'x-amz-invocation-type': 'RequestResponse' },
    });
    return {
      statusCode: r.status,
      functionError: r.header('x-amz-function-error'),
      executedVersion: r.header('x-amz-executed-version'),
      logResult: decodeBase64(r.header('x-amz-log-result') ?? ''),
      payload: r.text,
    };
  },
  /** Downloads a function's code from its (signed, same-origin) `Code.Location`. */
  async downloadCode(location: string): Promise<Uint8Array> {
    const url = new URL(location, window.location.origin);
    if (url.origin !== window.location.origin) throw new Error('the code is not served by this Lambkin');
    const r = await fetch(url, { credentials: 'omit' });
    if (!r.ok) throw new Error(`download failed: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  },
  filterLogEvents: (input: { logGroupName: string; startTime?: number; nextToken?: string; limit?: number }) =>
    requestJson<{ events?: LogEvent[]; nextToken?: string }>('POST', '/', {
      service: 'logs',
      text: JSON.stringify(input),
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.FilterLogEvents' },
    }),
  environments: (name: string) =>
    requestJson<{ Environments: EnvironmentInfo[] }>('GET', '/_lambkin/environments', {
      query: { FunctionName: name },
    }),
};

/** Waits until a function can be invoked and changed again (State Active, LastUpdateStatus not InProgress). */
export async function waitUntilReady(name: string, signal?: AbortSignal): Promise<FunctionConfiguration> {
  const started = Date.now();
  for (;;) {
    const { Configuration: c } = await lambda.getFunction(name);
    const pending = c.State === 'Pending' || c.LastUpdateStatus === 'InProgress';
    if (!pending || Date.now() - started > 120_000 || signal?.aborted === true) return c;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function decodeBase64(value: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
  } catch {
    return '';
  }
}
