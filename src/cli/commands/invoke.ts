/**
 * @module cli/commands/invoke
 * `lambkin invoke FN [--payload JSON | --payload @file | --payload -] [--tail] [--async | --stream]`.
 */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { InvokeCommand, InvokeWithResponseStreamCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { Command, Option } from 'commander';
import { CliError, EXIT } from '../errors.ts';
import { HTTP_INTEGRATION_CONTENT_TYPE, splitHttpPrelude, type HttpResponseParts } from '../http-event.ts';
import type { Output } from '../output.ts';
import { openSession } from '../session.ts';

export function invokeCommand(): Command {
  return new Command('invoke')
    .description('invoke a function and print its result')
    .argument('<function>', 'function name, ARN or name:qualifier')
    .option('--payload <json|@file|->', 'the event: JSON text, @file to read it from a file, - for stdin', '{}')
    .option('--qualifier <version|alias>', 'version or alias to invoke')
    .option('--tenant-id <id>', 'tenant of a function with tenant isolation (X-Amz-Tenant-Id)')
    .option('--tail', 'print the invocation’s log tail (the last 4 KB) on stderr', false)
    .option('--async', 'queue the event (InvocationType Event) and return at once', false)
    .addOption(
      new Option('--stream', 'InvokeWithResponseStream: print the response as the function streams it')
        .default(false)
        .conflicts('async'),
    )
    .addHelpText(
      'after',
      '\nExit code 3 when the function returned an error.\n\nExamples:\n' +
        `  $ lambkin invoke hello --payload '{"name":"Ada"}' --tail\n` +
        '  $ echo \'{"n":1}\' | lambkin invoke hello --payload -\n' +
        '  $ lambkin invoke hello --payload @event.json --async\n' +
        '  $ lambkin invoke chat --stream',
    )
    .action(async (name: string, opts: InvokeOptions, command: Command) => {
      const { lambda, out } = openSession(command);
      const payload = await readPayload(opts.payload);
      if (opts.stream) {
        await invokeStreaming(lambda, out, name, payload, opts);
        return;
      }
      const started = performance.now();
      const res = await lambda.send(
        new InvokeCommand({
          ...invokeInput(name, payload, opts),
          InvocationType: opts.async ? 'Event' : 'RequestResponse',
          ...(opts.tail && !opts.async ? { LogType: 'Tail' as const } : {}),
        }),
      );
      const elapsedMs = performance.now() - started;
      const body = Buffer.from(res.Payload ?? new Uint8Array()).toString('utf8');
      const log = decodeLog(res.LogResult);
      const requestId = res.$metadata.requestId;
      if (res.FunctionError !== undefined) process.exitCode = EXIT.functionError;
      out.result(
        {
          StatusCode: res.StatusCode,
          ExecutedVersion: res.ExecutedVersion,
          RequestId: requestId,
          ...(res.FunctionError !== undefined ? { FunctionError: res.FunctionError } : {}),
          Payload: parseMaybe(body),
          ...(log !== undefined ? { Log: log } : {}),
        },
        () => {
          const c = out.color;
          if (opts.async) {
            out.line(`queued (${String(res.StatusCode)}) request ${requestId ?? ''}`);
            return;
          }
          if (log !== undefined) out.note(c.dim(log.trimEnd()));
          if (res.FunctionError !== undefined) {
            const summary = errorSummary(body);
            out.note(`${c.red(`FunctionError (${res.FunctionError})`)} ${summary}`);
          }
          out.line(pretty(body));
          out.note(c.dim(`${String(res.StatusCode)} · ${requestId ?? ''} · ${elapsedMs.toFixed(1)} ms round trip`));
        },
      );
    });
}

interface InvokeOptions {
  payload: string;
  qualifier?: string;
  tenantId?: string;
  tail: boolean;
  async: boolean;
  stream: boolean;
}

/**
 * `--stream`: chunks go to stdout as they arrive (collected for `--json`); the end tells how it went. A stream that
 * opens with an HTTP prelude (`awslambda.HttpResponseStream.from`) shows it as a status line and headers on stderr,
 * and only the body on stdout.
 */
async function invokeStreaming(
  lambda: LambdaClient,
  out: Output,
  name: string,
  payload: Uint8Array,
  opts: InvokeOptions,
): Promise<void> {
  const started = performance.now();
  const res = await lambda.send(
    new InvokeWithResponseStreamCommand({
      ...invokeInput(name, payload, opts),
      ...(opts.tail ? { LogType: 'Tail' as const } : {}),
    }),
  );
  const chunks: Buffer[] = [];
  let received = 0;
  let complete: { ErrorCode?: string | undefined; ErrorDetails?: string | undefined; LogResult?: string | undefined } =
    {};
  const emit = (chunk: Buffer) => {
    chunks.push(chunk);
    if (!out.json) process.stdout.write(chunk);
  };
  // Bytes of an HTTP prelude not ended yet (null: none expected, or it ended).
  let preludeBytes: Buffer | null = res.ResponseStreamContentType === HTTP_INTEGRATION_CONTENT_TYPE ? EMPTY : null;
  let http: Omit<HttpResponseParts, 'body'> | undefined;
  for await (const event of res.EventStream ?? []) {
    if (event.PayloadChunk?.Payload !== undefined) {
      received++;
      const chunk = Buffer.from(event.PayloadChunk.Payload);
      if (preludeBytes === null) {
        emit(chunk);
        continue;
      }
      preludeBytes = Buffer.concat([preludeBytes, chunk]);
      const split = splitHttpPrelude(preludeBytes);
      if (split === null) continue;
      preludeBytes = null;
      http = split.response;
      if (!out.json) out.note(out.color.dim(httpHead(split.response)));
      if (split.rest.length > 0) emit(split.rest);
    } else if (event.InvokeComplete !== undefined) {
      complete = event.InvokeComplete;
    }
  }
  // A prelude that never ended is shown as it came.
  if (preludeBytes !== null && preludeBytes.length > 0) emit(preludeBytes);
  const elapsedMs = performance.now() - started;
  const body = Buffer.concat(chunks).toString('utf8');
  const log = decodeLog(complete.LogResult);
  const requestId = res.$metadata.requestId;
  if (complete.ErrorCode !== undefined) process.exitCode = EXIT.functionError;
  out.result(
    {
      StatusCode: res.StatusCode,
      ExecutedVersion: res.ExecutedVersion,
      RequestId: requestId,
      ResponseStreamContentType: res.ResponseStreamContentType,
      ...(http !== undefined ? { Http: http } : {}),
      Payload: body,
      ...(complete.ErrorCode !== undefined
        ? { ErrorCode: complete.ErrorCode, ErrorDetails: complete.ErrorDetails }
        : {}),
      ...(log !== undefined ? { Log: log } : {}),
    },
    () => {
      const c = out.color;
      if (body !== '' && !body.endsWith('\n')) process.stdout.write('\n');
      if (log !== undefined) out.note(c.dim(log.trimEnd()));
      if (complete.ErrorCode !== undefined) {
        out.note(`${c.red('stream ended with an error')} ${complete.ErrorCode}: ${complete.ErrorDetails ?? ''}`);
      }
      out.note(
        c.dim(
          `${String(res.StatusCode)} · ${requestId ?? ''} · ${String(received)} chunk(s) in ${elapsedMs.toFixed(1)} ms`,
        ),
      );
    },
  );
}

const EMPTY = Buffer.alloc(0);

/** `HTTP 201 · x-lamb: kin · set-cookie: a=1`: a streamed HTTP prelude in one line. */
function httpHead(http: Omit<HttpResponseParts, 'body'>): string {
  const parts = [`HTTP ${String(http.statusCode)}`];
  for (const [name, value] of Object.entries(http.headers)) parts.push(`${name}: ${value}`);
  for (const cookie of http.cookies) parts.push(`set-cookie: ${cookie}`);
  return parts.join(' · ');
}

/** What both invoke calls send, whatever their kind. */
function invokeInput(name: string, payload: Uint8Array, opts: InvokeOptions) {
  return {
    FunctionName: name,
    Payload: payload,
    ...(opts.qualifier !== undefined ? { Qualifier: opts.qualifier } : {}),
    ...(opts.tenantId !== undefined ? { TenantId: opts.tenantId } : {}),
  };
}

/** `LogResult` (base64 of the log tail) as text. */
function decodeLog(logResult: string | undefined): string | undefined {
  return logResult !== undefined ? Buffer.from(logResult, 'base64').toString('utf8') : undefined;
}

async function readPayload(spec: string): Promise<Uint8Array> {
  if (spec === '-') return Buffer.from(await text(process.stdin));
  if (spec.startsWith('@')) {
    const file = spec.slice(1);
    return readFile(file).catch(() => {
      throw new CliError('InvalidPath', `cannot read the payload file ${file}`, {
        hint: 'give --payload @path/to/event.json',
      });
    });
  }
  return Buffer.from(spec);
}

function parseMaybe(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function pretty(body: string): string {
  const value = parseMaybe(body);
  return typeof value === 'string' && value === body ? body : JSON.stringify(value, null, 2);
}

/** `{"errorType":"Error","errorMessage":"boom"}` → `Error: boom`; anything else as it is. */
function errorSummary(body: string): string {
  const value = parseMaybe(body);
  if (typeof value !== 'object' || value === null) return body;
  const { errorType, errorMessage } = value as { errorType?: unknown; errorMessage?: unknown };
  const type = typeof errorType === 'string' ? errorType : 'Error';
  return `${type}: ${typeof errorMessage === 'string' ? errorMessage : JSON.stringify(errorMessage)}`;
}
