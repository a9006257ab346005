/**
 * @module platform/api/code-urls
 * Download URLs for `GetFunction` → `Code.Location` and `GetLayerVersion` → `Content.Location`. Lambda hands out
 * presigned S3 URLs valid for 10 minutes; Lambkin signs its own: `/_lambkin/code/<resource>/<sha256>?Expires=…&
 * Signature=…` (HMAC-SHA256 with a key made at start, so URLs die with the process as well). The signature is the
 * authorisation, as with S3: a URL works without SigV4 even under `--auth strict`, and nothing else is served.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CODE_URL_PREFIX = '/_lambkin/code/';
const TTL_MS = 10 * 60_000;

export interface CodeUrlOptions {
  publicUrl: string;
  /** HMAC key; random when absent. */
  key?: Buffer;
  ttlMs?: number;
  now?: () => number;
}

export class CodeUrls {
  readonly #publicUrl: string;
  readonly #key: Buffer;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: CodeUrlOptions) {
    this.#publicUrl = options.publicUrl.replace(/\/+$/, '');
    this.#key = options.key ?? randomBytes(32);
    this.#ttlMs = options.ttlMs ?? TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A URL that serves blob `sha256Hex` for the next 10 minutes; `resource` names what it is (for logs and humans). */
  sign(resource: string, sha256Hex: string): string {
    const expires = Math.floor((this.#now() + this.#ttlMs) / 1000);
    const path = `${CODE_URL_PREFIX}${encodeURIComponent(resource)}/${sha256Hex}`;
    return `${this.#publicUrl}${path}?Expires=${expires}&Signature=${this.#mac(resource, sha256Hex, expires)}`;
  }

  /** The blob a request path + query may read, or null (bad, expired or foreign signature). */
  verify(path: string, query: URLSearchParams): string | null {
    if (!path.startsWith(CODE_URL_PREFIX)) return null;
    const m = /^([^/]+)\/([0-9a-f]{64})$/.exec(path.slice(CODE_URL_PREFIX.length));
    if (m === null) return null;
    const [, rawResource = '', sha = ''] = m;
    let resource: string;
    try {
      resource = decodeURIComponent(rawResource);
    } catch {
      return null;
    }
    const expires = Number(query.get('Expires'));
    const signature = query.get('Signature') ?? '';
    if (!Number.isInteger(expires) || expires * 1000 < this.#now() || !/^[0-9a-f]{64}$/.test(signature)) return null;
    const expected = Buffer.from(this.#mac(resource, sha, expires), 'hex');
    return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? sha : null;
  }

  #mac(resource: string, sha: string, expires: number): string {
    return createHmac('sha256', this.#key).update(`${resource}\n${sha}\n${expires}`).digest('hex');
  }
}
