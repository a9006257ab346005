/**
 * @module cli/http-event
 * An HTTP request as API Gateway's HTTP API (payload format 2.0) hands it to Lambda, and the function's result
 * mapped back into a response the way API Gateway does it — so `lambkin dev` can be curled.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpRequestParts {
  method: string;
  /** Path with query string, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  host: string;
}

/** The event API Gateway (HTTP API, `$default` route and stage) sends for `req`. */
export function toApiGatewayV2Event(req: HttpRequestParts, now = new Date()): Record<string, unknown> {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : req.url.slice(q + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/).filter((c) => c !== '');
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k] ?? ''},${v}` : v;
  const contentType = headers['content-type'] ?? '';
  const textual = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+json|[^;]*\+xml)/.test(
    contentType,
  );
  const isBase64Encoded = req.body.length > 0 && !textual;
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath: decodeURIComponentSafe(rawPath),
    rawQueryString,
    ...(cookies !== undefined ? { cookies } : {}),
    headers,
    ...(rawQueryString !== '' ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'lambkin',
      domainName: req.host,
      domainPrefix: req.host.split('.')[0] ?? req.host,
      http: {
        method: req.method,
        path: decodeURIComponentSafe(rawPath),
        protocol: 'HTTP/1.1',
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded,
  };
  if (req.body.length > 0) event.body = isBase64Encoded ? req.body.toString('base64') : req.body.toString('utf8');
  return event;
}

export interface HttpResponseParts {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * Maps the function's result as API Gateway does for payload format 2.0: an object with `statusCode` is a
 * response; anything else is a 200 JSON body. A function error is a 500.
 */
export function fromLambdaResult(payload: Buffer, functionError: boolean): HttpResponseParts {
  const json = { 'content-type': 'application/json' };
  if (functionError)
    return { statusCode: 500, headers: json, cookies: [], body: Buffer.from('{"message":"Internal Server Error"}') };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { statusCode: 200, headers: json, cookies: [], body: payload };
  }
  if (typeof value !== 'object' || value === null || !('statusCode' in value))
    return { statusCode: 200, headers: json, cookies: [], body: payload };
  const r = value as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    multiValueHeaders?: Record<string, unknown[]>;
    cookies?: unknown[];
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const statusCode = Number(r.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599)
    return { statusCode: 500, headers: json, cookies: [], body: Buffer.from('{"message":"Internal Server Error"}') };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.multiValueHeaders ?? {})) headers[k.toLowerCase()] = v.map(String).join(',');
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const text = typeof r.body === 'string' ? r.body : r.body === undefined ? '' : JSON.stringify(r.body);
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text);
  return { statusCode, headers, cookies: (r.cookies ?? []).map(String), body };
}

/** The content type of a stream that begins with an HTTP prelude (`awslambda.HttpResponseStream.from`). */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_END = Buffer.alloc(8);

/**
 * Splits a streamed HTTP response's prelude (`{"statusCode","headers","cookies"}`, then 8 NUL bytes) from the body,
 * as a function URL does; null while the 8 NUL bytes have not arrived. A prelude that is not such an object is a
 * 500, as on AWS.
 */
export function splitHttpPrelude(head: Buffer): { response: Omit<HttpResponseParts, 'body'>; rest: Buffer } | null {
  const end = head.indexOf(PRELUDE_END);
  if (end === -1) return null;
  const rest = head.subarray(end + PRELUDE_END.length);
  let value: unknown;
  try {
    value = JSON.parse(head.subarray(0, end).toString('utf8'));
  } catch {
    value = null;
  }
  if (typeof value !== 'object' || value === null) {
    return { response: { statusCode: 500, headers: {}, cookies: [] }, rest: Buffer.alloc(0) };
  }
  const p = value as { statusCode?: unknown; headers?: Record<string, unknown>; cookies?: unknown[] };
  const statusCode = p.statusCode === undefined ? 200 : Number(p.statusCode);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return {
    response: {
      statusCode: Number.isInteger(statusCode) && statusCode >= 100 && statusCode <= 599 ? statusCode : 500,
      headers,
      cookies: Array.isArray(p.cookies) ? p.cookies.map(String) : [],
    },
    rest,
  };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's requestContext.time. */
function clfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? ''}/${String(d.getUTCFullYear())}:` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}
