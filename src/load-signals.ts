/**
 * Load figures the inference servers publish about themselves: read by health checks (vLLM and
 * SGLang `/metrics`, llama.cpp `/slots`, Ollama `/api/ps`) or sent by a self-registered node's
 * heartbeat. They count every client of a server, not only llmlb's, which is why the selector
 * wants them. {@link LoadBoard} is the one place they are kept, per endpoint and source.
 */

/** Where a {@link LoadReport} came from. */
export type LoadSource = 'check' | 'heartbeat';

/** Figures one server published; null where it published none. */
export interface LoadFigures {
  /** Requests the server is running now. */
  running: number | null;
  /** Requests waiting in the server's own queue. */
  waiting: number | null;
  /** Decoding slots in use (llama.cpp). */
  slots_busy: number | null;
  /** Decoding slots in all (llama.cpp): how many requests it runs at once. */
  slots_total: number | null;
  /** KV-cache use, from 0 to 1. */
  kv_cache_usage: number | null;
  /** GPU utilisation, from 0 to 1. */
  gpu_utilization: number | null;
  /** Model ids loaded in memory now. */
  loaded_models: readonly string[] | null;
}

/** A {@link LoadFigures} with its source and time. */
export interface LoadReport extends LoadFigures {
  source: LoadSource;
  /** Epoch ms at which the figures were read or received. */
  observed_at: number;
}

/** Figures with nothing published. */
export const NO_FIGURES: Readonly<LoadFigures> = Object.freeze({
  running: null,
  waiting: null,
  slots_busy: null,
  slots_total: null,
  kv_cache_usage: null,
  gpu_utilization: null,
  loaded_models: null,
});

/** The fields of {@link LoadFigures}, for merging. */
const FIGURE_KEYS = Object.keys(NO_FIGURES) as (keyof LoadFigures)[];

/**
 * The newest load figures of each endpoint. Each source's latest report replaces its previous
 * one; {@link LoadBoard.get} merges the sources, the newer report's published figures winning.
 *
 * @example
 * board.report(id, { ...NO_FIGURES, waiting: 3 }, 'check', Date.now());
 * board.get(id)?.waiting; // 3
 */
export class LoadBoard {
  readonly #reports = new Map<string, Partial<Record<LoadSource, LoadReport>>>();
  /** Each endpoint's sources merged, rebuilt on each report: a read (per routed request) is one lookup. */
  readonly #merged = new Map<string, LoadReport>();

  /**
   * Records what `source` read of an endpoint at `observedAt` (epoch ms). Figures that are all
   * null replace what the source read before, but put no endpoint on the board: a server that
   * never published anything stays off it.
   */
  report(endpointId: string, figures: LoadFigures, source: LoadSource, observedAt: number): void {
    const known = this.#reports.get(endpointId);
    if (!known && FIGURE_KEYS.every((key) => figures[key] === null)) return;
    const reports = known ?? {};
    reports[source] = { ...pick(figures), source, observed_at: observedAt };
    this.#reports.set(endpointId, reports);
    this.#merged.set(endpointId, merge(reports));
  }

  /** The endpoint's figures, both sources merged (newest wins per figure), or undefined when none were reported. */
  get(endpointId: string): LoadReport | undefined {
    return this.#merged.get(endpointId);
  }

  /** Drops an endpoint's figures (it was removed). */
  forget(endpointId: string): void {
    this.#reports.delete(endpointId);
    this.#merged.delete(endpointId);
  }
}

/** One endpoint's reports merged: the newer report, its missing figures taken from the older. */
function merge(reports: Partial<Record<LoadSource, LoadReport>>): LoadReport {
  const [newer, older] = [reports.check, reports.heartbeat].sort((a, b) => (b?.observed_at ?? -1) - (a?.observed_at ?? -1));
  const merged: LoadReport = { ...newer! };
  if (!older) return merged;
  for (const key of FIGURE_KEYS) if (merged[key] === null) Object.assign(merged, { [key]: older[key] });
  return merged;
}

/** Exactly the {@link LoadFigures} of `figures`, loaded model list copied. */
function pick(figures: LoadFigures): LoadFigures {
  const copy = { ...NO_FIGURES };
  for (const key of FIGURE_KEYS) Object.assign(copy, { [key]: figures[key] });
  if (copy.loaded_models !== null) copy.loaded_models = Object.freeze([...copy.loaded_models]);
  return copy;
}
