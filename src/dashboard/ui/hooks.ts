/** Small hooks shared by the pages: the live store, the hash route, and one-shot loads. */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { LiveState, LiveStore } from './live.js';

/** The caller's session: the role decides which controls are shown. */
export interface Session {
  role: 'admin' | 'viewer' | 'client';
  name: string | null;
  store: LiveStore;
}

/** The signed-in session (set by the app shell). */
export const SessionContext = createContext<Session | null>(null);

/** The session; pages render only inside one. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}

/** The live state, re-rendering on every change. */
export function useLive(): LiveState {
  const { store } = useSession();
  const [state, setState] = useState(store.state);
  useEffect(() => store.subscribe(() => setState(store.state)), [store]);
  return state;
}

/** The route in the URL's fragment (`#/endpoints/…`), split into segments. */
export function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The result of an async load, reloaded whenever `deps` change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { value: T | undefined; error: string | null } {
  const [result, setResult] = useState<{ value: T | undefined; error: string | null }>({ value: undefined, error: null });
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setResult({ value, error: null }),
      (err: unknown) => live && setResult((r) => ({ value: r.value, error: err instanceof Error ? err.message : String(err) })),
    );
    return () => {
      live = false;
    };
    // The caller lists what the load depends on.
  }, deps);
  return result;
}

/** A duration in ms for people: `12 ms`, `1.2 s`, or `–`. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** A timestamp for people, in the browser's time zone. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '–';
}
