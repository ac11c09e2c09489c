/**
 * Prometheus metrics of one router, with prom-client: request counters and latency histograms
 * per route, model and endpoint (from the router's `request` event), token counts, failovers,
 * queue wait; per endpoint, gauges read at scrape time (status, admin state, in flight, queue,
 * consecutive failures) and a histogram of health-check latency (from the checker's `check`
 * event). Nothing is counted until metrics are enabled for the router.
 */
import { Gauge, Histogram, Registry } from 'prom-client';
import type { CheckEvent } from '../health/checker.js';
import type { RequestEvent } from '../proxy/options.js';
import type { RegistryView } from '../registry.js';
import { ADMIN_STATES, ENDPOINT_STATUSES } from '../schema.js';
import { CellCounter, type CounterCell, CellHistogram, type HistogramCell } from './cells.js';

/** Options of a router's metrics (the `metrics` option of `createRouter`). */
export interface MetricsOptions {
  /** The registry to register llmlb's metrics in (default: a new one per router). */
  registry?: Registry;
  /** Prefix of every metric name (default `llmlb_`). */
  prefix?: string;
}

/** What the metrics read and listen to. */
export interface MetricsSources {
  registry: RegistryView;
  /** Live figures of an endpoint: in flight and, where the router queues, its queue length. */
  live: (endpointId: string) => { in_flight: number; queued?: number };
  onRequest: (listener: (event: RequestEvent) => void) => void;
  onCheck: (listener: (event: CheckEvent) => void) => void;
}

const TTFB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const CHECK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const NONE = 'none';

/** The cells of one (route, model, endpoint), found once per request by one map lookup. */
interface Series {
  ttfb: HistogramCell;
  duration: HistogramCell;
  byStatus: Map<number, CounterCell>;
  promptTokens: CounterCell;
  completionTokens: CounterCell;
  failovers: CounterCell;
  retries: CounterCell;
  queueWait: HistogramCell;
}

/**
 * The metrics of one router.
 *
 * @example
 * const metrics = new RouterMetrics(sources, { prefix: 'llmlb_' });
 * await metrics.registry.metrics(); // the exposition text
 */
export class RouterMetrics {
  /** The prom-client registry the metrics live in. */
  readonly registry: Registry;
  readonly #series = new Map<string, Series>();
  readonly #requests: CellCounter;
  readonly #ttfb: CellHistogram;
  readonly #duration: CellHistogram;
  readonly #tokens: CellCounter;
  readonly #failovers: CellCounter;
  readonly #retries: CellCounter;
  readonly #queueWait: CellHistogram;
  readonly #checks: Histogram<string>;

