/**
 * When checks run: the start-up round (every endpoint at once, bounded), one timer per endpoint
 * on its own interval, a first check right after registration, a credential change or a switch
 * between a static model list and discovery, and quick re-checks after a passive strike. Before every scheduled check it asks `owns(endpointId)`, so
 * that with several instances on one database only the lease holder checks an endpoint.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { EndpointRecord } from '../schema.js';
import type { EndpointStore } from '../store.js';
import type { CheckReport, CheckResult } from './check.js';

/** What the scheduler works with. */
export interface SchedulerDeps {
  store: EndpointStore;
  clock: Clock;
  /** Runs one check of an endpoint (see `runCheck`). */
  check: (record: EndpointRecord, signal: AbortSignal) => Promise<CheckResult>;
  /** Whether this instance checks the endpoint now. Default: always. */
  owns: (endpointId: string) => boolean;
  /**
   * Several instances share the checks: the start-up round skips endpoints checked successfully
   * within their interval (by a peer), arming them for when it ends instead.
   */
  keepCadence: boolean;
  /** Check automatically (start-up round, after registration, on intervals). */
  schedule: boolean;
  /** Most checks at once in the start-up round. */
  concurrency: number;
  /** Delay of the quick re-check after a failed strike check, in ms. */
  strikeRecheckMs: number;
  /** Every finished check. */
  onChecked: (result: CheckResult) => void;
  /** A check that failed to run or record (e.g. storage). */
  onError: (endpointId: string, error: unknown) => void;
}

/**
 * The check scheduler of one router.
 *
 * @example
 * const scheduler = new CheckScheduler(deps);
 * scheduler.start();
 * await scheduler.idle();
 */
export class CheckScheduler {
  readonly #deps: SchedulerDeps;
  readonly #timers = new Map<string, TimerHandle>();
  readonly #inFlight = new Map<string, Promise<CheckReport>>();
  /** One controller per running check, aborted on stop (no shared signal gathering listeners). */
  readonly #controllers = new Set<AbortController>();
  #running = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    const { store } = deps;
    store.on('endpointAdded', (endpoint) => this.#checkSoon(endpoint.id));
    store.on('endpointRemoved', (endpoint) => this.#clear(endpoint.id));
    store.on('endpointChanged', ({ endpoint, previous }) => {
      const switched = (endpoint.static_models === null) !== (previous.static_models === null);
      if (endpoint.api_key_encrypted !== previous.api_key_encrypted || switched) this.#checkSoon(endpoint.id);
      else if (endpoint.health_check_interval_secs !== previous.health_check_interval_secs) this.#arm(endpoint.id);
    });
  }

  /** Launches the start-up round; returns at once (`idle()` tells when it is done). */
  start(): void {
    this.#running = true;
    if (!this.#deps.schedule) return;
    const ids: string[] = [];
    for (const endpoint of this.#deps.store.registry.listEndpoints()) {
      const due = this.#deps.keepCadence ? this.#dueIn(endpoint) : 0;
      if (due > 0) this.#arm(endpoint.id, due);
      else ids.push(endpoint.id);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length && this.#running) await this.#tick(ids[next++] as string);
    };
    for (let i = 0; i < Math.min(this.#deps.concurrency, ids.length); i++) void worker();
  }

  /** Clears every timer and aborts running checks; resolves when they have settled. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const id of [...this.#timers.keys()]) this.#clear(id);
    for (const controller of this.#controllers) controller.abort();
    await this.idle();
  }

  /** Resolves once no check is running (including checks started while waiting). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  /**
   * Checks an endpoint now; a check already running for it is joined. Resolves with undefined
   * when the endpoint does not exist.
   */
  check(endpointId: string): Promise<CheckReport> | undefined {
    const running = this.#inFlight.get(endpointId);
    if (running) return running;
    const record = this.#deps.store.registry.getEndpoint(endpointId);
    if (!record) return undefined;
    const began = this.#deps.clock.now();
    const controller = new AbortController();
    this.#controllers.add(controller);
    const promise = this.#deps
      .check(record, controller.signal)
      .then((result) => {
        this.#deps.onChecked(result);
        return result.report;
      })
      .finally(() => {
        this.#controllers.delete(controller);
        this.#inFlight.delete(endpointId);
        // Intervals run from each check's start, so slow (timing-out) checks do not stretch them.
        const interval = (this.#deps.store.registry.getEndpoint(endpointId)?.health_check_interval_secs ?? 0) * 1000;
        this.#arm(endpointId, Math.max(0, interval - (this.#deps.clock.now() - began)));
      });
    this.#inFlight.set(endpointId, promise);
    return promise;
  }

  /**
   * A passive strike: check now, and if that check fails while the endpoint stays `online`,
   * check again after `strikeRecheckMs` instead of its full interval.
   */
  strike(endpointId: string): void {
    this.check(endpointId)?.then(
      (report) => {
        if (!report.success && this.#deps.store.registry.getEndpoint(endpointId)?.status === 'online') {
          this.#arm(endpointId, this.#deps.strikeRecheckMs);
        }
      },
      (err: unknown) => this.#deps.onError(endpointId, err),
    );
  }

  /**
   * This instance just became the endpoint's checker (took its lease from a peer that left or
   * gave it up): keep the endpoint's cadence — check when its interval has passed since its last
   * successful check (by whichever instance), or now if it never succeeded or is overdue.
   */
  claimed(endpointId: string): void {
    const record = this.#deps.store.registry.getEndpoint(endpointId);
    if (!record || !this.#running || !this.#deps.schedule) return;
    const due = this.#dueIn(record);
    if (due > 0) this.#arm(endpointId, due);
    else this.#checkSoon(endpointId);
  }

  /** Ms until the endpoint's interval has passed since its last successful check (≤ 0: due, or never succeeded). */
  #dueIn(record: EndpointRecord): number {
    if (record.last_seen === null) return 0;
    return Date.parse(record.last_seen) + record.health_check_interval_secs * 1000 - this.#deps.clock.now();
  }

  /** A scheduled check: runs only while started and if this instance owns the endpoint. */
  async #tick(endpointId: string): Promise<void> {
    if (!this.#running) return;
    if (!this.#deps.owns(endpointId)) return this.#arm(endpointId);
    await this.check(endpointId)?.catch((err: unknown) => this.#deps.onError(endpointId, err));
  }

  #checkSoon(endpointId: string): void {
    if (this.#running && this.#deps.schedule) void this.#tick(endpointId);
  }

  /** (Re)arms an endpoint's timer at its interval, or after `delayMs`, if scheduling is on. */
  #arm(endpointId: string, delayMs?: number): void {
    this.#clear(endpointId);
    const record = this.#deps.store.registry.getEndpoint(endpointId);
    if (!this.#running || !this.#deps.schedule || !record) return;
    const timer = this.#deps.clock.setTimeout(() => {
      this.#timers.delete(endpointId);
      void this.#tick(endpointId);
    }, delayMs ?? record.health_check_interval_secs * 1000);
    this.#timers.set(endpointId, timer);
  }

  #clear(endpointId: string): void {
    const timer = this.#timers.get(endpointId);
    if (timer !== undefined) this.#deps.clock.clearTimeout(timer);
    this.#timers.delete(endpointId);
  }
}
