import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilterRegex, globMatcher, TextMatchError } from './text-match.ts';

test('globMatcher: * is any run of characters, the rest matches exactly, against the whole text', () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['*c', 'abc', true],
    ['*b*', 'abc', true],
    ['*x*', 'abc', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['*', '', true],
    ['**', 'anything', true],
    ['', '', true],
    ['a.c', 'abc', false],
    ['*ab', 'aab', true],
    ['*aab', 'aaab', true],
  ];
  for (const [pattern, text, expected] of cases)
    assert.equal(globMatcher(pattern)(text), expected, `${pattern} ~ ${text}`);
});

test('no pattern takes more than linear time on a long event (a backtracking engine takes minutes on these)', () => {
  const long = 'a'.repeat(200_000);
  assert.equal(globMatcher('*a*a*a*a*b')(long), false);
  assert.equal(compileFilterRegex('%a*a*a*a*b%').test(long), false);
  assert.equal(compileFilterRegex('%.*a.*a.*a.*b$%').test(long), false);
  assert.equal(compileFilterRegex('%a{0,50}a{0,50}b%').test(long), false);
  assert.equal(compileFilterRegex('%a*a*a*a*a$%').test(long), true);
});

/** A small random generator, seeded: the same cases on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

test('regular expressions: the same answers as JavaScript’s RegExp on the shared subset (random patterns and texts)', () => {
  const rnd = random(7);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
  const atoms = ['a', 'b', 'c', '.', '\\d', '\\w', '\\s', '\\.', '[ab]', '[^a]', '[a-c]', '[0-9_]', '\\-', ' ', '1'];
  const quantifiers = ['', '', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?'];
  const alphabet = ['a', 'b', 'c', '1', '2', ' ', '.', '-', '_', 'x', '\t'];
  for (let k = 0; k < 400; k++) {
    const alternatives: string[] = [];
    const count = 1 + Math.floor(rnd() * 3);
    for (let a = 0; a < count; a++) {
      let alt = rnd() < 0.2 ? '^' : '';
      const len = Math.floor(rnd() * 5);
      for (let i = 0; i < len; i++) alt += pick(atoms) + pick(quantifiers);
      if (rnd() < 0.2) alt += '$';
      alternatives.push(alt);
    }
    const body = alternatives.join('|');
    if (body === '') continue; // `%%` is refused
    const ours = compileFilterRegex(`%${body}%`);
    const theirs = new RegExp(body);
    for (let t = 0; t < 25; t++) {
      let text = '';
      const len = Math.floor(rnd() * 12);
      for (let i = 0; i < len; i++) text += pick(alphabet);
      assert.equal(ours.test(text), theirs.test(text), `%${body}% on ${JSON.stringify(text)}`);
    }
  }
});

test('regular expressions: \\% is a literal %, and what the subset lacks is refused', () => {
  assert.equal(compileFilterRegex('%100\\% sure%').test('it is 100% sure'), true);
  assert.equal(compileFilterRegex('%[%]%').test('%'), true);
  assert.equal(compileFilterRegex('%^[]|]$%').test('|'), true, 'a ] first in a class, then a | inside it');
  assert.equal(compileFilterRegex('%^[^]|]$%').test('x'), true);
  for (const bad of [
    '%(a)%',
    '%a)%',
    '%*a%',
    '%a{2,1}%',
    '%a{101}%',
    '%a{0,60}b{0,60}c{0,60}d{0,60}e{0,60}f{0,60}g{0,60}h{0,60}i{0,60}j{0,60}k{0,60}l{0,60}m{0,60}n{0,60}o{0,60}p{0,60}q{0,60}%',
    '%[ab%',
    '%\\b%',
    '%\\1%',
    '%^*%',
    '%a%b%',
    '%%',
    '%x\\%',
  ]) {
    assert.throws(() => compileFilterRegex(bad), TextMatchError, bad);
  }
});
