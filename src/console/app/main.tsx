/**
 * @module console/app/main
 * The Lambkin console: a hash router over the Functions and Layers pages, and the sign-in panel for
 * `--auth strict`. Everything it shows comes from the public API (see api.ts).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { hasCredentials, onAuthProblem, setCredentials, settings, type ApiError } from './api.ts';
import { FunctionPage, type Tab } from './function-page.tsx';
import { CreateFunctionPage, FunctionsPage } from './functions.tsx';
import { CreateLayerPage, LayerPage, LayersPage } from './layers.tsx';
import { ErrorText, Field } from './ui.tsx';

interface Route {
  path: string[];
  query: URLSearchParams;
}

function parseHash(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
  return { path, query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const onChange = () => {
      setRoute(parseHash());
      window.scrollTo(0, 0);
      // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
      requestAnimationFrame(() => {
        const heading = document.querySelector<HTMLElement>('main h1');
        if (heading === null) return;
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      });
    };
    addEventListener('hashchange', onChange);
    return () => {
      removeEventListener('hashchange', onChange);
    };
  }, []);
  return route;
}

function Page({ route }: { route: Route }) {
  const [section = 'functions', name, tab] = route.path;
  if (section === 'layers') {
    if (name === 'new') return <CreateLayerPage initialName={route.query.get('name') ?? ''} />;
    if (name !== undefined) return <LayerPage name={name} created={route.query.get('created')} />;
    return <LayersPage />;
  }
  if (name === 'new') return <CreateFunctionPage />;
  if (name !== undefined) {
    const t = (['code', 'configuration', 'test', 'monitor'] as const).find((x) => x === tab) ?? 'code';
    return <FunctionPage key={name} name={name} tab={t satisfies Tab} />;
  }
  return <FunctionsPage />;
}

function SignIn({ reason, onDone }: { reason: ApiError | null; onDone: () => void }) {
  const [keyId, setKeyId] = useState('');
  const [secret, setSecret] = useState('');
  return (
    <section class="card signin" aria-labelledby="signin-title">
      <h1 id="signin-title" tabIndex={-1}>
        Sign in
      </h1>
      <p class="muted">
        This Lambkin checks request signatures (<code>--auth strict</code>). Enter an access key pair it accepts (
        <code>LAMBKIN_ACCESS_KEY_ID</code> / <code>LAMBKIN_SECRET_ACCESS_KEY</code>); it is kept in this tab only.
      </p>
      <ErrorText error={reason} />
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          setCredentials({ accessKeyId: keyId.trim(), secretAccessKey: secret });
          onDone();
        }}
      >
        <Field id="access-key-id" label="Access key ID">
          <input
            id="access-key-id"
            required
            autoComplete="username"
            spellcheck={false}
            value={keyId}
            onInput={(e) => {
              setKeyId(e.currentTarget.value);
            }}
          />
        </Field>
        <Field id="secret-access-key" label="Secret access key">
          <input
            id="secret-access-key"
            type="password"
            required
            autoComplete="current-password"
            value={secret}
            onInput={(e) => {
              setSecret(e.currentTarget.value);
            }}
          />
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            Sign in
          </button>
        </div>
      </form>
    </section>
  );
}

function App() {
  const route = useRoute();
  const [authError, setAuthError] = useState<ApiError | null>(null);
  const [asking, setAsking] = useState(settings.auth === 'strict' && !hasCredentials());
  const [generation, setGeneration] = useState(0);
  useEffect(
    () =>
      onAuthProblem((error) => {
        if (error === null) return;
        setAuthError(error);
        setAsking(true);
      }),
    [],
  );
  const section = route.path[0] === 'layers' ? 'layers' : 'functions';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/functions" aria-label="Lambkin console home">
          <svg viewBox="0 0 24 24" aria-hidden="true" width="22" height="22">
            <path d="M4 20 11 4h3l-5 11h4l2-4h3l-4 9z" fill="currentColor" />
          </svg>
          Lambkin
        </a>
        <nav aria-label="Main">
          <a href="#/functions" aria-current={section === 'functions' ? 'page' : undefined}>
            Functions
          </a>
          <a href="#/layers" aria-current={section === 'layers' ? 'page' : undefined}>
            Layers
          </a>
        </nav>
        <span class="where">
          {settings.region}
          {hasCredentials() && (
            <>
              {' · '}
              <button
                type="button"
                class="link"
                onClick={() => {
                  setCredentials(null);
                  setAsking(true);
                }}
              >
                Sign out
              </button>
            </>
          )}
        </span>
      </header>
      <main id="main">
        {asking ? (
          <SignIn
            reason={authError}
            onDone={() => {
              setAsking(false);
              setAuthError(null);
              setGeneration((g) => g + 1);
            }}
          />
        ) : (
          <Page key={generation} route={route} />
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
