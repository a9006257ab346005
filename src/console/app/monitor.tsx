/**
 * @module console/app/monitor
 * Monitor: live logs (CloudWatch Logs `FilterLogEvents`, polled), a chart of invocations, errors and duration
 * over the last hour derived from the REPORT lines, and the execution environments alive now.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from './api.ts';
import { lambda, type EnvironmentInfo, type LogEvent } from './lambda.ts';
import { bucketize, errorRequestIds, type Bucket } from './report.ts';
import { asApiError, ErrorText, formatAge, useInterval } from './ui.tsx';

const HOUR = 3_600_000;
const MAX_EVENTS = 10_000;
const POLL_MS = 2000;

export function MonitorTab({ name }: { name: string }) {
  const [events, setEvents] = useState<LogEvent[]>([]);
  const [logError, setLogError] = useState<ApiError | null>(null);
  const [paused, setPaused] = useState(false);
  const [now, setNow] = useState(Date.now());
  const seen = useRef(new Set<string>());
  const since = useRef(Date.now() - HOUR);
  const polling = useRef(false);

  const poll = async () => {
    if (polling.current) return;
    polling.current = true;
    try {
      const fresh: LogEvent[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await lambda.filterLogEvents({
          logGroupName: `/aws/lambda/${name}`,
          startTime: since.current,
          ...(nextToken !== undefined ? { nextToken } : {}),
        });
        for (const e of page.events ?? []) {
          const id = e.eventId || `${e.logStreamName}/${e.timestamp}/${e.message}`;
          if (seen.current.has(id)) continue;
          seen.current.add(id);
          fresh.push(e);
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined && ++pages < 20);
      if (fresh.length > 0) {
        // Re-read from the newest timestamp next time (events sharing it are deduplicated by eventId).
        since.current = Math.max(since.current, ...fresh.map((e) => e.timestamp));
        setEvents((old) => [...old, ...fresh].sort((a, b) => a.timestamp - b.timestamp).slice(-MAX_EVENTS));
      }
      setLogError(null);
    } catch (e) {
      const error = asApiError(e);
      // No log group yet: the function has not run (AWS creates the group on the first invocation).
      setLogError(error.code === 'ResourceNotFoundException' ? null : error);
    } finally {
      polling.current = false;
      setNow(Date.now());
    }
  };
  useEffect(() => {
    void poll();
  }, [name]);
  useInterval(
    () => {
      if (!paused) void poll();
    },
    POLL_MS,
    [paused, name],
  );

  const errors = errorRequestIds(events);
  const buckets = bucketize(events, now, HOUR, 30, errors);
  return (
    <div class="form">
      <section class="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Last hour</h2>
        <Chart buckets={buckets} />
      </section>
      <Environments name={name} />
      <section class="card" aria-labelledby="logs-title">
        <header class="card-head">
          <h2 id="logs-title">Live logs</h2>
          <span class="row-actions">
            <button
              type="button"
              class="small"
              aria-pressed={paused}
              onClick={() => {
                setPaused(!paused);
              }}
            >
              {paused ? 'Resume' : 'Pause'}
            </button>
            <button
              type="button"
              class="small"
              onClick={() => {
                setEvents([]);
              }}
            >
              Clear
            </button>
          </span>
        </header>
        <p class="hint">
          Log group <code>/aws/lambda/{name}</code>, refreshed every {POLL_MS / 1000} s.
        </p>
        <ErrorText error={logError} />
        <LogView events={events} />
      </section>
    </div>
  );
}

function LogView({ events }: { events: LogEvent[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el !== null && stick.current) el.scrollTop = el.scrollHeight;
  }, [events.length]);
  const shown = events.slice(-1000);
  return (
    <div
      class="logview"
      ref={ref}
      tabIndex={0}
      role="log"
      aria-label="Function log events"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {shown.length === 0 && <p class="muted">No log events in the last hour.</p>}
      {shown.map((e) => (
        <div key={e.eventId || `${e.timestamp}${e.message}`} class={lineClass(e.message)}>
          <time dateTime={new Date(e.timestamp).toISOString()}>{new Date(e.timestamp).toLocaleTimeString()}</time>
          <span>{e.message.replace(/\n$/, '')}</span>
        </div>
      ))}
    </div>
  );
}

function lineClass(message: string): string {
  if (/^(START|END|REPORT|INIT_START|INIT_REPORT) /.test(message)) return 'logline platform';
  if (/\tERROR\t|Task timed out|"level":"ERROR"/.test(message)) return 'logline err';
  return 'logline';
}

/** Bars: invocations (errors in red on top of them); line: mean duration on its own scale. */
function Chart({ buckets }: { buckets: Bucket[] }) {
  const W = 600;
  const H = 160;
  const pad = { l: 34, r: 44, t: 10, b: 22 };
  const maxCount = Math.max(1, ...buckets.map((b) => b.invocations));
  const maxMs = Math.max(1, ...buckets.map((b) => b.avgDurationMs));
  const bw = (W - pad.l - pad.r) / buckets.length;
  const y = (v: number) => H - pad.b - (v / maxCount) * (H - pad.t - pad.b);
  const yd = (v: number) => H - pad.b - (v / maxMs) * (H - pad.t - pad.b);
  const total = buckets.reduce((n, b) => n + b.invocations, 0);
  const errors = buckets.reduce((n, b) => n + b.errors, 0);
  const withCalls = buckets.filter((b) => b.invocations > 0);
  const mean =
    withCalls.length === 0
      ? 0
      : withCalls.reduce((n, b) => n + b.avgDurationMs * b.invocations, 0) / Math.max(1, total);
  const line = buckets
    .map((b, i) => (b.invocations > 0 ? `${pad.l + i * bw + bw / 2},${yd(b.avgDurationMs)}` : null))
    .filter((p): p is string => p !== null);
  const summary = `${total} invocations, ${errors} errors, mean duration ${mean.toFixed(2)} ms`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Last hour: ${summary}`}>
        <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} class="axis" />
        <text x={pad.l - 4} y={pad.t + 8} class="tick" text-anchor="end">
          {maxCount}
        </text>
        <text x={pad.l - 4} y={H - pad.b} class="tick" text-anchor="end">
          0
        </text>
        <text x={W - pad.r + 4} y={pad.t + 8} class="tick dur">
          {maxMs.toFixed(0)} ms
        </text>
        {buckets.map((b, i) => (
          <g key={b.start}>
            <rect
              x={pad.l + i * bw + 1}
              y={y(b.invocations)}
              width={Math.max(1, bw - 2)}
              height={H - pad.b - y(b.invocations)}
              class="bar"
            >
              <title>
                {new Date(b.start).toLocaleTimeString()}: {b.invocations} invocations, {b.errors} errors, mean{' '}
                {b.avgDurationMs.toFixed(2)} ms, max {b.maxDurationMs.toFixed(2)} ms
              </title>
            </rect>
            {b.errors > 0 && (
              <rect
                x={pad.l + i * bw + 1}
                y={y(b.errors)}
                width={Math.max(1, bw - 2)}
                height={H - pad.b - y(b.errors)}
                class="bar err"
              />
            )}
          </g>
        ))}
        {line.length > 1 && <polyline points={line.join(' ')} class="dur-line" />}
        {line.length === 1 && <circle cx={line[0]?.split(',')[0]} cy={line[0]?.split(',')[1]} r={3} class="dur-dot" />}
        <text x={pad.l} y={H - 6} class="tick">
          −60 min
        </text>
        <text x={W - pad.r} y={H - 6} class="tick" text-anchor="end">
          now
        </text>
      </svg>
      <figcaption>
        <span class="key inv">Invocations</span> <span class="key err">Errors</span>{' '}
        <span class="key dur">Mean duration</span> — {summary}
      </figcaption>
    </figure>
  );
}

function Environments({ name }: { name: string }) {
  const [list, setList] = useState<EnvironmentInfo[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [now, setNow] = useState(Date.now());
  const load = () => {
    lambda.environments(name).then(
      (out) => {
        setList(out.Environments);
        setError(null);
        setNow(Date.now());
      },
      (e: unknown) => {
        setError(asApiError(e));
      },
    );
  };
  useEffect(load, [name]);
  useInterval(load, POLL_MS, [name]);
  return (
    <section class="card" aria-labelledby="envs-title">
      <h2 id="envs-title">Execution environments</h2>
      <ErrorText error={error} />
      {list?.length === 0 && <p class="muted">None alive: the next invoke is a cold start.</p>}
      {list !== null && list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Version</th>
                <th scope="col">State</th>
                <th scope="col">Age</th>
                <th scope="col">Idle for</th>
                <th scope="col">Invocations</th>
                <th scope="col">Memory used</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr key={e.id}>
                  <td>
                    <code>{e.id.slice(0, 12)}</code>
                  </td>
                  <td>{e.version}</td>
                  <td>
                    <span class={e.busy ? 'badge badge-busy' : 'badge badge-warm'}>{e.busy ? 'busy' : 'warm'}</span>{' '}
                    <span class="muted">{e.state}</span>
                  </td>
                  <td>{formatAge(now - e.createdAt)}</td>
                  <td>{e.busy ? '—' : formatAge(now - e.lastUsedAt)}</td>
                  <td>{e.invocations}</td>
                  <td>
                    {e.maxMemoryUsedMb ?? '?'} / {e.memorySizeMb} MB
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
