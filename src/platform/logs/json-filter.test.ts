import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilterPattern } from './filter-pattern.ts';

const event = JSON.stringify({
  timestamp: '2026-01-01T00:00:00.000Z',
  level: 'ERROR',
  requestId: 'abc-123',
  message: { errorType: 'TypeError', errorMessage: 'bad' },
  duration: 120.5,
  retries: 0,
  ok: false,
  nothing: null,
  tags: ['a', 'b'],
  items: [{ id: 1 }, { id: 7 }],
});

test('JSON filter patterns: equality, wildcards, numbers, IS, EXISTS, && || and parentheses', () => {
  const yes = (pattern: string) => {
    assert.equal(parseFilterPattern(pattern).matches(event), true, pattern);
  };
  const no = (pattern: string) => {
    assert.equal(parseFilterPattern(pattern).matches(event), false, pattern);
  };
  yes('{ $.level = "ERROR" }');
  yes('{ $.level = %^ERR% }');
  yes('{ $.message.errorType = %Type|Range% }');
  no('{ $.level = %^err% }');
  yes('{ $.level != %INFO|WARN% }');
  yes('{ $.level = ERROR }');
  yes('{$.level="ERR*"}');
  yes('{ $.requestId = *-123 }');
  no('{ $.level = "INFO" }');
  yes('{ $.level != "INFO" }');
  no('{ $.missing != "INFO" }');
  yes('{ $.message.errorType = "TypeError" }');
  yes('{ $.duration > 100 }');
  yes('{ $.duration >= 120.5 }');
  no('{ $.duration < 100 }');
  yes('{ $.retries = 0 }');
  no('{ $.level > 1 }');
  yes('{ $.ok IS FALSE }');
  no('{ $.ok IS TRUE }');
  yes('{ $.nothing IS NULL }');
  yes('{ $.missing NOT EXISTS }');
  yes('{ $.level EXISTS }');
  yes('{ $.tags[1] = "b" }');
  yes('{ $.items[*].id = 7 }');
  no('{ $.items[0].id = 7 }');
  yes('{ $.level = "ERROR" && $.duration > 100 }');
  no('{ $.level = "ERROR" && $.duration > 1000 }');
  yes('{ $.level = "INFO" || $.duration > 100 }');
  yes('{ ($.level = "INFO" || $.level = "ERROR") && $.ok IS FALSE }');
  // Not JSON: never matches.
  assert.equal(parseFilterPattern('{ $.level = "ERROR" }').matches('2026-01-01\tabc\tERROR\tboom'), false);
  assert.equal(parseFilterPattern('{ $.level = "ERROR" }').matches('{broken'), false);
});

test('JSON filter patterns: malformed ones are refused with a reason', () => {
  for (const bad of [
    '{ $.a = }',
    '{ level = 1 }',
    '{ $.a > "x" }',
    '{ ($.a = 1 }',
    '{ $.a IS MAYBE }',
    '{ $.a = "x }',
    '{ $.a = %(x)% }',
    '{ $.a = %open }',
  ])
    assert.throws(
      () => parseFilterPattern(bad),
      { name: 'FilterPatternError', message: /^Invalid filter pattern: / },
      bad,
    );
});
