/**
 * @module console/app/ui
 * Small shared pieces: data loading, form fields with their error, AWS errors, copy buttons, the zip drop zone.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` on mount and whenever `deps` change; `reload()` loads again (keeping the old data meanwhile). */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (!live) return;
        setError(asApiError(err));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => {
    setTick((t) => t + 1);
  }, []);
  return { data, error, loading, reload };
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('Error', err instanceof Error ? err.message : String(err), 0);
}

/** Polls `fn` every `ms` while mounted (and the tab is visible). */
export function useInterval(fn: () => void, ms: number, deps: unknown[] = []): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') saved.current();
    }, ms);
    return () => {
      clearInterval(id);
    };
  }, [ms, ...deps]);
}

/** An AWS error as the user should read it: the exception name, then AWS's message. */
export function ErrorText({ error, id }: { error: ApiError | null | undefined; id?: string }) {
  if (error === null || error === undefined) return null;
  return (
    <p class="error" role="alert" id={id}>
      {error.code !== '' && <strong>{error.code}: </strong>}
      {error.message}
    </p>
  );
}

/**
 * Which form field an API error is about, from the member name AWS puts in validation messages
 * (`Value '…' at 'memorySize' failed to satisfy constraint…`) or from the kind of error.
 */
export function errorField(error: ApiError | null, fields: Record<string, RegExp>): string | null {
  if (error === null) return null;
  const member = /at '([A-Za-z.]+)'/.exec(error.message)?.[1] ?? '';
  for (const [field, pattern] of Object.entries(fields)) if (pattern.test(member)) return field;
  for (const [field, pattern] of Object.entries(fields)) if (pattern.test(error.message)) return field;
  return null;
}

export function Field(props: {
  id: string;
  label: string;
  hint?: ComponentChildren;
  error?: ApiError | null;
  children: ComponentChildren;
}) {
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint !== undefined && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      <ErrorText error={props.error} id={`${props.id}-error`} />
    </div>
  );
}

/** `aria-*` for an input whose Field shows a hint and/or an error. */
export function described(id: string, error: ApiError | null | undefined, hint = false) {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { 'aria-invalid': error ? true : undefined, 'aria-describedby': ids || undefined } as const;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'' | 'Copied' | 'Copy failed'>('');
  const copy = () => {
    const finish = (outcome: 'Copied' | 'Copy failed') => {
      setDone(outcome);
      setTimeout(() => {
        setDone('');
      }, 1500);
    };
    // The clipboard needs the user's permission; without it the text stays on the page to select.
    navigator.clipboard.writeText(text).then(
      () => {
        finish('Copied');
      },
      () => {
        finish('Copy failed');
      },
    );
  };
  return (
    <button type="button" class="small" onClick={copy} aria-label={`${label}: ${text}`}>
      {done || label}
    </button>
  );
}

/** A file input for one .zip, with drag and drop; the whole zone is the input's label. */
export function ZipDrop(props: { id: string; file: File | null; onFile: (file: File | null) => void; label: string }) {
  const [over, setOver] = useState(false);
  return (
    <div
      class={over ? 'drop over' : 'drop'}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => {
        setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        props.onFile(e.dataTransfer?.files[0] ?? null);
      }}
    >
      <input
        id={props.id}
        type="file"
        accept=".zip,application/zip"
        class="visually-hidden-file"
        onChange={(e) => {
          props.onFile(e.currentTarget.files?.[0] ?? null);
        }}
      />
      <label for={props.id}>
        {props.file === null ? (
          <>
            <strong>{props.label}</strong>
            <span> — drop a .zip here or choose a file</span>
          </>
        ) : (
          <>
            <strong>{props.file.name}</strong> <span>({formatBytes(props.file.size)})</span>
            <span> — choose another</span>
          </>
        )}
      </label>
    </div>
  );
}

export function Progress({ value, label }: { value: number | null; label: string }) {
  if (value === null) return null;
  return (
    <span class="progress">
      <progress max={1} value={value} aria-label={label} /> {Math.round(value * 100)}%
    </span>
  );
}

export function StateBadge({ state }: { state: string | undefined }) {
  const s = state ?? 'Unknown';
  return <span class={`badge badge-${s.toLowerCase()}`}>{s}</span>;
}

/** Two clicks to delete: the first asks, the second does it; Escape or Cancel backs out. */
export function ConfirmButton(props: { label: string; confirm: string; onConfirm: () => void; busy?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button
        type="button"
        class="small danger"
        onClick={() => {
          setAsking(true);
        }}
      >
        {props.label}
      </button>
    );
  }
  return (
    <span
      class="confirm"
      onKeyDown={(e) => {
        if (e.key === 'Escape') setAsking(false);
      }}
    >
      <button
        type="button"
        class="small danger solid"
        disabled={props.busy}
        ref={(el) => el?.focus()}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirm}
      </button>
      <button
        type="button"
        class="small"
        onClick={() => {
          setAsking(false);
        }}
      >
        Cancel
      </button>
    </span>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDate(value: string | number): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function navigate(hash: string): void {
  location.hash = hash;
}

export async function fileBase64(file: File): Promise<string> {
  const url = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      resolve(typeof reader.result === 'string' ? reader.result : '');
    };
    reader.onerror = () => {
      reject(reader.error ?? new Error('could not read the file'));
    };
    reader.readAsDataURL(file);
  });
  return url.slice(url.indexOf(',') + 1);
}
