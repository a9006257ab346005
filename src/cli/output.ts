/**
 * @module cli/output
 * Human output by default (tables, colour only on a terminal, sizes and durations humanised) and `--json` for
 * scripts: every command hands its result to `result(value, human)` so both forms come from the same data.
 */
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Output {
  readonly json: boolean;
  readonly color: Colors;
  /** Prints `value` as JSON with `--json`, else calls `human`. */
  result(value: unknown, human: () => void): void;
  line(text?: string): void;
  /** A note for humans on stderr (never mixed into `--json` output). */
  note(text: string): void;
  table(head: string[], rows: (string | number)[][]): void;
  /**
   * A progress bar on stderr that appears only when the work takes longer than a second on a terminal; with a
   * total of 0 that is never updated, a status line (`label…`) instead.
   */
  progress(label: string, total: number): Progress;
}

export interface Progress {
  /** `total` may be learnt late (e.g. once a directory has been walked). */
  update(done: number, total?: number): void;
  stop(): void;
}

export function createOutput(options: {
  json: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const color = pc.createColors(stdout.isTTY && process.env.NO_COLOR === undefined);
  return {
    json: options.json,
    color,
    result(value, human) {
      if (options.json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else human();
    },
    line(text = '') {
      stdout.write(`${text}\n`);
    },
    note(text) {
      if (!options.json) stderr.write(`${text}\n`);
    },
    table(head, rows) {
      if (rows.length === 0) {
        stdout.write(`${color.dim('(none)')}\n`);
        return;
      }
      const table = new Table({
        head: head.map((h) => color.bold(h)),
        style: { head: [], border: [], compact: true },
        chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
      });
      table.push(...rows.map((row) => row.map(String)));
      stdout.write(`${table.toString()}\n`);
    },
    progress(label, total) {
      return delayedProgress(label, total, stderr);
    },
  };
}

function delayedProgress(label: string, total: number, stream: NodeJS.WriteStream): Progress {
  let done = 0;
  let size = total;
  let bar: SingleBar | null = null;
  let status = false;
  const timer = stream.isTTY
    ? setTimeout(() => {
        // Work of unknown size (an upload through the SDK) gets a status line; the rest a bar.
        if (size === 0) {
          stream.write(`${label}…`);
          status = true;
          return;
        }
        bar = new SingleBar({
          format: `${label} [{bar}] {percentage}% {value}/{total}`,
          stream,
          hideCursor: true,
          clearOnComplete: true,
          formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? humanBytes(v) : String(v)),
        });
        bar.start(size, done);
      }, 1000)
    : null;
  timer?.unref();
  return {
    update(value, newTotal) {
      done = value;
      if (newTotal !== undefined && newTotal !== size) {
        size = newTotal;
        bar?.setTotal(newTotal);
      }
      bar?.update(value);
    },
    stop() {
      if (timer !== null) clearTimeout(timer);
      bar?.stop();
      if (status) stream.write('\r\x1b[K');
    },
  };
}

/** 1536 → "1.5 KB" (powers of 1024, as Lambda's limits are written). */
export function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit] ?? 'GB'}`;
}

/** 1234.5 → "1.23 s"; 12.3 → "12.3 ms". */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Number(ms.toFixed(ms < 10 ? 2 : 1))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** An ISO date → "5 min ago" (or the date itself when older than a week). */
export function humanAgo(iso: string | Date | undefined, now = Date.now()): string {
  if (iso === undefined) return '';
  const time = typeof iso === 'string' ? Date.parse(iso.replace(/\+0000$/, 'Z')) : iso.getTime();
  if (Number.isNaN(time)) return String(iso);
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 7 * 86_400) return `${Math.floor(s / 86_400)} d ago`;
  return new Date(time).toISOString().slice(0, 10);
}
