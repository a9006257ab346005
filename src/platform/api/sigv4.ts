/**
 * @module platform/api/sigv4
 * AWS Signature Version 4 verification (`--auth strict`, and always off loopback), as AWS documents it:
 * canonical request (each path segment URI-encoded twice for non-S3 services, sorted query, signed headers,
 * payload hash) → string to sign → HMAC chain keyed by the secret. Clock skew over 15 minutes is refused.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LambdaApiError } from './errors.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60_000;

export function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  credentials: readonly Credentials[],
  region: string,
  now = Date.now(),
  /** The signing name of the API being called (`logs` for the CloudWatch Logs API on the same port). */
  signingName = 'lambda',
): void {
  const auth = req.headers.authorization;
  if (auth === undefined) throw new LambdaApiError('InvalidSignatureException', 'Missing Authentication Token');
  const m = AUTH.exec(auth);
  if (m === null) {
    throw new LambdaApiError(
      'InvalidSignatureException',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
    );
  }
  const [, keyId = '', date = '', scopeRegion = '', service = '', signedHeaders = '', signature = ''] = m;
  const cred = credentials.find((c) => c.accessKeyId === keyId);
  if (cred === undefined)
    throw new LambdaApiError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const amzDate = header(req, 'x-amz-date') ?? '';
  const when = parseAmzDate(amzDate);
  if (when === null) throw new LambdaApiError('InvalidSignatureException', 'Missing or malformed X-Amz-Date header.');
  if (Math.abs(now - when) > MAX_SKEW_MS) {
    throw new LambdaApiError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than the allowed window (15 minutes).`,
    );
  }
  if (scopeRegion !== region || service !== signingName || !amzDate.startsWith(date)) {
    throw new LambdaApiError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region and service: ${region}/${signingName}.`,
    );
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${(header(req, n) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = header(req, 'x-amz-content-sha256') ?? sha256Hex(body);
  const canonicalRequest = [
    req.method ?? 'GET',
    rawPath
      .split('/')
      .map((segment) => encode(segment))
      .join('/'),
    canonicalQuery(rawQuery),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(Buffer.from(canonicalRequest))}`;
  let key = hmac(`AWS4${cred.secretAccessKey}`, date);
  key = hmac(key, scopeRegion);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new LambdaApiError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

function canonicalQuery(raw: string): string {
  if (raw === '') return '';
  return raw
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const k = eq === -1 ? pair : pair.slice(0, eq);
      const v = eq === -1 ? '' : pair.slice(eq + 1);
      return [encode(decode(k)), encode(decode(v))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    return value;
  }
}

function parseAmzDate(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
