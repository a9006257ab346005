/**
 * @module console/app/config-form
 * The configuration both "Create function" and a function's Configuration tab edit: settings (memory, timeout,
 * ephemeral storage, handler, runtime), environment variables and layers, with each API error shown by its field.
 */
import { useState } from 'preact/hooks';
import type { ApiError } from './api.ts';
import type { ConfigInput, FunctionConfiguration } from './lambda.ts';
import { lambda } from './lambda.ts';
import { RUNTIMES } from './runtimes.ts';
import { described, ErrorText, errorField, Field, useResource } from './ui.tsx';

export interface ConfigState {
  runtime: string;
  handler: string;
  description: string;
  memory: string;
  timeout: string;
  ephemeral: string;
  env: { key: string; value: string }[];
  layers: string[];
}

export function configState(c?: FunctionConfiguration): ConfigState {
  return {
    runtime: c?.Runtime ?? 'provided.al2023',
    handler: c?.Handler ?? 'function.handler',
    description: c?.Description ?? '',
    memory: String(c?.MemorySize ?? 128),
    timeout: String(c?.Timeout ?? 3),
    ephemeral: String(c?.EphemeralStorage?.Size ?? 512),
    env: Object.entries(c?.Environment?.Variables ?? {}).map(([key, value]) => ({ key, value })),
    layers: (c?.Layers ?? []).map((l) => l.Arn),
  };
}

/** The API members for a state (numbers stay strings the API will refuse with its own message if malformed). */
export function configInput(s: ConfigState): ConfigInput {
  const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));
  return {
    Runtime: s.runtime,
    Handler: s.handler,
    Description: s.description,
    MemorySize: num(s.memory),
    Timeout: num(s.timeout),
    EphemeralStorage: { Size: num(s.ephemeral) },
    Environment: { Variables: Object.fromEntries(s.env.filter((e) => e.key !== '').map((e) => [e.key, e.value])) },
    Layers: s.layers,
  };
}

/** Form fields an API error can point at (member names as AWS writes them in messages). */
export const CONFIG_FIELDS = {
  functionName: /functionName|Function already exist|function name/i,
  role: /^role$|role/,
  runtime: /^runtime$|Runtime|runtime/,
  handler: /^handler$|handler/i,
  description: /^description$/,
  memory: /memorySize|MemorySize|memory/i,
  timeout: /^timeout$|Timeout/,
  ephemeral: /ephemeralStorage|EphemeralStorage/i,
  env: /environment|Environment variables|reserved keys/i,
  layers: /layers|Layer version|layer/i,
  code: /zipFile|Uploaded file|zip|code/i,
};

export type ConfigField = keyof typeof CONFIG_FIELDS;

export function fieldOf(error: ApiError | null): ConfigField | null {
  return errorField(error, CONFIG_FIELDS) as ConfigField | null;
}

interface Props {
  state: ConfigState;
  onChange: (next: ConfigState) => void;
  error: ApiError | null;
  idPrefix: string;
}

