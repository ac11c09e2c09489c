/**
 * One probe of an upstream: `GET {base_url}/v1/models` with its credential, bounded by a timeout
 * and a body size limit, classified into success (with the model ids) or a {@link FailureKind}
 * with a human-readable reason. Health checks, connection tests and model sync all use it.
 */
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { ModelListError, parseModelListText } from '../models/parse.js';
import type { EndpointRecord } from '../schema.js';
import { reachability } from './reachability.js';
import { type FailureKind, failureKindForHttpStatus } from './transition.js';

/** A WHATWG `fetch`-compatible function (global `fetch`, undici's `fetch`, msw-patched, …). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** What a probe learned. */
export type ProbeResult =
  | { ok: true; latencyMs: number; modelIds: string[]; server: string | null }
  | {
      ok: false;
      kind: FailureKind;
      message: string;
      latencyMs: number;
      /** The HTTP status, when the upstream answered one (`unauthorized`, `http_status`). */
      status?: number;
    };

/** What a probe needs to reach an endpoint. */
export interface ProbeTarget {
  base_url: string;
  /** The plaintext upstream credential, or null. */
  apiKey: string | null;
  /**
   * The model ids of an endpoint with a static list, which cannot list its models: the probe then
   * only checks that the server answers (see `reachability.ts`) and reports these ids.
   */
  staticModelIds?: readonly string[];
}

/**
 * Probes one endpoint: the health check's request. Never throws: every failure is a result.
 * The default asks `GET /v1/models` (for an endpoint with a static list, only whether it answers);
 * backend-specific probes (Ollama's `/api/tags`, …) fit the
 * same shape.
 */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

/**
 * What a probe of `endpoint` needs: its base URL, its opened credential, and its static list's
 * model ids when it has one.
 *
 * @example
 * await probe(probeTarget(record, openApiKey(secretBox, record)), signal);
 */
export function probeTarget(endpoint: Pick<EndpointRecord, 'base_url' | 'static_models'>, apiKey: string | null): ProbeTarget {
  const target: ProbeTarget = { base_url: endpoint.base_url, apiKey };
  if (endpoint.static_models !== null) target.staticModelIds = endpoint.static_models.map((m) => m.model_id);
  return target;
}

/**
 * The default probe: {@link probeModels} with fixed options.
 *
 * @example
 * const probe = modelListProbe({ fetch, clock: systemClock, timeoutMs: 5000, maxBodyBytes: 1 << 20 });
 * const result = await probe({ base_url: 'http://127.0.0.1:11434', apiKey: null }, new AbortController().signal);
 */
export function modelListProbe(options: Omit<ProbeOptions, 'signal'>): Probe {
  return async (target, signal) => {
    const result = await probeModels(target.base_url, target.apiKey, { ...options, signal });
    return target.staticModelIds === undefined ? result : reachability(result, target.staticModelIds);
  };
}

/** How to probe. */
export interface ProbeOptions {
  fetch: FetchLike;
  clock: Clock;
  timeoutMs: number;
  /** Largest accepted body in bytes. */
  maxBodyBytes: number;
  /** Aborts the probe (router stopping): one signal per probe. */
  signal?: AbortSignal;
}

/** Largest model-list body accepted by default (8 MiB). */
export const DEFAULT_MAX_MODEL_LIST_BYTES = 8 * 1024 * 1024;

/** Request headers for an upstream, with its credential when it has one. */
function upstreamHeaders(apiKey: string | null): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  return headers;
}

/**
 * Probes `{baseUrl}/v1/models`. Never throws: every failure is a result.
 *
 * @example
 * const result = await probeModels('http://127.0.0.1:11434', null, { fetch, clock: systemClock, timeoutMs: 5000, maxBodyBytes: 1 << 20 });
 * if (result.ok) logger.info({ models: result.modelIds }, 'upstream models');
 */
