/**
 * `router.stats`: read-only live statistics of each endpoint's real traffic — requests in flight,
 * time to first byte, recent failures — and its passive-health suspension, for dashboards and
 * tools. Nothing here touches storage.
 */
import type { Clock } from './clock.js';
import { endpointNotFound } from './errors.js';
import type { PassiveHealth } from './health/outlier.js';
import type { RegistryView } from './registry.js';
import type { LoadFigures, LoadReport, LoadSource } from './load-signals.js';
import type { EndpointStatsView } from './select/types.js';

/** A load report as the API shows it (time as ISO-8601, loaded models copied). */
function upstreamOf(report: LoadReport | undefined): UpstreamLoad | null {
  if (report === undefined) return null;
  const loaded = report.loaded_models === null ? null : [...report.loaded_models];
  return { ...report, loaded_models: loaded, observed_at: new Date(report.observed_at).toISOString() };
}

/** Live figures of one endpoint. */
export interface EndpointLiveStats {
  endpoint_id: string;
  /** Proxied requests being forwarded to it now. */
  in_flight: number;
  /** Decaying mean time to the upstream's response headers, in ms (null: no traffic yet). */
  latency_ms: number | null;
  /** Failures of recent requests, decaying with successes. */
  recent_failures: number;
  /** Until when it is avoided after a failed request (ISO-8601), or null. */
  suspended_until: string | null;
  /**
   * The load the server last published about itself (its health check read it, or a node sent
   * it), counting every client and not only llmlb; null when it published nothing.
   */
  upstream: UpstreamLoad | null;
}

/** What a server published about its load, and when it was read. */
export type UpstreamLoad = LoadFigures & { source: LoadSource; observed_at: string };

/**
 * The live-stats reader of a router.
 *
 * @example
 * router.stats.list().filter((s) => s.in_flight > 0);
 * router.stats.get(endpoint.id).suspended_until; // null, or when the suspension ends
 */
export class LiveStats {
  readonly #registry: RegistryView;
  readonly #traffic: EndpointStatsView;
  readonly #passive: PassiveHealth;
  readonly #clock: Clock;
  readonly #assertStarted: () => void;
  readonly #queued: () => number;

  constructor(
    deps: { registry: RegistryView; traffic: EndpointStatsView; passive: PassiveHealth; clock: Clock; queued: () => number },
    assertStarted: () => void,
  ) {
    this.#registry = deps.registry;
    this.#traffic = deps.traffic;
    this.#passive = deps.passive;
    this.#clock = deps.clock;
    this.#queued = deps.queued;
    this.#assertStarted = assertStarted;
  }

  /** Requests waiting in the admission queue for a free slot now (every endpoint they could use is at its cap). */
  get queued(): number {
    return this.#queued();
  }

  /** The figures of one endpoint; `not_found` for an unknown id. */
  get(endpointId: string): EndpointLiveStats {
    this.#assertStarted();
    if (!this.#registry.getEndpoint(endpointId)) throw endpointNotFound(String(endpointId).slice(0, 100));
    return this.#read(endpointId);
  }

  /** The figures of every endpoint, oldest registration first. */
  list(): EndpointLiveStats[] {
    this.#assertStarted();
    return this.#registry.listEndpoints().map((endpoint) => this.#read(endpoint.id));
  }

  #read(id: string): EndpointLiveStats {
    const until = this.#passive.suspendedUntil(id);
    const latency = this.#traffic.latencyMs(id);
    return {
      endpoint_id: id,
      in_flight: this.#traffic.inFlight(id),
      latency_ms: latency === null ? null : Math.round(latency * 100) / 100,
      recent_failures: this.#traffic.recentFailures(id),
      suspended_until: until === null ? null : new Date(this.#clock.now() + (until - this.#clock.monotonic())).toISOString(),
      upstream: upstreamOf(this.#traffic.upstreamLoad(id)),
    };
  }
}
