/**
 * @module cli/commands/function
 * `lambkin function create|update|get|list|delete`.
 */
import { readFile } from 'node:fs/promises';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  paginateListFunctions,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { Command, Option } from 'commander';
import { codeFrom } from '../archive.ts';
import { CliError } from '../errors.ts';
import { resolveLayers } from '../layers.ts';
import { humanAgo, humanBytes, type Output } from '../output.ts';
import { openSession, type Session } from '../session.ts';

/** The role a local function gets when none is given (Lambkin does not check roles; AWS needs a real one). */
export const LOCAL_ROLE = 'arn:aws:iam::000000000000:role/lambkin-local';

interface ConfigOptions {
  handler?: string;
  runtime?: string;
  role?: string;
  layers?: string[];
  memory?: string;
  timeout?: string;
  env?: string[];
  envFile?: string;
  description?: string;
  ephemeralStorage?: string;
}

function configOptions(command: Command, creating: boolean): Command {
  return command
    .option(
      '--handler <file.function>',
      `handler${creating ? ' (default index.handler; function.handler for provided runtimes)' : ''}`,
    )
    .option('--runtime <runtime>', `runtime${creating ? ' (default nodejs24.x)' : ''}, e.g. provided.al2023`)
    .option('--role <arn>', 'execution role ARN (required with --endpoint aws)')
    .option('--layers <layers...>', 'layers in order: version ARN, name:version, or name (latest)')
    .option('--memory <mb>', 'memory in MB (128–10240)')
    .option('--timeout <seconds>', 'timeout in seconds (1–900)')
    .option('--ephemeral-storage <mb>', '/tmp size in MB (512–10240)')
    .option('--description <text>', 'description')
    .addOption(
      new Option('--env <K=V...>', `environment variables${creating ? '' : ' (replace all of them, as on AWS)'}`),
    )
    .option('--env-file <file>', 'environment variables from a KEY=VALUE file (--env wins)');
}

