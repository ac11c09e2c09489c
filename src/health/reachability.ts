/**
 * What a healthy check is for an endpoint with a static model list (a server that cannot list
 * its models): it answers `GET /v1/models` with any status below 500 — a 404 or a body that is no
 * model list included — and does not refuse the credential (401 and 403 still fail, like
 * connection errors, timeouts and 5xx answers). Its model ids are the static list's.
 */
import type { Probe, ProbeResult } from './probe.js';

/**
 * The outcome of a probe of an endpoint whose models are `modelIds` (its static list).
 *
 * @example
 * reachability({ ok: false, kind: 'http_status', status: 404, message: 'HTTP 404', latencyMs: 3 }, ['my-model']);
 * // { ok: true, latencyMs: 3, modelIds: ['my-model'], server: null }
 */
export function reachability(result: ProbeResult, modelIds: readonly string[]): ProbeResult {
  if (result.ok) return { ...result, modelIds: [...modelIds] };
  const answered = result.kind === 'not_a_model_list' || (result.kind === 'http_status' && result.status !== undefined && result.status < 500);
  return answered ? { ok: true, latencyMs: result.latencyMs, modelIds: [...modelIds], server: null } : result;
}

/**
 * `probe`, judged by {@link reachability} for endpoints with a static list (`staticModelIds`).
 *
 * @example
 * const probe = withStaticModels(backendProbe(options));
 */
export function withStaticModels(probe: Probe): Probe {
  return async (target, signal) => {
    const result = await probe(target, signal);
    return target.staticModelIds === undefined ? result : reachability(result, target.staticModelIds);
  };
}
