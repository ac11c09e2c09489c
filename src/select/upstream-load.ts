/**
 * How the load a server published about itself (`EndpointStatsView.upstreamLoad`, read by its
 * health checks) weighs in routing: the requests it runs or queues beyond llmlb's own, its
 * KV-cache pressure, whether it is queueing — each trusted less as the figures age, and not at
 * all once they are {@link TRUST_INTERVALS} check intervals old. Pure functions, no allocation.
 */
import type { LoadReport } from '../load-signals.js';
import type { EndpointStatsView, SelectionCandidate } from './types.js';

/** Figures older than this many of the endpoint's check intervals are ignored. */
export const TRUST_INTERVALS = 3;
/** KV-cache use from which a server counts as under memory pressure. */
const KV_HIGH = 0.9;

/** What the load functions need of an endpoint. */
type Checked = Pick<SelectionCandidate, 'id' | 'health_check_interval_secs'>;

/**
 * How far figures read at `report.observed_at` are trusted at `wallNow` (epoch ms): 1 when just
 * read, falling linearly to 0 at {@link TRUST_INTERVALS} check intervals of age.
 *
 * @example
 * upstreamTrust({ observed_at: now - 15_000, … }, 10, now) // 0.5 (15 s of a 30 s horizon)
 */
export function upstreamTrust(report: Pick<LoadReport, 'observed_at'>, intervalSecs: number, wallNow: number): number {
  const age = wallNow - report.observed_at;
  const horizon = TRUST_INTERVALS * intervalSecs * 1000;
  if (age >= horizon) return 0;
  return age <= 0 ? 1 : 1 - age / horizon;
}

/**
 * Requests on the server that llmlb did not send: those it runs (or its busy slots) and those
 * waiting in its queue, minus llmlb's own `inFlight`; never below 0.
 */
export function externalRequests(report: LoadReport, inFlight: number): number {
  const running = report.running ?? report.slots_busy ?? 0;
  return Math.max(0, running + (report.waiting ?? 0) - inFlight);
}

/**
 * An endpoint's load as the default selector weighs it: llmlb's own requests in flight, plus
 * the server's other requests ({@link externalRequests}) times their trust.
 *
 * @example
 * effectiveLoad(candidate, stats, Date.now()) // 2 own + 0.9 × 6 others = 7.4
 */
export function effectiveLoad(endpoint: Checked, stats: EndpointStatsView, wallNow: number): number {
  const inFlight = stats.inFlight(endpoint.id);
  const report = stats.upstreamLoad(endpoint.id);
  if (report === undefined) return inFlight;
  const trust = upstreamTrust(report, endpoint.health_check_interval_secs, wallNow);
  return trust === 0 ? inFlight : inFlight + trust * externalRequests(report, inFlight);
}

/**
 * KV-cache pressure, 0 to 1: 0 up to 90 % use, 1 when full, times the figures' trust. A server
 * whose cache is full preempts or holds new requests back however few it runs.
 */
export function kvPressure(endpoint: Checked, stats: EndpointStatsView, wallNow: number): number {
  const report = stats.upstreamLoad(endpoint.id);
  const kv = report?.kv_cache_usage ?? null;
  if (report === undefined || kv === null || kv <= KV_HIGH) return 0;
  return (upstreamTrust(report, endpoint.health_check_interval_secs, wallNow) * (Math.min(1, kv) - KV_HIGH)) / (1 - KV_HIGH);
}

/**
 * True when the server's trusted figures say it is full: requests waiting in its own queue, or
 * every slot busy.
 */
export function isQueueing(endpoint: Checked, stats: EndpointStatsView, wallNow: number): boolean {
  const report = stats.upstreamLoad(endpoint.id);
  if (report === undefined || upstreamTrust(report, endpoint.health_check_interval_secs, wallNow) === 0) return false;
  const { waiting, slots_busy: busy, slots_total: total } = report;
  return (waiting ?? 0) > 0 || (busy !== null && total !== null && busy >= total);
}
