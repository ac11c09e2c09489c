/**
 * The live event hub behind `GET /v0/events`: endpoint changes, model changes, check results
 * and a per-second traffic summary, numbered and kept for a short window so that a client that
 * reconnects with `Last-Event-ID` misses nothing. It listens to the store, the checker and the
 * router only while someone subscribes: with no subscriber it holds no listener and no timer.
 */
import { type Clock, type TimerHandle, isoAt } from '../clock.js';
import type { CheckEvent } from '../health/checker.js';
import type { RequestEvent } from '../proxy/options.js';
import type { RegistryView } from '../registry.js';
import { toPublicEndpoint } from '../schema.js';
import type { EndpointChange, EndpointStore, ModelsChange, StatusTransition } from '../store.js';
import { TrafficWindow } from './traffic.js';

/** The kinds of live events. */
export type LiveEventType = 'endpoint.added' | 'endpoint.changed' | 'endpoint.removed' | 'endpoint.status' | 'models.changed' | 'check' | 'traffic';

/** One live event: its id (increasing), kind and JSON payload. */
export interface LiveEvent {
  id: number;
  type: LiveEventType;
  data: unknown;
  /** Monotonic ms when it happened (for the resume window). */
  at: number;
}

/** Options of the live events (the `events` option of `createRouter`). */
export interface EventsOptions {
  /** How long events are kept for `Last-Event-ID` resume, in ms. Default 60 000. */
  resumeWindowMs?: number;
  /** Interval of the traffic summary, in ms. Default 1000. */
  trafficIntervalMs?: number;
  /** Interval of heartbeats on an idle stream, in ms. Default 15 000. */
  heartbeatMs?: number;
}

/** A subscriber: receives events, and is told when the hub closes (the router stopped). */
export interface EventSubscriber {
  send(event: LiveEvent): void;
  end(): void;
}

/** What the hub listens to and reads. */
export interface EventSources {
  store: EndpointStore;
  registry: RegistryView;
  clock: Clock;
  live: (id: string) => { in_flight: number; queued?: number };
  onCheck: (listener: (event: CheckEvent) => void) => () => void;
  onRequest: (listener: (event: RequestEvent) => void) => () => void;
}

/** Most events kept for resume, whatever the window. */
const MAX_KEPT = 2_000;

/**
 * The event hub of one router.
 *
 * @example
 * const sub = hub.subscribe({ send: (e) => write(e), end: () => res.end() }, lastEventId);
 * // … later
 * sub.unsubscribe();
 */
export class EventHub {
  readonly options: Readonly<Required<EventsOptions>>;
  readonly #sources: EventSources;
  readonly #subscribers = new Set<EventSubscriber>();
  #kept: LiveEvent[] = [];
  #nextId = 1;
  #detach: (() => void) | undefined;
  #closed = false;

  constructor(sources: EventSources, options: EventsOptions = {}) {
    this.#sources = sources;
    this.options = Object.freeze({ resumeWindowMs: 60_000, trafficIntervalMs: 1_000, heartbeatMs: 15_000, ...options });
  }

  /** Subscribers now. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Events kept for resume now. */
  get kept(): number {
    return this.#kept.length;
  }

  /**
   * Subscribes. With `lastEventId`, the kept events after it are replayed first; `resumed` is
   * false when that id is no longer kept (the client should reload its state).
   */
  subscribe(subscriber: EventSubscriber, lastEventId?: number): { resumed: boolean; unsubscribe: () => void } {
    if (this.#closed) {
      subscriber.end();
      return { resumed: false, unsubscribe: () => {} };
    }
    this.#prune();
    let resumed = lastEventId === undefined;
    if (lastEventId !== undefined) {
      const oldest = this.#kept[0]?.id ?? this.#nextId;
      resumed = lastEventId >= oldest - 1 && lastEventId < this.#nextId;
      if (resumed) for (const event of this.#kept) if (event.id > lastEventId) subscriber.send(event);
    }
    this.#subscribers.add(subscriber);
    if (this.#subscribers.size === 1) this.#attach();
    return { resumed, unsubscribe: () => this.#unsubscribe(subscriber) };
  }

  /** Ends every subscription and stops listening for good (the router stopped). */
  close(): void {
    this.#closed = true;
    for (const subscriber of [...this.#subscribers]) {
      this.#unsubscribe(subscriber);
      subscriber.end();
    }
    this.#kept = [];
  }

  #unsubscribe(subscriber: EventSubscriber): void {
    if (!this.#subscribers.delete(subscriber) || this.#subscribers.size > 0) return;
    this.#detach?.();
    this.#detach = undefined;
  }

  #publish(type: LiveEventType, data: unknown): void {
    const event: LiveEvent = { id: this.#nextId++, type, data, at: this.#sources.clock.monotonic() };
    this.#kept.push(event);
    this.#prune();
    for (const subscriber of this.#subscribers) subscriber.send(event);
  }

  /** Drops events older than the resume window (and beyond the cap). */
  #prune(): void {
    const oldest = this.#sources.clock.monotonic() - this.options.resumeWindowMs;
    let drop = Math.max(0, this.#kept.length - MAX_KEPT);
    while (drop < this.#kept.length && this.#kept[drop]!.at < oldest) drop++;
    if (drop > 0) this.#kept = this.#kept.slice(drop);
  }

  /** Starts listening (first subscriber) and keeps the way to stop in `#detach`. */
  #attach(): void {
    const { store, clock } = this.#sources;
    const traffic = new TrafficWindow();
    const added = (e: Parameters<typeof toPublicEndpoint>[0]) => this.#publish('endpoint.added', { endpoint: toPublicEndpoint(e) });
    const changed = ({ endpoint }: EndpointChange) => this.#publish('endpoint.changed', { endpoint: toPublicEndpoint(endpoint) });
    const removed = (e: Parameters<typeof toPublicEndpoint>[0]) => this.#publish('endpoint.removed', { endpoint_id: e.id, name: e.name });
    const status = ({ endpoint, from, to }: StatusTransition) => this.#publish('endpoint.status', { endpoint_id: endpoint.id, name: endpoint.name, from, to });
    const models = ({ endpoint, diff }: ModelsChange) => this.#publish('models.changed', { endpoint_id: endpoint.id, name: endpoint.name, ...diff });
    store.on('endpointAdded', added).on('endpointChanged', changed).on('endpointRemoved', removed);
    store.on('statusChanged', status).on('modelsChanged', models);
    const offCheck = this.#sources.onCheck(({ endpoint, record }) => this.#publish('check', { ...record, name: endpoint.name }));
    const offRequest = this.#sources.onRequest((event) => traffic.add(event));
    const summarise = (): void => {
      const summary = traffic.take(isoAt(clock), this.options.trafficIntervalMs, this.#busy(), this.#sources.live);
      // A quiet interval is not announced: consumers count it as zero.
      if (summary.endpoints.length > 0 || summary.requests.length > 0) this.#publish('traffic', summary);
      timer = clock.setTimeout(summarise, this.options.trafficIntervalMs);
    };
    let timer: TimerHandle = clock.setTimeout(summarise, this.options.trafficIntervalMs);
    this.#detach = () => {
      store.off('endpointAdded', added).off('endpointChanged', changed).off('endpointRemoved', removed);
      store.off('statusChanged', status).off('modelsChanged', models);
      offCheck();
      offRequest();
      clock.clearTimeout(timer);
    };
  }

  /** Endpoints with requests in flight now. */
  #busy(): { id: string; name: string }[] {
    return this.#sources.registry.listEndpoints().filter((e) => this.#sources.live(e.id).in_flight > 0);
  }
}
