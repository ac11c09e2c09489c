/**
 * The per-second traffic summary of the live event stream: finished requests are folded into
 * per-endpoint counters (requests, errors, time to first byte, tokens) and the latest few
 * requests, and read out once per interval.
 */
import type { RequestEvent } from '../proxy/options.js';

/** One endpoint's traffic during one interval. */
export interface EndpointTraffic {
  endpoint_id: string;
  endpoint_name: string | null;
  requests: number;
  /** Requests answered with a status ≥ 400, or broken mid-stream, or abandoned. */
  errors: number;
  /** Mean time to first byte of the interval's answered requests, in ms (null: none). */
  ttfb_ms: number | null;
  tokens: number;
  /** Requests in flight when the interval ended. */
  in_flight: number;
  /** Requests waiting in llmlb's queue for it when the interval ended (where the router queues). */
  queued?: number;
}

/** Payload of the `traffic` event. */
export interface TrafficSummary {
  /** End of the interval (ISO-8601). */
  at: string;
  interval_ms: number;
  /** Endpoints with requests during the interval, or in flight at its end (an interval with none is not sent). */
  endpoints: EndpointTraffic[];
  /** The latest requests of the interval, newest last (at most {@link LATEST_REQUESTS}). */
  requests: RequestEvent[];
}

/** How many of an interval's requests a summary carries. */
export const LATEST_REQUESTS = 20;

interface Tally {
  name: string | null;
  requests: number;
  errors: number;
  ttfbSum: number;
  ttfbCount: number;
  tokens: number;
}

/**
 * Accumulates one interval's requests.
 *
 * @example
 * const window = new TrafficWindow();
 * window.add(event);
 * const summary = window.take(new Date().toISOString(), 1000, [], () => ({ in_flight: 0 }));
 */
export class TrafficWindow {
  #tallies = new Map<string, Tally>();
  #latest: RequestEvent[] = [];

  /** Folds one finished request in. */
  add(event: RequestEvent): void {
    this.#latest.push(event);
    if (this.#latest.length > LATEST_REQUESTS) this.#latest.shift();
    if (event.endpoint_id === null) return;
    let tally = this.#tallies.get(event.endpoint_id);
    if (!tally) this.#tallies.set(event.endpoint_id, (tally = { name: event.endpoint_name, requests: 0, errors: 0, ttfbSum: 0, ttfbCount: 0, tokens: 0 }));
    tally.requests++;
    if (event.status === 0 || event.status >= 400 || event.error !== null) tally.errors++;
    if (event.ttfb_ms !== null) {
      tally.ttfbSum += event.ttfb_ms;
      tally.ttfbCount++;
    }
    tally.tokens += event.usage?.total_tokens ?? 0;
  }

  /**
   * The summary of the interval, which then starts afresh. `busy` lists the endpoints with
   * requests in flight (id and name); `live` reads an endpoint's in-flight and queue figures.
   */
  take(at: string, intervalMs: number, busy: readonly { id: string; name: string }[], live: (id: string) => { in_flight: number; queued?: number }): TrafficSummary {
    const endpoints: EndpointTraffic[] = [];
    for (const [id, t] of this.#tallies) {
      const ttfb = t.ttfbCount === 0 ? null : Math.round((t.ttfbSum / t.ttfbCount) * 100) / 100;
      endpoints.push({ endpoint_id: id, endpoint_name: t.name, requests: t.requests, errors: t.errors, ttfb_ms: ttfb, tokens: t.tokens, ...live(id) });
    }
    for (const endpoint of busy) {
      if (!this.#tallies.has(endpoint.id)) {
        endpoints.push({ endpoint_id: endpoint.id, endpoint_name: endpoint.name, requests: 0, errors: 0, ttfb_ms: null, tokens: 0, ...live(endpoint.id) });
      }
    }
    const summary = { at, interval_ms: intervalMs, endpoints, requests: this.#latest };
    this.#tallies = new Map();
    this.#latest = [];
    return summary;
  }
}
