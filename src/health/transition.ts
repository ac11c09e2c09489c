/**
 * The endpoint status machine of SPEC §3, as one pure function: given the current status, the
 * current consecutive-failure count and the outcome of a health check, what are the new status
 * and count? The health checker and the connection test both use it, so scheduled and manual
 * checks move endpoints the same way.
 */
import type { EndpointStatus } from '../schema.js';

/**
 * Every way a health check can fail:
 *
 * - `unauthorized` — the endpoint answered HTTP 401 or 403 (bad or missing credential);
 * - `connection_refused` — nothing listens on the host/port;
 * - `timeout` — no complete answer within the check timeout (5 s);
 * - `dns` — the host name does not resolve;
 * - `http_status` — any other non-2xx answer (e.g. 404, 500, 502);
 * - `not_a_model_list` — a 2xx answer whose body is not a model list;
 * - `network` — any other transport failure (reset, TLS error, …).
 *
 * @example
 * FAILURE_KINDS.includes('timeout') // → true
 */
export const FAILURE_KINDS = [
  'unauthorized',
  'connection_refused',
  'timeout',
  'dns',
  'http_status',
  'not_a_model_list',
  'network',
] as const;

/**
 * Why a health check failed; see {@link FAILURE_KINDS}.
 *
 * @example
 * const kind: FailureKind = 'connection_refused';
 */
export type FailureKind = (typeof FAILURE_KINDS)[number];

/**
 * The outcome of one health check.
 *
 * @example
 * const ok: CheckOutcome = { ok: true };
 * const failed: CheckOutcome = { ok: false, kind: 'timeout' };
 */
export type CheckOutcome = { ok: true } | { ok: false; kind: FailureKind };

/**
 * Consecutive failures after which an `online` endpoint goes `offline` (one failure keeps it
 * online, so a single dropped check does not take it out of rotation).
 *
 * @example
 * nextStatus('online', OFFLINE_AFTER_FAILURES - 1, { ok: false, kind: 'timeout' }).status // → 'offline'
 */
export const OFFLINE_AFTER_FAILURES = 2;

/**
 * The failure kind for a non-2xx HTTP answer: 401 and 403 are `unauthorized`, anything else is
 * `http_status`.
 *
 * @example
 * failureKindForHttpStatus(403) // → 'unauthorized'
 * failureKindForHttpStatus(502) // → 'http_status'
 */
export function failureKindForHttpStatus(status: number): FailureKind {
  return status === 401 || status === 403 ? 'unauthorized' : 'http_status';
}

/**
 * Applies one health-check outcome to an endpoint's status and consecutive-failure count.
 *
 * - Success → `online`, count 0, from every status (automatic recovery from `offline`/`error`).
 * - Failure → count + 1, then:
 *   - `unauthorized` (401/403) → `error`, from every status, on the first such failure;
 *   - `pending` → `offline`;
 *   - `online` → stays `online` until the count reaches {@link OFFLINE_AFTER_FAILURES}, then
 *     `offline`;
 *   - `offline` → stays `offline`;
 *   - `error` → `offline`. Decision: once an endpoint with a bad credential stops answering at
 *     all, "unreachable" is the more useful signal — fixing the key will not help until it is
 *     back. When it comes back, a 401/403 puts it in `error` again.
 *
 * A negative or non-finite `errorCount` is treated as 0; fractions are truncated.
 *
 * @example
 * nextStatus('online', 0, { ok: false, kind: 'timeout' }) // → { status: 'online', errorCount: 1 }
 * nextStatus('online', 1, { ok: false, kind: 'timeout' }) // → { status: 'offline', errorCount: 2 }
 * nextStatus('error', 3, { ok: true })                    // → { status: 'online', errorCount: 0 }
 */
export function nextStatus(
  current: EndpointStatus,
  errorCount: number,
  outcome: CheckOutcome,
): { status: EndpointStatus; errorCount: number } {
  if (outcome.ok) return { status: 'online', errorCount: 0 };

  const previous = Number.isFinite(errorCount) && errorCount > 0 ? Math.trunc(errorCount) : 0;
  const count = previous + 1;
  if (outcome.kind === 'unauthorized') return { status: 'error', errorCount: count };

  switch (current) {
    case 'online':
      return { status: count >= OFFLINE_AFTER_FAILURES ? 'offline' : 'online', errorCount: count };
    case 'pending':
    case 'offline':
    case 'error':
      return { status: 'offline', errorCount: count };
  }
}
