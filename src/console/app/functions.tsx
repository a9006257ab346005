/**
 * @module console/app/functions
 * Functions: the list, and "Create function" → "Author from scratch" (a code zip, or one TS/JS/shell file
 * written here and zipped in the browser), with layers and configuration.
 */
import { useState } from 'preact/hooks';
import { settings, type ApiError } from './api.ts';
import {
  configInput,
  configState,
  EnvEditor,
  fieldOf,
  LayersEditor,
  SettingsFields,
  type ConfigState,
} from './config-form.tsx';
import { lambda, toBase64 } from './lambda.ts';
import { RUNTIMES, starterFor } from './runtimes.ts';
import {
  asApiError,
  described,
  ErrorText,
  Field,
  fileBase64,
  formatDate,
  navigate,
  Progress,
  StateBadge,
  useResource,
  ZipDrop,
} from './ui.tsx';
import { storedZip } from './zip.ts';

export function FunctionsPage() {
  const functions = useResource(() => lambda.listFunctions(), []);
  return (
    <section aria-labelledby="functions-title">
      <header class="page-head">
        <h1 id="functions-title">Functions</h1>
        <a class="button primary" href="#/functions/new">
          Create function
        </a>
      </header>
      <ErrorText error={functions.error} />
      {functions.data?.length === 0 && (
        <p class="empty">
          No functions yet. <a href="#/functions/new">Create one</a>, or publish a runtime first under{' '}
          <a href="#/layers">Layers</a>.
        </p>
      )}
      {functions.data !== undefined && functions.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Runtime</th>
                <th scope="col">Memory</th>
                <th scope="col">Last modified</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {functions.data.map((f) => (
                <tr key={f.FunctionArn}>
                  <td>
                    <a href={`#/functions/${encodeURIComponent(f.FunctionName)}`}>{f.FunctionName}</a>
                  </td>
                  <td>{f.Runtime}</td>
                  <td>{f.MemorySize} MB</td>
                  <td>{formatDate(f.LastModified)}</td>
                  <td>
                    <StateBadge state={f.State} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {functions.loading && functions.data === undefined && <p class="muted">Loading…</p>}
    </section>
  );
}

export type Language = 'js' | 'ts' | 'sh';

export function CreateFunctionPage() {
  const [name, setName] = useState('');
  const [config, setConfig] = useState<ConfigState>(() => ({ ...configState(), handler: 'function.handler' }));
  const [source, setSource] = useState<'editor' | 'zip'>('editor');
  const [language, setLanguage] = useState<Language>('sh');
  const [fileName, setFileName] = useState('function.sh');
  const [code, setCode] = useState(() => starterFor('provided.al2023', 'sh').code);
  const [edited, setEdited] = useState(false);
  const [zip, setZip] = useState<File | null>(null);
  const [role, setRole] = useState(`arn:aws:iam::${settings.accountId}:role/lambda-role`);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const field = fieldOf(error);
  const err = (f: string) => (field === f ? error : null);

  /** A new runtime or language brings its starter code, unless the user has written their own. */
  const applyStarter = (runtime: string, lang: Language) => {
    const custom = RUNTIMES.find((r) => r.id === runtime)?.custom ?? false;
    const effective: Language = custom ? 'sh' : lang === 'sh' ? 'js' : lang;
    setLanguage(effective);
    const starter = starterFor(runtime, effective);
    setConfig((c) => ({ ...c, runtime, handler: starter.handler }));
    if (!edited) {
      setCode(starter.code);
      setFileName(starter.file);
    }
  };

  const submit = async () => {
    setError(null);
    try {
      let zipFile: string;
      if (source === 'zip') {
        if (zip === null) throw new Error('Choose a .zip file with your function code.');
        zipFile = await fileBase64(zip);
      } else {
        zipFile = toBase64(storedZip([{ name: fileName, data: code }]));
      }
      setProgress(0);
      await lambda.createFunction(
        { ...configInput(config), FunctionName: name, Role: role, ZipFile: zipFile },
        setProgress,
      );
      navigate(`#/functions/${encodeURIComponent(name)}`);
    } catch (e) {
      setError(asApiError(e));
      setProgress(null);
    }
  };

  const custom = RUNTIMES.find((r) => r.id === config.runtime)?.custom ?? false;
  return (
    <section aria-labelledby="create-function-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/functions">Functions</a> / <span>Create function</span>
      </nav>
      <h1 id="create-function-title">Create function</h1>
      <p class="muted">Author from scratch.</p>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div class="card">
          <h2>Basic information</h2>
          <Field id="fn-name" label="Function name" error={err('functionName')} hint="Letters, numbers, - and _">
            <input
              id="fn-name"
              required
              value={name}
              autoComplete="off"
              spellcheck={false}
              onInput={(e) => {
                setName(e.currentTarget.value);
              }}
              {...described('fn-name', err('functionName'), true)}
            />
          </Field>
          <SettingsFields
            idPrefix="fn"
            state={config}
            error={error}
            onChange={(next) => {
              if (next.runtime !== config.runtime) applyStarter(next.runtime, language);
              else setConfig(next);
            }}
          />
          {custom && (
            <p class="hint">
              A custom runtime runs the <code>bootstrap</code> of your code or of a layer: add a runtime layer below.
            </p>
          )}
        </div>
        <div class="card">
          <h2>Code</h2>
          <div role="radiogroup" aria-label="Code source" class="checks">
            <label class="check">
              <input
                type="radio"
                name="code-source"
                checked={source === 'editor'}
                onChange={() => {
                  setSource('editor');
                }}
              />{' '}
              Write code in the editor
            </label>
            <label class="check">
              <input
                type="radio"
                name="code-source"
                checked={source === 'zip'}
                onChange={() => {
                  setSource('zip');
                }}
              />{' '}
              Upload a .zip file
            </label>
          </div>
          {source === 'editor' ? (
            <>
              <div class="grid">
                {!custom && (
                  <Field id="fn-language" label="Language">
                    <select
                      id="fn-language"
                      value={language}
                      onChange={(e) => {
                        applyStarter(config.runtime, e.currentTarget.value as Language);
                      }}
                    >
                      <option value="js">JavaScript (index.mjs)</option>
                      <option value="ts">TypeScript (index.ts)</option>
                    </select>
                  </Field>
                )}
                <Field id="fn-file" label="File name">
                  <input
                    id="fn-file"
                    value={fileName}
                    spellcheck={false}
                    onInput={(e) => {
                      setFileName(e.currentTarget.value);
                    }}
                  />
                </Field>
              </div>
              <Field id="fn-code" label="Code" error={err('code')}>
                <textarea
                  id="fn-code"
                  class="code"
                  rows={12}
                  spellcheck={false}
                  value={code}
                  onInput={(e) => {
                    setCode(e.currentTarget.value);
                    setEdited(true);
                  }}
                  {...described('fn-code', err('code'))}
                />
              </Field>
            </>
          ) : (
            <Field id="fn-zip" label="Code .zip" error={err('code')}>
              <ZipDrop id="fn-zip" file={zip} onFile={setZip} label="Upload a .zip file" />
            </Field>
          )}
        </div>
        <div class="card">
          <LayersEditor idPrefix="fn" state={config} onChange={setConfig} error={error} />
          <EnvEditor idPrefix="fn" state={config} onChange={setConfig} error={error} />
          <details class="section" open={field === 'role' ? true : undefined}>
            <summary>Execution role</summary>
            <Field id="fn-role" label="Role ARN" error={err('role')} hint="Lambkin records it; it grants nothing.">
              <input
                id="fn-role"
                value={role}
                spellcheck={false}
                onInput={(e) => {
                  setRole(e.currentTarget.value);
                }}
                {...described('fn-role', err('role'), true)}
              />
            </Field>
          </details>
        </div>
        <div class="actions sticky">
          <button type="submit" class="primary" disabled={progress !== null && progress < 1 && error === null}>
            Create function
          </button>
          <a class="button" href="#/functions">
            Cancel
          </a>
          <Progress value={progress} label="Upload progress" />
        </div>
        {(field === null || field === 'role') && <ErrorText error={field === null ? error : null} />}
      </form>
    </section>
  );
}
