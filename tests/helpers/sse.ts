/** A Server-Sent Events client for tests: reads a stream with fetch and hands out parsed events. */

export interface SseEvent {
  id: string | undefined;
  type: string;
  data: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Resolves with the first unread event (of `type`; others stay unread), or throws after `timeoutMs`. */
  next(type?: string, timeoutMs?: number): Promise<SseEvent>;
  /** Comment lines seen so far (heartbeats). */
  comments: string[];
  /** Closes the connection. */
  close(): void;
}

/** Opens `url` as an event stream with `headers`. */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let wake: (() => void) | undefined;
  let buffer = '';
  const pump = async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.includes(':')) fields[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trimStart();
        }
        if (fields.data !== undefined) events.push({ id: fields.id, type: fields.event ?? 'message', data: JSON.parse(fields.data) });
        wake?.();
      }
      wake?.();
    }
  };
  void pump().catch(() => wake?.());
  return {
    status: res.status,
    headers: res.headers,
    comments,
    async next(type, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const at = events.findIndex((e) => type === undefined || e.type === type);
        if (at !== -1) return events.splice(at, 1)[0]!;
        if (Date.now() > deadline) throw new Error(`no ${type ?? ''} event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => abort.abort(),
  };
}