export function SettingsFields({ state, onChange, error, idPrefix }: Props) {
  const field = fieldOf(error);
  const err = (f: ConfigField) => (field === f ? error : null);
  const set = (patch: Partial<ConfigState>) => {
    onChange({ ...state, ...patch });
  };
  const id = (f: string) => `${idPrefix}-${f}`;
  return (
    <div class="grid">
      <Field id={id('runtime')} label="Runtime" error={err('runtime')}>
        <select
          id={id('runtime')}
          value={state.runtime}
          onChange={(e) => {
            set({ runtime: e.currentTarget.value });
          }}
          {...described(id('runtime'), err('runtime'))}
        >
          {RUNTIMES.map((r) => (
            <option key={r.id} value={r.id}>
              {r.label} — {r.id}
            </option>
          ))}
        </select>
      </Field>
      <Field id={id('handler')} label="Handler" error={err('handler')} hint="file.function, e.g. index.handler">
        <input
          id={id('handler')}
          value={state.handler}
          spellcheck={false}
          onInput={(e) => {
            set({ handler: e.currentTarget.value });
          }}
          {...described(id('handler'), err('handler'), true)}
        />
      </Field>
      <Field id={id('memory')} label="Memory (MB)" error={err('memory')} hint="128 to 10240">
        <input
          id={id('memory')}
          type="number"
          inputMode="numeric"
          value={state.memory}
          onInput={(e) => {
            set({ memory: e.currentTarget.value });
          }}
          {...described(id('memory'), err('memory'), true)}
        />
      </Field>
      <Field id={id('timeout')} label="Timeout (seconds)" error={err('timeout')} hint="1 to 900">
        <input
          id={id('timeout')}
          type="number"
          inputMode="numeric"
          value={state.timeout}
          onInput={(e) => {
            set({ timeout: e.currentTarget.value });
          }}
          {...described(id('timeout'), err('timeout'), true)}
        />
      </Field>
      <Field id={id('ephemeral')} label="Ephemeral storage /tmp (MB)" error={err('ephemeral')} hint="512 to 10240">
        <input
          id={id('ephemeral')}
          type="number"
          inputMode="numeric"
          value={state.ephemeral}
          onInput={(e) => {
            set({ ephemeral: e.currentTarget.value });
          }}
          {...described(id('ephemeral'), err('ephemeral'), true)}
        />
      </Field>
      <Field id={id('description')} label="Description" error={err('description')}>
        <input
          id={id('description')}
          value={state.description}
          onInput={(e) => {
            set({ description: e.currentTarget.value });
          }}
          {...described(id('description'), err('description'))}
        />
      </Field>
    </div>
  );
}

