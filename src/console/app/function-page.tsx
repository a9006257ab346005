/**
 * @module console/app/function-page
 * One function: its header (state, runtime, ARN) and the Code, Configuration, Test and Monitor tabs.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from './api.ts';
import {
  configInput,
  configState,
  EnvEditor,
  fieldOf,
  LayersEditor,
  SettingsFields,
  type ConfigState,
} from './config-form.tsx';
import { lambda, toBase64, waitUntilReady, type FunctionConfiguration } from './lambda.ts';
import { MonitorTab } from './monitor.tsx';
import { TestTab } from './test-tab.tsx';
import {
  asApiError,
  ConfirmButton,
  CopyButton,
  ErrorText,
  Field,
  fileBase64,
  formatBytes,
  formatDate,
  navigate,
  Progress,
  StateBadge,
  useResource,
  ZipDrop,
} from './ui.tsx';
import { readZip, storedZip } from './zip.ts';

const TABS = [
  ['code', 'Code'],
  ['configuration', 'Configuration'],
  ['test', 'Test'],
  ['monitor', 'Monitor'],
] as const;
export type Tab = (typeof TABS)[number][0];

export function FunctionPage({ name, tab }: { name: string; tab: Tab }) {
  const fn = useResource(() => lambda.getFunction(name), [name]);
  const c = fn.data?.Configuration;
  const [deleteError, setDeleteError] = useState<ApiError | null>(null);

  // Pending / InProgress: poll until the function settles, so the header and the Test tab follow.
  const busy = c !== undefined && (c.State === 'Pending' || c.LastUpdateStatus === 'InProgress');
  useEffect(() => {
    if (!busy) return;
    const controller = new AbortController();
    waitUntilReady(name, controller.signal).then(
      () => {
        if (!controller.signal.aborted) fn.reload();
      },
      () => undefined,
    );
    return () => {
      controller.abort();
    };
  }, [busy, name]);

  const base = `#/functions/${encodeURIComponent(name)}`;
  return (
    <section aria-labelledby="function-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/functions">Functions</a> / <span>{name}</span>
      </nav>
      <header class="page-head">
        <div>
          <h1 id="function-title">{name}</h1>
          {c !== undefined && (
            <p class="meta">
              <StateBadge state={c.State} /> {c.LastUpdateStatus === 'InProgress' && <StateBadge state="Updating" />}{' '}
              <span>{c.Runtime}</span> · <span>{c.MemorySize} MB</span> · <span>{formatBytes(c.CodeSize)}</span> ·{' '}
              <span>modified {formatDate(c.LastModified)}</span>
            </p>
          )}
          {c !== undefined && (
            <p class="meta arn">
              <code>{c.FunctionArn}</code> <CopyButton text={c.FunctionArn} label="Copy ARN" />
            </p>
          )}
          {c?.State === 'Failed' && <p class="error">{c.StateReason}</p>}
          {c?.LastUpdateStatus === 'Failed' && <p class="error">{c.LastUpdateStatusReason}</p>}
        </div>
        <div>
          <ConfirmButton
            label="Delete function"
            confirm={`Delete ${name}`}
            onConfirm={() => {
              lambda.deleteFunction(name).then(
                () => {
                  navigate('#/functions');
                },
                (e: unknown) => {
                  setDeleteError(asApiError(e));
                },
              );
            }}
          />
          <ErrorText error={deleteError} />
        </div>
      </header>
      <ErrorText error={fn.error} />
      <nav class="tabs" aria-label="Function">
        {TABS.map(([id, label]) => (
          <a key={id} href={`${base}/${id}`} aria-current={tab === id ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {c !== undefined && tab === 'code' && (
        <CodeTab config={c} location={fn.data?.Code.Location} onSaved={fn.reload} />
      )}
      {c !== undefined && tab === 'configuration' && <ConfigTab config={c} onSaved={fn.reload} />}
      {c !== undefined && tab === 'test' && <TestTab config={c} />}
      {c !== undefined && tab === 'monitor' && <MonitorTab name={name} />}
    </section>
  );
}

function ConfigTab({ config, onSaved }: { config: FunctionConfiguration; onSaved: () => void }) {
  const [state, setState] = useState<ConfigState>(() => configState(config));
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved'>('idle');
  const save = async () => {
    setError(null);
    setStatus('saving');
    try {
      await lambda.updateFunctionConfiguration(config.FunctionName, configInput(state));
      await waitUntilReady(config.FunctionName);
      setStatus('saved');
      onSaved();
    } catch (e) {
      setError(asApiError(e));
      setStatus('idle');
    }
  };
  const field = fieldOf(error);
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div class="card">
        <h2>General configuration</h2>
        <SettingsFields idPrefix="cfg" state={state} onChange={setState} error={error} />
      </div>
      <div class="card">
        <LayersEditor idPrefix="cfg" state={state} onChange={setState} error={error} />
      </div>
      <div class="card">
        <EnvEditor idPrefix="cfg" state={state} onChange={setState} error={error} />
      </div>
      <div class="actions sticky">
        <button type="submit" class="primary" disabled={status === 'saving'}>
          Save
        </button>
        <span role="status" class="muted">
          {status === 'saving' ? 'Saving…' : status === 'saved' ? 'Saved.' : ''}
        </span>
      </div>
      {field === null && <ErrorText error={error} />}
    </form>
  );
}

interface CodeFile {
  name: string;
  mode: number;
  size: number;
  data: Uint8Array;
}

function CodeTab(props: { config: FunctionConfiguration; location: string | undefined; onSaved: () => void }) {
  const { config } = props;
  const files = useResource(async (): Promise<CodeFile[]> => {
    if (props.location === undefined) return [];
    const entries = readZip(await lambda.downloadCode(props.location));
    const out: CodeFile[] = [];
    for (const e of entries) out.push({ name: e.name, mode: e.mode, size: e.size, data: await e.read() });
    return out;
  }, [config.CodeSha256]);
  const [selected, setSelected] = useState<string | null>(null);
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [zip, setZip] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');

  const list = (files.data ?? []).filter((f) => !f.name.endsWith('/'));
  const textFiles = list.filter((f) => f.size <= 256 * 1024 && isText(f.data));
  const current = textFiles.find((f) => f.name === selected) ?? textFiles[0];
  const dirty = Object.keys(edits).length > 0;

  const deploy = async (fromZip: boolean) => {
    setError(null);
    setStatus('');
    try {
      let body: string;
      if (fromZip) {
        if (zip === null) throw new Error('Choose a .zip file first.');
        body = await fileBase64(zip);
      } else {
        const encoder = new TextEncoder();
        body = toBase64(
          storedZip(
            list.map((f) => ({
              name: f.name,
              mode: f.mode,
              data: f.name in edits ? encoder.encode(edits[f.name]) : f.data,
            })),
          ),
        );
      }
      setProgress(0);
      await lambda.updateFunctionCode(config.FunctionName, body, setProgress);
      await waitUntilReady(config.FunctionName);
      setEdits({});
      setZip(null);
      setStatus('Deployed.');
      props.onSaved();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setProgress(null);
    }
  };

  return (
    <div class="form">
      <div class="card">
        <h2>Code source</h2>
        <ErrorText error={files.error} />
        {files.loading && files.data === undefined && <p class="muted">Loading the code…</p>}
        {current !== undefined ? (
          <>
            {textFiles.length > 1 && (
              <Field id="code-file" label="File">
                <select
                  id="code-file"
                  value={current.name}
                  onChange={(e) => {
                    setSelected(e.currentTarget.value);
                  }}
                >
                  {textFiles.map((f) => (
                    <option key={f.name} value={f.name}>
                      {f.name}
                      {f.name in edits ? ' (edited)' : ''}
                    </option>
                  ))}
                </select>
              </Field>
            )}
            <Field id="code-editor" label={current.name}>
              <textarea
                id="code-editor"
                class="code"
                rows={16}
                spellcheck={false}
                value={edits[current.name] ?? new TextDecoder().decode(current.data)}
                onInput={(e) => {
                  const value = e.currentTarget.value;
                  setEdits((m) => ({ ...m, [current.name]: value }));
                }}
              />
            </Field>
            <div class="actions">
              <button
                type="button"
                class="primary"
                disabled={!dirty || progress !== null}
                onClick={() => {
                  void deploy(false);
                }}
              >
                Deploy
              </button>
              <span role="status" class="muted">
                {status}
              </span>
            </div>
          </>
        ) : (
          files.data !== undefined && <p class="muted">No text file small enough to edit here.</p>
        )}
        {list.length > 0 && (
          <details class="section">
            <summary>
              {list.length} file{list.length === 1 ? '' : 's'} in the package
            </summary>
            <ul class="files">
              {list.map((f) => (
                <li key={f.name}>
                  <code>{f.name}</code> <span class="muted">{formatBytes(f.size)}</span>
                </li>
              ))}
            </ul>
          </details>
        )}
      </div>
      <div class="card">
        <h2>Upload a new package</h2>
        <ZipDrop id="code-zip" file={zip} onFile={setZip} label="Upload a .zip file" />
        <div class="actions">
          <button
            type="button"
            disabled={zip === null || progress !== null}
            onClick={() => {
              void deploy(true);
            }}
          >
            Deploy .zip
          </button>
          <Progress value={progress} label="Upload progress" />
        </div>
      </div>
      <ErrorText error={error} />
    </div>
  );
}

function isText(data: Uint8Array): boolean {
  const sample = data.subarray(0, 4096);
  if (sample.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.length === data.length ? data : sample.subarray(0, -4));
    return true;
  } catch {
    return false;
  }
}
