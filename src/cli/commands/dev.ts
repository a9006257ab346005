/**
 * @module cli/commands/dev
 * `lambkin dev DIR`: the inner loop. Creates or updates the function from DIR (and publishes the project's local
 * layer directories), watches the files and pushes changed code as soon as a save lands (UpdateFunctionCode: the
 * server retires the warm environments, so the next invoke runs the new code), streams the function's logs, and
 * serves a local HTTP endpoint that turns requests into API Gateway HTTP API events (InvokeWithResponseStream, so a
 * streaming handler streams its response, as behind a function URL).
 *
 * Only public Lambda and CloudWatch Logs calls are used, so `--endpoint aws` runs the same loop against AWS.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeWithResponseStreamCommand,
  PublishLayerVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type InvokeWithResponseStreamCommandOutput,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { Command } from 'commander';
import { inside, packDirectory } from '../archive.ts';
import { CliError } from '../errors.ts';
import { resolveLayer } from '../layers.ts';
import {
  fromLambdaResult,
  HTTP_INTEGRATION_CONTENT_TYPE,
  splitHttpPrelude,
  toApiGatewayV2Event,
  type HttpResponseParts,
} from '../http-event.ts';
import { humanBytes } from '../output.ts';
import { loadProject, type LayerRef, type Project } from '../project.ts';
import { openSession, type Session } from '../session.ts';
import { LOCAL_ROLE, waitUntilReady } from './function.ts';
import { tail } from './logs.ts';

/** Saves usually come as a burst of events (write, rename, chmod): wait this long for the burst to end. */
const DEBOUNCE_MS = 20;

