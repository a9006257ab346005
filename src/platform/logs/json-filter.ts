/**
 * @module platform/logs/json-filter
 * CloudWatch Logs' JSON filter patterns, for events that are JSON objects (Lambda's `LogFormat: JSON`):
 * - `{ $.level = "ERROR" }`, `{ $.level != INFO }` — strings, quoted or bare, with `*` wildcards;
 * - `{ $.duration > 100 }` with `=`, `!=`, `<`, `<=`, `>`, `>=` on numbers;
 * - `{ $.ok IS TRUE }`, `IS FALSE`, `IS NULL`, `{ $.x NOT EXISTS }`, `{ $.x EXISTS }`;
 * - `{ $.message = %timed? out% }` — a regular expression (text-match.ts), found anywhere in a string value;
 * - `&&`, `||` and parentheses; selectors `$.a.b`, `$.list[0].c`, `$.a[*].b` (any element).
 * An event that is not a JSON object never matches.
 */

import { compileFilterRegex, globMatcher } from './text-match.ts';

export type JsonTest = (root: unknown) => boolean;

export class JsonFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonFilterError';
  }
}

type Token = { kind: 'op' | 'word' | 'string' | 'regex' | 'punct'; text: string };

/** `{ … }` → a test on the parsed event. */
export function parseJsonFilter(source: string): JsonTest {
  const text = source.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) throw new JsonFilterError('a JSON filter pattern is { … }');
  const tokens = tokenize(text.slice(1, -1));
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token => {
    const t = tokens[pos++];
    if (t === undefined) throw new JsonFilterError('the JSON filter pattern ends too early');
    return t;
  };

  const orExpr = (): JsonTest => {
    let left = andExpr();
    while (peek()?.text === '||') {
      pos++;
      const a = left;
      const b = andExpr();
      left = (root) => a(root) || b(root);
    }
    return left;
  };
  const andExpr = (): JsonTest => {
    let left = primary();
    while (peek()?.text === '&&') {
      pos++;
      const a = left;
      const b = primary();
      left = (root) => a(root) && b(root);
    }
    return left;
  };
  const primary = (): JsonTest => {
    if (peek()?.text === '(') {
      pos++;
      const inner = orExpr();
      if (next().text !== ')') throw new JsonFilterError('a parenthesis is not closed');
      return inner;
    }
    const selector = next();
    if (selector.kind !== 'word' || !selector.text.startsWith('$'))
      throw new JsonFilterError(`expected a selector such as $.level, not ${JSON.stringify(selector.text)}`);
    const path = parseSelector(selector.text);
    const op = next();
    const upper = op.text.toUpperCase();
    if (upper === 'IS') {
      const what = next().text.toUpperCase();
      const want = what === 'TRUE' ? true : what === 'FALSE' ? false : what === 'NULL' ? null : undefined;
      if (want === undefined) throw new JsonFilterError('IS takes TRUE, FALSE or NULL');
      return (root) => valuesAt(root, path).some((v) => v === want);
    }
    if (upper === 'EXISTS') return (root) => valuesAt(root, path).length > 0;
    if (upper === 'NOT') {
      if (next().text.toUpperCase() !== 'EXISTS') throw new JsonFilterError('NOT takes EXISTS');
      return (root) => valuesAt(root, path).length === 0;
    }
    if (op.kind !== 'op') throw new JsonFilterError(`expected an operator after ${selector.text}`);
    const value = next();
    if (value.kind === 'punct' || value.kind === 'op') throw new JsonFilterError(`expected a value after ${op.text}`);
    return comparison(path, op.text, value);
  };

  const test = orExpr();
  if (pos !== tokens.length) throw new JsonFilterError(`unexpected ${JSON.stringify(tokens[pos]?.text)}`);
  return test;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if (text.startsWith('&&', i) || text.startsWith('||', i)) {
      tokens.push({ kind: 'punct', text: text.slice(i, i + 2) });
      i += 2;
    } else if (/^(!=|<=|>=|=|<|>)/.test(text.slice(i))) {
      const op = /^(!=|<=|>=|=|<|>)/.exec(text.slice(i))?.[0] ?? '=';
      tokens.push({ kind: 'op', text: op });
      i += op.length;
    } else if (c === '%') {
      // A regular expression, `%…%` (`\%` inside it is a literal %).
      let j = i + 1;
      while (j < text.length && text[j] !== '%') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new JsonFilterError('a %regex% is not closed');
      tokens.push({ kind: 'regex', text: text.slice(i, j + 1) });
      i = j + 1;
    } else if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new JsonFilterError('a quoted value is not closed');
        const ch = text[i] ?? '';
        if (ch === '\\' && i + 1 < text.length) {
          s += text[i + 1] ?? '';
          i += 2;
        } else if (ch === '"') {
          i++;
          break;
        } else {
          s += ch;
          i++;
        }
      }
      tokens.push({ kind: 'string', text: s });
    } else {
      let w = '';
      while (i < text.length && !/[\s()=!<>&|]/.test(text[i] ?? '')) w += text[i++] ?? '';
      if (w === '') throw new JsonFilterError(`unexpected ${JSON.stringify(c)}`);
      tokens.push({ kind: 'word', text: w });
    }
  }
  return tokens;
}

