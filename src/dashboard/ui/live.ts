/**
 * The dashboard's live state: endpoints (from `GET /v0/endpoints`, then kept current by the event
 * stream), each endpoint's traffic figures, the traffic series of the last minutes and the latest
 * requests. Nothing is stored beyond this tab's memory.
 */
import type { EndpointTraffic } from '../../observe/traffic.js';
import type { RequestEvent } from '../../proxy/options.js';
import type { Endpoint as PublicEndpoint } from '../../schema.js';
import { api, followEvents, type StreamEvent } from './api.js';

/** An endpoint as the admin API returns it (list entries carry `model_count`). */
export type Endpoint = PublicEndpoint & { model_count?: number };

/** A finished request, as the traffic summary carries it. */
export type RequestRow = RequestEvent;

/** One second of traffic. */
export interface TrafficPoint {
  /** Seconds since the epoch. */
  t: number;
  byEndpoint: Map<string, EndpointTraffic>;
}

/** Everything the pages show live. */
export interface LiveState {
  endpoints: Map<string, Endpoint>;
  /** In flight and queued per endpoint id. */
  busy: Map<string, { in_flight: number; queued?: number }>;
  traffic: TrafficPoint[];
  requests: RequestRow[];
  connected: boolean;
  /** Raised on every change, for pages that reload details. */
  version: number;
  /** Last `check` or `models.changed` per endpoint id, for detail pages to refresh. */
  touched: Map<string, number>;
}

const KEEP_SECONDS = 600;
const KEEP_REQUESTS = 100;

/** The live store: state, subscribers, and the stream that feeds it. */
export class LiveStore {
  state: LiveState = { endpoints: new Map(), busy: new Map(), traffic: [], requests: [], connected: false, version: 0, touched: new Map() };
  readonly #listeners = new Set<() => void>();
  #stream: { stop: () => void } | undefined;
  /** Reloads under way, and the events that arrived meanwhile: applied over their results, in order. */
  #reloads = 0;
  #held: StreamEvent[] = [];

  /** Calls `listener` after every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Follows the event stream and loads the endpoints each time it (re)connects: read after the
   * stream is live, the list misses nothing that happens later.
   */
  start(): void {
    this.#stream = followEvents(
      (event) => this.#apply(event),
      (connected) => {
        this.#set({ connected });
        if (connected) void this.reload();
      },
    );
  }

  /** Stops following (sign-out). */
  stop(): void {
    this.#stream?.stop();
  }

  /**
   * Reloads every endpoint (and its in-flight figure) from the API. Events that arrive meanwhile
   * are held and applied over the result, so an answer read before them cannot undo them.
   */
  async reload(): Promise<void> {
    this.#reloads++;
    try {
      const [list, stats] = await Promise.all([
        api<{ endpoints: Endpoint[] }>('GET', '/v0/endpoints'),
        api<{ stats: { endpoint_id: string; in_flight: number; queued?: number }[] }>('GET', '/v0/stats'),
      ]);
      this.#set({
        endpoints: new Map(list.endpoints.map((e) => [e.id, e])),
        busy: new Map(stats.stats.map((s) => [s.endpoint_id, { in_flight: s.in_flight, ...(s.queued === undefined ? {} : { queued: s.queued }) }])),
      });
    } finally {
      if (--this.#reloads === 0) for (const event of this.#held.splice(0)) this.#apply(event);
    }
  }

  #set(patch: Partial<LiveState>): void {
    this.state = { ...this.state, ...patch, version: this.state.version + 1 };
    for (const listener of this.#listeners) listener();
  }

  #upsert(endpoint: Endpoint): void {
    const endpoints = new Map(this.state.endpoints);
    const model_count = endpoint.model_count ?? endpoints.get(endpoint.id)?.model_count;
    endpoints.set(endpoint.id, { ...endpoint, ...(model_count === undefined ? {} : { model_count }) });
    this.#set({ endpoints });
  }

  #touch(id: string): void {
    this.#set({ touched: new Map(this.state.touched).set(id, Date.now()) });
  }

  #apply(event: StreamEvent): void {
    if (this.#reloads > 0) {
      this.#held.push(event);
      return;
    }
    const { type, data } = event;
    const payload = data as Record<string, unknown>;
    switch (type) {
      case 'endpoint.added':
      case 'endpoint.changed':
        return this.#upsert(payload.endpoint as Endpoint);
      case 'endpoint.removed': {
        const endpoints = new Map(this.state.endpoints);
        endpoints.delete(payload.endpoint_id as string);
        return this.#set({ endpoints });
      }
      case 'models.changed':
        void this.reload();
        return this.#touch(payload.endpoint_id as string);
      case 'check':
        return this.#touch(payload.endpoint_id as string);
      case 'traffic':
        return this.#traffic(data as { at: string; endpoints: EndpointTraffic[]; requests: RequestRow[] });
      case 'reset':
        void this.reload();
    }
  }

  #traffic(summary: { at: string; endpoints: EndpointTraffic[]; requests: RequestRow[] }): void {
    const t = Math.round(Date.parse(summary.at) / 1000);
    const traffic = [...this.state.traffic.filter((p) => p.t > t - KEEP_SECONDS), { t, byEndpoint: new Map(summary.endpoints.map((e) => [e.endpoint_id, e])) }];
    const busy = new Map([...this.state.busy].map(([id]) => [id, { in_flight: 0 }] as [string, { in_flight: number; queued?: number }]));
    for (const e of summary.endpoints) busy.set(e.endpoint_id, { in_flight: e.in_flight, ...(e.queued === undefined ? {} : { queued: e.queued }) });
    const requests = [...summary.requests.slice().reverse(), ...this.state.requests].slice(0, KEEP_REQUESTS);
    this.#set({ traffic, busy, requests });
  }
}
