/**
 * @module platform/logs/text-match
 * The two kinds of text matching in filter patterns, both in time linear in the text (times the pattern's size):
 * a filter runs on the server's thread over events of up to 256 KB, and a backtracking engine (JavaScript's
 * RegExp) takes over a minute on one 1 KB event for a pattern as plain as `*a*a*a*b`.
 *
 * - {@link globMatcher}: a value with `*` wildcards (any run of characters), matched against the whole text.
 * - {@link compileFilterRegex}: CloudWatch Logs' regular expressions, `%…%`, found anywhere in the text. The subset
 *   has no parentheses, so a pattern is alternatives (`|`) of atoms, each with an optional quantifier: a character,
 *   `.`, an escape (`\d \D \w \W \s \S \t \n \r`, or an escaped symbol), a class (`[a-z_]`, `[^0-9]`, with those
 *   escapes), the anchors `^` and `$`, and the quantifiers `* + ?`, `{n}`, `{n,}`, `{n,m}` (a trailing `?` is
 *   accepted and changes nothing for a yes/no match). It runs as a Thompson NFA simulation.
 */

export class TextMatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextMatchError';
  }
}

/** `pattern` with `*` wildcards, matched against the whole of a text (greedy, backing up to the last `*`). */
export function globMatcher(pattern: string): (text: string) => boolean {
  if (!pattern.includes('*')) return (text) => text === pattern;
  return (text) => {
    let p = 0;
    let t = 0;
    let star = -1;
    let mark = 0;
    while (t < text.length) {
      if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
        p++;
        t++;
      } else if (p < pattern.length && pattern[p] === '*') {
        star = p++;
        mark = t;
      } else if (star !== -1) {
        p = star + 1;
        t = ++mark;
      } else {
        return false;
      }
    }
    while (pattern[p] === '*') p++;
    return p === pattern.length;
  };
}

// ── regular expressions ───────────────────────────────────────────────────────────────────────────────────────

type Predicate = (cp: number) => boolean;

/** NFA nodes: consume one character, branch, assert a position, or accept. */
type Node =
  | { kind: 'char'; test: Predicate; next: number }
  | { kind: 'split'; a: number; b: number }
  | { kind: 'start' | 'end'; next: number }
  | { kind: 'match' };

type Atom = { kind: 'char'; test: Predicate } | { kind: 'start' | 'end' };

/**
 * Largest NFA a pattern may compile to (`{n,m}` repeats its atom), and largest repeat count: the cost per character
 * of text grows with the number of states alive at once, which these bound.
 */
const MAX_NODES = 2_000;
const MAX_REPEAT = 100;

/** `%…%` → a matcher that finds the expression anywhere in a text. */
export function compileFilterRegex(text: string): { test(text: string): boolean } {
  if (text.length < 3 || !text.startsWith('%') || !text.endsWith('%')) {
    throw new TextMatchError('a regular expression is written %…%');
  }
  const nodes: Node[] = [];
  const add = (node: Node): number => {
    if (nodes.length >= MAX_NODES) throw new TextMatchError('the regular expression is too large');
    nodes.push(node);
    return nodes.length - 1;
  };
  const accept = add({ kind: 'match' });
  const branches = splitAlternatives(text.slice(1, -1)).map((alt) => compileSequence(parsePieces(alt), accept, add));
  let start = branches[branches.length - 1] ?? accept;
  for (let i = branches.length - 2; i >= 0; i--) start = add({ kind: 'split', a: branches[i] ?? accept, b: start });
  return { test: (subject) => simulate(nodes, start, subject) };
}

function splitAlternatives(body: string): string[] {
  const out: string[] = [];
  let from = 0;
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (c === '[' && !inClass) {
      inClass = true;
      // As in classEnd: a `^`, then a `]`, at the start of a class are part of it.
      if (body[i + 1] === '^') i++;
      if (body[i + 1] === ']') i++;
    } else if (c === ']') inClass = false;
    else if (c === '|' && !inClass) {
      out.push(body.slice(from, i));
      from = i + 1;
    }
  }
  out.push(body.slice(from));
  return out;
}

