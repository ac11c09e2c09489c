/**
 * Per-endpoint live statistics of proxied traffic, kept in memory: requests in flight, an EWMA of
 * time to response headers, recent failures, and a short suspension after a failure so a dead
 * endpoint stops receiving traffic before its health check confirms it.
 */
import type { EndpointStatsView } from '../select/types.js';

interface Entry {
  inFlight: number;
  latencyMs: number | null;
  failures: number;
  /** Monotonic ms until which the endpoint is avoided; 0 when not suspended. */
  suspendedUntil: number;
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
    if (!entry) this.#entries.set(id, (entry = { inFlight: 0, latencyMs: null, failures: 0, suspendedUntil: 0 }));
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

  /** True while the endpoint is suspended after a failure. */
  isSuspended(id: string, now: number): boolean {
    const until = this.#entries.get(id)?.suspendedUntil ?? 0;
    return until > now;
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

  /**
   * The endpoint failed before answering: count it and avoid it until `until` (monotonic ms).
   * Returns true when it was not suspended before (the first failure of a suspension window).
   */
  failed(id: string, until: number, now: number): boolean {
    const entry = this.#entry(id);
    const fresh = entry.suspendedUntil <= now;
    entry.failures++;
    entry.suspendedUntil = until;
    return fresh;
  }

  /** Extends a running suspension until `until` (a check confirmed the failure). */
  prolong(id: string, until: number, now: number): void {
    const entry = this.#entries.get(id);
    if (entry && entry.suspendedUntil > now) entry.suspendedUntil = until;
  }

  /** A health check succeeded: lift any suspension. */
  recovered(id: string): void {
    const entry = this.#entries.get(id);
    if (entry) entry.suspendedUntil = 0;
  }

  /** Forgets a deleted endpoint. */
  forget(id: string): void {
    this.#entries.delete(id);
  }
}
