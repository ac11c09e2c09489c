/**
 * The default `fetch` for health checks and model sync: a WHATWG-shaped function on top of an
 * undici Dispatcher's `request`. Unlike `fetch`, it does not refuse the ports the fetch standard
 * blocks (e.g. 10080, 6000), which inference servers are free to use — and it shares the
 * proxy's keep-alive pools.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { FetchLike } from '../backends/upstream.js';

/**
 * A {@link FetchLike} that sends requests through `dispatcher`.
 *
 * @example
 * const fetch = dispatcherFetch(new Agent());
 * const res = await fetch('http://127.0.0.1:10080/v1/models', { headers: { accept: 'application/json' } });
 */
export function dispatcherFetch(dispatcher: Dispatcher): FetchLike {
  return async (input, init) => {
    const url = new URL(input);
    const method = (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod;
    const { statusCode, headers, body } = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: init.headers as Record<string, string> | undefined,
      // Only string bodies are sent (Ollama's `POST /api/show` takes a small JSON body).
      body: typeof init.body === 'string' ? init.body : null,
      signal: init.signal ?? undefined,
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
    }
    // Response only takes 200–599 and no body for 204/205/304 or HEAD.
    const status = statusCode >= 200 && statusCode <= 599 ? statusCode : 502;
    if (method === 'HEAD' || status === 204 || status === 205 || status === 304) {
      await body.dump();
      return new Response(null, { status, headers: responseHeaders });
    }
    return new Response(toWebStream(body), { status, headers: responseHeaders });
  };
}

/**
 * Wraps an undici body in a web stream with backpressure. Unlike `Readable.toWeb`, data that
 * arrives after the consumer cancelled is dropped instead of throwing on a closed controller.
 */
function toWebStream(body: Readable): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      body.on('data', (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) body.pause();
      });
      body.once('end', () => {
        if (done) return;
        done = true;
        controller.close();
      });
      body.once('error', (err) => {
        if (done) return;
        done = true;
        controller.error(err);
      });
    },
    pull() {
      body.resume();
    },
    cancel() {
      done = true;
      body.destroy();
    },
  });
}
