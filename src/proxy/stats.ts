/**
 * Per-endpoint live statistics of proxied traffic, kept in memory: requests in flight, an EWMA of
 * time to response headers, recent failures, and per model the latency curves (time to first
 * token of streams, time to whole answers, by load level) and the decode pace of streams that the
 * load-aware selector reads. (Suspension after a failure is passive health's, in
 * `health/outlier.ts`.)
 */
import type { LoadBoard, LoadReport } from '../load-signals.js';
import type { EndpointStatsView } from '../select/types.js';
import { LatencyCurve } from './latency-curve.js';

/** What was learned of one model on one endpoint. */
interface ModelEntry {
  /** Time to the first event of streamed answers. */
  stream: LatencyCurve;
  /** Time to the whole of non-streamed answers. */
  whole: LatencyCurve;
  /** Decaying mean time between a stream's events, in ms (null: no stream yet). */
  msPerChunk: number | null;
  /** Decaying mean number of events in a stream (null: no stream yet). */
  chunks: number | null;
}

interface Entry {
  inFlight: number;
  /** Send times (monotonic ms, oldest first) of streamed requests that have not had their first event yet. */
  awaiting: number[];
  latencyMs: number | null;
  failures: number;
  models: Map<string, ModelEntry>;
}

/** How one answered request went, as the relay saw it. */
export interface RequestSample {
  model: string;
  streamed: boolean;
  /** Requests already in flight to the endpoint when this one was sent. */
  inFlightAtStart: number;
  /** Time to the end of a whole answer, in ms (streams: unused, see `firstEvent`). */
  latencyMs: number;
  /** Mean time between events after the first (streams with two events or more), else null. */
  msPerChunk: number | null;
  /** Events in the stream (0 for other answers). */
  chunks: number;
}

const EWMA_WEIGHT = 0.2;

/** A decaying mean moved toward `sample` (or started at it). */
function ewma(mean: number | null, sample: number): number {
  return mean === null ? sample : mean + EWMA_WEIGHT * (sample - mean);
}

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
  readonly #board: LoadBoard | undefined;

  /** `board`: where the servers' published load is read (read only here). */
  constructor(board?: LoadBoard) {
    this.#board = board;
  }

  upstreamLoad(id: string): LoadReport | undefined {
    return this.#board?.get(id);
  }

  #entry(id: string): Entry {
    let entry = this.#entries.get(id);
    if (!entry) this.#entries.set(id, (entry = { inFlight: 0, awaiting: [], latencyMs: null, failures: 0, models: new Map() }));
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

  expectedLatencyMs(id: string, model: string, stream: boolean, load?: number): number | null {
    const entry = this.#entries.get(id);
    const learned = entry?.models.get(model);
    if (!entry || !learned) return null;
    const level = load ?? entry.inFlight;
    const own = stream ? learned.stream : learned.whole;
    if (own.measured) return own.expected(level);
    // Only the other kind is known: a whole answer is its first event plus its decode; a first
    // event comes no later than the whole answer.
    const other = (stream ? learned.whole : learned.stream).expected(level);
    if (other === null || stream) return other;
    return other + (learned.msPerChunk ?? 0) * (learned.chunks ?? 0);
  }

  msPerChunk(id: string, model: string): number | null {
    return this.#entries.get(id)?.models.get(model)?.msPerChunk ?? null;
  }

  decodeMs(id: string, model: string): number | null {
    const learned = this.#entries.get(id)?.models.get(model);
    return learned?.msPerChunk == null || learned.chunks === null ? null : learned.msPerChunk * learned.chunks;
  }

  awaitingMs(id: string, now: number): number {
    const oldest = this.#entries.get(id)?.awaiting[0];
    return oldest === undefined ? 0 : now - oldest;
  }

  /**
   * A request to the endpoint was sent at `now` (monotonic ms); a stream awaits its first event
   * from then (a whole answer's first byte is its end: no signal). Returns how many were in
   * flight before it.
   */
  started(id: string, now: number, stream: boolean): number {
    const entry = this.#entry(id);
    if (stream) entry.awaiting.push(now);
    return entry.inFlight++;
  }

  /** The stream sent at `sentAt` got its first event, or ended without one: it no longer awaits. */
  answered(id: string, sentAt: number): void {
    const awaiting = this.#entries.get(id)?.awaiting;
    // First bytes mostly come in sending order: the match is nearly always at the front.
    const at = awaiting?.indexOf(sentAt) ?? -1;
    if (at !== -1) awaiting!.splice(at, 1);
  }

  /** A request to the endpoint ended (whatever the outcome). */
  finished(id: string): void {
    const entry = this.#entries.get(id);
    if (entry && entry.inFlight > 0) entry.inFlight--;
  }

  /** The endpoint answered (a status below 500); `ttfbMs` is its time to response headers. */
  succeeded(id: string, ttfbMs: number): void {
    const entry = this.#entry(id);
    entry.latencyMs = ewma(entry.latencyMs, ttfbMs);
    if (entry.failures > 0) entry.failures--;
  }

  /** The endpoint failed: no answer, or a 5xx answer (however fast, it is not a fast endpoint). */
  failed(id: string): void {
    this.#entry(id).failures++;
  }

  /** Learns from an answered request (2xx) once it ended: a whole answer's latency at its load level, a stream's decode pace. */
  observe(id: string, sample: RequestSample): void {
    const learned = this.#learned(id, sample.model);
    if (!sample.streamed) return learned.whole.observe(sample.inFlightAtStart, sample.latencyMs);
    const pace = sample.msPerChunk;
    if (pace === null) return;
    learned.msPerChunk = ewma(learned.msPerChunk, pace);
    learned.chunks = ewma(learned.chunks, sample.chunks);
  }

  /**
   * A stream's first event came `ms` after it was sent, with `inFlightAtStart` others running:
   * learned at once, so a fast endpoint is known from its first token, not its last.
   */
  firstEvent(id: string, model: string, inFlightAtStart: number, ms: number): void {
    this.#learned(id, model).stream.observe(inFlightAtStart, ms);
  }

  #learned(id: string, model: string): ModelEntry {
    const entry = this.#entry(id);
    let learned = entry.models.get(model);
    if (!learned) entry.models.set(model, (learned = { stream: new LatencyCurve(), whole: new LatencyCurve(), msPerChunk: null, chunks: null }));
    return learned;
  }

  /** Forgets a deleted endpoint. */
  forget(id: string): void {
    this.#entries.delete(id);
  }
}
