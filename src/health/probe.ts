/**
 * One probe of an upstream: `GET {base_url}/v1/models` (or another model-list route) with its
 * credential, bounded by a timeout and a body size limit, classified into success (with the
 * model list) or a {@link FailureKind} with a human-readable reason. Health checks, connection
 * tests and model sync all use it; `backend-probe.ts` adds what each type of server tells.
 */
import { z } from 'zod';
import type { BackendReport } from '../backends/types.js';
import { type ModelList, readModelList } from '../backends/model-list.js';
import {
  BodyTooLargeError,
  type UpstreamOptions,
  type UpstreamTarget,
  readLimited,
  requestSignal,
  requestUpstream,
} from '../backends/upstream.js';
import { ModelListError } from '../models/parse.js';
import type { EndpointRecord, EndpointType, TypeSource } from '../schema.js';
import { type FailureKind, failureKindForHttpStatus } from './transition.js';

export type { FetchLike } from '../backends/upstream.js';

/** What a probe learned. `backend`: what the server's type tells besides its models (backend probes only). */
export type ProbeResult =
  | { ok: true; latencyMs: number; modelIds: string[]; server: string | null; backend?: BackendReport }
  | {
      ok: false;
      kind: FailureKind;
      message: string;
      latencyMs: number;
      /** The HTTP status, when the upstream answered one (`unauthorized`, `http_status`). */
      status?: number;
    };

/** What a probe needs to reach an endpoint, and what is known of its type. */
export interface ProbeTarget extends UpstreamTarget {
  /** The stored type (default `openai-compatible`). */
  type?: EndpointType;
  /** Who set it: an admin's type is never re-detected. */
  type_source?: TypeSource;
  /** Detect the type again (first check, back online); ignored when an admin set it. */
  detect?: boolean;
  /**
   * The model ids of an endpoint with a static list, which cannot list its models: the check
   * then only tests that the server answers (see `reachability.ts`) and reports these ids.
   */
  staticModelIds?: readonly string[];
}

/**
 * Probes one endpoint: the health check's request. Never throws: every failure is a result.
 * The default asks `GET /v1/models`; backend-specific probes (Ollama's `/api/tags`, …) fit the
 * same shape.
 */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

/**
 * What a probe of `endpoint` needs: its base URL, its opened credential, what is known of its
 * type, and its static list's model ids when it has one.
 *
 * @example
 * await probe(probeTarget(record, openApiKey(secretBox, record)), signal);
 */
export function probeTarget(
  endpoint: Pick<EndpointRecord, 'base_url' | 'type' | 'type_source' | 'static_models'>,
  apiKey: string | null,
): ProbeTarget {
  const target: ProbeTarget = { base_url: endpoint.base_url, apiKey, type: endpoint.type, type_source: endpoint.type_source };
  if (endpoint.static_models !== null) target.staticModelIds = endpoint.static_models.map((m) => m.model_id);
  return target;
}

/**
 * The plain probe: {@link probeModels} with fixed options (no type detection, no native API).
 *
 * @example
 * const probe = modelListProbe({ fetch, clock: systemClock, timeoutMs: 5000, maxBodyBytes: 1 << 20 });
 * const result = await probe({ base_url: 'http://127.0.0.1:11434', apiKey: null }, new AbortController().signal);
 */
export function modelListProbe(options: Omit<ProbeOptions, 'signal'>): Probe {
  return (target, signal) => probeModels(target.base_url, target.apiKey, { ...options, signal });
}

/** How to probe. */
export type ProbeOptions = UpstreamOptions;

/** Largest model-list body accepted by default (8 MiB). */
export const DEFAULT_MAX_MODEL_LIST_BYTES = 8 * 1024 * 1024;

/**
 * Probes `{baseUrl}/v1/models`. Never throws: every failure is a result.
 *
 * @example
 * const result = await probeModels('http://127.0.0.1:11434', null, { fetch, clock: systemClock, timeoutMs: 5000, maxBodyBytes: 1 << 20 });
 * if (result.ok) logger.info({ models: result.modelIds }, 'upstream models');
 */
export async function probeModels(baseUrl: string, apiKey: string | null, options: ProbeOptions): Promise<ProbeResult> {
  const listed = await probeList({ base_url: baseUrl, apiKey }, '/v1/models', options);
  return listed.ok ? { ok: true, latencyMs: listed.latencyMs, modelIds: listed.list.ids, server: listed.server } : listed;
}

/** A model list read by {@link probeList}, or why not. */
export type ListResult =
  | { ok: true; latencyMs: number; list: ModelList; server: string | null; path: string }
  | { ok: false; kind: FailureKind; message: string; latencyMs: number; status?: number };

/**
 * `GET {base_url}{path}` read as a model list (OpenAI or Ollama shape). Never throws.
 *
 * @example
 * const tags = await probeList(target, '/api/tags', options);
 */
export async function probeList(target: UpstreamTarget, path: string, options: ProbeOptions): Promise<ListResult> {
  const started = options.clock.monotonic();
  const elapsed = () => Math.max(0, Math.round(options.clock.monotonic() - started));
  const { signal, dispose } = requestSignal(options);
  try {
    const response = await requestUpstream(target, path, options, signal);
    if (!response.ok) {
      void response.body?.cancel().catch(() => undefined);
      const kind = failureKindForHttpStatus(response.status);
      const message =
        kind === 'unauthorized'
          ? `HTTP ${response.status}: the endpoint rejected the credential`
          : `HTTP ${response.status} from GET ${path}`;
      return { ok: false, kind, message, latencyMs: elapsed(), status: response.status };
    }
    const text = await readLimited(response, options.maxBodyBytes);
    const list = readModelList(parseListJson(text));
    return { ok: true, latencyMs: elapsed(), list, server: response.headers.get('server'), path };
  } catch (err) {
    const { kind, message } = classifyFailure(err, options.timeoutMs);
    return { ok: false, kind, message, latencyMs: elapsed() };
  } finally {
    dispose();
  }
}

function parseListJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ModelListError('invalid_json', 'not a model list: the response body is not valid JSON');
  }
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
  const { signal, dispose } = requestSignal(options);
  try {
    const response = await requestUpstream({ base_url: baseUrl, apiKey }, '/api/version', options, signal);
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
