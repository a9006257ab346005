/**
 * The CloudWatch Logs API driven by the real aws CLI v2 (`logs tail`, `--follow`, `filter-log-events`, errors),
 * and its AWS JSON 1.1 error shapes on the wire.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { awsEnv, runAws } from '../api/harness.ts';
import { AWS_V2, startLogsApi } from './harness.ts';

test('aws logs tail prints START/END/REPORT; filter-log-events filters; errors carry the AWS name', async (t) => {
  const h = await startLogsApi(t);
  await h.createEcho('echo');
  const id = await h.invoke('echo', { hello: 'tail' });
  const aws = (args: string[]) => h.aws(args, AWS_V2);

  const tail = await aws(['logs', 'tail', '/aws/lambda/echo', '--format', 'short']);
  assert.equal(tail.code, 0, tail.stderr);
  assert.match(tail.stdout, new RegExp(`START RequestId: ${id} Version: \\$LATEST`));
  assert.match(tail.stdout, /echo handler got: \{"hello":"tail"\}/);
  assert.match(tail.stdout, new RegExp(`END RequestId: ${id}`));
  assert.match(tail.stdout, new RegExp(`REPORT RequestId: ${id}\\s+Duration: [\\d.]+ ms`));
  const detailed = await aws(['logs', 'tail', '/aws/lambda/echo', '--since', '1h']);
  assert.match(detailed.stdout, /\[\$LATEST\][0-9a-f]{32} START RequestId/, 'the detailed format names the stream');

  /** The messages `aws logs filter-log-events` prints for a filter pattern. */
  const filterMessages = async (pattern: string): Promise<string[]> => {
    const r = await aws([
      'logs',
      'filter-log-events',
      '--log-group-name',
      '/aws/lambda/echo',
      '--filter-pattern',
      pattern,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return (r.json().events as { message: string }[]).map((e) => e.message);
  };
  assert.deepEqual(
    (await filterMessages('?REPORT ?END')).map((m) => m.split('\t')[0]),
    [`END RequestId: ${id}`, `REPORT RequestId: ${id}`],
  );
  const tailFiltered = await aws(['logs', 'tail', '/aws/lambda/echo', '--filter-pattern', '"handler got"']);
  assert.equal(tailFiltered.stdout.trim().split('\n').length, 1);
  // The space-delimited pattern AWS's Lambda guides use on REPORT lines, and a regular expression.
  const report = await filterMessages(
    '[type = "REPORT", request_id_label, request_id, duration_label = "Duration:", duration >= 0, unit = ms, ...]',
  );
  assert.deepEqual(
    report.map((m) => m.split('\t')[0]),
    [`REPORT RequestId: ${id}`],
  );
  assert.deepEqual(
    (await filterMessages('%^START |^END %')).map((m) => m.split(' ')[0]),
    ['START', 'END'],
  );

  const streams = await aws(['logs', 'describe-log-streams', '--log-group-name', '/aws/lambda/echo']);
  const streamName = (streams.json().logStreams as { logStreamName: string }[])[0]?.logStreamName ?? '';
  const got = await aws([
    'logs',
    'get-log-events',
    '--log-group-name',
    '/aws/lambda/echo',
    '--log-stream-name',
    streamName,
    '--start-from-head',
  ]);
  assert.equal(got.code, 0, got.stderr);
  assert.match(String(got.json().nextForwardToken), /^f\/\d{56}$/);

  // Errors, as the CLI prints them.
  const noGroup = await aws(['logs', 'tail', '/aws/lambda/nope']);
  assert.notEqual(noGroup.code, 0);
  assert.match(
    noGroup.stderr,
    /An error occurred \(ResourceNotFoundException\) when calling the FilterLogEvents operation: The specified log group does not exist\./,
  );
  const noStream = await aws([
    'logs',
    'get-log-events',
    '--log-group-name',
    '/aws/lambda/echo',
    '--log-stream-name',
    'nope',
  ]);
  assert.match(noStream.stderr, /\(ResourceNotFoundException\).*The specified log stream does not exist\./);
  const json = await aws([
    'logs',
    'filter-log-events',
    '--log-group-name',
    '/aws/lambda/echo',
    '--filter-pattern',
    '[ip, user = "unclosed]',
  ]);
  assert.match(
    json.stderr,
    /\(InvalidParameterException\) when calling the FilterLogEvents operation: Invalid filter pattern: a quote is not closed/,
  );
  const badToken = await aws([
    'logs',
    'describe-log-streams',
    '--log-group-name',
    '/aws/lambda/echo',
    '--starting-token',
    'x',
    '--max-items',
    '1',
  ]);
  assert.notEqual(badToken.code, 0);
  const both = await aws([
    'logs',
    'describe-log-streams',
    '--log-group-name',
    '/aws/lambda/echo',
    '--order-by',
    'LastEventTime',
    '--log-stream-name-prefix',
    '2',
  ]);
  assert.match(
    both.stderr,
    /\(InvalidParameterException\).*Cannot order by LastEventTime with a logStreamNamePrefix\./,
  );
  const tooMany = await aws(['logs', 'describe-log-groups', '--limit', '51']);
  assert.match(
    tooMany.stderr,
    /\(InvalidParameterException\).*1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50/,
  );
});

