/**
 * @module console/app/layers
 * Layers: the list, one layer's versions (copy an ARN, delete a version), and "Create layer" (a zip upload).
 */
import { useState } from 'preact/hooks';
import type { ApiError } from './api.ts';
import { lambda, type LayerVersion } from './lambda.ts';
import { RUNTIMES } from './runtimes.ts';
import {
  asApiError,
  ConfirmButton,
  CopyButton,
  described,
  ErrorText,
  errorField,
  Field,
  fileBase64,
  formatDate,
  navigate,
  Progress,
  useResource,
  ZipDrop,
} from './ui.tsx';

export function LayersPage() {
  const layers = useResource(() => lambda.listLayers(), []);
  return (
    <section aria-labelledby="layers-title">
      <header class="page-head">
        <h1 id="layers-title">Layers</h1>
        <a class="button primary" href="#/layers/new">
          Create layer
        </a>
      </header>
      <ErrorText error={layers.error} />
      {layers.data?.length === 0 && (
        <p class="empty">
          No layers yet. A layer is a zip extracted to <code>/opt</code>: a custom runtime (<code>bootstrap</code>),
          libraries, tools.
        </p>
      )}
      {layers.data !== undefined && layers.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Latest version</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
                <th scope="col">Version ARN</th>
              </tr>
            </thead>
            <tbody>
              {layers.data.map((l) => (
                <tr key={l.LayerArn}>
                  <td>
                    <a href={`#/layers/${encodeURIComponent(l.LayerName)}`}>{l.LayerName}</a>
                  </td>
                  <td>{l.LatestMatchingVersion.Version}</td>
                  <td>{l.LatestMatchingVersion.Description}</td>
                  <td>{formatDate(l.LatestMatchingVersion.CreatedDate)}</td>
                  <td>
                    <CopyButton text={l.LatestMatchingVersion.LayerVersionArn} label="Copy ARN" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {layers.loading && layers.data === undefined && <p class="muted">Loading…</p>}
    </section>
  );
}

export function LayerPage({ name, created }: { name: string; created: string | null }) {
  const versions = useResource(() => lambda.listLayerVersions(name), [name]);
  const [rowError, setRowError] = useState<{ version: number; error: ApiError } | null>(null);
  const remove = (v: LayerVersion) => {
    lambda.deleteLayerVersion(name, v.Version).then(
      () => {
        setRowError(null);
        versions.reload();
      },
      (err: unknown) => {
        setRowError({ version: v.Version, error: asApiError(err) });
      },
    );
  };
  return (
    <section aria-labelledby="layer-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/layers">Layers</a> / <span>{name}</span>
      </nav>
      <header class="page-head">
        <h1 id="layer-title">{name}</h1>
        <a class="button" href={`#/layers/new?name=${encodeURIComponent(name)}`}>
          Create version
        </a>
      </header>
      {created !== null && (
        <p class="notice" role="status">
          Version {created} created.
        </p>
      )}
      <ErrorText error={versions.error} />
      {versions.data?.length === 0 && <p class="empty">This layer has no versions left.</p>}
      {versions.data !== undefined && versions.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Description</th>
                <th scope="col">Compatible runtimes</th>
                <th scope="col">Created</th>
                <th scope="col">Version ARN</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.data.map((v) => (
                <tr key={v.LayerVersionArn}>
                  <td>{v.Version}</td>
                  <td>{v.Description}</td>
                  <td>{(v.CompatibleRuntimes ?? []).join(', ') || <span class="muted">any</span>}</td>
                  <td>{formatDate(v.CreatedDate)}</td>
                  <td class="arn">
                    <code>{v.LayerVersionArn}</code> <CopyButton text={v.LayerVersionArn} label="Copy ARN" />
                  </td>
                  <td>
                    <ConfirmButton
                      label="Delete"
                      confirm={`Delete version ${v.Version}`}
                      onConfirm={() => {
                        remove(v);
                      }}
                    />
                    {rowError?.version === v.Version && <ErrorText error={rowError.error} />}
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

const LAYER_FIELDS = {
  name: /layerName|layer name/i,
  description: /description/i,
  zip: /content|zip/i,
  runtimes: /compatibleRuntimes/i,
};

export function CreateLayerPage({ initialName }: { initialName: string }) {
  const [name, setName] = useState(initialName);
  const [description, setDescription] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [runtimes, setRuntimes] = useState<string[]>([]);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const field = errorField(error, LAYER_FIELDS);
  const fieldError = (f: string) => (field === f ? error : null);

  const submit = async () => {
    setError(null);
    if (file === null) {
      setError(asApiError(new Error('Choose a .zip file: the layer content.')));
      return;
    }
    try {
      setProgress(0);
      const zip = await fileBase64(file);
      const out = await lambda.publishLayerVersion(
        name,
        { Description: description, ZipFile: zip, CompatibleRuntimes: runtimes },
        setProgress,
      );
      navigate(`#/layers/${encodeURIComponent(name)}?created=${out.Version}`);
    } catch (err) {
      setError(asApiError(err));
      setProgress(null);
    }
  };

  return (
    <section aria-labelledby="create-layer-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/layers">Layers</a> / <span>Create layer</span>
      </nav>
      <h1 id="create-layer-title">Create layer</h1>
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field id="layer-name" label="Name" error={fieldError('name')}>
          <input
            id="layer-name"
            required
            value={name}
            autoComplete="off"
            onInput={(e) => {
              setName(e.currentTarget.value);
            }}
            {...described('layer-name', fieldError('name'))}
          />
        </Field>
        <Field id="layer-description" label="Description (optional)" error={fieldError('description')}>
          <input
            id="layer-description"
            value={description}
            onInput={(e) => {
              setDescription(e.currentTarget.value);
            }}
            {...described('layer-description', fieldError('description'))}
          />
        </Field>
        <Field
          id="layer-zip"
          label="Content"
          error={field === 'zip' || (field === null && error?.code === 'Error') ? error : null}
        >
          <ZipDrop id="layer-zip" file={file} onFile={setFile} label="Upload a .zip file" />
        </Field>
        <fieldset class="field">
          <legend>Compatible runtimes (optional)</legend>
          <p class="hint">Leave empty for a layer any runtime can use, such as a custom runtime.</p>
          <div class="checks">
            {RUNTIMES.map((r) => (
              <label key={r.id} class="check">
                <input
                  type="checkbox"
                  checked={runtimes.includes(r.id)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    setRuntimes((list) => (on ? [...list, r.id] : list.filter((x) => x !== r.id)));
                  }}
                />{' '}
                {r.id}
              </label>
            ))}
          </div>
          <ErrorText error={fieldError('runtimes')} />
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary" disabled={progress !== null}>
            Create
          </button>
          <a class="button" href="#/layers">
            Cancel
          </a>
          <Progress value={progress} label="Upload progress" />
        </div>
        {field === null && error?.code !== 'Error' && <ErrorText error={error} />}
      </form>
    </section>
  );
}
