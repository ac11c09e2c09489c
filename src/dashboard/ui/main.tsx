/**
 * The dashboard app: sign-in with an llmlb key (kept in session storage, sent as Bearer), then
 * the pages — endpoints, an endpoint's detail, self-registered nodes, models, traffic, and for
 * admins the API keys with their usage — chosen by the URL's fragment.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiError, api, storeKey, storedKey } from './api.js';
import { EndpointDetail } from './detail.js';
import { EndpointsPage } from './endpoints.js';
import { KeyUsagePage } from './key-usage.js';
import { KeysPage } from './keys.js';
import { type Session, SessionContext, useLive, useRoute } from './hooks.js';
import { LiveStore } from './live.js';
import { ModelsPage } from './models.js';
import { NodesPage } from './nodes.js';
import { TrafficPage } from './traffic.js';

/** Checks a key with `GET /v0/me` and starts the live store. */
async function openSession(key: string): Promise<Session> {
  const me = await api<{ role: Session['role']; name: string | null }>('GET', '/v0/me', undefined, key);
  if (me.role === 'client') throw new ApiError(403, 'forbidden', 'this key is a client key: the dashboard needs an admin or viewer key');
  storeKey(key);
  const store = new LiveStore();
  store.start();
  return { ...me, store };
}

/** The sign-in form. */
function SignIn({ onSession }: { onSession: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    openSession(key.trim()).then(onSession, (err: unknown) => setError(err instanceof ApiError && err.status === 401 ? 'Unknown key.' : String(err instanceof Error ? err.message : err)));
  };
  return (
    <main class="sign-in">
      <form onSubmit={submit}>
        <h1>llmlb</h1>
        <label class="field">
          <span>API key (admin or viewer)</span>
          <input name="key" type="password" autocomplete="off" value={key} onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)} autofocus />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary">Sign in</button>
        <p class="sub">The key stays in this tab's session storage and is sent only to this server.</p>
      </form>
    </main>
  );
}

/** The page for the current route. */
function Page({ route }: { route: string[] }) {
  if (route[0] === 'endpoints' && route[1]) return <EndpointDetail id={route[1]} />;
  if (route[0] === 'models') return <ModelsPage />;
  if (route[0] === 'nodes') return <NodesPage />;
  if (route[0] === 'traffic') return <TrafficPage />;
  if (route[0] === 'keys' && route[1]) return <KeyUsagePage id={route[1]} />;
  if (route[0] === 'keys') return <KeysPage />;
  return <EndpointsPage />;
}

/** Navigation, connection state, who is signed in. */
function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const live = useLive();
  const current = route[0] ?? 'endpoints';
  const link = (to: string, label: string) => (
    <a href={`#/${to}`} aria-current={current === to ? 'page' : undefined}>{label}</a>
  );
  return (
    <>
      <header>
        <nav aria-label="Pages">
          <strong class="brand">llmlb</strong>
          {link('endpoints', 'Endpoints')}
          {link('nodes', 'Nodes')}
          {link('models', 'Models')}
          {link('traffic', 'Traffic')}
          {session.role === 'admin' && link('keys', 'Keys')}
        </nav>
        <div class="who">
          <span class={live.connected ? 'live on' : 'live'} role="status">{live.connected ? 'live' : 'connecting…'}</span>
          <span>{session.name ?? 'signed in'} ({session.role})</span>
          <button type="button" onClick={onSignOut}>Sign out</button>
        </div>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}

/** The app: a session from a stored key, or the sign-in form. */
function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  useEffect(() => {
    const key = storedKey();
    if (key === null) return;
    openSession(key).then(setSession, () => storeKey(null)).finally(() => setChecking(false));
  }, []);
  const signOut = () => {
    session?.store.stop();
    storeKey(null);
    setSession(null);
  };
  if (checking) return <p role="status">Signing in…</p>;
  if (!session) return <SignIn onSession={setSession} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