export function functionCommand(): Command {
  const fn = new Command('function').description('create and manage functions');

  configOptions(
    fn
      .command('create')
      .description('create a function from a directory (zipped for you) or a zip')
      .argument('<name>', 'function name')
      .option('--code <path>', 'directory or .zip with the code', '.')
      .option('--tenant-isolation', 'one set of environments per tenant (TenancyConfig PER_TENANT; fixed at creation)'),
    true,
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ lambkin function create hello --code ./hello --runtime nodejs24.x --handler index.handler\n' +
        '  $ lambkin function create php-hello --code ./fn --runtime provided.al2023 --layers php-runtime --env GREETING=hi',
    )
    .action(
      async (name: string, opts: ConfigOptions & { code: string; tenantIsolation?: boolean }, command: Command) => {
        const session = openSession(command);
        const { lambda, out } = session;
        const runtime = opts.runtime ?? 'nodejs24.x';
        if (session.aws && opts.role === undefined)
          throw new CliError('MissingRole', 'creating a function on AWS needs an execution role', {
            hint: 'pass --role arn:aws:iam::<account>:role/<name>',
          });
        const config = await configuration(lambda, opts);
        const code = await upload(out, opts.code);
        const created = await withStatus(
          out,
          `uploading ${humanBytes(code.length)}`,
          lambda.send(
            new CreateFunctionCommand({
              FunctionName: name,
              Runtime: runtime as Runtime,
              Handler: opts.handler ?? (runtime.startsWith('provided') ? 'function.handler' : 'index.handler'),
              Role: opts.role ?? LOCAL_ROLE,
              Code: { ZipFile: code },
              ...(opts.tenantIsolation === true
                ? { TenancyConfig: { TenantIsolationMode: 'PER_TENANT' as const } }
                : {}),
              ...config,
            }),
          ),
        );
        const ready = await waitUntilReady(session, name);
        printConfiguration(out, ready ?? created, 'created');
      },
    );

  configOptions(
    fn
      .command('update')
      .description('update code and/or configuration (only what is given changes)')
      .argument('<name>', 'function name')
      .option('--code <path>', 'directory or .zip with the new code'),
    false,
  )
    .addHelpText('after', '\nExample:\n  $ lambkin function update hello --code ./hello --memory 256 --env STAGE=dev')
    .action(async (name: string, opts: ConfigOptions & { code?: string }, command: Command) => {
      const session = openSession(command);
      const { lambda, out } = session;
      const config = await configuration(lambda, opts);
      let latest: FunctionConfiguration | undefined;
      if (opts.code !== undefined) {
        const code = await upload(out, opts.code);
        latest = await withStatus(
          out,
          `uploading ${humanBytes(code.length)}`,
          lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code })),
        );
        latest = (await waitUntilReady(session, name)) ?? latest;
      }
      const changes = { ...config, ...pick(opts, ['handler', 'runtime', 'role']) };
      if (Object.keys(changes).length > 0) {
        latest = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...changes }));
        latest = (await waitUntilReady(session, name)) ?? latest;
      }
      if (latest === undefined)
        throw new CliError('NothingToUpdate', 'nothing to update', {
          hint: 'pass --code and/or a configuration option',
        });
      printConfiguration(out, latest, 'updated');
    });

  fn.command('get')
    .description('show a function’s configuration')
    .argument('<name>', 'function name, ARN or name:qualifier')
    .addHelpText('after', '\nExample:\n  $ lambkin function get hello --json')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { lambda, out } = openSession(command);
      const { $metadata: _, ...fn } = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
      out.result(fn, () => {
        if (fn.Configuration !== undefined) printConfiguration(out, fn.Configuration);
      });
    });

  fn.command('list')
    .description('list functions')
    .addHelpText('after', '\nExample:\n  $ lambkin function list')
    .action(async (_opts: unknown, command: Command) => {
      const { lambda, out } = openSession(command);
      const functions: FunctionConfiguration[] = [];
      for await (const page of paginateListFunctions({ client: lambda }, {})) functions.push(...(page.Functions ?? []));
      out.result(functions, () => {
        out.table(
          ['NAME', 'RUNTIME', 'HANDLER', 'MEMORY', 'TIMEOUT', 'STATE', 'MODIFIED'],
          functions.map((f) => [
            f.FunctionName ?? '',
            f.Runtime ?? '',
            f.Handler ?? '',
            `${String(f.MemorySize ?? '')} MB`,
            `${String(f.Timeout ?? '')} s`,
            f.State ?? '',
            humanAgo(f.LastModified),
          ]),
        );
      });
    });

  fn.command('delete')
    .description('delete a function and its versions')
    .argument('<name>', 'function name')
    .addHelpText('after', '\nExample:\n  $ lambkin function delete hello')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { lambda, out } = openSession(command);
      await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
      out.result({ FunctionName: name, deleted: true }, () => {
        out.line(`deleted ${name}`);
      });
    });

  return fn;
}

/** A status line on a terminal while `work` runs longer than a second (uploads have no progress events). */
function withStatus<T>(out: Output, label: string, work: Promise<T>): Promise<T> {
  const status = out.progress(label, 0);
  return work.finally(() => {
    status.stop();
  });
}

async function upload(out: Output, path: string): Promise<Uint8Array> {
  const progress = out.progress('zipping', 0);
  try {
    const { zip } = await codeFrom(path, {
      onProgress: (done, total) => {
        progress.update(done, total);
      },
    });
    return zip;
  } finally {
    progress.stop();
  }
}

type ConfigFields = Pick<FunctionConfiguration, 'MemorySize' | 'Timeout' | 'Description'> & {
  Layers?: string[];
  Environment?: { Variables: Record<string, string> };
  EphemeralStorage?: { Size: number };
};

/** The configuration fields the options give (only those given). */
async function configuration(lambda: LambdaClient, opts: ConfigOptions): Promise<ConfigFields> {
  const out: ConfigFields = {};
  if (opts.memory !== undefined) out.MemorySize = integer('--memory', opts.memory);
  if (opts.timeout !== undefined) out.Timeout = integer('--timeout', opts.timeout);
  if (opts.ephemeralStorage !== undefined)
    out.EphemeralStorage = { Size: integer('--ephemeral-storage', opts.ephemeralStorage) };
  if (opts.description !== undefined) out.Description = opts.description;
  if (opts.layers !== undefined) out.Layers = await resolveLayers(lambda, opts.layers);
  const env = await environment(opts);
  if (env !== undefined) out.Environment = { Variables: env };
  return out;
}

