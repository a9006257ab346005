/**
 * @module platform/logs/delimited-filter
 * CloudWatch Logs' space-delimited filter patterns, `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`, as
 * FilterLogEvents applies them:
 * - the event is cut into fields at runs of spaces and tabs; a field in double quotes or in square brackets is one
 *   field however many spaces it holds (the quotes or brackets are not part of its value);
 * - each name in the pattern stands for one field, `...` for any number of them (none included); without `...` the
 *   event must have exactly as many fields as the pattern has names;
 * - a name may carry conditions on its field: `=` and `!=` with a string (quoted or bare, `*` matching any run of
 *   characters), a number (compared as a number when the field is one) or a `%regex%`; `<`, `<=`, `>`, `>=` with a
 *   number; several joined with `&&` and `||` (`&&` first), each naming that same field.
 * Wildcards and regular expressions (CloudWatch's subset, searched anywhere in the value) run in linear time
 * (text-match.ts).
 */

import { compileFilterRegex, globMatcher, TextMatchError } from './text-match.ts';

export type EventTest = (message: string) => boolean;

export class DelimitedFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DelimitedFilterError';
  }
}

/** A field's test; `null` for a bare name (any value). */
type FieldTest = ((value: string) => boolean) | null;
type Slot = { kind: 'field'; name: string; test: FieldTest } | { kind: 'ellipsis' };

/** Events with more fields than this are matched on their first fields and the rest as one. */
const MAX_FIELDS = 1024;

/** `[ … ]` → a test on an event's text. */
export function parseDelimitedFilter(source: string): EventTest {
  const text = source.trim();
  if (!text.startsWith('[') || !text.endsWith(']')) {
    throw new DelimitedFilterError('a space-delimited filter pattern is [ … ]');
  }
  const slots = splitSlots(text.slice(1, -1)).map(parseSlot);
  if (slots.length === 0) throw new DelimitedFilterError('a space-delimited filter pattern names at least one field');
  const names = new Set<string>();
  for (const s of slots) {
    if (s.kind !== 'field') continue;
    if (names.has(s.name)) throw new DelimitedFilterError(`the field name ${s.name} is used twice`);
    names.add(s.name);
  }
  return (message) => matchFields(slots, eventFields(message));
}

// ── the event ─────────────────────────────────────────────────────────────────────────────────────────────────

/** The event's fields: runs of non-blanks, or a `"…"` or `[…]` group (without its delimiters). */
export function eventFields(message: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const n = message.length;
  while (i < n) {
    if (isBlank(message.charCodeAt(i))) {
      i++;
      continue;
    }
    const c = message[i];
    if (fields.length === MAX_FIELDS - 1) {
      fields.push(message.slice(i));
      break;
    }
    const close = c === '"' ? '"' : c === '[' ? ']' : null;
    if (close !== null) {
      const end = message.indexOf(close, i + 1);
      if (end !== -1) {
        fields.push(message.slice(i + 1, end));
        i = end + 1;
        continue;
      }
    }
    let j = i;
    while (j < n && !isBlank(message.charCodeAt(j))) j++;
    fields.push(message.slice(i, j));
    i = j;
  }
  return fields;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

/** Slots against fields, `...` taking any number; each (slot, field) pair is tried once. */
function matchFields(slots: readonly Slot[], fields: readonly string[]): boolean {
  const width = fields.length + 1;
  const failed = new Uint8Array((slots.length + 1) * width);
  const go = (s: number, f: number): boolean => {
    if (s === slots.length) return f === fields.length;
    if (failed[s * width + f] === 1) return false;
    const slot = slots[s];
    let ok = false;
    if (slot?.kind === 'ellipsis') {
      for (let k = f; k <= fields.length && !ok; k++) ok = go(s + 1, k);
    } else if (slot !== undefined && f < fields.length) {
      ok = (slot.test === null || slot.test(fields[f] ?? '')) && go(s + 1, f + 1);
    }
    if (!ok) failed[s * width + f] = 1;
    return ok;
  };
  return go(0, 0);
}

// ── the pattern ───────────────────────────────────────────────────────────────────────────────────────────────

/** Splits at the commas that are outside quotes and regular expressions. */
function splitSlots(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quote: '"' | '%' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === '%') quote = c;
    else if (c === ',') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quote !== null) throw new DelimitedFilterError(`a ${quote === '"' ? 'quote' : '%regex%'} is not closed`);
  const last = text.slice(start);
  if (out.length > 0 || last.trim() !== '') out.push(last);
  return out.map((s) => s.trim());
}

type Token = { kind: 'name' | 'op' | 'value'; text: string; form?: 'quoted' | 'regex' | 'bare' };

const OPERATORS = ['&&', '||', '!=', '<=', '>=', '=', '<', '>'];

