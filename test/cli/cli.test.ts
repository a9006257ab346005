/**
 * The `lambkin` CLI driven as a user drives it: spawned processes against a live server, output and exit codes
 * checked, including the error paths.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startApi } from '../api/harness.ts';
import { FIXTURES } from '../engine/harness.ts';
import { lambkinCli, REPO } from './harness.ts';

const FUNCTIONS = join(REPO, 'test/fixtures/functions');

test('npx lambkin: the installed command runs on Node 24 and lists every noun', async () => {
  const { stdout } = await promisify(execFile)('npx', ['--no-install', 'lambkin', '--help'], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1' },
  });
  for (const noun of ['serve', 'init', 'dev', 'function', 'layer', 'invoke', 'logs', 'runtime'])
    assert.match(stdout, new RegExp(`^\\s+${noun}\\b`, 'm'), `${noun} in --help`);
});

test('function create|get|list|update|delete and invoke: human and --json output, payload from text, file and stdin', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);

  const create = await cli.run([
    'function',
    'create',
    'echo',
    '--code',
    join(FUNCTIONS, 'esm-async'),
    '--memory',
    '256',
  ]);
  assert.equal(create.code, 0, create.stderr);
  assert.match(create.stdout, /^created echo$/m);
  assert.match(create.stdout, /memory\s+256 MB/);
  assert.match(create.stdout, /state\s+Active/);

  const list = await cli.run(['--json', 'function', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const functions = JSON.parse(list.stdout) as { FunctionName: string; Runtime: string; Handler: string }[];
  assert.deepEqual(
    functions.map((f) => [f.FunctionName, f.Runtime, f.Handler]),
    [['echo', 'nodejs24.x', 'index.handler']],
  );
  const table = await cli.run(['function', 'list']);
  assert.match(table.stdout, /NAME\s+│\s+RUNTIME/);
  assert.match(table.stdout, /│ echo\s+│ nodejs24\.x\s+│ index\.handler\s+│ 256 MB/);

  const inline = await cli.run(['invoke', 'echo', '--payload', '{"n":1}']);
  assert.equal(inline.code, 0, inline.stderr);
  assert.deepEqual(JSON.parse(inline.stdout), { esm: true, got: { n: 1 } });
  assert.match(inline.stderr, /^200 · [0-9a-f-]{36} · /m);

  await writeFile(join(h.dir, 'event.json'), '{"from":"file"}');
  const fromFile = await cli.run(['--json', 'invoke', 'echo', '--payload', '@event.json', '--tail']);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  const out = JSON.parse(fromFile.stdout) as { StatusCode: number; Payload: unknown; Log: string };
  assert.equal(out.StatusCode, 200);
  assert.deepEqual(out.Payload, { esm: true, got: { from: 'file' } });
  assert.match(out.Log, /^REPORT RequestId: [0-9a-f-]{36}\tDuration: /m);

  const fromStdin = await cli.run(['invoke', 'echo', '--payload', '-', '--tail'], { stdin: '{"from":"stdin"}' });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.deepEqual(JSON.parse(fromStdin.stdout), { esm: true, got: { from: 'stdin' } });
  assert.match(fromStdin.stderr, /^START RequestId: /m, 'the log tail goes to stderr');

  const queued = await cli.run(['invoke', 'echo', '--async']);
  assert.equal(queued.code, 0, queued.stderr);
  assert.match(queued.stdout, /^queued \(202\) request [0-9a-f-]{36}$/m);

  await writeFile(join(h.dir, '.env'), '# settings\nexport STAGE="dev"\nGREETING=hi there\n');
  const update = await cli.run([
    'function',
    'update',
    'echo',
    '--timeout',
    '9',
    '--env-file',
    '.env',
    '--env',
    'GREETING=hello',
  ]);
  assert.equal(update.code, 0, update.stderr);
  const got = await cli.run(['--json', 'function', 'get', 'echo']);
  const config = (JSON.parse(got.stdout) as { Configuration: Record<string, unknown> }).Configuration;
  assert.equal(config.Timeout, 9);
  assert.equal(config.MemorySize, 256, 'what is not given keeps its value');
  assert.deepEqual(config.Environment, { Variables: { STAGE: 'dev', GREETING: 'hello' } });

  const noop = await cli.run(['function', 'update', 'echo']);
  assert.equal(noop.code, 1);
  assert.match(
    noop.stderr,
    /^error NothingToUpdate: nothing to update — next: pass --code and\/or a configuration option$/m,
  );

  const del = await cli.run(['function', 'delete', 'echo']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, 'deleted echo\n');
  const gone = await cli.run(['invoke', 'echo']);
  assert.equal(gone.code, 1);
  assert.equal(gone.stdout, '');
  assert.match(
    gone.stderr,
    /^error ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:echo — next: check the name: `lambkin function list`.*\n$/,
  );
  assert.doesNotMatch(gone.stderr, /\bat .*\.ts:\d+/, 'no stack trace without --debug');
  const debug = await cli.run(['--debug', 'invoke', 'echo']);
  assert.match(debug.stderr, /ResourceNotFoundException: Function not found/);
  assert.match(debug.stderr, /^\s+at /m, '--debug shows the stack');
});

test('invoke: a function error prints the error and exits 3', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const create = await cli.run([
    'function',
    'create',
    'thrower',
    '--code',
    join(FUNCTIONS, 'throws'),
    '--handler',
    'index.error',
  ]);
  assert.equal(create.code, 0, create.stderr);
  const run = await cli.run(['invoke', 'thrower']);
  assert.equal(run.code, 3);
  assert.match(run.stderr, /^FunctionError \(Unhandled\) TypeError: bad type$/m);
  assert.equal((JSON.parse(run.stdout) as { errorType: string }).errorType, 'TypeError');
  const json = await cli.run(['--json', 'invoke', 'thrower']);
  assert.equal(json.code, 3);
  assert.equal((JSON.parse(json.stdout) as { FunctionError: string }).FunctionError, 'Unhandled');
});

test('layer build|publish|list|versions|delete, and --layers by name, name:version and ARN', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const runtime = join(h.dir, 'sh-runtime');
  await cp(join(FIXTURES, 'sh-runtime'), runtime, { recursive: true });

  const build = await cli.run(['layer', 'build', runtime, '--runtime', '--out', 'rt.zip']);
  assert.equal(build.code, 0, build.stderr);
  assert.match(build.stdout, /^wrote rt\.zip: 1 files, .* zipped, .* unzipped, runtime layer \(bootstrap\)$/m);
  const again = await cli.run(['--json', 'layer', 'build', runtime, '--out', 'rt2.zip']);
  const first = await readFile(join(h.dir, 'rt.zip'));
  assert.deepEqual(await readFile(join(h.dir, 'rt2.zip')), first, 'the same files give the same zip');
  assert.equal((JSON.parse(again.stdout) as { runtime: boolean }).runtime, true);

  const v1 = await cli.run(['layer', 'publish', 'shrt', runtime]);
  assert.equal(v1.code, 0, v1.stderr);
  assert.match(v1.stdout, /^published shrt:1 \(/m);
  const v2 = await cli.run(['--json', 'layer', 'publish', 'shrt', 'rt.zip', '--description', 'second']);
  assert.equal((JSON.parse(v2.stdout) as { Version: number }).Version, 2);

  const list = await cli.run(['layer', 'list']);
  assert.match(list.stdout, /│ shrt\s+│ 2\s+│ second\s+│/);
  const versions = await cli.run(['--json', 'layer', 'versions', 'shrt']);
  assert.deepEqual(
    (JSON.parse(versions.stdout) as { Version: number }[]).map((v) => v.Version),
    [2, 1],
  );

  const fn = join(h.dir, 'fn');
  await mkdir(fn);
  await writeFile(join(fn, 'function.sh'), 'handler() { printf \'{"shell":%s}\' "$1"; }\n');
  const arn1 = 'arn:aws:lambda:us-east-1:000000000000:layer:shrt:1';
  for (const [ref, expected] of [
    ['shrt', 'arn:aws:lambda:us-east-1:000000000000:layer:shrt:2'],
    ['shrt:1', arn1],
    [arn1, arn1],
  ] as const) {
    const name = `sh-${String(ref.length)}`;
    const create = await cli.run([
      '--json',
      'function',
      'create',
      name,
      '--code',
      fn,
      '--runtime',
      'provided.al2023',
      '--layers',
      ref,
    ]);
    assert.equal(create.code, 0, create.stderr);
    assert.deepEqual(
      (JSON.parse(create.stdout) as { Layers: { Arn: string }[] }).Layers.map((l) => l.Arn),
      [expected],
    );
    const run = await cli.run(['invoke', name, '--payload', '{"a":1}']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { shell: { a: 1 } });
  }

  const del = await cli.run(['layer', 'delete', 'shrt', '1']);
  assert.equal(del.code, 0, del.stderr);
  const after = await cli.run(['--json', 'layer', 'versions', 'shrt']);
  assert.deepEqual(
    (JSON.parse(after.stdout) as { Version: number }[]).map((v) => v.Version),
    [2],
  );
  const missing = await cli.run(['function', 'create', 'x', '--code', fn, '--layers', 'nolayer']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error ResourceNotFoundException: /m);
});

test('layer build refuses what Lambda would not run: a bootstrap that is not executable, links out, an empty dir', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const dir = join(h.dir, 'bad');
  await mkdir(dir);
  await writeFile(join(dir, 'bootstrap'), '#!/bin/sh\n');
  await chmod(join(dir, 'bootstrap'), 0o644);
  const notExec = await cli.run(['layer', 'build', dir]);
  assert.equal(notExec.code, 1);
  assert.match(notExec.stderr, /^error InvalidLayerContent: bootstrap is not executable/m);
  assert.match(notExec.stderr, / — next: chmod 755 \S+bootstrap\n$/);

  await chmod(join(dir, 'bootstrap'), 0o755);
  await symlink('/etc/passwd', join(dir, 'passwd'));
  const escape = await cli.run(['layer', 'build', dir]);
  assert.equal(escape.code, 1);
  assert.match(escape.stderr, /^error InvalidLayerContent: passwd is a link to \/etc\/passwd, outside the directory/m);

  const empty = join(h.dir, 'empty');
  await mkdir(empty);
  const none = await cli.run(['layer', 'build', empty, '--runtime']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /is empty: Lambda refuses an empty zip/);
  const noBootstrap = await cli.run(['layer', 'build', join(FUNCTIONS, 'esm-async'), '--runtime', '--out', 'x.zip']);
  assert.match(noBootstrap.stderr, /has no bootstrap at its root: a runtime layer needs one/);
});

test('errors: bad usage exits 2, an unreachable endpoint exits 4, bad values are named', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const usage = await cli.run(['function', 'frobnicate']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown command 'frobnicate'/);
  const missingArg = await cli.run(['invoke']);
  assert.equal(missingArg.code, 2);

  const down = lambkinCli('http://127.0.0.1:9', h.dir);
  const unreachable = await down.run(['function', 'list']);
  assert.equal(unreachable.code, 4);
  assert.match(
    unreachable.stderr,
    /^error EndpointUnreachable: cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\) — next: start Lambkin with `npx lambkin serve`/m,
  );

  const memory = await cli.run(['function', 'create', 'm', '--code', join(FUNCTIONS, 'esm-async'), '--memory', 'lots']);
  assert.equal(memory.code, 1);
  assert.match(
    memory.stderr,
    /^error InvalidParameterValueException: --memory must be a whole number, not "lots" — next: e\.g\. --memory 512$/m,
  );
  const server = await cli.run(['function', 'create', 'm', '--code', join(FUNCTIONS, 'esm-async'), '--memory', '64']);
  assert.equal(server.code, 1);
  assert.match(server.stderr, /^error ValidationException: 1 validation error detected: Value '64' at 'memorySize'/m);
  const notZip = await cli.run(['function', 'create', 'm', '--code', join(FUNCTIONS, 'esm-async', 'index.mjs')]);
  assert.match(notZip.stderr, /^error InvalidZipFile: .* is not a zip file — next: give a directory or a \.zip file$/m);
  const badPayload = await cli.run(['invoke', 'm', '--payload', '@nope.json']);
  assert.match(
    badPayload.stderr,
    /^error InvalidPath: cannot read the payload file nope\.json — next: give --payload @path\/to\/event\.json$/m,
  );
});

test('init + dev: a saved edit is pushed and the next HTTP request runs the new code; logs stream', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const init = await cli.run(['init', 'hello']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /^created hello \(ts\): events\/sample\.json, index\.ts, lambkin\.json/m);
  const again = await cli.run(['init', 'hello']);
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    /^error DirectoryNotEmpty: hello is not empty — next: choose a new directory, or --force$/m,
  );

  const dev = cli.start(['dev', 'hello', '--port', '0']);
  t.after(() => dev.stop());
  const [, url = ''] = await dev.waitFor(/serving\s+(http:\/\/127\.0\.0\.1:\d+)/);
  assert.match(dev.output(), /^created hello \(nodejs24\.x, index\.handler\)/m);

  const first = await fetch(`${url}/greet?name=Ada`, { headers: { cookie: 'a=1' } });
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('content-type'), 'application/json');
  assert.deepEqual(await first.json(), { message: 'Hello, Ada!', path: '/greet' });
  await dev.waitFor(/INFO\thello Ada from hello/);

  const file = join(h.dir, 'hello', 'index.ts');
  await writeFile(file, (await readFile(file, 'utf8')).replace('Hello, ', 'Howdy, '));
  await dev.waitFor(/^pushed code \(.*\) in \d+ ms$/m);
  const second = await fetch(`${url}/greet?name=Ada`);
  assert.deepEqual(await second.json(), { message: 'Howdy, Ada!', path: '/greet' });

  // A broken save is reported and the loop goes on.
  await writeFile(file, 'export const handler = async () => { throw new Error("broken on purpose"); };\n');
  await dev.waitFor(/(pushed code[^\n]*\n[^]*){2}/);
  const broken = await fetch(`${url}/`);
  assert.equal(broken.status, 500);
  assert.deepEqual(await broken.json(), { message: 'Internal Server Error' });
  assert.equal(await dev.stop(), 0);
  assert.match(dev.output(), /stopped\n$/);
});

test('dev: a streaming handler streams through the HTTP endpoint, as behind a function URL', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const dir = join(h.dir, 'streamer');
  await mkdir(dir);
  await writeFile(
    join(dir, 'index.mjs'),
    `export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const mode = event.queryStringParameters?.mode;
  if (mode === 'throw') throw new Error('before any byte');
  if (mode === 'plain') {
    stream.setContentType('text/plain');
    stream.write('plain ');
    stream.end('text');
    return;
  }
  const http = awslambda.HttpResponseStream.from(stream, { statusCode: 201, headers: { 'x-lamb': 'kin' }, cookies: ['a=1', 'b=2'] });
  http.write('first,');
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (mode === 'fail') throw new Error('mid-stream');
  http.end('second');
});
`,
  );
  const dev = cli.start(['dev', 'streamer', '--port', '0', '--no-logs']);
  t.after(() => dev.stop());
  const [, url = ''] = await dev.waitFor(/serving\s+(http:\/\/127\.0\.0\.1:\d+)/);

  const http = await fetch(`${url}/`);
  assert.equal(http.status, 201);
  assert.equal(http.headers.get('x-lamb'), 'kin');
  assert.deepEqual(http.headers.getSetCookie(), ['a=1', 'b=2']);
  assert.equal(await http.text(), 'first,second');

  const plain = await fetch(`${url}/?mode=plain`);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('content-type'), 'text/plain');
  assert.equal(await plain.text(), 'plain text');

  const thrown = await fetch(`${url}/?mode=throw`);
  assert.equal(thrown.status, 500);
  assert.deepEqual(await thrown.json(), { message: 'Internal Server Error' });

  // Failing after the first byte: the status is out already, so the connection is cut.
  const cut = await fetch(`${url}/?mode=fail`);
  assert.equal(cut.status, 201);
  await assert.rejects(cut.text());
  assert.equal(await dev.stop(), 0);
});

test('init --template php-runtime + dev: the runtime directory is published as a layer, and republished when it changes', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const init = await cli.run(['init', '--template', 'php-runtime', 'phpx']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /runtime\/bootstrap, function\/function\.php, runtime\/php, runtime\/runtime\.php/);
  const dev = cli.start(['dev', 'phpx', '--port', '0', '--no-logs']);
  t.after(() => dev.stop());
  await dev.waitFor(/serving\s+http/);
  assert.match(dev.output(), /^published layer phpx-runtime:1 from runtime$/m);
  assert.match(dev.output(), /^created phpx \(provided\.al2023, function\.handler\)/m);
  const first = await cli.run(['invoke', 'phpx', '--payload', '@phpx/events/sample.json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { message: 'Hello, Ada!', invocations: 1 });

  // The function reads /opt/greeting.txt when a layer has one: add it to the runtime layer's directory.
  await writeFile(join(h.dir, 'phpx', 'runtime', 'greeting.txt'), 'Bonjour\n');
  await dev.waitFor(/^pushed layers in \d+ ms$/m);
  assert.match(dev.output(), /^published layer phpx-runtime:2 from runtime$/m);
  const second = await cli.run(['invoke', 'phpx', '--payload', '{"name":"Ada"}']);
  assert.deepEqual(JSON.parse(second.stdout), { message: 'Bonjour, Ada!', invocations: 1 });
});

test('logs: the function’s log group through the Logs API, with --since, --filter, --json and -f', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const create = await cli.run(['function', 'create', 'talk', '--code', join(FUNCTIONS, 'esm-async')]);
  assert.equal(create.code, 0, create.stderr);
  const invoke = await cli.run(['invoke', 'talk', '--payload', '{"n":1}']);
  assert.equal(invoke.code, 0, invoke.stderr);

  const all = await cli.run(['logs', 'talk', '--since', '1h']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^\d{4}-\d\d-\d\dT\S+Z \S+ START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m);
  assert.match(all.stdout, / REPORT RequestId: [0-9a-f-]{36}\tDuration: /);
  const filtered = await cli.run(['--json', 'logs', 'talk', '--filter', 'REPORT']);
  const events = filtered.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { message: string });
  assert.equal(events.length, 1);
  assert.match(events[0]?.message ?? '', /^REPORT RequestId: /);

  const follow = cli.start(['logs', 'talk', '-f', '--since', '1s', '--filter', '"Version: $LATEST"']);
  t.after(() => follow.stop());
  // Invoke again while following until a new START appears (the first one may be older than --since).
  const second = await cli.run(['invoke', 'talk', '--tail']);
  const requestId = /START RequestId: (\S+)/.exec(second.stderr)?.[1] ?? 'none';
  await follow.waitFor(new RegExp(`START RequestId: ${requestId} Version`));
  assert.equal(await follow.stop(), 0);

  const none = await cli.run(['logs', 'nobody']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^error ResourceNotFoundException: The specified log group does not exist\. — next: /m);
});

test('serve: prints where it listens, the data dir, the sandbox and the console; serve --region is serve’s own', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const serve = cli.start(['serve', '--port', '0', '--data-dir', join(h.dir, 'other'), '--region', 'eu-west-1']);
  t.after(() => serve.stop());
  const [, url = ''] = await serve.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
  await serve.waitFor(/try .*\n/);
  assert.match(serve.output(), new RegExp(`data dir\\s+${join(h.dir, 'other').replaceAll('/', '\\/')}\\n`));
  assert.match(serve.output(), /sandbox\s+bwrap \(/);
  assert.match(serve.output(), /\n {12}memory limit: .+\n/, 'how the memory limit is enforced here, or why not');
  assert.match(serve.output(), new RegExp(`console\\s+${url.replaceAll('/', '\\/')}\\/\\n`));
  const other = lambkinCli(url, h.dir);
  const create = await other.run(['--json', 'function', 'create', 'r', '--code', join(FUNCTIONS, 'esm-async')]);
  assert.equal(create.code, 0, create.stderr);
  assert.equal(
    (JSON.parse(create.stdout) as { FunctionArn: string }).FunctionArn,
    'arn:aws:lambda:eu-west-1:000000000000:function:r',
  );
  assert.equal(await serve.stop(), 0);
});

test('invoke --stream: chunks on stdout as they come, a mid-stream error exits 3, not with --async', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  for (const handler of ['handler', 'fails', 'http']) {
    const create = await cli.run([
      'function',
      'create',
      `stream-${handler}`,
      '--code',
      join(FUNCTIONS, 'streaming'),
      '--handler',
      `index.${handler}`,
    ]);
    assert.equal(create.code, 0, create.stderr);
  }
  const run = await cli.run(['invoke', 'stream-handler', '--stream', '--tail']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'hello stream\n');
  assert.match(run.stderr, /^REPORT RequestId: /m);
  assert.match(run.stderr, /· \d+ chunk\(s\) in /);
  const json = await cli.run(['--json', 'invoke', 'stream-handler', '--stream']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(parsed.Payload, 'hello stream');
  assert.equal(parsed.ResponseStreamContentType, 'text/plain');
  const failed = await cli.run(['invoke', 'stream-fails', '--stream']);
  assert.equal(failed.code, 3);
  assert.equal(failed.stdout, 'partial\n');
  assert.match(failed.stderr, /^stream ended with an error Error: mid-stream$/m);
  // An HTTP prelude (HttpResponseStream.from) is a status line and headers on stderr; stdout has the body alone.
  const http = await cli.run(['invoke', 'stream-http', '--stream']);
  assert.equal(http.code, 0, http.stderr);
  assert.equal(http.stdout, 'body\n');
  assert.match(http.stderr, /^HTTP 201 · x-lamb: kin · set-cookie: a=1$/m);
  const httpJson = await cli.run(['--json', 'invoke', 'stream-http', '--stream']);
  assert.deepEqual(
    [
      (JSON.parse(httpJson.stdout) as { Http: unknown }).Http,
      (JSON.parse(httpJson.stdout) as { Payload: unknown }).Payload,
    ],
    [{ statusCode: 201, headers: { 'x-lamb': 'kin' }, cookies: ['a=1'] }, 'body'],
  );
  const both = await cli.run(['invoke', 'stream-handler', '--stream', '--async']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /option '--stream' cannot be used with option '--async'/);
});

test('function create --tenant-isolation and invoke --tenant-id', async (t) => {
  const h = await startApi(t);
  const cli = lambkinCli(h.url, h.dir);
  const dir = join(h.dir, 'tenant-fn');
  await mkdir(dir);
  await writeFile(
    join(dir, 'index.mjs'),
    'export const handler = async (e, context) => ({ tenant: context.tenantId });\n',
  );
  const create = await cli.run(['--json', 'function', 'create', 'iso', '--code', dir, '--tenant-isolation']);
  assert.equal(create.code, 0, create.stderr);
  assert.deepEqual((JSON.parse(create.stdout) as { TenancyConfig: unknown }).TenancyConfig, {
    TenantIsolationMode: 'PER_TENANT',
  });
  const run = await cli.run(['invoke', 'iso', '--tenant-id', 'blue']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { tenant: 'blue' });
  const missing = await cli.run(['invoke', 'iso']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error InvalidParameterValueException: The invoked function is enabled with tenancy/);
});
