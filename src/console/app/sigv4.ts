/**
 * @module console/app/sigv4
 * AWS Signature Version 4 with WebCrypto, for `lambkin serve --auth strict`: canonical request (path segments
 * URI-encoded again, sorted query, signed headers, payload hash) → string to sign → HMAC chain keyed by the secret.
 * Shared with the Node tests (which check it against the server's verifier).
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignInput {
  method: string;
  url: URL;
  /** Headers that go out with the request and are signed (`host` is added). */
  headers: Record<string, string>;
  body: Uint8Array | string;
  region: string;
  service: string;
  now?: Date;
}

/** The headers to add: `x-amz-date`, `x-amz-content-sha256`, `authorization`. */
export async function signV4(input: SignInput, credentials: Credentials): Promise<Record<string, string>> {
  const amzDate = (input.now ?? new Date()).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const body = typeof input.body === 'string' ? new TextEncoder().encode(input.body) : input.body;
  const payloadHash = hex(await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>));
  const headers: Record<string, string> = { host: input.url.host, 'x-amz-date': amzDate };
  headers['x-amz-content-sha256'] = payloadHash;
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method,
    input.url.pathname.split('/').map(encode).join('/'),
    canonicalQuery(input.url.search.slice(1)),
    names.map((n) => `${n}:${(headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hex(await sha256(canonicalRequest))}`;
  let key = await hmac(new TextEncoder().encode(`AWS4${credentials.secretAccessKey}`), date);
  for (const part of [input.region, input.service, 'aws4_request']) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));
  return {
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

function canonicalQuery(raw: string): string {
  return raw
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return [
        encode(decode(eq === -1 ? pair : pair.slice(0, eq))),
        encode(decode(eq === -1 ? '' : pair.slice(eq + 1))),
      ];
    })
    .sort(([ak = '', av = ''], [bk = '', bv = '']) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k = '', v = '']) => `${k}=${v}`)
    .join('&');
}

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

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
}

async function hmac(key: Uint8Array | ArrayBuffer, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey(
    'raw',
    key as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return crypto.subtle.sign('HMAC', k, new TextEncoder().encode(data));
}

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}