export function devCommand(): Command {
  return new Command('dev')
    .description('deploy DIR, push every save at once, stream logs, and serve it over HTTP')
    .argument('[dir]', 'project directory (with lambkin.json, or an index.* handler)', '.')
    .option('--port <port>', 'local HTTP port that invokes the function (0: any free port)', '3000')
    .option('--role <arn>', 'execution role when creating the function on AWS')
    .option('--no-logs', 'do not stream the function’s logs')
    .addHelpText(
      'after',
      '\nExample:\n  $ lambkin init hello && lambkin dev hello\n  $ curl localhost:3000/hi?name=Ada      # in another terminal',
    )
    .action(async (dirArg: string, opts: { port: string; role?: string; logs: boolean }, command: Command) => {
      const session = openSession(command);
      const project = await loadProject(dirArg);
      if (session.aws && opts.role === undefined)
        throw new CliError('MissingRole', 'creating a function on AWS needs an execution role', {
          hint: 'pass --role arn:aws:iam::<account>:role/<name>',
        });
      const dev = new DevLoop(session, project, opts.role ?? LOCAL_ROLE);
      await dev.deployAll();
      const server = await serveHttp(session, project.name, Number(opts.port));
      const { port } = server.address() as AddressInfo;
      const c = session.out.color;
      session.out.line(`${c.bold('serving')}  ${c.cyan(`http://127.0.0.1:${String(port)}`)} → ${project.name}`);
      session.out.line(`${c.bold('watching')} ${project.dir} (Ctrl-C to stop)`);
      const watchers = dev.watch();
      const stop = new AbortController();
      const logs = opts.logs
        ? tail(session.logs, session.out, {
            group: `/aws/lambda/${project.name}`,
            startTime: Date.now(),
            follow: true,
            signal: stop.signal,
            pollMs: session.aws ? 1000 : 250,
          }).catch((err: unknown) => {
            session.out.note(`logs stopped: ${(err as Error).message}`);
          })
        : Promise.resolve();
      await new Promise<void>((resolveStop) => {
        const end = () => {
          resolveStop();
        };
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
      });
      stop.abort();
      for (const w of watchers) w.close();
      server.close();
      server.closeAllConnections();
      await logs;
      session.out.line('stopped');
    });
}

class DevLoop {
  readonly #session: Session;
  readonly #project: Project;
  readonly #role: string;
  /** CodeSha256 of the last code pushed, and of each local layer directory's last published zip. */
  #codeSha = '';
  readonly #layerShas = new Map<string, string>();
  readonly #layerArns = new Map<string, string>();
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();

  constructor(session: Session, project: Project, role: string) {
    this.#session = session;
    this.#project = project;
    this.#role = role;
  }

  get #localLayers(): Extract<LayerRef, { kind: 'dir' }>[] {
    return this.#project.layers.filter((l): l is Extract<LayerRef, { kind: 'dir' }> => l.kind === 'dir');
  }

  /** Publishes local layers, then creates the function or brings it up to date. */
  async deployAll(): Promise<void> {
    const { lambda, out } = this.#session;
    const p = this.#project;
    for (const layer of this.#localLayers) await this.#publishLayer(layer);
    const layers = await this.#layerList();
    const code = await this.#packCode();
    const config = {
      Runtime: p.runtime as Runtime,
      Handler: p.handler,
      Layers: layers,
      Environment: { Variables: p.environment },
      ...(p.memory !== undefined ? { MemorySize: p.memory } : {}),
      ...(p.timeout !== undefined ? { Timeout: p.timeout } : {}),
    };
    const existing = await lambda.send(new GetFunctionCommand({ FunctionName: p.name })).catch((err: unknown) => {
      if (err instanceof Error && err.name === 'ResourceNotFoundException') return null;
      throw err;
    });
    if (existing === null) {
      await lambda.send(
        new CreateFunctionCommand({ FunctionName: p.name, Role: this.#role, Code: { ZipFile: code.zip }, ...config }),
      );
      await waitUntilReady(this.#session, p.name);
      out.line(`created ${out.color.bold(p.name)} (${p.runtime}, ${p.handler}) at ${this.#session.endpoint}`);
    } else {
      if (existing.Configuration?.CodeSha256 !== code.sha) {
        await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: p.name, ZipFile: code.zip }));
        await waitUntilReady(this.#session, p.name);
      }
      await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: p.name, ...config }));
      await waitUntilReady(this.#session, p.name);
      out.line(`updated ${out.color.bold(p.name)} (${p.runtime}, ${p.handler}) at ${this.#session.endpoint}`);
    }
    this.#codeSha = code.sha;
  }

  watch(): FSWatcher[] {
    const watchers: FSWatcher[] = [];
    const roots: { dir: string; what: string }[] = [
      { dir: this.#project.code, what: 'code' },
      ...this.#localLayers.map((l) => ({ dir: l.dir, what: l.dir })),
    ];
    for (const { dir, what } of roots) {
      const watcher = watch(dir, { recursive: true }, (_event, file) => {
        if (file === null) return;
        const full = resolve(dir, file);
        if (full.split(sep).some((part) => part === '.git' || part === '.lambkin')) return;
        // The code directory may hold the layer directories: a change there is the layer's, not the code's.
        const owner = what === 'code' ? (this.#localLayers.find((l) => inside(l.dir, full))?.dir ?? 'code') : what;
        this.#schedule(owner);
      });
      watcher.on('error', (err) => {
        this.#session.out.note(`watching ${dir} failed: ${err.message}`);
      });
      watchers.push(watcher);
    }
    return watchers;
  }

  #schedule(what: string): void {
    this.#pending.add(what);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const batch = this.#pending;
      this.#pending = new Set();
      // One push at a time; saves during a push are pushed right after it.
      this.#running = this.#running.then(() => this.#push(batch));
    }, DEBOUNCE_MS);
  }

  async #push(batch: Set<string>): Promise<void> {
    const { lambda, out } = this.#session;
    const name = this.#project.name;
    const started = performance.now();
    try {
      let layersChanged = false;
      for (const layer of this.#localLayers)
        if (batch.has(layer.dir)) layersChanged = (await this.#publishLayer(layer)) || layersChanged;
      if (layersChanged) {
        await lambda.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: name, Layers: await this.#layerList() }),
        );
        await waitUntilReady(this.#session, name);
      }
      let codeBytes = -1;
      if (batch.has('code')) {
        const code = await this.#packCode();
        if (code.sha !== this.#codeSha) {
          await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code.zip }));
          await waitUntilReady(this.#session, name);
          this.#codeSha = code.sha;
          codeBytes = code.zip.length;
        }
      }
      if (codeBytes < 0 && !layersChanged) return;
      const what = [codeBytes >= 0 ? `code (${humanBytes(codeBytes)})` : '', layersChanged ? 'layers' : '']
        .filter((s) => s !== '')
        .join(' and ');
      out.line(`${out.color.green('pushed')} ${what} in ${(performance.now() - started).toFixed(0)} ms`);
    } catch (err) {
      // A broken save (e.g. a file removed mid-write) must not end the loop: the next save pushes again.
      out.line(`${out.color.red('push failed')} ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }

  async #packCode(): Promise<{ zip: Buffer; sha: string }> {
    const code = this.#project.code;
    const layerDirs = this.#localLayers.map((l) => l.dir);
    const { zip } = await packDirectory(code, {
      skip: (rel) => layerDirs.some((d) => inside(d, resolve(code, rel))),
    });
    return { zip, sha: createHash('sha256').update(zip).digest('base64') };
  }

  /** Publishes a new version when the directory's zip changed. Returns whether it did. */
  async #publishLayer(layer: Extract<LayerRef, { kind: 'dir' }>): Promise<boolean> {
    const { zip } = await packDirectory(layer.dir);
    const sha = createHash('sha256').update(zip).digest('base64');
    if (this.#layerShas.get(layer.dir) === sha) return false;
    const out = await this.#session.lambda.send(
      new PublishLayerVersionCommand({ LayerName: layer.name, Content: { ZipFile: zip } }),
    );
    this.#layerShas.set(layer.dir, sha);
    this.#layerArns.set(layer.dir, out.LayerVersionArn ?? '');
    this.#session.out.line(
      `published layer ${this.#session.out.color.bold(`${layer.name}:${String(out.Version)}`)} from ${relative(this.#project.dir, layer.dir) || '.'}`,
    );
    return true;
  }

  #layerList(): Promise<string[]> {
    return Promise.all(
      this.#project.layers.map((l) =>
        l.kind === 'dir'
          ? Promise.resolve(this.#layerArns.get(l.dir) ?? '')
          : resolveLayer(this.#session.lambda, l.ref),
      ),
    );
  }
}

