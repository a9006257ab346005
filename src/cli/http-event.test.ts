import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromLambdaResult, splitHttpPrelude, toApiGatewayV2Event } from './http-event.ts';
import { since } from './commands/logs.ts';

test('http event: a request becomes an API Gateway HTTP API 2.0 event (cookies, query, base64 for binary)', () => {
  const event = toApiGatewayV2Event(
    {
      method: 'POST',
      url: '/a%20b/c?x=1&x=2&y=',
      headers: { 'content-type': 'application/octet-stream', cookie: 'a=1; b=2', 'x-many': ['p', 'q'] },
      body: Buffer.from([0, 1, 2]),
      sourceIp: '127.0.0.1',
      host: 'localhost:3000',
    },
    new Date('2026-03-12T19:03:58Z'),
  );
  assert.equal(event.version, '2.0');
  assert.equal(event.rawPath, '/a b/c');
  assert.equal(event.rawQueryString, 'x=1&x=2&y=');
  assert.deepEqual(event.queryStringParameters, { x: '1,2', y: '' });
  assert.deepEqual(event.cookies, ['a=1', 'b=2']);
  assert.deepEqual(event.headers, { 'content-type': 'application/octet-stream', 'x-many': 'p,q' });
  assert.equal(event.isBase64Encoded, true);
  assert.equal(event.body, 'AAEC');
  const context = event.requestContext as { http: { method: string }; time: string; timeEpoch: number };
  assert.equal(context.http.method, 'POST');
  assert.equal(context.time, '12/Mar/2026:19:03:58 +0000');

  const text = toApiGatewayV2Event({
    method: 'GET',
    url: '/',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"a":1}'),
    sourceIp: '::1',
    host: 'h',
  });
  assert.equal(text.isBase64Encoded, false);
  assert.equal(text.body, '{"a":1}');
  assert.equal('queryStringParameters' in text, false);
});

test('http event: results map back as API Gateway does for payload format 2.0', () => {
  const full = fromLambdaResult(
    Buffer.from(
      JSON.stringify({
        statusCode: 201,
        headers: { 'X-A': 'b' },
        cookies: ['s=1'],
        body: 'aGk=',
        isBase64Encoded: true,
      }),
    ),
    false,
  );
  assert.equal(full.statusCode, 201);
  assert.deepEqual(full.headers, { 'x-a': 'b' });
  assert.deepEqual(full.cookies, ['s=1']);
  assert.equal(full.body.toString(), 'hi');

  const plain = fromLambdaResult(Buffer.from('{"hello":"world"}'), false);
  assert.equal(plain.statusCode, 200);
  assert.equal(plain.headers['content-type'], 'application/json');
  assert.equal(plain.body.toString(), '{"hello":"world"}');

  assert.equal(fromLambdaResult(Buffer.from('{"errorMessage":"x"}'), true).statusCode, 500);
  assert.equal(fromLambdaResult(Buffer.from('{"statusCode":"nope"}'), false).statusCode, 500);
});

test('logs --since: ages and times', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(since('10m', now), now - 600_000);
  assert.equal(since('2h', now), now - 7_200_000);
  assert.equal(since('2026-01-01T11:00:00Z', now), now - 3_600_000);
  assert.throws(() => since('yesterday', now), /neither an age/);
});

test('http prelude: split at the 8 NUL bytes; null until they arrive; a malformed prelude is a 500', () => {
  const nul = Buffer.alloc(8);
  const prelude = Buffer.from('{"statusCode":201,"headers":{"X-Lamb":"kin"},"cookies":["a=1"]}');
  assert.equal(splitHttpPrelude(Buffer.concat([prelude, Buffer.alloc(7)])), null);
  assert.deepEqual(splitHttpPrelude(Buffer.concat([prelude, nul, Buffer.from('body')])), {
    response: { statusCode: 201, headers: { 'x-lamb': 'kin' }, cookies: ['a=1'] },
    rest: Buffer.from('body'),
  });
  assert.deepEqual(splitHttpPrelude(Buffer.concat([Buffer.from('{}'), nul])), {
    response: { statusCode: 200, headers: {}, cookies: [] },
    rest: Buffer.alloc(0),
  });
  for (const bad of ['not json', '"text"', '{"statusCode":99}']) {
    assert.equal(splitHttpPrelude(Buffer.concat([Buffer.from(bad), nul, Buffer.from('x')]))?.response.statusCode, 500);
  }
});
