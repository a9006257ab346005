/**
 * @module console/app/test-tab
 * Test: an event JSON editor with named test events saved in this browser, Invoke (RequestResponse, log tail),
 * and the outcome: result or function error, the REPORT figures and the log tail.
 */
import { useState } from 'preact/hooks';
import type { ApiError } from './api.ts';
import { lambda, type FunctionConfiguration, type InvokeOutput } from './lambda.ts';
import { parseReport } from './report.ts';
import { asApiError, ErrorText, Field } from './ui.tsx';

const DEFAULT_EVENT = '{\n  "key1": "value1",\n  "key2": "value2"\n}';

type SavedEvents = Record<string, string>;

function storageKey(fn: string): string {
  return `lambkin.testEvents.${fn}`;
}

function loadEvents(fn: string): SavedEvents {
  try {
    return JSON.parse(localStorage.getItem(storageKey(fn)) ?? '{}') as SavedEvents;
  } catch {
    return {};
  }
}

export function TestTab({ config }: { config: FunctionConfiguration }) {
  const fn = config.FunctionName;
  const [saved, setSaved] = useState<SavedEvents>(() => loadEvents(fn));
  const [eventName, setEventName] = useState(() => Object.keys(loadEvents(fn))[0] ?? 'my-event');
  const [event, setEvent] = useState(() => loadEvents(fn)[eventName] ?? DEFAULT_EVENT);
  const [jsonError, setJsonError] = useState<ApiError | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<(InvokeOutput & { at: number }) | null>(null);
  const [running, setRunning] = useState(false);
  const [note, setNote] = useState('');

  const persist = (next: SavedEvents) => {
    setSaved(next);
    localStorage.setItem(storageKey(fn), JSON.stringify(next));
  };
  const checkJson = (): boolean => {
    try {
      JSON.parse(event);
      setJsonError(null);
      return true;
    } catch (e) {
      setJsonError(asApiError(new Error(`The event is not valid JSON: ${(e as Error).message}`)));
      return false;
    }
  };
  const invoke = async () => {
    if (running || !checkJson()) return;
    setRunning(true);
    setError(null);
    try {
      setResult({ ...(await lambda.invoke(fn, event)), at: Date.now() });
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setRunning(false);
    }
  };
  const notReady = config.State !== 'Active' || config.LastUpdateStatus === 'InProgress';

  return (
    <div class="form">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void invoke();
        }}
      >
        <h2>Test event</h2>
        <div class="grid">
          <Field id="saved-events" label="Saved events">
            <select
              id="saved-events"
              value={eventName in saved ? eventName : ''}
              onChange={(e) => {
                const name = e.currentTarget.value;
                if (name === '') return;
                setEventName(name);
                setEvent(saved[name] ?? DEFAULT_EVENT);
                setNote('');
              }}
            >
              <option value="">{Object.keys(saved).length === 0 ? 'None saved yet' : 'New event'}</option>
              {Object.keys(saved)
                .sort()
                .map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
            </select>
          </Field>
          <Field id="event-name" label="Event name">
            <input
              id="event-name"
              value={eventName}
              onInput={(e) => {
                setEventName(e.currentTarget.value);
              }}
            />
          </Field>
        </div>
        <Field id="event-json" label="Event JSON" error={jsonError} hint="Ctrl+Enter invokes">
          <textarea
            id="event-json"
            class="code"
            rows={10}
            spellcheck={false}
            value={event}
            aria-describedby="event-json-hint"
            onInput={(e) => {
              setEvent(e.currentTarget.value);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void invoke();
              }
            }}
          />
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={running || notReady}>
            {running ? 'Invoking…' : 'Test'}
          </button>
          <button
            type="button"
            onClick={() => {
              if (!checkJson() || eventName.trim() === '') return;
              persist({ ...saved, [eventName.trim()]: event });
              setNote(`Saved "${eventName.trim()}".`);
            }}
          >
            Save event
          </button>
          <button
            type="button"
            onClick={() => {
              if (checkJson()) setEvent(JSON.stringify(JSON.parse(event), null, 2));
            }}
          >
            Format
          </button>
          {eventName in saved && (
            <button
              type="button"
              class="danger"
              onClick={() => {
                const { [eventName]: _gone, ...rest } = saved;
                persist(rest);
                setNote(`Deleted "${eventName}".`);
              }}
            >
              Delete event
            </button>
          )}
          <span role="status" class="muted">
            {notReady ? `The function is ${config.State ?? 'not ready'}; wait for Active.` : note}
          </span>
        </div>
        <ErrorText error={error} />
      </form>
      {result !== null && <InvokeResult result={result} />}
    </div>
  );
}

function InvokeResult({ result }: { result: InvokeOutput }) {
  const report = parseReport(result.logResult);
  const failed = result.functionError !== null;
  let pretty = result.payload;
  try {
    pretty = JSON.stringify(JSON.parse(result.payload), null, 2);
  } catch {
    // not JSON: shown as it came
  }
  const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(2)} ms`);
  return (
    <section class={failed ? 'card result failed' : 'card result ok'} aria-labelledby="result-title" aria-live="polite">
      <h2 id="result-title">
        {failed ? `Execution result: failed (${result.functionError ?? ''})` : 'Execution result: succeeded'}
      </h2>
      <dl class="figures">
        <div>
          <dt>Request ID</dt>
          <dd>
            <code>{report?.requestId ?? '—'}</code>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{ms(report?.durationMs)}</dd>
        </div>
        <div>
          <dt>Billed duration</dt>
          <dd>{report ? `${report.billedDurationMs} ms` : '—'}</dd>
        </div>
        <div>
          <dt>Memory size</dt>
          <dd>{report ? `${report.memorySizeMb} MB` : '—'}</dd>
        </div>
        <div>
          <dt>Max memory used</dt>
          <dd>{report ? `${report.maxMemoryUsedMb} MB` : '—'}</dd>
        </div>
        <div>
          <dt>Init duration</dt>
          <dd>{report?.initDurationMs !== undefined ? ms(report.initDurationMs) : 'warm start'}</dd>
        </div>
      </dl>
      <h3>{failed ? 'Error' : 'Response'}</h3>
      <pre class="output" data-testid="invoke-response">
        {pretty}
      </pre>
      <h3>Log output</h3>
      <p class="hint">The last 4 KB of the invocation's log.</p>
      <pre class="output logs" data-testid="invoke-logs">
        {result.logResult}
      </pre>
    </section>
  );
}
