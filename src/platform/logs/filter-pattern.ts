/**
 * @module platform/logs/filter-pattern
 * CloudWatch Logs' filter pattern syntax for unstructured text, as FilterLogEvents applies it:
 * - an empty pattern matches every event;
 * - `ERROR Exception` — every term must occur (AND), case-sensitively;
 * - `"timed out"` — a quoted phrase is one term (spaces and punctuation included; `\"` escapes a quote);
 * - `?ERROR ?WARN` — at least one of the `?` terms must occur (OR);
 * - `ERROR -Retry` — a `-` term must not occur.
 * - `{ $.level = "ERROR" }` — a JSON pattern, for events that are JSON objects (json-filter.ts);
 * - `[ip, user, ..., status = 4*, bytes > 1000]` — a space-delimited pattern (delimited-filter.ts);
 * - `%ERROR|WARN%` — a regular expression (CloudWatch's subset: no parentheses), found anywhere in the event.
 * A pattern that cannot be parsed throws FilterPatternError: the API answers InvalidParameterException.
 */

import { DelimitedFilterError, parseDelimitedFilter } from './delimited-filter.ts';
import { parseJsonFilter, type JsonTest } from './json-filter.ts';
import { compileFilterRegex, TextMatchError } from './text-match.ts';

export interface FilterPattern {
  readonly source: string;
  matches(message: string): boolean;
}

export class FilterPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterPatternError';
  }
}

const MATCH_ALL: FilterPattern = { source: '', matches: () => true };

function jsonPattern(source: string, text: string): FilterPattern {
  let test: JsonTest;
  try {
    test = parseJsonFilter(text);
  } catch (err) {
    throw new FilterPatternError(`Invalid filter pattern: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    source,
    matches(message: string): boolean {
      const start = message.trimStart();
      if (!start.startsWith('{')) return false;
      try {
        return test(JSON.parse(start));
      } catch {
        return false;
      }
    },
  };
}

export function parseFilterPattern(source: string | undefined): FilterPattern {
  if (source === undefined || source.trim() === '') return MATCH_ALL;
  const text = source.trim();
  if (text.startsWith('{')) return jsonPattern(source, text);
  if (text.startsWith('[') || text.startsWith('%')) {
    try {
      if (text.startsWith('[')) return { source, matches: parseDelimitedFilter(text) };
      const re = compileFilterRegex(text);
      return { source, matches: (message) => re.test(message) };
    } catch (err) {
      if (!(err instanceof DelimitedFilterError) && !(err instanceof TextMatchError)) throw err;
      throw new FilterPatternError(`Invalid filter pattern: ${err.message}`);
    }
  }

  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let target = all;
    if (c === '?' || c === '-') {
      target = c === '?' ? any : none;
      i++;
    }
    let term = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] ?? '';
        if (ch === '\\' && i + 1 < text.length) {
          term += text[i + 1] ?? '';
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        term += ch;
        i++;
      }
      if (!closed)
        throw new FilterPatternError(`Invalid filter pattern: unterminated quote in ${JSON.stringify(text)}`);
    } else {
      while (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
        term += text[i] ?? '';
        i++;
      }
    }
    if (term === '') throw new FilterPatternError(`Invalid filter pattern: empty term in ${JSON.stringify(text)}`);
    target.push(term);
  }
  return {
    source,
    matches(message: string): boolean {
      for (const t of all) if (!message.includes(t)) return false;
      for (const t of none) if (message.includes(t)) return false;
      return any.length === 0 || any.some((t) => message.includes(t));
    },
  };
}