interface Piece {
  atom: Atom;
  min: number;
  max: number; // Infinity: unbounded
}

function parsePieces(alt: string): Piece[] {
  const cps = Array.from(alt);
  const pieces: Piece[] = [];
  let i = 0;
  while (i < cps.length) {
    const c = cps[i] ?? '';
    let atom: Atom;
    if (c === '(' || c === ')') {
      throw new TextMatchError('regular expressions cannot use parentheses (no groups or lookarounds)');
    } else if (c === '%') {
      throw new TextMatchError('a % inside a regular expression must be escaped as \\%');
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      throw new TextMatchError(`${c} has nothing to repeat`);
    } else if (c === '^' || c === '$') {
      atom = { kind: c === '^' ? 'start' : 'end' };
      i++;
    } else if (c === '.') {
      atom = { kind: 'char', test: (cp) => cp !== 10 && cp !== 13 };
      i++;
    } else if (c === '\\') {
      const e = cps[i + 1];
      if (e === undefined) throw new TextMatchError('a regular expression ends with \\');
      atom = { kind: 'char', test: escape(e).test };
      i += 2;
    } else if (c === '[') {
      const end = classEnd(cps, i);
      atom = { kind: 'char', test: parseClass(cps.slice(i + 1, end)) };
      i = end + 1;
    } else {
      const cp = c.codePointAt(0) ?? 0;
      atom = { kind: 'char', test: (x) => x === cp };
      i++;
    }
    let min = 1;
    let max = 1;
    const q = cps[i];
    if (q === '*' || q === '+' || q === '?') {
      min = q === '+' ? 1 : 0;
      max = q === '?' ? 1 : Infinity;
      i++;
    } else if (q === '{') {
      const close = cps.indexOf('}', i);
      const m = close === -1 ? null : /^(\d+)(,(\d*))?$/.exec(cps.slice(i + 1, close).join(''));
      if (m === null) throw new TextMatchError('a {n,m} quantifier is malformed');
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > max || min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
        throw new TextMatchError(`a {n,m} quantifier must have n ≤ m ≤ ${String(MAX_REPEAT)}`);
      }
      i = close + 1;
    }
    if (cps[i] === '?' && (q === '*' || q === '+' || q === '?' || q === '{')) i++; // lazy: same yes/no answer
    if (atom.kind !== 'char' && (min !== 1 || max !== 1)) throw new TextMatchError(`${c} cannot be repeated`);
    pieces.push({ atom, min, max });
  }
  return pieces;
}

/** Compiles pieces back to front, each pointing at what follows it; returns the entry node. */
function compileSequence(pieces: Piece[], accept: number, add: (node: Node) => number): number {
  let next = accept;
  for (let k = pieces.length - 1; k >= 0; k--) {
    const { atom, min, max } = pieces[k] as Piece;
    if (atom.kind !== 'char') {
      next = add({ kind: atom.kind, next });
      continue;
    }
    const one = (to: number) => add({ kind: 'char', test: atom.test, next: to });
    if (max === Infinity) {
      // loop: split → (char → loop) | next
      const loop: Node = { kind: 'split', a: -1, b: next };
      const at = add(loop);
      loop.a = one(at);
      next = at;
    } else {
      for (let r = max - min; r > 0; r--) next = add({ kind: 'split', a: one(next), b: next });
    }
    for (let r = 0; r < min; r++) next = one(next);
  }
  return next;
}

