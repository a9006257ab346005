/**
 * Runs a markdown tutorial as a test: reads its steps, replays them in one bash session, and compares what each
 * command prints with what the tutorial shows.
 *
 * The markdown scheme (also explained at the end of each executable tutorial):
 * - A fenced block whose info string has `file=PATH` (e.g. ```php file=php-runtime/runtime.php) is a file the reader
 *   creates: the session writes it, relative to its current directory.
 * - A fenced ```console block holds commands and their output. A line starting with `$ ` is a command; a command
 *   line ending in `\` continues on the next line. The lines up to the next command are its expected output.
 * - Other blocks (```sh, ```json, …) are illustrations and are not run.
 * - In expected output, the placeholders of {@link PLACEHOLDERS} stand for values that differ on every run; everything
 *   else must match exactly, apart from trailing whitespace at the end of lines and of the output.
 * - A command must exit with status 0 unless its expected output shows an AWS CLI error (`An error occurred (`).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

export type Step =
  | { kind: 'file'; line: number; path: string; content: string }
  | {
      kind: 'command';
      line: number;
      command: string;
      expected: string;
      /** Where the expected output is in the markdown: its first line (1-based) and how many lines. */
      output: { line: number; count: number };
    };

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Placeholder → the pattern it matches. Keep in step with the list in the tutorial. */
export const PLACEHOLDERS: Record<string, string> = {
  '<request-id>': UUID,
  '<revision-id>': UUID,
  '<sha256>': '[A-Za-z0-9+/]{43}=',
  '<timestamp>': String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{4})`,
  '<zip-time>': String.raw`\d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}`,
  '<code-location>': String.raw`https?://[^\s"]+`,
  '<ms>': String.raw`\d+(?:\.\d+)?`,
  '<mb>': String.raw`\d+`,
};

/** The steps of a markdown document, in order. */
export function parseTutorial(markdown: string): Step[] {
  const lines = markdown.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})(.*)$/.exec(lines[i] ?? '');
    if (fence === null) continue;
    const [, ticks = '', info = ''] = fence;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== ticks; i++) body.push(lines[i] ?? '');
    if (i >= lines.length) throw new Error(`line ${start}: unclosed code block`);
    const file = /(?:^|\s)file=(\S+)/.exec(info)?.[1];
    if (file !== undefined) steps.push({ kind: 'file', line: start, path: file, content: `${body.join('\n')}\n` });
    else if (info.trim() === 'console') steps.push(...parseConsole(body, start + 1));
  }
  return steps;
}

function parseConsole(body: string[], firstLine: number): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < body.length;) {
    const line = body[i] ?? '';
    if (!line.startsWith('$ ')) throw new Error(`line ${firstLine + i}: console block output before any "$ " command`);
    const at = firstLine + i;
    const command = [line.slice(2)];
    while ((body[i] ?? '').endsWith('\\') && i + 1 < body.length) command.push(body[++i] ?? '');
    const expected: string[] = [];
    const output = { line: firstLine + i + 1, count: 0 };
    for (i++; i < body.length && !(body[i] ?? '').startsWith('$ '); i++) expected.push(body[i] ?? '');
    output.count = expected.length;
    steps.push({ kind: 'command', line: at, command: command.join('\n'), expected: expected.join('\n'), output });
  }
  return steps;
}

/**
 * The markdown with each command's shown output replaced by what it printed (placeholders put back), for a
 * maintainer to diff against the page after a change.
 */
export function withPrinted(markdown: string, steps: Step[], printed: Map<Step, string>): string {
  const lines = markdown.split('\n');
  for (const step of [...steps].reverse()) {
    const text = printed.get(step);
    if (step.kind !== 'command' || text === undefined) continue;
    const shown = withPlaceholders(normalise(text));
    const replacement = shown === '' ? [] : shown.split('\n');
    lines.splice(step.output.line - 1, step.output.count, ...replacement);
  }
  return lines.join('\n');
}

/**
 * `text` with the values that vary put back as placeholders, by context as the tutorial shows them: for the page
 * that TUTORIAL_PRINTED writes, not for matching.
 */
