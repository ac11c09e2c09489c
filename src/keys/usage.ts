/**
 * Usage per key: requests, errors and tokens per key, model and hour, added up in memory and
 * written to storage in batches (every `flushIntervalMs` and on stop; never a write per
 * request). Reads merge what is stored with what is not yet flushed, so they are exact on the
 * instance that served the traffic.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { byHourThenModel, usageKey } from '../storage/key-patch.js';
import type { KeyUsageRange, KeyUsageRow } from '../storage/key-types.js';
import type { StorageAdapter } from '../storage/types.js';

const HOUR_MS = 3_600_000;

/** One request's contribution to usage. */
export interface UsageSample {
  keyId: string;
  model: string;
  error: boolean;
  promptTokens: number;
  completionTokens: number;
}

/** What the meter works with. */
export interface UsageMeterDeps {
  storage: Pick<StorageAdapter, 'addKeyUsage' | 'listKeyUsage'>;
  clock: Clock;
  flushIntervalMs: number;
  onError: (error: unknown) => void;
}

/** Adds `row`'s counts into `into` (by its key, model and hour). */
function addInto(into: Map<string, KeyUsageRow>, row: KeyUsageRow): void {
  const key = usageKey(row);
  const sum = into.get(key);
  if (!sum) {
    into.set(key, { ...row });
    return;
  }
  sum.requests += row.requests;
  sum.errors += row.errors;
  sum.prompt_tokens += row.prompt_tokens;
  sum.completion_tokens += row.completion_tokens;
}

/**
 * Counts usage and flushes it.
 *
 * @example
 * meter.record({ keyId, model: 'llama3.1:8b', error: false, promptTokens: 12, completionTokens: 40 });
 * await meter.stop(); // flushes what is left
 */
export class UsageMeter {
  readonly #deps: UsageMeterDeps;
  #pending = new Map<string, KeyUsageRow>();
  /** The batch being written, counted in reads until the write ends. */
  #flushing: readonly KeyUsageRow[] = [];
  #flush: Promise<void> | undefined;
  /** Raised when a write ends: a read that overlapped one reads again. */
  #generation = 0;
  #timer: TimerHandle | undefined;
  #running = false;
  /** Start (epoch ms) and ISO text of the hour being counted, and its rows in `#pending` by key id and model. */
  #hourStart = Number.NaN;
  #hour = '';
  #current = new Map<string, Map<string, KeyUsageRow>>();

  constructor(deps: UsageMeterDeps) {
    this.#deps = deps;
  }

  /** Adds one request to its key's current hour. */
  record(sample: UsageSample): void {
    const row = this.#rowOf(sample.keyId, sample.model);
    row.requests++;
    if (sample.error) row.errors++;
    row.prompt_tokens += sample.promptTokens;
    row.completion_tokens += sample.completionTokens;
    this.#schedule();
  }

  /** The pending row of a key and model for the current hour (found without building its map key on every request). */
  #rowOf(keyId: string, model: string): KeyUsageRow {
    const now = this.#deps.clock.now();
    if (!(now >= this.#hourStart && now < this.#hourStart + HOUR_MS)) {
      this.#hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
      this.#hour = new Date(this.#hourStart).toISOString();
      this.#current = new Map();
    }
    let byModel = this.#current.get(keyId);
    if (!byModel) this.#current.set(keyId, (byModel = new Map()));
    let row = byModel.get(model);
    if (!row) {
      const fresh: KeyUsageRow = { key_id: keyId, model, hour: this.#hour, requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 };
      const key = usageKey(fresh);
      row = this.#pending.get(key) ?? fresh;
      if (row === fresh) this.#pending.set(key, fresh);
      byModel.set(model, row);
    }
    return row;
  }

  /** From now on, what is counted is flushed within `flushIntervalMs` (no timer while nothing is). */
  start(): void {
    this.#running = true;
    if (this.#pending.size > 0) this.#schedule();
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Sets the flush timer, unless it is set or the meter is stopped. */
  #schedule(): void {
    if (!this.#running || this.#timer !== undefined) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#deps.flushIntervalMs);
  }

  /** Writes what has been counted so far (one batch at a time); a failed batch is kept for the next flush. */
  flush(): Promise<void> {
    if (this.#flush) return this.#flush.then(() => (this.#pending.size > 0 ? this.flush() : undefined));
    if (this.#pending.size === 0) return Promise.resolve();
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    // The rows now being written are no longer counted into.
    this.#current = new Map();
    this.#flushing = batch;
    this.#flush = this.#deps.storage
      .addKeyUsage(batch)
      .catch((err: unknown) => {
        for (const row of batch) addInto(this.#pending, row);
        this.#schedule();
        this.#deps.onError(err);
      })
      .finally(() => {
        this.#flushing = [];
        this.#flush = undefined;
        this.#generation++;
      });
    return this.#flush;
  }

  /** A key's usage rows in `range`: stored plus not yet flushed, by hour then model. */
  async read(keyId: string, range: KeyUsageRange): Promise<KeyUsageRow[]> {
    for (;;) {
      const generation = this.#generation;
      const unflushed = [...this.#pending.values(), ...this.#flushing].filter(
        (row) => row.key_id === keyId && row.hour >= range.from && row.hour < range.to,
      );
      const stored = await this.#deps.storage.listKeyUsage(keyId, range);
      // A batch written meanwhile may be in `stored` and in `unflushed`: read again.
      if (generation !== this.#generation) continue;
      const merged = new Map<string, KeyUsageRow>();
      for (const row of [...stored, ...unflushed]) addInto(merged, row);
      return [...merged.values()].sort(byHourThenModel);
    }
  }
}