function simulate(graph: readonly Node[], start: number, subject: string): boolean {
  const cps = Array.from(subject, (ch) => ch.codePointAt(0) ?? 0);
  const n = cps.length;
  let current: number[] = [];
  let next: number[] = [];
  const seen = new Int32Array(graph.length).fill(-1);
  let stamp = 0;
  // Adds `s` and what it reaches without consuming, at text position `pos`; true once `match` is reached.
  const addState = (list: number[], s: number, pos: number): boolean => {
    const stack = [s];
    while (stack.length > 0) {
      const i = stack.pop() ?? 0;
      if (seen[i] === stamp) continue;
      seen[i] = stamp;
      const node = graph[i];
      if (node === undefined) continue;
      switch (node.kind) {
        case 'match':
          return true;
        case 'split':
          stack.push(node.b, node.a);
          break;
        case 'start':
          if (pos === 0) stack.push(node.next);
          break;
        case 'end':
          if (pos === n) stack.push(node.next);
          break;
        case 'char':
          list.push(i);
          break;
      }
    }
    return false;
  };
  for (let pos = 0; ; pos++) {
    // Unanchored search: a match may begin at any position.
    if (addState(current, start, pos)) return true;
    if (pos === n) return false;
    stamp++;
    next.length = 0;
    const cp = cps[pos] ?? 0;
    for (const i of current) {
      const node = graph[i];
      if (node?.kind === 'char' && node.test(cp) && addState(next, node.next, pos + 1)) return true;
    }
    [current, next] = [next, current];
  }
}

// ── classes and escapes ───────────────────────────────────────────────────────────────────────────────────────

const isDigit: Predicate = (cp) => cp >= 48 && cp <= 57;
const isWord: Predicate = (cp) => isDigit(cp) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95;
const isSpace: Predicate = (cp) => cp === 32 || (cp >= 9 && cp <= 13) || cp === 0xa0 || cp === 0xfeff;

const not =
  (p: Predicate): Predicate =>
  (cp) =>
    !p(cp);
const CLASS_ESCAPES: Record<string, Predicate> = {
  d: isDigit,
  D: not(isDigit),
  w: isWord,
  W: not(isWord),
  s: isSpace,
  S: not(isSpace),
};
const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13 };

/** What `\e` stands for: a class (`cp` null), or one character and its code point. */
function escape(e: string): { test: Predicate; cp: number | null } {
  const cls = CLASS_ESCAPES[e];
  if (cls !== undefined) return { test: cls, cp: null };
  const cp = CONTROL_ESCAPES[e] ?? (/[A-Za-z0-9]/.test(e) ? undefined : e.codePointAt(0));
  if (cp === undefined) throw new TextMatchError(`\\${e} is not supported in a regular expression`);
  return { test: (x) => x === cp, cp };
}

/** Index of the `]` closing the class that opens at `open`. */
function classEnd(cps: readonly string[], open: number): number {
  let i = open + 1;
  if (cps[i] === '^') i++;
  if (cps[i] === ']') i++; // a leading ] is literal
  for (; i < cps.length; i++) {
    if (cps[i] === '\\') i++;
    else if (cps[i] === ']') return i;
  }
  throw new TextMatchError('a [class] is not closed');
}

function parseClass(body: readonly string[]): Predicate {
  let i = 0;
  const negate = body[0] === '^';
  if (negate) i++;
  const parts: Predicate[] = [];
  const single = (): { test: Predicate; cp: number | null } => {
    const c = body[i] ?? '';
    if (c === '\\') {
      i += 2;
      return escape(body[i - 1] ?? '');
    }
    i++;
    const cp = c.codePointAt(0) ?? 0;
    return { test: (x) => x === cp, cp };
  };
  while (i < body.length) {
    const from = single();
    if (body[i] === '-' && i + 1 < body.length && from.cp !== null) {
      i++;
      const to = single();
      if (to.cp === null || to.cp < from.cp) throw new TextMatchError('a range in a [class] is out of order');
      const [lo, hi] = [from.cp, to.cp];
      parts.push((x) => x >= lo && x <= hi);
    } else {
      parts.push(from.test);
    }
  }
  return negate ? (cp) => !parts.some((p) => p(cp)) : (cp) => parts.some((p) => p(cp));
}