function tokenize(slot: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let expectValue = false;
  while (i < slot.length) {
    const c = slot[i] ?? '';
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => slot.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op });
      expectValue = op !== '&&' && op !== '||';
      i += op.length;
      continue;
    }
    if (c === '"' || c === '%') {
      let j = i + 1;
      let value = '';
      while (j < slot.length && slot[j] !== c) {
        if (slot[j] === '\\' && j + 1 < slot.length) {
          // In a quoted string `\"` is a quote; a regex keeps its escapes for RegExp.
          value += c === '"' ? (slot[j + 1] ?? '') : `\\${slot[j + 1] ?? ''}`;
          j += 2;
          continue;
        }
        value += slot[j] ?? '';
        j++;
      }
      if (j >= slot.length) throw new DelimitedFilterError(`a ${c === '"' ? 'quote' : '%regex%'} is not closed`);
      tokens.push({ kind: 'value', text: c === '%' ? `%${value}%` : value, form: c === '%' ? 'regex' : 'quoted' });
      expectValue = false;
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < slot.length && slot[j] !== ' ' && slot[j] !== '\t' && !OPERATORS.some((o) => slot.startsWith(o, j))) {
      j++;
    }
    const word = slot.slice(i, j);
    tokens.push(expectValue ? { kind: 'value', text: word, form: 'bare' } : { kind: 'name', text: word });
    expectValue = false;
    i = j;
  }
  return tokens;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function parseSlot(slot: string): Slot {
  if (slot === '') throw new DelimitedFilterError('a field of the pattern is empty');
  if (slot === '...') return { kind: 'ellipsis' };
  const tokens = tokenize(slot);
  let pos = 0;
  let name = ''; // set by the first condition
  const next = (): Token => {
    const t = tokens[pos++];
    if (t === undefined) throw new DelimitedFilterError(`the field ${JSON.stringify(slot)} ends too early`);
    return t;
  };
  const condition = (): FieldTest => {
    const field = next();
    if (field.kind !== 'name' || !NAME.test(field.text)) {
      throw new DelimitedFilterError(`${JSON.stringify(field.text)} is not a field name`);
    }
    if (name === '') name = field.text;
    else if (field.text !== name) {
      throw new DelimitedFilterError(`the conditions of the field ${name} name another field (${field.text})`);
    }
    const op = tokens[pos];
    if (op === undefined || op.text === '&&' || op.text === '||') return null;
    pos++;
    if (op.kind !== 'op') throw new DelimitedFilterError(`expected an operator after ${field.text}`);
    return compare(op.text, next());
  };
  const and = (): FieldTest => {
    let left = condition();
    while (tokens[pos]?.text === '&&') {
      pos++;
      const [a, b] = [left, condition()];
      left = a === null ? b : b === null ? a : (v) => a(v) && b(v);
    }
    return left;
  };
  let test = and();
  while (tokens[pos]?.text === '||') {
    pos++;
    const [a, b] = [test, and()];
    // A bare name on either side of `||` accepts anything.
    test = a === null || b === null ? null : (v) => a(v) || b(v);
  }
  if (pos < tokens.length) {
    throw new DelimitedFilterError(`unexpected ${JSON.stringify(tokens[pos]?.text)} in ${JSON.stringify(slot)}`);
  }
  return { kind: 'field', name, test };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function compare(op: string, value: Token): (v: string) => boolean {
  if (value.kind !== 'value') throw new DelimitedFilterError(`expected a value after ${op}`);
  const numeric = value.form !== 'regex' && NUMBER.test(value.text);
  if (op !== '=' && op !== '!=') {
    if (!numeric) throw new DelimitedFilterError(`${op} compares numbers, not ${JSON.stringify(value.text)}`);
    const b = Number(value.text);
    const cmp =
      op === '<'
        ? (a: number) => a < b
        : op === '<='
          ? (a: number) => a <= b
          : op === '>'
            ? (a: number) => a > b
            : (a: number) => a >= b;
    return (v) => NUMBER.test(v) && cmp(Number(v));
  }
  let equal: (v: string) => boolean;
  if (value.form === 'regex') {
    const re = filterRegex(value.text);
    equal = (v) => re.test(v);
  } else if (numeric && value.form === 'bare') {
    const b = Number(value.text);
    equal = (v) => (NUMBER.test(v) ? Number(v) === b : v === value.text);
  } else {
    equal = globMatcher(value.text);
  }
  return op === '=' ? equal : (v) => !equal(v);
}

/** A `%…%` value, its errors as this module's. */
function filterRegex(text: string): { test(text: string): boolean } {
  try {
    return compileFilterRegex(text);
  } catch (err) {
    if (err instanceof TextMatchError) throw new DelimitedFilterError(err.message);
    throw err;
  }
}