export function EnvEditor({ state, onChange, error, idPrefix }: Props) {
  const field = fieldOf(error);
  const rows = state.env;
  const setRows = (env: ConfigState['env']) => {
    onChange({ ...state, env });
  };
  return (
    <fieldset class="section">
      <legend>Environment variables</legend>
      {rows.length === 0 && <p class="muted">None.</p>}
      {rows.map((row, i) => (
        <div class="env-row" key={i}>
          <label class="visually-hidden" for={`${idPrefix}-env-key-${i}`}>
            Key {i + 1}
          </label>
          <input
            id={`${idPrefix}-env-key-${i}`}
            placeholder="KEY"
            value={row.key}
            spellcheck={false}
            onInput={(e) => {
              const key = e.currentTarget.value;
              setRows(rows.map((r, j) => (j === i ? { ...r, key } : r)));
            }}
          />
          <label class="visually-hidden" for={`${idPrefix}-env-value-${i}`}>
            Value {i + 1}
          </label>
          <input
            id={`${idPrefix}-env-value-${i}`}
            placeholder="value"
            value={row.value}
            spellcheck={false}
            onInput={(e) => {
              const value = e.currentTarget.value;
              setRows(rows.map((r, j) => (j === i ? { ...r, value } : r)));
            }}
          />
          <button
            type="button"
            class="small"
            aria-label={`Remove variable ${row.key || i + 1}`}
            onClick={() => {
              setRows(rows.filter((_, j) => j !== i));
            }}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="small"
        onClick={() => {
          setRows([...rows, { key: '', value: '' }]);
        }}
      >
        Add environment variable
      </button>
      <ErrorText error={field === 'env' ? error : null} />
    </fieldset>
  );
}

/** "Add a layer" (by version ARN, or picked from this account's layers), reorder, remove. Order = merge order. */
export function LayersEditor({ state, onChange, error, idPrefix }: Props) {
  const field = fieldOf(error);
  const [mode, setMode] = useState<'arn' | 'pick'>('arn');
  const [arn, setArn] = useState('');
  const [picked, setPicked] = useState('');
  const [adding, setAdding] = useState(false);
  const layers = state.layers;
  const setLayers = (next: string[]) => {
    onChange({ ...state, layers: next });
  };
  const move = (i: number, by: number) => {
    const next = [...layers];
    const [item] = next.splice(i, 1);
    if (item !== undefined) next.splice(i + by, 0, item);
    setLayers(next);
  };
  const add = () => {
    const value = (mode === 'arn' ? arn : picked).trim();
    if (value === '') return;
    setLayers([...layers, value]);
    setArn('');
    setAdding(false);
  };
  return (
    <fieldset class="section">
      <legend>Layers</legend>
      <p class="hint">Merged into /opt in this order; a later layer's files replace an earlier one's.</p>
      {layers.length === 0 && <p class="muted">No layers.</p>}
      {layers.length > 0 && (
        <ol class="layer-list">
          {layers.map((l, i) => (
            <li key={`${l}-${i}`}>
              <code>{l}</code>
              <span class="row-actions">
                <button
                  type="button"
                  class="small"
                  disabled={i === 0}
                  aria-label={`Move ${l} up`}
                  onClick={() => {
                    move(i, -1);
                  }}
                >
                  ↑
                </button>
                <button
                  type="button"
                  class="small"
                  disabled={i === layers.length - 1}
                  aria-label={`Move ${l} down`}
                  onClick={() => {
                    move(i, 1);
                  }}
                >
                  ↓
                </button>
                <button
                  type="button"
                  class="small"
                  aria-label={`Remove ${l}`}
                  onClick={() => {
                    setLayers(layers.filter((_, j) => j !== i));
                  }}
                >
                  Remove
                </button>
              </span>
            </li>
          ))}
        </ol>
      )}
      <ErrorText error={field === 'layers' ? error : null} id={`${idPrefix}-layers-error`} />
      {!adding ? (
        <button
          type="button"
          class="small"
          disabled={layers.length >= 5}
          onClick={() => {
            setAdding(true);
          }}
        >
          Add a layer
        </button>
      ) : (
        <div class="add-layer">
          <div role="radiogroup" aria-label="Layer source" class="checks">
            <label class="check">
              <input
                type="radio"
                name={`${idPrefix}-layer-source`}
                checked={mode === 'arn'}
                onChange={() => {
                  setMode('arn');
                }}
              />{' '}
              Provide a layer version ARN
            </label>
            <label class="check">
              <input
                type="radio"
                name={`${idPrefix}-layer-source`}
                checked={mode === 'pick'}
                onChange={() => {
                  setMode('pick');
                }}
              />{' '}
              Choose from your layers
            </label>
          </div>
          {mode === 'arn' ? (
            <Field id={`${idPrefix}-layer-arn`} label="Layer version ARN">
              <input
                id={`${idPrefix}-layer-arn`}
                value={arn}
                spellcheck={false}
                placeholder="arn:aws:lambda:us-east-1:000000000000:layer:name:1"
                onInput={(e) => {
                  setArn(e.currentTarget.value);
                }}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    add();
                  }
                }}
              />
            </Field>
          ) : (
            <LayerPicker id={`${idPrefix}-layer-pick`} value={picked} onChange={setPicked} />
          )}
          <div class="actions">
            <button type="button" class="small primary" onClick={add}>
              Add
            </button>
            <button
              type="button"
              class="small"
              onClick={() => {
                setAdding(false);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
    </fieldset>
  );
}

function LayerPicker({ id, value, onChange }: { id: string; value: string; onChange: (arn: string) => void }) {
  const versions = useResource(async () => {
    const layers = await lambda.listLayers();
    const all = await Promise.all(layers.map((l) => lambda.listLayerVersions(l.LayerName)));
    return all.flat();
  }, []);
  return (
    <Field id={id} label="Layer version" error={versions.error}>
      <select
        id={id}
        value={value}
        onChange={(e) => {
          onChange(e.currentTarget.value);
        }}
      >
        <option value="">{versions.loading ? 'Loading…' : 'Choose a version'}</option>
        {(versions.data ?? []).map((v) => (
          <option key={v.LayerVersionArn} value={v.LayerVersionArn}>
            {v.LayerVersionArn.split(':layer:')[1]?.replace(/:(\d+)$/, ' — version $1')}
            {v.Description ? ` (${v.Description})` : ''}
          </option>
        ))}
      </select>
    </Field>
  );
}
