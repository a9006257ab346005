/**
 * @module platform/api/router
 * Method + path templates (`/2015-03-31/functions/{FunctionName}/invocations`) to handlers. Path parameters are
 * percent-decoded per segment, so ARNs (with `%3A`) work as names.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
  /** The operation name (for error messages). */
  operation: string;
  /** Aborted when the client goes away before the response is sent. */
  signal: AbortSignal;
  /**
   * Sends the status and headers now, for a body written as it is produced (InvokeWithResponseStream); the
   * handler then returns `STREAMED`. An error thrown after this cannot become an error response any more.
   */
  begin(status: number, headers: Record<string, string>): ResponseWriter;
}

/** The body of a response begun with `ApiRequest.begin`. Writes after its end, or after the client went away, are dropped. */
export interface ResponseWriter {
  /** Undefined, or, when the client's connection is full, a promise that settles once it drained (or closed). */
  write(chunk: Buffer): Promise<void> | undefined;
  end(): void;
}

/** What a handler returns once it has written its own response through `ApiRequest.begin`. */
export const STREAMED: ApiResponse = Object.freeze({ status: 0 });

export interface ApiResponse {
  status: number;
  /** JSON-serialised unless a Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

export interface Route {
  method: string;
  operation: string;
  /** Largest request body accepted, in bytes. */
  maxBody: number;
  handler: Handler;
  match(path: string): Record<string, string> | null;
}

export function route(method: string, template: string, operation: string, maxBody: number, handler: Handler): Route {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${template.replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    })}/?$`,
  );
  return {
    method,
    operation,
    maxBody,
    handler,
    match(path) {
      const m = pattern.exec(path);
      if (m === null) return null;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        const raw = m[i + 1] ?? '';
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
        }
      });
      return params;
    },
  };
}

export function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | 'method' | null {
  let pathMatched = false;
  for (const r of routes) {
    const params = r.match(path);
    if (params === null) continue;
    if (r.method === method) return { route: r, params };
    pathMatched = true;
  }
  return pathMatched ? 'method' : null;
}
