/**
 * @module console/app/api
 * The console's only way out: JSON over HTTP to the same origin, to the public Lambda REST API and the CloudWatch
 * Logs JSON 1.1 API (and one read-only Lambkin endpoint). Errors keep the AWS exception name and message. With
 * `--auth strict`, requests are signed with the access key pair the user gave (kept for this tab only).
 */
import { signV4, type Credentials } from './sigv4.ts';

export interface ServerSettings {
  region: string;
  accountId: string;
  auth: 'loopback' | 'strict';
}

/** What `lambkin serve` told the page about itself (a `<meta name="lambkin-config">` tag). */
export const settings: ServerSettings = (() => {
  const fallback: ServerSettings = { region: 'us-east-1', accountId: '000000000000', auth: 'loopback' };
  const raw = document.querySelector('meta[name="lambkin-config"]')?.getAttribute('content');
  if (raw === null || raw === undefined) return fallback;
  try {
    return { ...fallback, ...(JSON.parse(raw) as Partial<ServerSettings>) };
  } catch {
    return fallback;
  }
})();

export class ApiError extends Error {
  override name = 'ApiError';
  /** The AWS exception name (`ResourceConflictException`), or `NetworkError` / `Error` for local failures. */
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const CREDENTIALS_KEY = 'lambkin.credentials';
const AUTH_CODES = new Set([
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
]);

let credentials: Credentials | null = (() => {
  try {
    const raw = sessionStorage.getItem(CREDENTIALS_KEY);
    return raw === null ? null : (JSON.parse(raw) as Credentials);
  } catch {
    return null;
  }
})();
const authListeners = new Set<(error: ApiError | null) => void>();

export function hasCredentials(): boolean {
  return credentials !== null;
}

export function setCredentials(value: Credentials | null): void {
  credentials = value;
  if (value === null) sessionStorage.removeItem(CREDENTIALS_KEY);
  else sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify(value));
  for (const listener of authListeners) listener(null);
}

/** Called with the error when the server refuses a request for its signature (null once credentials change). */
export function onAuthProblem(listener: (error: ApiError | null) => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** A JSON body (serialised here) or raw text. */
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
  service?: 'lambda' | 'logs';
  /** Upload progress, 0..1 (switches to XMLHttpRequest, which reports it). */
  onProgress?: (fraction: number) => void;
}

export interface RawResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

/** One request; rejects with ApiError for any non-2xx answer. */
export async function request(method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { ...options.headers };
  let body = options.text ?? '';
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  if (credentials !== null) {
    Object.assign(
      headers,
      await signV4(
        { method, url, headers, body, region: settings.region, service: options.service ?? 'lambda' },
        credentials,
      ),
    );
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
  let response: RawResponse;
  try {
    response =
      options.onProgress !== undefined
        ? await viaXhr(method, url, headers, body, options.onProgress)
        : await viaFetch(method, url, headers, hasBody ? body : undefined);
  } catch (err) {
    throw new ApiError(
      'NetworkError',
      `Lambkin did not answer (${(err as Error).message}). Is lambkin serve running?`,
      0,
    );
  }
  if (response.status >= 200 && response.status < 300) return response;
  const error = toError(response);
  if (AUTH_CODES.has(error.code) || error.status === 403) for (const listener of authListeners) listener(error);
  throw error;
}

/** A JSON request whose answer is JSON. */
export async function requestJson<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(method, path, options);
  return (response.text === '' ? {} : JSON.parse(response.text)) as T;
}

async function viaFetch(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<RawResponse> {
  const r = await fetch(url, { method, headers, body: body ?? null, credentials: 'omit', cache: 'no-store' });
  return { status: r.status, header: (name) => r.headers.get(name), text: await r.text() };
}

function viaXhr(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string,
  onProgress: (fraction: number) => void,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) if (k !== 'host') xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      onProgress(1);
      resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name), text: xhr.responseText });
    };
    xhr.onerror = () => {
      reject(new Error('network error'));
    };
    xhr.send(body);
  });
}

/** AWS error shapes: REST-JSON (`X-Amzn-ErrorType` + `{Type, Message}`) and JSON 1.1 (`{__type, message}`). */
function toError(response: RawResponse): ApiError {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(response.text) as Record<string, unknown>;
  } catch {
    // not JSON: the status says enough
  }
  const type = response.header('x-amzn-errortype') ?? (typeof body.__type === 'string' ? body.__type : '');
  const code = type.split(':')[0]?.split('#').pop() ?? '';
  const message = [body.Message, body.message, body.errorMessage].find((m): m is string => typeof m === 'string');
  return new ApiError(code || `HTTP ${response.status}`, message ?? `HTTP ${response.status}`, response.status);
}
