/**
 * The CloudWatch Logs API through the real AWS SDK for JavaScript (v3), on the same port as the Lambda API, over
 * the log group of a real function and over a synthetic group written through the live server's LogStore.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  paginateDescribeLogGroups,
  paginateDescribeLogStreams,
  paginateFilterLogEvents,
  paginateGetLogEvents,
  type FilteredLogEvent,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { ROLE } from '../api/harness.ts';
import { rawZip } from '../helpers/raw-zip.ts';
import { startLogsApi } from './harness.ts';

test('sdk: a function’s group, stream and events, with every parameter and pagination', async (t) => {
  const h = await startLogsApi(t);
  const { logsClient: logs } = h;
  await h.createEcho('echo');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await h.invoke('echo', { n: i }));

  // DescribeLogGroups: prefix, pattern (case-insensitive substring), shape.
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/' }));
  assert.equal(groups.logGroups?.length, 1);
  const group = groups.logGroups?.[0];
  assert.equal(group?.logGroupName, '/aws/lambda/echo');
  assert.equal(group?.arn, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/echo:*');
  assert.equal(group?.logGroupArn, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/echo');
  assert.equal(group?.logGroupClass, 'STANDARD');
  assert.equal(group?.metricFilterCount, 0);
  assert.equal(typeof group?.creationTime, 'number');
  assert.ok((group?.storedBytes ?? 0) > 0);
  assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'ECHO' }))).logGroups?.length, 1);
  assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/nope' }))).logGroups?.length, 0);
  assert.equal(
    (
      await logs.send(
        new DescribeLogGroupsCommand({
          logGroupIdentifiers: ['arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/echo'],
        }),
      )
    ).logGroups?.length,
    1,
  );

  // DescribeLogStreams: one warm environment = one stream.
  const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/echo' }));
  assert.equal(streams.logStreams?.length, 1);
  const stream = streams.logStreams?.[0];
  const streamName = String(stream?.logStreamName);
  assert.match(streamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  assert.equal(stream?.arn, `arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/echo:log-stream:${streamName}`);
  assert.match(String(stream?.uploadSequenceToken), /^\d{56}$/);
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- checking AWS's deprecated value on purpose
  assert.equal(stream?.storedBytes, 0, 'deprecated for streams: AWS reports 0');
  assert.ok(Number(stream?.firstEventTimestamp) <= Number(stream?.lastEventTimestamp));
  assert.ok(Number(stream?.lastIngestionTime) >= Number(stream?.lastEventTimestamp));
  assert.equal(typeof stream?.creationTime, 'number');
  const byTime = await logs.send(
    new DescribeLogStreamsCommand({
      logGroupIdentifier: '/aws/lambda/echo',
      orderBy: 'LastEventTime',
      descending: true,
    }),
  );
  assert.equal(byTime.logStreams?.[0]?.logStreamName, streamName);

  // GetLogEvents from the head, two at a time, until the forward token repeats (the SDK's stopOnSameToken).
  const stored = await h.lambkin.logs.readEvents('/aws/lambda/echo', streamName);
  assert.ok(stored.length >= 9, 'START, output, END, REPORT per invoke');
  const forward: OutputLogEvent[] = [];
  let pages = 0;
  for await (const page of paginateGetLogEvents(
    { client: logs, pageSize: 2, stopOnSameToken: true },
    { logGroupName: '/aws/lambda/echo', logStreamName: streamName, startFromHead: true },
  )) {
    pages++;
    assert.ok(pages < 100, 'pagination terminates');
    forward.push(...(page.events ?? []));
  }
  assert.deepEqual(
    forward.map((e) => e.message),
    stored.map((e) => e.message),
  );
  assert.ok(forward.every((e) => typeof e.timestamp === 'number' && e.ingestionTime === e.timestamp));
  for (const id of ids) {
    assert.ok(forward.some((e) => e.message === `START RequestId: ${id} Version: $LATEST`));
    assert.ok(forward.some((e) => e.message === `END RequestId: ${id}`));
    assert.ok(forward.some((e) => e.message?.startsWith(`REPORT RequestId: ${id}\tDuration: `)));
  }
  assert.ok(forward.some((e) => e.message === 'echo handler got: {"n":1}'));

  // The default reads the tail (newest events); the backward token walks to the head, then repeats.
  const tail = await logs.send(
    new GetLogEventsCommand({ logGroupName: '/aws/lambda/echo', logStreamName: streamName, limit: 3 }),
  );
  assert.deepEqual(
    tail.events?.map((e) => e.message),
    stored.slice(-3).map((e) => e.message),
  );
  const backward: string[] = [...(tail.events ?? []).map((e) => String(e.message))];
  let token = String(tail.nextBackwardToken);
  for (let i = 0; i < 100; i++) {
    const page = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/aws/lambda/echo',
        logStreamName: streamName,
        limit: 4,
        nextToken: token,
      }),
    );
    backward.unshift(...(page.events ?? []).map((e) => String(e.message)));
    if (page.nextBackwardToken === token) break;
    token = String(page.nextBackwardToken);
  }
  assert.deepEqual(
    backward,
    stored.map((e) => e.message),
  );
  const atEnd = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/aws/lambda/echo',
      logStreamName: streamName,
      nextToken: tail.nextForwardToken,
    }),
  );
  assert.deepEqual(atEnd.events, []);
  assert.equal(atEnd.nextForwardToken, tail.nextForwardToken, 'at the end the forward token repeats');

  // Time window: startTime inclusive, endTime exclusive.
  const t0 = Number(stored[0]?.timestamp);
  const windowed = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/aws/lambda/echo',
      logStreamName: streamName,
      startTime: t0,
      endTime: t0,
      startFromHead: true,
    }),
  );
  assert.deepEqual(windowed.events, []);

  // FilterLogEvents: plain terms, quoted phrases, ?OR terms, exclusions.
  const filter = async (filterPattern: string) =>
    (await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/echo', filterPattern }))).events?.map(
      (e) => String(e.message),
    ) ?? [];
  assert.equal((await filter('START')).length, 4, 'INIT_START and three START lines (terms match substrings)');
  assert.deepEqual(
    await filter('"START RequestId"'),
    ids.map((id) => `START RequestId: ${id} Version: $LATEST`),
  );
  assert.deepEqual(await filter('"handler got: {\\"n\\":2}"'), ['echo handler got: {"n":2}']);
  assert.deepEqual(await filter(`"${String(ids[1])}" ?END ?START`), [
    `START RequestId: ${String(ids[1])} Version: $LATEST`,
    `END RequestId: ${String(ids[1])}`,
  ]);
  assert.equal((await filter('RequestId -REPORT -START')).length, 3, 'only the END lines');
  assert.equal((await filter('')).length, stored.length);

  // Pagination over FilterLogEvents: every event once, in order; ids stable across calls.
  const all: FilteredLogEvent[] = [];
  for await (const page of paginateFilterLogEvents(
    { client: logs, pageSize: 2 },
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- `aws logs tail` still sends it; it must be accepted
    { logGroupName: '/aws/lambda/echo', interleaved: true },
  )) {
    all.push(...(page.events ?? []));
    assert.deepEqual(
      page.searchedLogStreams?.map((s) => s.logStreamName),
      [streamName],
    );
  }
  assert.deepEqual(
    all.map((e) => e.message),
    stored.map((e) => e.message),
  );
  assert.ok(all.every((e) => /^\d{56}$/.test(String(e.eventId)) && e.logStreamName === streamName));
  assert.equal(new Set(all.map((e) => e.eventId)).size, all.length);
  const again = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/echo', limit: 1 }));
  assert.equal(again.events?.[0]?.eventId, all[0]?.eventId, 'event ids are stable');
  const fromList = await logs.send(
    new FilterLogEventsCommand({
      logGroupName: '/aws/lambda/echo',
      logStreamNames: [streamName],
      filterPattern: 'END',
    }),
  );
  assert.equal(fromList.events?.length, 3);
  const noStream = await logs.send(
    new FilterLogEventsCommand({ logGroupName: '/aws/lambda/echo', logStreamNamePrefix: '1999/' }),
  );
  assert.deepEqual(noStream.events, []);
  assert.deepEqual(noStream.searchedLogStreams, []);
});

test('sdk: many streams and groups page stably; FilterLogEvents interleaves by time', async (t) => {
  const h = await startLogsApi(t);
  const { logsClient: logs } = h;
  const store = h.lambkin.logs;
  // 7 streams × 40 events written through the live server's LogStore, with explicit, interleaved timestamps.
  const base = 1_700_000_000_000;
  const expected: { stream: string; timestamp: number; message: string }[] = [];
  for (let s = 0; s < 7; s++) {
    const stream = `2024/01/0${s + 1}/[$LATEST]${String(s).repeat(32)}`;
    const writer = await store.openStream('/aws/lambda/many', stream);
    for (let i = 0; i < 40; i++) {
      const timestamp = base + i * 10 + s;
      const message = `event ${i} of stream ${s}` + (i % 5 === 0 ? ' ERROR' : '');
      writer.write(message, timestamp);
      expected.push({ stream, timestamp, message });
    }
    await writer.close();
  }
  for (let g = 0; g < 5; g++) await (await store.openStream(`/aws/lambda/g${g}`, 'x')).close();

  // DescribeLogGroups: 6 groups, pages of 2, sorted by name.
  const groupNames: string[] = [];
  for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 2 }, {})) {
    assert.ok((page.logGroups?.length ?? 0) <= 2);
    groupNames.push(...(page.logGroups ?? []).map((g) => String(g.logGroupName)));
  }
  assert.deepEqual(groupNames, [
    '/aws/lambda/g0',
    '/aws/lambda/g1',
    '/aws/lambda/g2',
    '/aws/lambda/g3',
    '/aws/lambda/g4',
    '/aws/lambda/many',
  ]);

  // DescribeLogStreams: by name (ascending, descending) and by last event time, pages of 3.
  const streamNames = async (input: { orderBy?: 'LogStreamName' | 'LastEventTime'; descending?: boolean }) => {
    const out: string[] = [];
    for await (const page of paginateDescribeLogStreams(
      { client: logs, pageSize: 3 },
      { logGroupName: '/aws/lambda/many', ...input },
    )) {
      out.push(...(page.logStreams ?? []).map((s) => String(s.logStreamName)));
    }
    return out;
  };
  const sorted = [...new Set(expected.map((e) => e.stream))].sort();
  assert.deepEqual(await streamNames({}), sorted);
  assert.deepEqual(await streamNames({ descending: true }), [...sorted].reverse());
  assert.deepEqual(await streamNames({ orderBy: 'LastEventTime', descending: true }), [...sorted].reverse());
  assert.deepEqual(await streamNames({ orderBy: 'LastEventTime' }), sorted);
  const described = await logs.send(
    new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/many', logStreamNamePrefix: '2024/01/03/', limit: 1 }),
  );
  assert.equal(described.logStreams?.length, 1);
  assert.equal(described.nextToken, undefined);
  assert.equal(described.logStreams?.[0]?.firstEventTimestamp, base + 2);
  assert.equal(described.logStreams?.[0]?.lastEventTimestamp, base + 390 + 2);

  // FilterLogEvents over all 7 streams: interleaved by timestamp, pages of 9, every event exactly once.
  const order = [...expected].sort((a, b) => a.timestamp - b.timestamp);
  const got: FilteredLogEvent[] = [];
  for await (const page of paginateFilterLogEvents(
    { client: logs, pageSize: 9 },
    { logGroupName: '/aws/lambda/many' },
  )) {
    got.push(...(page.events ?? []));
  }
  assert.deepEqual(
    got.map((e) => [e.logStreamName, e.timestamp, e.message]),
    order.map((e) => [e.stream, e.timestamp, e.message]),
  );

  // With a time window, a pattern, a stream prefix and a small limit.
  const errors: FilteredLogEvent[] = [];
  for await (const page of paginateFilterLogEvents(
    { client: logs, pageSize: 2 },
    {
      logGroupName: '/aws/lambda/many',
      filterPattern: 'ERROR',
      startTime: base + 100,
      endTime: base + 300,
      logStreamNamePrefix: '2024/01/0',
    },
  )) {
    errors.push(...(page.events ?? []));
  }
  assert.deepEqual(
    errors.map((e) => e.message),
    order
      .filter((e) => e.message.endsWith('ERROR') && e.timestamp >= base + 100 && e.timestamp < base + 300)
      .map((e) => e.message),
  );
  assert.equal(errors.length, 7 * 4);

  // GetLogEvents with a time window reads only that window (and pages through it both ways).
  const stream0 = String(sorted[0]);
  const windowed: OutputLogEvent[] = [];
  for await (const page of paginateGetLogEvents(
    { client: logs, pageSize: 7, stopOnSameToken: true },
    {
      logGroupName: '/aws/lambda/many',
      logStreamName: stream0,
      startTime: base + 50,
      endTime: base + 150,
      startFromHead: true,
    },
  )) {
    windowed.push(...(page.events ?? []));
  }
  assert.deepEqual(
    windowed.map((e) => e.timestamp),
    Array.from({ length: 10 }, (_, i) => base + 50 + i * 10),
  );
});

test('sdk: large streams are read by range, through many index segments, both ways', async (t) => {
  const h = await startLogsApi(t);
  const { logsClient: logs } = h;
  const writer = await h.lambkin.logs.openStream('/aws/lambda/big', 'big');
  const base = 1_600_000_000_000;
  const pad = 'x'.repeat(1000);
  const n = 3000; // ~3 MB: more than one 1 MB response, ~50 index segments
  for (let i = 0; i < n; i++) {
    if (!writer.write(`line ${i} ${pad}`, base + i))
      await new Promise<void>((r) => {
        writer.onDrain(r);
      });
  }
  await writer.close();

  // A default read is capped at 1 MB; the head-first walk returns every line once, in order.
  const first = await logs.send(
    new GetLogEventsCommand({ logGroupName: '/aws/lambda/big', logStreamName: 'big', startFromHead: true }),
  );
  const size = (first.events ?? []).reduce((s, e) => s + Buffer.byteLength(String(e.message)) + 26, 0);
  assert.ok(size <= 1_048_576 && (first.events?.length ?? 0) < n, 'one response holds at most 1 MB');
  let count = 0;
  for await (const page of paginateGetLogEvents(
    { client: logs, stopOnSameToken: true },
    { logGroupName: '/aws/lambda/big', logStreamName: 'big', startFromHead: true },
  )) {
    for (const e of page.events ?? []) {
      assert.equal(e.timestamp, base + count);
      count++;
    }
  }
  assert.equal(count, n);

  // A window in the middle, from the tail side.
  const mid = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/aws/lambda/big',
      logStreamName: 'big',
      endTime: base + 1500,
      limit: 5,
    }),
  );
  assert.deepEqual(
    mid.events?.map((e) => e.timestamp),
    [base + 1495, base + 1496, base + 1497, base + 1498, base + 1499],
  );
  const filtered = await logs.send(
    new FilterLogEventsCommand({ logGroupName: '/aws/lambda/big', filterPattern: '"line 2999 "' }),
  );
  assert.equal(filtered.events?.length, 1);
  assert.equal(filtered.nextToken, undefined);
});

test('sdk: JSON filter patterns select records of a function with LogFormat JSON', async (t) => {
  const h = await startLogsApi(t);
  const handler =
    'export const handler = async () => { console.info("fine"); console.error("boom", { code: 7 }); return 1; };';
  await h.sdk.send(
    new CreateFunctionCommand({
      FunctionName: 'jsonlogs',
      Runtime: 'nodejs24.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: rawZip([{ name: 'index.mjs', data: handler }]) },
      LoggingConfig: { LogFormat: 'JSON' },
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.sdk, maxWaitTime: 60, minDelay: 1 }, { FunctionName: 'jsonlogs' });
  await h.sdk.send(new InvokeCommand({ FunctionName: 'jsonlogs' }));
  const filter = async (pattern: string) => {
    // Log lines reach the file a moment after the invoke returns.
    for (let i = 0; ; i++) {
      const out = await h.logsClient.send(
        new FilterLogEventsCommand({ logGroupName: '/aws/lambda/jsonlogs', filterPattern: pattern }),
      );
      const messages = (out.events ?? []).map((e) => JSON.parse(e.message ?? '{}') as Record<string, unknown>);
      if (messages.length > 0 || i > 100) return messages;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const errors = await filter('{ $.level = "ERROR" }');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.message, 'boom { code: 7 }');
  const both = await filter('{ $.level = "ERROR" || $.level = "INFO" }');
  assert.deepEqual(
    both.map((m) => m.level),
    ['INFO', 'ERROR'],
  );
});
