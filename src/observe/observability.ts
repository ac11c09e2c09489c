/**
 * What a router offers operators, created on first use: its Prometheus metrics, its live event
 * hub and its readiness. Until a part is used, it costs nothing — no listener, no timer.
 */
import type { CheckEvent, HealthChecker } from '../health/checker.js';
import type { LiveStats } from '../live-stats.js';
import type { RequestEvent } from '../proxy/options.js';
import type { EndpointStore } from '../store.js';
import type { Clock } from '../clock.js';
import { EventHub, type EventsOptions } from './events.js';
import { type MetricsOptions, RouterMetrics } from './metrics.js';

/** The answer of `/readyz`. */
export interface Readiness {
  ready: boolean;
  /** The router is started. */
  started: boolean;
  /** Storage answered a query. */
  storage: boolean;
  /** Online, enabled endpoints. */
  online_endpoints: number;
}

/** What a router hands its observability. */
export interface ObserveDeps {
  store: EndpointStore;
  checker: HealthChecker;
  stats: LiveStats;
  clock: Clock;
  started: () => boolean;
  /** A cheap storage query; rejects when storage is unreachable. */
  ping: () => Promise<unknown>;
  /** Subscribes to the router's `request` event; returns the unsubscribe. */
  onRequest: (listener: (event: RequestEvent) => void) => () => void;
  metrics: MetricsOptions;
  events: EventsOptions;
}

const PING_TIMEOUT_MS = 2_000;

/**
 * An endpoint's in-flight and queue figures from `router.stats` (`queued`, or `queue_depth`,
 * where the router queues).
 */
function liveFigures(stats: LiveStats, id: string): { in_flight: number; queued?: number } {
  const figures = stats.get(id) as ReturnType<LiveStats['get']> & { queued?: unknown; queue_depth?: unknown };
  const queued = figures.queued ?? figures.queue_depth;
  return typeof queued === 'number' ? { in_flight: figures.in_flight, queued } : { in_flight: figures.in_flight };
}

/**
 * A router's metrics, events and readiness.
 *
 * @example
 * const text = await observability.metrics().text();
 */
export class Observability {
  readonly #deps: ObserveDeps;
  #metrics: RouterMetrics | undefined;
  #events: EventHub | undefined;

  constructor(deps: ObserveDeps) {
    this.#deps = deps;
  }

  /** The router's metrics, counting from the first call. */
  metrics(): RouterMetrics {
    const deps = this.#deps;
    this.#metrics ??= new RouterMetrics(
      {
        registry: deps.store.registry,
        live: (id) => liveFigures(deps.stats, id),
        onRequest: (listener) => void deps.onRequest(listener),
        onCheck: (listener) => void deps.checker.on('check', listener),
      },
      deps.metrics,
    );
    return this.#metrics;
  }

  /** The router's live event hub. */
  events(): EventHub {
    const deps = this.#deps;
    this.#events ??= new EventHub(
      {
        store: deps.store,
        registry: deps.store.registry,
        clock: deps.clock,
        live: (id) => liveFigures(deps.stats, id),
        onCheck: (listener: (event: CheckEvent) => void) => {
          deps.checker.on('check', listener);
          return () => void deps.checker.off('check', listener);
        },
        onRequest: deps.onRequest,
      },
      deps.events,
    );
    return this.#events;
  }

  /** Whether the router can serve: started, storage reachable, and (optionally) an online endpoint. */
  async readiness(requireOnlineEndpoint: boolean): Promise<Readiness> {
    const started = this.#deps.started();
    const storage = started && (await this.#ping());
    const online = started ? this.#deps.store.registry.listEndpoints('online').filter((e) => e.admin_state === 'enabled').length : 0;
    return { ready: started && storage && (!requireOnlineEndpoint || online > 0), started, storage, online_endpoints: online };
  }

  /** Ends the live streams (the router stopped). */
  close(): void {
    this.#events?.close();
  }

  async #ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS).unref()));
    try {
      return await Promise.race([this.#deps.ping().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