test('aws logs tail --follow prints a line from an invoke made while it follows', async (t) => {
  const h = await startLogsApi(t);
  await h.createEcho('echo');
  await h.invoke('echo', { before: true });
  const child = spawn(
    AWS_V2,
    ['logs', 'tail', '/aws/lambda/echo', '--follow', '--format', 'short', '--endpoint-url', h.url],
    {
      // Python block-buffers a piped stdout; the test reads it line by line.
      env: { ...awsEnv(h.dir), PYTHONUNBUFFERED: '1' },
      cwd: h.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const waitFor = async (pattern: RegExp, ms: number) => {
    const deadline = Date.now() + ms;
    while (!pattern.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        assert.fail(`no ${String(pattern)} in ${ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  await waitFor(/echo handler got: \{"before":true\}/, 30_000);
  const id = await h.invoke('echo', { during: 'follow' });
  // The CLI polls every 5 s.
  await waitFor(/echo handler got: \{"during":"follow"\}/, 30_000);
  await waitFor(new RegExp(`REPORT RequestId: ${id}`), 30_000);
  assert.equal(stdout.match(/echo handler got: \{"before":true\}/g)?.length, 1, 'no event is printed twice');
  child.kill('SIGINT');
});

test('wire: AWS JSON 1.1 errors for bad bodies, unknown targets and methods; never a stack trace', async (t) => {
  const h = await startLogsApi(t);
  const post = (target: string, body: string, method = 'POST') =>
    fetch(h.url + '/', {
      method,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      ...(method === 'POST' ? { body } : {}),
    });
  const check = async (res: Response, status: number, expected: Record<string, unknown>) => {
    assert.equal(res.status, status);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.match(String(res.headers.get('x-amzn-requestid')), /^[0-9a-f-]{36}$/);
    assert.deepEqual(await res.json(), expected);
  };
  await check(await post('Logs_20140328.DescribeLogGroups', '{not json'), 400, { __type: 'SerializationException' });
  await check(await post('Logs_20140328.DescribeLogGroups', '[]'), 400, { __type: 'SerializationException' });
  await check(await post('Logs_20140328.PutLogEvents', '{}'), 400, { __type: 'UnknownOperationException' });
  await check(await post('Logs_20140328.constructor', '{}'), 400, { __type: 'UnknownOperationException' });
  await check(await post('Logs_20140328.DescribeLogGroups', '', 'GET'), 400, { __type: 'UnknownOperationException' });
  await check(await post('Logs_20140328.DescribeLogGroups', '{"limit":"5"}'), 400, {
    __type: 'SerializationException',
    message: "Value for 'limit' must be an integer.",
  });
  await check(await post('Logs_20140328.GetLogEvents', '{"logGroupName":"/aws/lambda/x"}'), 400, {
    __type: 'InvalidParameterException',
    message:
      "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
  });
  await check(await post('Logs_20140328.DescribeLogStreams', '{}'), 400, {
    __type: 'InvalidParameterException',
    message: 'Should provide either logGroupName or logGroupIdentifier.',
  });
  await check(await post('Logs_20140328.DescribeLogStreams', '{"logGroupName":"/aws/lambda/nope"}'), 400, {
    __type: 'ResourceNotFoundException',
    message: 'The specified log group does not exist.',
  });
  await check(await post('Logs_20140328.DescribeLogStreams', '{"logGroupName":".."}'), 400, {
    __type: 'ResourceNotFoundException',
    message: 'The specified log group does not exist.',
  });
  await check(await post('Logs_20140328.FilterLogEvents', '{"logGroupName":"a","logStreamNames":[],"limit":0}'), 400, {
    __type: 'InvalidParameterException',
    message:
      "2 validation errors detected: Value '[]' at 'logStreamNames' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
  });
  await check(await post('Logs_20140328.GetLogEvents', '{"logGroupName":"a:b","logStreamName":"s"}'), 400, {
    __type: 'InvalidParameterException',
    message:
      "1 validation error detected: Value 'a:b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [.\\-_/#A-Za-z0-9]+",
  });
  const store = h.lambkin.logs;
  await (await store.openStream('/aws/lambda/g', 's')).close();
  await check(
    await post('Logs_20140328.GetLogEvents', '{"logGroupName":"/aws/lambda/g","logStreamName":"s","nextToken":"f/1"}'),
    400,
    { __type: 'InvalidParameterException', message: 'The specified nextToken is invalid.' },
  );
  await check(
    await post('Logs_20140328.FilterLogEvents', '{"logGroupName":"/aws/lambda/g","nextToken":"eyJrIjoiZyJ9"}'),
    400,
    {
      __type: 'InvalidParameterException',
      message: 'The specified nextToken is invalid.',
    },
  );
  await check(
    await post('Logs_20140328.FilterLogEvents', '{"logGroupName":"/aws/lambda/g","filterPattern":"\\"open"}'),
    400,
    {
      __type: 'InvalidParameterException',
      message: 'Invalid filter pattern: unterminated quote in "\\"open"',
    },
  );
  // A request without the target is the Lambda API's.
  const lambda = await fetch(h.url + '/', { method: 'POST', body: '{}' });
  assert.equal(lambda.headers.get('x-amzn-errortype'), 'UnknownOperationException');
});

test('auth strict: the Logs API verifies SigV4 with the signing name logs', async (t) => {
  const keys = { LAMBKIN_ACCESS_KEY_ID: 'AKIALAMBKINTEST00001', LAMBKIN_SECRET_ACCESS_KEY: 'right-secret' };
  const h = await startLogsApi(t, { auth: 'strict' }, keys);
  const client = (accessKeyId: string, secretAccessKey: string) => {
    const c = new CloudWatchLogsClient({
      endpoint: h.url,
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
    t.after(() => {
      c.destroy();
    });
    return c;
  };
  const good = await client(keys.LAMBKIN_ACCESS_KEY_ID, keys.LAMBKIN_SECRET_ACCESS_KEY).send(
    new DescribeLogGroupsCommand({}),
  );
  assert.deepEqual(good.logGroups, []);
  await assert.rejects(client(keys.LAMBKIN_ACCESS_KEY_ID, 'wrong').send(new DescribeLogGroupsCommand({})), {
    name: 'InvalidSignatureException',
  });
  await assert.rejects(client('AKIAUNKNOWN000000000', 'x').send(new DescribeLogGroupsCommand({})), {
    name: 'UnrecognizedClientException',
  });
  const unsigned = await fetch(h.url + '/', {
    method: 'POST',
    headers: { 'x-amz-target': 'Logs_20140328.DescribeLogGroups', 'content-type': 'application/x-amz-json-1.1' },
    body: '{}',
  });
  assert.equal(unsigned.status, 400);
  assert.deepEqual(await unsigned.json(), {
    __type: 'MissingAuthenticationTokenException',
    message: 'Missing Authentication Token',
  });
  const env = {
    ...awsEnv(h.dir),
    AWS_ACCESS_KEY_ID: keys.LAMBKIN_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: 'wrong',
  };
  const cli = await runAws(AWS_V2, ['logs', 'describe-log-groups', '--endpoint-url', h.url], env, h.dir);
  assert.match(cli.stderr, /\(InvalidSignatureException\) when calling the DescribeLogGroups operation/);
});