  constructor(sources: MetricsSources, options: MetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    const p = options.prefix ?? 'llmlb_';
    const registers = [registry];
    this.#requests = new CellCounter(`${p}requests_total`, 'Proxied requests by route, model, endpoint and HTTP status sent', registry);
    this.#ttfb = new CellHistogram(`${p}request_ttfb_seconds`, "Time to the upstream's response headers", TTFB_BUCKETS, registry);
    this.#duration = new CellHistogram(`${p}request_duration_seconds`, 'Time until the response ended', DURATION_BUCKETS, registry);
    this.#tokens = new CellCounter(`${p}tokens_total`, "Tokens reported in upstreams' usage, by kind (prompt, completion)", registry);
    this.#failovers = new CellCounter(`${p}failovers_total`, 'Requests that needed more than one endpoint', registry);
    this.#retries = new CellCounter(`${p}retries_total`, 'Attempts beyond the first, over all requests', registry);
    this.#queueWait = new CellHistogram(`${p}queue_wait_seconds`, "Time requests waited in llmlb's admission queue", TTFB_BUCKETS, registry);
    this.#checks = new Histogram({ name: `${p}health_check_seconds`, help: 'Health-check latency by endpoint and result (success, failure)', labelNames: ['endpoint', 'result'], buckets: CHECK_BUCKETS, registers });
    this.#endpointGauges(p, registers, sources);
    sources.onRequest((event) => this.#observe(event));
    sources.onCheck((event) => this.#observeCheck(event));
  }

  /** The exposition text of the registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Gauges computed from the registry and live stats at each scrape. */
  #endpointGauges(p: string, registers: Registry[], sources: MetricsSources): void {
    const each = (gauge: Gauge<string>, set: (endpoint: ReturnType<RegistryView['listEndpoints']>[number]) => void) => {
      gauge.reset();
      for (const endpoint of sources.registry.listEndpoints()) set(endpoint);
    };
    new Gauge({
      name: `${p}endpoint_status`, help: 'Health status of each endpoint (1 for the current status)', labelNames: ['endpoint', 'endpoint_id', 'status'], registers,
      collect() {
        each(this, (e) => { for (const status of ENDPOINT_STATUSES) this.set({ endpoint: e.name, endpoint_id: e.id, status }, e.status === status ? 1 : 0); });
      },
    });
    new Gauge({
      name: `${p}endpoint_admin_state`, help: 'Admin state of each endpoint (1 for the current state)', labelNames: ['endpoint', 'admin_state'], registers,
      collect() {
        each(this, (e) => { for (const state of ADMIN_STATES) this.set({ endpoint: e.name, admin_state: state }, e.admin_state === state ? 1 : 0); });
      },
    });
    new Gauge({
      name: `${p}endpoint_consecutive_failures`, help: 'Consecutive failed health checks of each endpoint', labelNames: ['endpoint'], registers,
      collect() { each(this, (e) => this.set({ endpoint: e.name }, e.error_count)); },
    });
    new Gauge({
      name: `${p}endpoint_check_latency_seconds`, help: 'Latency of the last successful health check', labelNames: ['endpoint'], registers,
      collect() { each(this, (e) => { if (e.latency_ms !== null) this.set({ endpoint: e.name }, e.latency_ms / 1000); }); },
    });
    new Gauge({
      name: `${p}endpoint_in_flight`, help: 'Proxied requests in flight to each endpoint', labelNames: ['endpoint'], registers,
      collect() { each(this, (e) => this.set({ endpoint: e.name }, sources.live(e.id).in_flight)); },
    });
    new Gauge({
      name: `${p}endpoint_queue_depth`, help: "Requests waiting in llmlb's queue for each endpoint (where the router queues)", labelNames: ['endpoint'], registers,
      collect() { each(this, (e) => { const queued = sources.live(e.id).queued; if (queued !== undefined) this.set({ endpoint: e.name }, queued); }); },
    });
  }

  #seriesOf(event: RequestEvent): Series {
    const endpoint = event.endpoint_name ?? NONE;
    const model = event.model ?? NONE;
    const key = `${event.route}\u0000${model}\u0000${endpoint}`;
    let series = this.#series.get(key);
    if (!series) {
      const labels = { route: event.route, model, endpoint };
      const perModel = { route: event.route, model };
      series = {
        ttfb: this.#ttfb.cell(labels),
        duration: this.#duration.cell(labels),
        byStatus: new Map(),
        promptTokens: this.#tokens.cell({ model, endpoint, kind: 'prompt' }),
        completionTokens: this.#tokens.cell({ model, endpoint, kind: 'completion' }),
        failovers: this.#failovers.cell(perModel),
        retries: this.#retries.cell(perModel),
        queueWait: this.#queueWait.cell(perModel),
      };
      this.#series.set(key, series);
    }
    return series;
  }

  #observe(event: RequestEvent): void {
    const series = this.#seriesOf(event);
    let requests = series.byStatus.get(event.status);
    if (!requests) {
      requests = this.#requests.cell({ route: event.route, model: event.model ?? NONE, endpoint: event.endpoint_name ?? NONE, status: String(event.status) });
      series.byStatus.set(event.status, requests);
    }
    requests.value++;
    if (event.ttfb_ms !== null) CellHistogram.observe(series.ttfb, TTFB_BUCKETS, event.ttfb_ms / 1000);
    CellHistogram.observe(series.duration, DURATION_BUCKETS, event.duration_ms / 1000);
    if (event.usage) {
      series.promptTokens.value += event.usage.prompt_tokens;
      series.completionTokens.value += event.usage.completion_tokens;
    }
    if (event.attempts > 1) {
      series.failovers.value++;
      series.retries.value += event.attempts - 1;
    }
    if (event.queue_ms !== undefined) CellHistogram.observe(series.queueWait, TTFB_BUCKETS, event.queue_ms / 1000);
  }

  #observeCheck(event: CheckEvent): void {
    const { record, endpoint } = event;
    const seconds = (record.latency_ms ?? event.report.latency_ms) / 1000;
    this.#checks.observe({ endpoint: endpoint.name, result: record.success ? 'success' : 'failure' }, seconds);
  }
}
