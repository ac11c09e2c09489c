/**
 * Reading an upstream's cheap GET routes (and Ollama's `POST /api/show`): one request with the
 * endpoint's credential, bounded by a timeout, a body size limit and the checker's stop signal.
 * What the probe, type detection and native discovery share.
 */
import type { Clock } from '../clock.js';

/** A WHATWG `fetch`-compatible function (global `fetch`, undici's `fetch`, msw-patched, …). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** How to reach upstreams. */
export interface UpstreamOptions {
  fetch: FetchLike;
  clock: Clock;
  timeoutMs: number;
  /** Largest accepted body in bytes. */
  maxBodyBytes: number;
  /** Aborts the request (router stopping): one signal per probe. */
  signal?: AbortSignal;
}

/** One endpoint as an upstream to read from. */
export interface UpstreamTarget {
  base_url: string;
  /** The plaintext upstream credential, or null. */
  apiKey: string | null;
}

/** Thrown when a body is larger than the limit. */
export class BodyTooLargeError extends Error {}

/** Request headers for an upstream, with its credential when it has one. */
function upstreamHeaders(apiKey: string | null, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9' };
  if (json) headers['content-type'] = 'application/json';
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  return headers;
}

/**
 * A signal for one request: aborted by its timeout (a `TimeoutError`) or by the checker stopping.
 * `dispose()` must be called when the request ends. (Not `AbortSignal.any`: on Node 20 the
 * long-lived stop signal would keep every request's signal alive.)
 */
export function requestSignal(options: Pick<UpstreamOptions, 'timeoutMs' | 'signal'>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError')),
    options.timeoutMs,
  );
  const stop = options.signal;
  const onStop = () => controller.abort(stop?.reason);
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    },
  };
}

/**
 * `GET {base_url}{path}` (or a POST of `body` as JSON) with the credential, aborted by `signal`.
 *
 * @example
 * const response = await requestUpstream(target, '/api/version', options, signal);
 */
export function requestUpstream(target: UpstreamTarget, path: string, options: UpstreamOptions, signal: AbortSignal, body?: unknown): Promise<Response> {
  const init: RequestInit = { headers: upstreamHeaders(target.apiKey, body !== undefined), signal };
  if (body !== undefined) Object.assign(init, { method: 'POST', body: JSON.stringify(body) });
  return options.fetch(`${target.base_url}${path}`, init);
}

/** Reads a response body as text, refusing more than `limit` bytes ({@link BodyTooLargeError}). */
export async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    void response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(`body over ${limit} bytes`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new BodyTooLargeError(`body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What an optional read learned: the body and the response's `Server` header, or null. */
export interface OptionalRead {
  text: string;
  server: string | null;
}

/**
 * Reads an optional route (`/props`, `/metrics`, `/api/ps`, …): its body on a 2xx answer, null
 * on anything else (an error status, a network failure, a timeout, a body over the limit).
 * Never throws: a server without the route is simply a server that does not tell.
 *
 * @example
 * const props = await readOptional(target, '/props', options); // null when it is not llama.cpp
 */
export async function readOptional(target: UpstreamTarget, path: string, options: UpstreamOptions, body?: unknown): Promise<OptionalRead | null> {
  const { signal, dispose } = requestSignal(options);
  try {
    const response = await requestUpstream(target, path, options, signal, body);
    if (!response.ok) {
      void response.body?.cancel().catch(() => undefined);
      return null;
    }
    return { text: await readLimited(response, options.maxBodyBytes), server: response.headers.get('server') };
  } catch {
    return null;
  } finally {
    dispose();
  }
}

/** Parses JSON text; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
