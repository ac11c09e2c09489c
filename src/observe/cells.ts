/**
 * Counters and histograms for the hot path, exposed through prom-client: a request updates plain
 * numbers in a cell it holds (no label hashing, no allocation), and prom-client reads the cells
 * only when it renders the exposition. Registered in a prom-client `Registry` like its own
 * metrics, so `registry.metrics()`, default labels and merging work unchanged.
 */
import type { Metric, Registry } from 'prom-client';

/** One labelled series of a counter: add to `value`. */
export interface CounterCell {
  value: number;
}

/** One labelled series of a histogram. */
export interface HistogramCell {
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface Series<C> {
  labels: Record<string, string>;
  cell: C;
}

/** What prom-client reads of a metric. */
interface MetricValues {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

abstract class CellMetric<C> {
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series<C>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    registry: Registry,
  ) {
    // prom-client renders any registered object with `name`, `help`, `type` and `get()`.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of one label set (created on first use; hold on to it). */
  cell(labels: Record<string, string>): C {
    const key = Object.values(labels).join('\u0000');
    let series = this.#series.get(key);
    if (!series) this.#series.set(key, (series = { labels, cell: this.create() }));
    return series.cell;
  }

  /** prom-client: the current values. */
  async get(): Promise<MetricValues> {
    const values: MetricValues['values'] = [];
    for (const { labels, cell } of this.#series.values()) this.render(labels, cell, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  /** prom-client's `registry.resetMetrics()`. */
  reset(): void {
    this.#series.clear();
  }

  protected abstract create(): C;
  protected abstract render(labels: Record<string, string>, cell: C, out: MetricValues['values']): void;
}

/**
 * A counter whose series are {@link CounterCell}s.
 *
 * @example
 * const requests = new CellCounter('llmlb_requests_total', 'Requests', registry);
 * requests.cell({ route: 'chat' }).value++;
 */
export class CellCounter extends CellMetric<CounterCell> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry);
  }

  protected create(): CounterCell {
    return { value: 0 };
  }

  protected render(labels: Record<string, string>, cell: CounterCell, out: MetricValues['values']): void {
    out.push({ value: cell.value, labels });
  }
}

/**
 * A histogram whose series are {@link HistogramCell}s; `observe` files a value.
 *
 * @example
 * const ttfb = new CellHistogram('llmlb_request_ttfb_seconds', 'TTFB', [0.01, 0.1, 1], registry);
 * CellHistogram.observe(ttfb.cell({ route: 'chat' }), ttfb.buckets, 0.042);
 */
export class CellHistogram extends CellMetric<HistogramCell> {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'histogram', registry);
  }

  /** Files `value` in `cell`. */
  static observe(cell: HistogramCell, buckets: readonly number[], value: number): void {
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    cell.counts[i]!++;
    cell.sum += value;
    cell.count++;
  }

  protected create(): HistogramCell {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  protected render(labels: Record<string, string>, cell: HistogramCell, out: MetricValues['values']): void {
    let cumulative = 0;
    for (let i = 0; i <= this.buckets.length; i++) {
      cumulative += cell.counts[i]!;
      out.push({ value: cumulative, labels: { ...labels, le: i < this.buckets.length ? this.buckets[i]! : '+Inf' }, metricName: `${this.name}_bucket` });
    }
    out.push({ value: cell.sum, labels, metricName: `${this.name}_sum` });
    out.push({ value: cell.count, labels, metricName: `${this.name}_count` });
  }
}
