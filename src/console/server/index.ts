/**
 * @module console/server
 * What `lambkin serve` mounts for the console: the static page and assets, and the environments endpoint.
 * `createConsoleRoutes(...).handle(req, res)` returns false for any request that is not the console's, which
 * then goes to the Lambda API unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ENVIRONMENTS_PATH, handleEnvironments, type EnvironmentsDeps } from './environments.ts';
import { ConsoleStatic, type ConsoleSettings } from './static.ts';

export interface ConsoleRoutesOptions extends EnvironmentsDeps {
  /** The built console (dist/console). */
  dir: string;
  accountId: string;
}

export interface ConsoleRoutes {
  /** Serves the request if it is the console's and returns true; otherwise returns false and does nothing. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createConsoleRoutes(options: ConsoleRoutesOptions): ConsoleRoutes {
  const settings: ConsoleSettings = { region: options.region, accountId: options.accountId, auth: options.auth };
  const statics = new ConsoleStatic(options.dir, settings);
  return {
    handle(req, res) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const method = req.method ?? 'GET';
      if (path === ENVIRONMENTS_PATH) {
        handleEnvironments(options, req, res, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
        return true;
      }
      if (!ConsoleStatic.matches(method, path)) return false;
      statics.handle(req, res, path).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal error\n');
      });
      return true;
    },
  };
}
