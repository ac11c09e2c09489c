/**
 * The dashboard's access to llmlb: JSON calls with the signed-in key as a Bearer token (the key
 * lives in session storage only — never in a URL or cookie), and the live event stream read with
 * fetch (EventSource cannot send an Authorization header), resumed with `Last-Event-ID`.
 */

const KEY_ITEM = 'llmlb.key';

/** The API's base: the dashboard lives at `<mount>/dashboard/`, the API at `<mount>/v0/`. */
const base = new URL('../', window.location.href);

/** The key of this browser tab, if signed in. */
export function storedKey(): string | null {
  return window.sessionStorage.getItem(KEY_ITEM);
}

/** Keeps the key for this tab (or forgets it with null). */
export function storeKey(key: string | null): void {
  if (key === null) window.sessionStorage.removeItem(KEY_ITEM);
  else window.sessionStorage.setItem(KEY_ITEM, key);
}

/** A field-level validation message from the API. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** An error answer of the admin API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[] = [],
  ) {
    super(message);
  }
}

/** Calls the admin API; resolves with the JSON body (null for 204), rejects with an {@link ApiError}. */
export async function api<T>(method: string, path: string, body?: unknown, key = storedKey()): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${key ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path.slice(1), base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text === '' ? null : (JSON.parse(text) as unknown);
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: FieldIssue[] } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? 'error', error?.message ?? `HTTP ${res.status}`, error?.details ?? []);
  }
  return json as T;
}

/** One event of the live stream. */
export interface StreamEvent {
  type: string;
  data: unknown;
}

/** Parses complete SSE frames out of `buffer`; returns the events and what is left. */
function parseFrames(buffer: string): { events: (StreamEvent & { id?: string })[]; rest: string } {
  const events: (StreamEvent & { id?: string })[] = [];
  let end: number;
  while ((end = buffer.indexOf('\n\n')) !== -1) {
    const frame = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    let type = 'message';
    let data: string | undefined;
    let id: string | undefined;
    for (const line of frame.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const value = line.slice(colon + 1).trimStart();
      const field = line.slice(0, colon);
      if (field === 'event') type = value;
      else if (field === 'data') data = value;
      else if (field === 'id') id = value;
    }
    if (data !== undefined) events.push({ type, data: JSON.parse(data) as unknown, ...(id === undefined ? {} : { id }) });
  }
  return { events, rest: buffer };
}

/**
 * Follows `GET /v0/events` until `stop()`: reconnects after a drop (with the last event id, so
 * nothing is missed), and reports whether it is connected.
 */
export function followEvents(onEvent: (event: StreamEvent) => void, onConnected: (connected: boolean) => void): { stop: () => void } {
  const abort = new AbortController();
  let lastId: string | undefined;
  const once = async (): Promise<void> => {
    const headers: Record<string, string> = { authorization: `Bearer ${storedKey() ?? ''}`, accept: 'text/event-stream' };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    const res = await fetch(new URL('v0/events', base), { headers, signal: abort.signal });
    if (!res.ok || !res.body) throw new ApiError(res.status, 'events', `HTTP ${res.status}`);
    onConnected(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const parsed = parseFrames(buffer + value);
      buffer = parsed.rest;
      for (const event of parsed.events) {
        if (event.id !== undefined) lastId = event.id;
        onEvent(event);
      }
    }
  };
  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        await once();
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return onConnected(false);
      }
      if (abort.signal.aborted) return;
      onConnected(false);
      await new Promise((resolve) => window.setTimeout(resolve, 2000));
    }
  };
  void loop();
  return { stop: () => abort.abort() };
}