/**
 * Relays a streamed invocation as a function URL in RESPONSE_STREAM mode does: a stream that opens with an HTTP
 * prelude (`awslambda.HttpResponseStream.from`) sets the status, headers and cookies, then streams its body; a stream
 * of any other type but JSON is a 200 of that type, streamed; a JSON result (what a buffered handler returns) is
 * mapped as API Gateway maps payload format 2.0. A function error before the first byte is a 500; after it, the
 * connection is cut.
 */
async function relay(result: InvokeWithResponseStreamCommandOutput, res: ServerResponse): Promise<void> {
  const type = result.ResponseStreamContentType ?? 'application/json';
  const buffered = /^application\/json\b/i.test(type);
  const events = result.EventStream ?? [];
  // (An object, so that type narrowing does not assume it unchanged across the generator's steps.)
  const end = { failed: false };
  async function* payload(): AsyncGenerator<Buffer> {
    for await (const event of events) {
      if (event.InvokeComplete !== undefined) end.failed = event.InvokeComplete.ErrorCode !== undefined;
      const chunk = event.PayloadChunk?.Payload;
      if (chunk !== undefined && chunk.length > 0) yield Buffer.from(chunk);
    }
  }
  const source = payload();
  // The head: a buffered result is read whole; a stream until its first byte, or the end of its HTTP prelude.
  const held: Buffer[] = [];
  let head: Omit<HttpResponseParts, 'body'> | null = null;
  while (head === null) {
    const next = await source.next();
    if (next.done === true) break;
    held.push(next.value);
    if (buffered) continue;
    if (type !== HTTP_INTEGRATION_CONTENT_TYPE) {
      head = { statusCode: 200, headers: { 'content-type': type }, cookies: [] };
      continue;
    }
    const split = splitHttpPrelude(Buffer.concat(held));
    if (split === null) continue;
    head = split.response;
    held.splice(0, held.length, split.rest);
  }
  if (head === null) {
    // Ended before a head: a buffered result, a failure, an empty stream, or a prelude that never ended.
    const incomplete = type === HTTP_INTEGRATION_CONTENT_TYPE;
    const mapped =
      buffered || end.failed || incomplete
        ? fromLambdaResult(Buffer.concat(held), end.failed || incomplete)
        : { statusCode: 200, headers: { 'content-type': type }, cookies: [], body: Buffer.alloc(0) };
    writeHead(res, mapped);
    res.end(mapped.body);
    return;
  }
  writeHead(res, head);
  // The rest streams with the HTTP client's backpressure; a failure after the first byte cuts the connection.
  async function* rest(): AsyncGenerator<Buffer> {
    yield* held;
    yield* source;
    if (end.failed) throw new Error('the function failed after its response began');
  }
  await pipeline(Readable.from(rest()), res);
}

function writeHead(res: ServerResponse, parts: Omit<HttpResponseParts, 'body'>): void {
  const headers: Record<string, string | string[]> = { ...parts.headers };
  if (parts.cookies.length > 0) headers['set-cookie'] = parts.cookies;
  res.writeHead(parts.statusCode, headers);
}

/** The local HTTP endpoint: each request becomes one invoke with an API Gateway HTTP API (2.0) event. */
async function serveHttp(session: Session, functionName: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = await buffer(req);
        const event = toApiGatewayV2Event({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          host: req.headers.host ?? '127.0.0.1',
        });
        const result = await session.lambda.send(
          new InvokeWithResponseStreamCommand({
            FunctionName: functionName,
            Payload: Buffer.from(JSON.stringify(event)),
          }),
        );
        await relay(result, res);
      } catch (err) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const name = err instanceof Error ? err.name : 'Error';
        const message = err instanceof Error ? err.message : String(err);
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `${name}: ${message}` }));
      }
    })();
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new CliError('PortInUse', `port ${String(port)} is taken`, { hint: 'pass --port N (or --port 0)' })
          : err,
      );
    });
    server.listen(port, '127.0.0.1', () => {
      resolveListen();
    });
  });
  return server;
}
