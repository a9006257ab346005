/**
 * @module cli/commands/logs
 * `lambkin logs FN [-f] [--since 10m] [--filter TEXT]`: the function's log group (`/aws/lambda/FN`) through the
 * CloudWatch Logs API (FilterLogEvents), the same call that works against AWS.
 */
import {
  FilterLogEventsCommand,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { Command } from 'commander';
import { CliError } from '../errors.ts';
import type { Output } from '../output.ts';
import { openSession } from '../session.ts';

export function logsCommand(): Command {
  return new Command('logs')
    .description('print a function’s logs (CloudWatch Logs group /aws/lambda/FN)')
    .argument('<function>', 'function name or ARN')
    .option('-f, --follow', 'keep printing new events until interrupted', false)
    .option('--since <age|time>', 'start this long ago (30s, 10m, 2h, 1d) or at an ISO time', '10m')
    .option('--filter <pattern>', 'CloudWatch filter pattern, e.g. ERROR or "timed out"')
    .addHelpText('after', '\nExamples:\n  $ lambkin logs hello --since 1h\n  $ lambkin logs hello -f --filter REPORT')
    .action(async (fn: string, opts: { follow: boolean; since: string; filter?: string }, command: Command) => {
      const { logs, out } = openSession(command);
      const group = `/aws/lambda/${functionName(fn)}`;
      const stop = new AbortController();
      process.once('SIGINT', () => {
        stop.abort();
      });
      await tail(logs, out, {
        group,
        startTime: since(opts.since),
        follow: opts.follow,
        ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
        signal: stop.signal,
      });
    });
}

export interface TailOptions {
  group: string;
  startTime: number;
  follow: boolean;
  filter?: string;
  signal: AbortSignal;
  /** How often to ask for new events when following. */
  pollMs?: number;
}

/** Prints events from `startTime` on; with `follow`, keeps polling (events already printed are skipped). */
export async function tail(logs: CloudWatchLogsClient, out: Output, options: TailOptions): Promise<void> {
  const seen = new Set<string>();
  let from = options.startTime;
  for (;;) {
    let nextToken: string | undefined;
    let newest = from;
    do {
      const page = await logs
        .send(
          new FilterLogEventsCommand({
            logGroupName: options.group,
            startTime: from,
            ...(options.filter !== undefined ? { filterPattern: options.filter } : {}),
            ...(nextToken !== undefined ? { nextToken } : {}),
          }),
          { abortSignal: options.signal },
        )
        .catch((err: unknown) => {
          if (options.signal.aborted) return null;
          // A function that has never run has no log group yet: following waits for it.
          if (options.follow && err instanceof Error && err.name === 'ResourceNotFoundException') return null;
          throw err;
        });
      if (page === null) break;
      for (const event of page.events ?? []) {
        const id = event.eventId ?? `${String(event.timestamp)}:${event.logStreamName ?? ''}:${event.message ?? ''}`;
        if (seen.has(id)) continue;
        seen.add(id);
        print(out, event);
        newest = Math.max(newest, event.timestamp ?? 0);
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined && !options.signal.aborted);
    if (!options.follow || aborted(options.signal)) return;
    // Overlap by a second: events with the same timestamp may still arrive; `seen` drops the repeats.
    from = Math.max(from, newest - 1000);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.pollMs ?? 1000);
      options.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (aborted(options.signal)) return;
  }
}

/** Read through a call: the checker would otherwise keep the value it narrowed before an `await`. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function print(out: Output, event: FilteredLogEvent): void {
  const message = (event.message ?? '').replace(/\n$/, '');
  if (out.json) {
    out.line(
      JSON.stringify({ timestamp: event.timestamp, logStreamName: event.logStreamName, message: event.message }),
    );
    return;
  }
  const time = new Date(event.timestamp ?? 0).toISOString();
  const stream = (event.logStreamName ?? '').slice(-8);
  out.line(`${out.color.dim(time)} ${out.color.cyan(stream)} ${message}`);
}

/** `hello`, `hello:prod` or an ARN → `hello`. */
export function functionName(ref: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]+:\d+:function:([^:]+)/.exec(ref);
  if (arn?.[1] !== undefined) return arn[1];
  return ref.split(':')[0] ?? ref;
}

/** `10m` → ten minutes ago (ms since the epoch); an ISO date as it is. */
export function since(text: string, now = Date.now()): number {
  const match = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (match !== null) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(match[1]) * unit * 1000;
  }
  const time = Date.parse(text);
  if (Number.isNaN(time))
    throw new CliError('InvalidParameterValueException', `--since "${text}" is neither an age (10m, 2h) nor a time`, {
      hint: 'e.g. --since 30m or --since 2026-01-31T12:00:00Z',
    });
  return time;
}