export function withPlaceholders(text: string): string {
  return text
    .replace(new RegExp(`("RevisionId": ")${UUID}"`, 'g'), '$1<revision-id>"')
    .replace(new RegExp(UUID, 'g'), '<request-id>')
    .replace(/("CodeSha256": ")[A-Za-z0-9+/]{43}="/g, '$1<sha256>"')
    .replace(/("(?:LastModified|CreatedDate)": ")[^"]+"/g, '$1<timestamp>"')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, '<timestamp>')
    .replace(/("Location": ")[^"]+"/g, '$1<code-location>"')
    .replace(/\d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}/g, '<zip-time>')
    .replace(/\b((?:Billed |Init )?Duration): [\d.]+ ms/g, '$1: <ms> ms')
    .replace(/(Max Memory Used): \d+ MB/g, '$1: <mb> MB');
}

/** Trailing whitespace of every line, and trailing empty lines, do not count. */
export function normalise(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trimEnd();
}

/** The expected output as an anchored pattern: literal text, with each placeholder replaced by its pattern. */
export function expectedPattern(expected: string): RegExp {
  const names = Object.keys(PLACEHOLDERS).map((p) => p.replace(/[<>-]/g, (c) => `\\${c}`));
  const parts = normalise(expected).split(new RegExp(`(${names.join('|')})`));
  const source = parts
    .map((part, i) => (i % 2 === 1 ? `(?:${PLACEHOLDERS[part] ?? ''})` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/** Whether `actual` is what the tutorial shows as `expected`. */
export function outputMatches(expected: string, actual: string): boolean {
  return expectedPattern(expected).test(normalise(actual));
}

/** Whether a command with this expected output may exit with a non-zero status. */
export function mayFail(expected: string): boolean {
  return expected.includes('An error occurred (');
}

export interface ShellResult {
  /** stdout and stderr, interleaved as a terminal shows them. */
  output: string;
  status: number;
}

/**
 * One long-lived bash process, so that `cd`, variables and exports carry from one command to the next as in the
 * reader's terminal. Each command runs with stdin from /dev/null; its end is marked by a line with a random token.
 */
export class Shell {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #marker = `__tutorial_done_${randomUUID().replaceAll('-', '')}`;
  #buffer = '';
  #exited = false;
  #waiter: (() => void) | null = null;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    // Its own process group, so that close() also ends whatever a command left running.
    this.#child = spawn('bash', ['--noprofile', '--norc'], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
    });
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#waiter?.();
    });
    this.#child.on('exit', () => {
      this.#exited = true;
      this.#waiter?.();
    });
    this.#child.stdin.write('exec 2>&1\n');
  }

  /** Runs `command` and resolves with its output and exit status; rejects after `timeoutMs`. */
  async run(command: string, timeoutMs: number): Promise<ShellResult> {
    this.#buffer = '';
    this.#child.stdin.write(`{\n${command}\n} </dev/null\nprintf '\\n${this.#marker} %d\\n' "$?"\n`);
    const done = new RegExp(`\\n${this.#marker} (\\d+)\\n$`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = done.exec(this.#buffer);
      if (match !== null) return { output: this.#buffer.slice(0, match.index), status: Number(match[1]) };
      if (this.#exited) throw new Error(`the shell exited while running:\n${command}\noutput:\n${this.#buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms:\n${command}\noutput so far:\n${this.#buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = null;
    }
  }

  /** Writes `content` to `path` (relative to the shell's current directory) through the shell itself. */
  async writeFile(path: string, content: string): Promise<ShellResult> {
    const eof = `__tutorial_eof_${randomUUID().replaceAll('-', '')}`;
    const quoted = `'${path.replaceAll("'", "'\\''")}'`;
    return this.run(`mkdir -p "$(dirname ${quoted})" && cat > ${quoted} <<'${eof}'\n${content}${eof}`, 10_000);
  }

  /** Ends the shell and everything it started. */
  async close(): Promise<void> {
    const pid = this.#child.pid;
    if (this.#exited || pid === undefined) return;
    const exited = new Promise<void>((resolve) => {
      this.#child.once('exit', () => {
        resolve();
      });
    });
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
}