function pick(opts: ConfigOptions, keys: readonly ('handler' | 'runtime' | 'role')[]) {
  const out: { Handler?: string; Runtime?: Runtime; Role?: string } = {};
  for (const key of keys) {
    const value = opts[key];
    if (value === undefined) continue;
    if (key === 'handler') out.Handler = value;
    else if (key === 'runtime') out.Runtime = value as Runtime;
    else out.Role = value;
  }
  return out;
}

function integer(flag: string, text: string): number {
  if (!/^\d+$/.test(text))
    throw new CliError('InvalidParameterValueException', `${flag} must be a whole number, not "${text}"`, {
      hint: `e.g. ${flag} ${flag === '--timeout' ? '30' : '512'}`,
    });
  return Number(text);
}

/** `--env-file` then `--env` (later wins); undefined when neither is given. */
export async function environment(opts: {
  env?: string[];
  envFile?: string;
}): Promise<Record<string, string> | undefined> {
  if (opts.env === undefined && opts.envFile === undefined) return undefined;
  const vars: Record<string, string> = {};
  if (opts.envFile !== undefined) {
    const text = await readFile(opts.envFile, 'utf8').catch(() => {
      throw new CliError('InvalidPath', `cannot read --env-file ${opts.envFile ?? ''}`);
    });
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const [key, value] = splitPair(line.replace(/^export\s+/, ''), `${opts.envFile}:${String(i + 1)}`);
      vars[key] = unquote(value);
    }
  }
  for (const pair of opts.env ?? []) {
    const [key, value] = splitPair(pair, '--env');
    vars[key] = value;
  }
  return vars;
}

function splitPair(text: string, where: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError('InvalidParameterValueException', `${where}: "${text}" is not KEY=VALUE`);
  return [text.slice(0, eq).trim(), text.slice(eq + 1)];
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))))
    return v.slice(1, -1);
  return v;
}

/**
 * Waits until the function can be invoked and changed again (State Active, LastUpdateStatus not InProgress), as
 * the SDK's waiters do. On a local endpoint it polls quickly: 5 ms after the first answer, doubling up to 50 ms (a
 * code update of a small function is ready within tens of milliseconds, and `lambkin dev` waits for it on every
 * save). Returns the final configuration.
 */
export async function waitUntilReady(session: Session, name: string): Promise<FunctionConfiguration | undefined> {
  let delay = session.aws ? 1000 : 5;
  const maxDelay = session.aws ? 1000 : 50;
  const deadline = Date.now() + (session.aws ? 300_000 : 60_000);
  for (;;) {
    const { $metadata: _, ...config } = await session.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: name }),
    );
    if (config.State === 'Failed' || config.LastUpdateStatus === 'Failed')
      throw new CliError(
        config.StateReasonCode ?? config.LastUpdateStatusReasonCode ?? 'FunctionFailed',
        config.StateReason ?? config.LastUpdateStatusReason ?? `${name} failed to become active`,
      );
    if (config.State === 'Active' && config.LastUpdateStatus !== 'InProgress') return config;
    if (Date.now() > deadline) return config;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, maxDelay);
  }
}

function printConfiguration(out: Output, f: FunctionConfiguration, verb?: string): void {
  out.result(f, () => {
    const c = out.color;
    if (verb !== undefined) out.line(`${verb} ${c.bold(f.FunctionName ?? '')}`);
    const rows: [string, string][] = [
      ['arn', f.FunctionArn ?? ''],
      ['runtime', f.Runtime ?? ''],
      ['handler', f.Handler ?? ''],
      ['memory', `${String(f.MemorySize ?? '')} MB`],
      ['timeout', `${String(f.Timeout ?? '')} s`],
      ['code', `${humanBytes(f.CodeSize ?? 0)} zipped, sha256 ${f.CodeSha256 ?? ''}`],
      ['state', `${f.State ?? ''}${f.LastUpdateStatus !== undefined ? ` (last update ${f.LastUpdateStatus})` : ''}`],
      ['modified', f.LastModified ?? ''],
    ];
    for (const l of f.Layers ?? []) rows.push(['layer', l.Arn ?? '']);
    for (const [k, v] of Object.entries(f.Environment?.Variables ?? {})) rows.push(['env', `${k}=${v}`]);
    for (const [k, v] of rows) out.line(`  ${c.dim(k.padEnd(9))} ${v}`);
  });
}
