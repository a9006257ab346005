/**
 * @module console/app/report
 * Figures from Lambda's log lines: one `REPORT` line per invocation (Duration, Billed Duration, Memory Size,
 * Max Memory Used, Init Duration on a cold start, Status on a failure), bucketed for the Monitor chart.
 * Pure functions, shared with the Node tests.
 */

export interface Report {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number;
  status?: string;
  errorType?: string;
}

const FIELD = /(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration|Status|Error Type): ([^\t\n]+)/g;

/** The last REPORT line in `text` (a log tail, or one log message), or null. */
export function parseReport(text: string): Report | null {
  const lines = text.split('\n').filter((l) => l.startsWith('REPORT RequestId: '));
  const line = lines.at(-1);
  if (line === undefined) return null;
  const requestId = /^REPORT RequestId: (\S+)/.exec(line)?.[1] ?? '';
  const fields = new Map<string, string>();
  for (const m of line.matchAll(FIELD)) fields.set(m[1] ?? '', (m[2] ?? '').trim());
  const num = (key: string) => parseFloat(fields.get(key) ?? 'NaN');
  const report: Report = {
    requestId,
    durationMs: num('Duration'),
    billedDurationMs: num('Billed Duration'),
    memorySizeMb: num('Memory Size'),
    maxMemoryUsedMb: num('Max Memory Used'),
  };
  if (fields.has('Init Duration')) report.initDurationMs = num('Init Duration');
  const status = fields.get('Status');
  if (status !== undefined) report.status = status;
  const errorType = fields.get('Error Type');
  if (errorType !== undefined) report.errorType = errorType;
  return report;
}

export interface Bucket {
  start: number;
  invocations: number;
  errors: number;
  /** Mean and max Duration of the bucket's invocations (0 when none). */
  avgDurationMs: number;
  maxDurationMs: number;
}

/**
 * Invocations, errors and durations per bucket over `[end - span, end)`. An invocation is a REPORT line; an error
 * is a REPORT with a Status (error, timeout) or a request whose log shows a function error (`errorRequestIds`).
 */
export function bucketize(
  events: readonly { timestamp: number; message: string }[],
  end: number,
  spanMs = 3_600_000,
  count = 30,
  errorRequestIds: ReadonlySet<string> = new Set(),
): Bucket[] {
  const size = spanMs / count;
  const start = end - spanMs;
  const buckets: (Bucket & { total: number })[] = Array.from({ length: count }, (_, i) => ({
    start: start + i * size,
    invocations: 0,
    errors: 0,
    avgDurationMs: 0,
    maxDurationMs: 0,
    total: 0,
  }));
  for (const event of events) {
    if (!event.message.startsWith('REPORT ')) continue;
    const i = Math.floor((event.timestamp - start) / size);
    const bucket = buckets[i];
    if (bucket === undefined) continue;
    const report = parseReport(event.message);
    if (report === null) continue;
    bucket.invocations++;
    if (report.status !== undefined || errorRequestIds.has(report.requestId)) bucket.errors++;
    if (Number.isFinite(report.durationMs)) {
      bucket.total += report.durationMs;
      bucket.maxDurationMs = Math.max(bucket.maxDurationMs, report.durationMs);
    }
  }
  return buckets.map(({ total, ...b }) => ({ ...b, avgDurationMs: b.invocations > 0 ? total / b.invocations : 0 }));
}

/** Request ids whose logs show a function error (the runtime's `ERROR` lines, `Task timed out`, AWS error JSON). */
export function errorRequestIds(events: readonly { message: string }[]): Set<string> {
  const ids = new Set<string>();
  for (const { message } of events) {
    const m =
      /^\S+\t([0-9a-f-]{36})\tERROR\t/.exec(message) ??
      /^\S+ ([0-9a-f-]{36}) Task timed out/.exec(message) ??
      /"requestId":"([0-9a-f-]{36})".*"level":"ERROR"/.exec(message);
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  return ids;
}
