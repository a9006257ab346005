import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventFields } from './delimited-filter.ts';
import { FilterPatternError, parseFilterPattern } from './filter-pattern.ts';

const APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534';
const REPORT =
  'REPORT RequestId: 6f0a7a4c-0d51-4d3c-a5e8-5f7c2e0c1b2a\tDuration: 1503.27 ms\tBilled Duration: 1504 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\t';
const TEXT_LINE = '2026-12-05T05:00:00.000Z\t6f0a7a4c-0d51-4d3c-a5e8-5f7c2e0c1b2a\tERROR\tInvoke Error {"x":1}';

test('event fields: blanks separate, "…" and […] hold one field each, without their delimiters', () => {
  assert.deepEqual(eventFields(APACHE), [
    '127.0.0.1',
    '-',
    'frank',
    '10/Oct/2000:13:25:15 -0700',
    'GET /apache_pb.gif HTTP/1.0',
    '404',
    '1534',
  ]);
  assert.deepEqual(eventFields('  a\t\tb  "unclosed c'), ['a', 'b', '"unclosed', 'c']);
  assert.deepEqual(eventFields(''), []);
});

test('space-delimited patterns: names, ellipsis, strings, wildcards, numbers, && and ||', () => {
  const yes: [string, string][] = [
    ['[ip, user, username, timestamp, request, status_code, bytes]', APACHE],
    ['[ip, user, username, timestamp, request = "GET *", status_code = 404, bytes]', APACHE],
    ['[ip, ..., status_code = 4*, bytes > 1000]', APACHE],
    ['[..., status_code = 4* || status_code = 5*, bytes]', APACHE],
    ['[ip = 127.0.0.1, ...]', APACHE],
    ['[ip, user = -, ...]', APACHE],
    ['[..., status_code >= 400 && status_code < 500, bytes]', APACHE],
    ['[..., status_code != 200, bytes]', APACHE],
    ['[..., request = %\\.gif HTTP%, status_code, bytes]', APACHE],
    ['[...]', APACHE],
    ['[type = REPORT, ..., label = "Duration:", duration > 1000, unit = ms, ...]', REPORT],
    ['[time, request_id, level = ERROR, ...]', TEXT_LINE],
    ['[time, request_id, level = ERROR || level = WARN, message = "Invoke*", ...]', TEXT_LINE],
  ];
  const no: [string, string][] = [
    ['[ip, user, username, timestamp, request, status_code]', APACHE], // one field short, no ellipsis
    ['[ip, ..., status_code = 5*, bytes]', APACHE],
    ['[..., bytes < 1000]', APACHE],
    ['[..., status_code != 404, bytes]', APACHE],
    ['[ip = 10.*, ...]', APACHE],
    ['[..., request = %^POST%, status_code, bytes]', APACHE],
    ['[type = REPORT, ..., label = "Duration:", duration > 2000, unit = ms, ...]', REPORT],
    ['[time, request_id, level = INFO, ...]', TEXT_LINE],
    ['[..., bytes > 0]', 'size unknown'], // not a number
  ];
  for (const [pattern, event] of yes) assert.equal(parseFilterPattern(pattern).matches(event), true, pattern);
  for (const [pattern, event] of no) assert.equal(parseFilterPattern(pattern).matches(event), false, pattern);
});

test('regular expressions: CloudWatch subset, searched anywhere, case-sensitive', () => {
  assert.equal(parseFilterPattern('%ERROR|WARN%').matches(TEXT_LINE), true);
  assert.equal(parseFilterPattern('%error%').matches(TEXT_LINE), false);
  assert.equal(parseFilterPattern('%^2026-12-0[1-9]T%').matches(TEXT_LINE), true);
  assert.equal(parseFilterPattern('%Duration: [0-9]{4}\\.%').matches(REPORT), true);
  assert.equal(parseFilterPattern('%100\\% sure%').matches('it is 100% sure'), true);
});

test('patterns Lambkin cannot parse are refused with a reason, never thrown as something else', () => {
  for (const bad of [
    '[ip, user = "unclosed]',
    '[ip, ip]',
    '[ip, , user]',
    '[]',
    '[bytes > big]',
    '[a = 1 || b = 2]',
    '[a = ]',
    '[a b]',
    '[1a]',
    '%(group)%',
    '%unclosed',
    '%[%',
    '%%',
  ]) {
    assert.throws(() => parseFilterPattern(bad), FilterPatternError, bad);
  }
});
