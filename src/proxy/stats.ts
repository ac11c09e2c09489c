/**
 * Per-endpoint live statistics of proxied traffic, kept in memory: requests in flight, an EWMA of
 * time to response headers, and recent failures. (Suspension after a failure is passive
 * health's, in `health/outlier.ts`.)
 */
import type { EndpointStatsView } from '../select/types.js';

interface Entry {
  inFlight: number;
  latencyMs: number | null;
  failures: number;
}

const EWMA_WEIGHT = 0.2;

/**
 * The stats store. Reads are O(1) and allocation-free; entries are created on an endpoint's
 * first request and dropped when it is deleted.
 *
 * @example
 * const stats = new EndpointStats();
 * stats.started(id); stats.succeeded(id, 12); stats.finished(id);
 */
export class EndpointStats implements EndpointStatsView {
  #entries = new Map<string, Entry>();

  #entry(id: string): Entry {
    let entry = this.#entries.get(id);
    if (!entry) this.#entries.set(id, (entry = { inFlight: 0, latencyMs: null, failures: 0 }));
    return entry;
  }

  inFlight(id: string): number {
    return this.#entries.get(id)?.inFlight ?? 0;
  }

  latencyMs(id: string): number | null {
    return this.#entries.get(id)?.latencyMs ?? null;
  }

  recentFailures(id: string): number {
    return this.#entries.get(id)?.failures ?? 0;
  }

  /** A request to the endpoint started. */
  started(id: string): void {
    this.#entry(id).inFlight++;
  }

  /** A request to the endpoint ended (whatever the outcome). */
  finished(id: string): void {
    const entry = this.#entries.get(id);
    if (entry && entry.inFlight > 0) entry.inFlight--;
  }

  /** The endpoint answered; `ttfbMs` is its time to response headers. */
  succeeded(id: string, ttfbMs: number): void {
    const entry = this.#entry(id);
    entry.latencyMs = entry.latencyMs === null ? ttfbMs : entry.latencyMs + EWMA_WEIGHT * (ttfbMs - entry.latencyMs);
    if (entry.failures > 0) entry.failures--;
  }

  /** The endpoint failed before answering. */
  failed(id: string): void {
    this.#entry(id).failures++;
  }

  /** Forgets a deleted endpoint. */
  forget(id: string): void {
    this.#entries.delete(id);
  }
}
