import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initStartLine, reportLine } from './format.ts';

test('INIT_START: Lambda’s form, <family>:<version>.vN and a runtime ARN in the region with a 64-hex id', () => {
  const forms: [string, string][] = [
    ['nodejs24.x', 'nodejs:24.v1'],
    ['nodejs22.x', 'nodejs:22.v1'],
    ['provided.al2023', 'provided:al2023.v1'],
    ['provided.al2', 'provided:al2.v1'],
    ['provided', 'provided:al1.v1'],
  ];
  for (const [runtime, version] of forms) {
    const line = initStartLine(runtime, 'eu-west-1');
    assert.match(
      line,
      /^INIT_START Runtime Version: \S+\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:[0-9a-f]{64}$/,
    );
    assert.equal(line.split('\t')[0], `INIT_START Runtime Version: ${version}`);
    assert.equal(initStartLine(runtime, 'eu-west-1'), line, 'stable');
  }
});

test('REPORT: tab-separated fields with two-decimal durations, Init Duration on a cold start', () => {
  const line = reportLine('id-1', {
    durationMs: 12.345,
    billedDurationMs: 13,
    memorySizeMb: 128,
    maxMemoryUsedMb: 67,
    initDurationMs: 100.5,
  });
  assert.equal(
    line,
    'REPORT RequestId: id-1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 67 MB\tInit Duration: 100.50 ms\t',
  );
});