/** `[*]` or `.*`: every element or member. */
const ANY = Symbol('any');
type Step = string | number | typeof ANY;

function parseSelector(text: string): Step[] {
  const steps: Step[] = [];
  const re = /\.([^.[\]]+)|\[(\d+|\*)\]/g;
  let at = 1;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index !== at) break;
    at = m.index + m[0].length;
    if (m[1] !== undefined) steps.push(m[1] === '*' ? ANY : m[1]);
    else steps.push(m[2] === '*' ? ANY : Number(m[2]));
  }
  if (at !== text.length || steps.length === 0) throw new JsonFilterError(`${text} is not a selector such as $.a.b[0]`);
  return steps;
}

/** Every value the selector reaches (`*` fans out over arrays and objects). */
function valuesAt(root: unknown, path: readonly Step[]): unknown[] {
  let current: unknown[] = [root];
  for (const step of path) {
    const out: unknown[] = [];
    for (const v of current) {
      if (typeof v !== 'object' || v === null) continue;
      if (step === ANY) out.push(...Object.values(v as Record<string, unknown>));
      else if (Array.isArray(v)) {
        if (typeof step === 'number' && step < v.length) out.push(v[step]);
      } else if (typeof step === 'string' && Object.hasOwn(v, step)) {
        out.push((v as Record<string, unknown>)[step]);
      }
    }
    current = out;
  }
  return current;
}

function comparison(path: readonly Step[], op: string, value: Token): JsonTest {
  const number = value.kind === 'word' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.text) ? Number(value.text) : null;
  if (number !== null) {
    const cmp = numeric(op);
    return (root) => valuesAt(root, path).some((v) => typeof v === 'number' && cmp(v, number));
  }
  if (op !== '=' && op !== '!=') throw new JsonFilterError(`${op} compares numbers, not ${JSON.stringify(value.text)}`);
  const matches = value.kind === 'regex' ? regex(value.text) : globMatcher(value.text);
  const equal = (v: unknown) => typeof v === 'string' && matches(v);
  return op === '='
    ? (root) => valuesAt(root, path).some(equal)
    : (root) => {
        const found = valuesAt(root, path);
        return found.length > 0 && !found.some(equal);
      };
}

function numeric(op: string): (a: number, b: number) => boolean {
  switch (op) {
    case '=':
      return (a, b) => a === b;
    case '!=':
      return (a, b) => a !== b;
    case '<':
      return (a, b) => a < b;
    case '<=':
      return (a, b) => a <= b;
    case '>':
      return (a, b) => a > b;
    default:
      return (a, b) => a >= b;
  }
}

function regex(text: string): (v: string) => boolean {
  try {
    const re = compileFilterRegex(text);
    return (v) => re.test(v);
  } catch (err) {
    throw new JsonFilterError(err instanceof Error ? err.message : String(err));
  }
}
