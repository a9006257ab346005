/**
 * @module console/server/static
 * Serves the built console (dist/console) from `lambkin serve`: `GET /` (and `/console/`) is the page, with the
 * server's region, account and auth mode in a meta tag; `/console/assets/*` are content-hashed files, cached
 * for good and gzipped when the browser accepts it. Read-only, no state but a cache of the assets.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ConsoleSettings {
  region: string;
  accountId: string;
  auth: 'loopback' | 'strict';
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Lambkin</title>
<p>The Lambkin console is not built. Run <code>npm run build</code> (or <code>npm ci</code>), then reload.
The Lambda API is served on this same address.</p>`;

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

export class ConsoleStatic {
  readonly #dir: string;
  readonly #settings: ConsoleSettings;
  readonly #assets = new Map<string, Promise<Asset | null>>();

  constructor(dir: string, settings: ConsoleSettings) {
    this.#dir = dir;
    this.#settings = settings;
  }

  /** Whether `path` is one of the console's own (GET/HEAD) paths. */
  static matches(method: string, path: string): boolean {
    if (method !== 'GET' && method !== 'HEAD') return false;
    return path === '/' || path === '/index.html' || path === '/console' || path.startsWith('/console/');
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    req.resume();
    if (path.startsWith('/console/assets/')) {
      const name = path.slice('/console/assets/'.length);
      const asset = /^[\w.-]+$/.test(name) && !name.startsWith('.') ? await this.#asset(name) : null;
      if (asset === null) {
        send(res, req, 404, { 'content-type': 'text/plain; charset=utf-8' }, Buffer.from('Not found\n'));
        return;
      }
      const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
      send(
        res,
        req,
        200,
        {
          'content-type': asset.type,
          'cache-control': 'public, max-age=31536000, immutable',
          vary: 'accept-encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
        gzip ? asset.gzip : asset.body,
      );
      return;
    }
    const template = await readFile(join(this.#dir, 'index.html'), 'utf8').catch(() => null);
    const html =
      template === null ? NOT_BUILT : template.replace('%LAMBKIN_CONFIG%', escapeAttr(JSON.stringify(this.#settings)));
    send(
      res,
      req,
      200,
      { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...SECURITY_HEADERS },
      Buffer.from(html),
    );
  }

  #asset(name: string): Promise<Asset | null> {
    let found = this.#assets.get(name);
    if (found === undefined) {
      found = readFile(join(this.#dir, 'assets', name)).then(
        (body) => ({
          type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
          body,
          gzip: gzipSync(body, { level: 9 }),
        }),
        () => null,
      );
      // A missing file is not remembered: a build may bring it.
      void found.then((a) => {
        if (a === null) this.#assets.delete(name);
      });
      this.#assets.set(name, found);
    }
    return found;
  }
}

function send(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): void {
  res.writeHead(status, { ...headers, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