export async function probeModels(baseUrl: string, apiKey: string | null, options: ProbeOptions): Promise<ProbeResult> {
  const started = options.clock.monotonic();
  const elapsed = () => Math.max(0, Math.round(options.clock.monotonic() - started));
  const { signal, dispose } = probeSignal(options);
  try {
    const response = await getUpstream(baseUrl, '/v1/models', apiKey, options, signal);
    if (!response.ok) {
      void response.body?.cancel().catch(() => undefined);
      const kind = failureKindForHttpStatus(response.status);
      const message =
        kind === 'unauthorized'
          ? `HTTP ${response.status}: the endpoint rejected the credential`
          : `HTTP ${response.status} from GET /v1/models`;
      return { ok: false, kind, message, latencyMs: elapsed(), status: response.status };
    }
    const text = await readLimited(response, options.maxBodyBytes);
    const modelIds = parseModelListText(text);
    return { ok: true, latencyMs: elapsed(), modelIds, server: response.headers.get('server') };
  } catch (err) {
    const { kind, message } = classifyFailure(err, options.timeoutMs);
    return { ok: false, kind, message, latencyMs: elapsed() };
  } finally {
    dispose();
  }
}

/** `GET {baseUrl}{path}` with the credential, aborted by `signal`. */
function getUpstream(baseUrl: string, path: string, apiKey: string | null, options: ProbeOptions, signal: AbortSignal): Promise<Response> {
  return options.fetch(`${baseUrl}${path}`, { headers: upstreamHeaders(apiKey), signal });
}

/**
 * A signal for one probe: aborted by its timeout (a `TimeoutError`) or by the checker stopping.
 * `dispose()` must be called when the probe ends. (Not `AbortSignal.any`: on Node 20 the
 * long-lived stop signal would keep every probe's signal alive.)
 */
function probeSignal(options: ProbeOptions): { signal: AbortSignal; dispose: () => void } {
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

class BodyTooLargeError extends Error {}

/** Reads a response body as text, refusing more than `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string> {
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

const CONNECTION_REFUSED = new Set(['ECONNREFUSED']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Turns whatever a probe threw into a failure kind and a message free of secrets. */
function classifyFailure(err: unknown, timeoutMs: number): { kind: FailureKind; message: string } {
  if (err instanceof ModelListError) return { kind: 'not_a_model_list', message: err.message };
  if (err instanceof BodyTooLargeError) return { kind: 'not_a_model_list', message: `model list too large: ${err.message}` };
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') return { kind: 'timeout', message: `no answer within ${timeoutMs} ms` };
  if (name === 'AbortError') return { kind: 'network', message: 'check aborted' };
  const code = errorCode(err);
  if (code !== undefined) {
    if (CONNECTION_REFUSED.has(code)) return { kind: 'connection_refused', message: 'connection refused' };
    if (DNS.has(code)) return { kind: 'dns', message: `host name does not resolve (${code})` };
    if (TIMEOUTS.has(code)) return { kind: 'timeout', message: `no answer within ${timeoutMs} ms (${code})` };
    return { kind: 'network', message: `network error (${code})` };
  }
  return { kind: 'network', message: 'network error' };
}

/** The first `code` found on an error or its chain of causes. */
function errorCode(err: unknown): string | undefined {
  for (let current = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const ollamaVersionSchema = z.object({ version: z.string().min(1).max(100) });

/**
 * Asks an upstream for its version: Ollama's `GET /api/version` when it answers, else `null`.
 * Never throws.
 *
 * @example
 * await probeVersion('http://127.0.0.1:11434', null, options); // '0.5.7'
 */
export async function probeVersion(baseUrl: string, apiKey: string | null, options: ProbeOptions): Promise<string | null> {
  const { signal, dispose } = probeSignal(options);
  try {
    const response = await getUpstream(baseUrl, '/api/version', apiKey, options, signal);
    if (!response.ok) {
      void response.body?.cancel().catch(() => undefined);
      return null;
    }
    const parsed = ollamaVersionSchema.safeParse(JSON.parse(await readLimited(response, 64 * 1024)));
    return parsed.success ? parsed.data.version : null;
  } catch {
    return null;
  } finally {
    dispose();
  }
}
