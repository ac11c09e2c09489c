/** The selector contract: how the proxy asks "which of these endpoints should serve this request?". */
import type { LoadReport } from '../load-signals.js';
import type { Capability, EndpointStatus } from '../schema.js';

/** What a selector sees of a candidate endpoint. Every candidate is online and serves the model. */
export interface SelectionCandidate {
  readonly id: string;
  readonly name: string;
  readonly base_url: string;
  readonly status: EndpointStatus;
  /** Latency of the last successful health check, in ms (null: never measured). */
  readonly latency_ms: number | null;
  /** Most requests llmlb sends it at once (null: no cap). Candidates at their cap are never offered. */
  readonly max_concurrency: number | null;
  /** Routing tier; every candidate offered at once shares it. */
  readonly priority: number;
  /** Relative capacity inside its tier. */
  readonly weight: number;
  /** Seconds between its health checks: how fresh the load it published can be (see `upstreamLoad`). */
  readonly health_check_interval_secs: number;
}

/** Live, in-memory statistics of an endpoint's real traffic. */
export interface EndpointStatsView {
  /** Requests being forwarded to the endpoint right now. */
  inFlight(endpointId: string): number;
  /** Exponentially weighted mean time to response headers of recent requests, in ms (null: none yet). */
  latencyMs(endpointId: string): number | null;
  /** Failures (connection errors, timeouts, 5xx answers) of recent requests, decaying to 0 after successes. */
  recentFailures(endpointId: string): number;
  /**
   * Expected time to the first token (`stream`) or to the whole answer of a request for `model`
   * sent to the endpoint now, at its current load (or with `load` requests already running
   * there), learned from real traffic; null before any.
   */
  expectedLatencyMs(endpointId: string, model: string, stream: boolean, load?: number): number | null;
  /** Decaying mean time between a stream's events for `model` (its decode pace), in ms; null before any. */
  msPerChunk(endpointId: string, model: string): number | null;
  /** Expected time from a stream's first event to its last for `model` (events × pace), in ms; null before any. */
  decodeMs(endpointId: string, model: string): number | null;
  /**
   * How long the endpoint's oldest streamed request without a first event yet has been waiting
   * for it, at monotonic time `now` (0 when none is waiting): a floor under what a new stream can
   * expect there, which grows while the endpoint is stuck or queueing.
   */
  awaitingMs(endpointId: string, now: number): number;
  /**
   * The load the server last published about itself (read by its health check, or sent by a
   * node's heartbeat): requests running and waiting in it — from every client, not only llmlb —,
   * busy and total slots, KV-cache use, loaded models. Undefined when it published nothing.
   */
  upstreamLoad(endpointId: string): LoadReport | undefined;
}

/** What the selector knows about the request. */
export interface SelectionContext {
  /** The requested model id. */
  readonly model: string;
  /** The capability the route needs (`chat` or `embeddings`). */
  readonly capability: Capability;
  /** True when the client asked for a streamed answer (`"stream": true`). */
  readonly stream: boolean;
  /** The clock's monotonic time now, in ms (for {@link EndpointStatsView.awaitingMs}). */
  readonly now: number;
  /** The clock's wall time now, in epoch ms (for the age of {@link EndpointStatsView.upstreamLoad}'s figures). */
  readonly wallNow: number;
  readonly stats: EndpointStatsView;
}

/**
 * Picks the endpoint for a request: a synchronous function of the candidates (never empty) and
 * the context, returning one of the candidates (or undefined to refuse them all). It must not
 * do I/O: it runs on every request.
 *
 * @example
 * const firstByName: Selector = (candidates) =>
 *   [...candidates].sort((a, b) => a.name.localeCompare(b.name))[0];
 */
export type Selector = ((candidates: readonly SelectionCandidate[], context: SelectionContext) => SelectionCandidate | undefined) & {
  /**
   * The reason given for its choices in `x-llmlb-route` and the `request` event (e.g.
   * `least-expected-latency`); `selector` when absent.
   */
  readonly reason?: string;
};
