/**
 * @module runtime/runtime-api-client
 * The Runtime API from the runtime's side: one keep-alive socket, no timeout on `next`.
 */
import type { Agent as AgentType, IncomingHttpHeaders } from 'node:http';
import { RUNTIME_HEADER, RUNTIME_PATH } from '../protocol/runtime-api.ts';

// Importing node:http as an ES module builds its whole namespace, which loads lazily defined parts (undici's
// WebSocket and more): ~60 ms of cold start here. The CommonJS object skips that.
const { Agent, request } = process.getBuiltinModule('node:http');

export interface NextInvocation {
  requestId: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class RuntimeApiClient {
  readonly #host: string;
  readonly #port: number;
  readonly #agent: AgentType = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly address: string;

  constructor(address: string) {
    this.address = address;
    const colon = address.lastIndexOf(':');
    this.#host = address.slice(0, colon);
    this.#port = Number(address.slice(colon + 1));
  }

  get agent(): AgentType {
    return this.#agent;
  }

  async next(): Promise<NextInvocation> {
    const res = await this.#call('GET', RUNTIME_PATH.next, undefined, {});
    const id = res.headers[RUNTIME_HEADER.AwsRequestId];
    if (typeof id !== 'string') throw new Error('the Runtime API sent an event without a request id');
    return { requestId: id, headers: res.headers, body: res.body };
  }

  async respond(requestId: string, body: Buffer | string): Promise<void> {
    await this.#call('POST', `${RUNTIME_PATH.invocationPrefix}${requestId}/response`, body, {
      'content-type': 'application/json',
    });
  }

  /** As the official client: JSON body, no error-type header. */
  async error(requestId: string, body: string): Promise<void> {
    await this.#call('POST', `${RUNTIME_PATH.invocationPrefix}${requestId}/error`, body, {
      'content-type': 'application/json',
    });
  }

  async initError(errorType: string, body: string): Promise<void> {
    await this.#call('POST', RUNTIME_PATH.initError, body, {
      'content-type': 'application/json',
      [RUNTIME_HEADER.FunctionErrorType]: errorType,
    });
  }

  #call(
    method: string,
    path: string,
    body: Buffer | string | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.#host,
          port: this.#port,
          method,
          path,
          agent: this.#agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
