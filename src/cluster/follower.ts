/**
 * Keeps the registry current with writes other instances make to a shared storage: each change
 * the storage pushes (`watch`, e.g. PostgreSQL `LISTEN/NOTIFY`) and a periodic timer (the
 * safety net, and the only trigger when the storage cannot push) run `store.catchUp()`, which
 * reads the change feed from its cursor. Runs never overlap; a push during a run queues one more.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { StorageAdapter } from '../storage/types.js';
import type { EndpointStore } from '../store.js';

/** What the follower works with. */
export interface FeedFollowerDeps {
  store: EndpointStore;
  storage: StorageAdapter;
  clock: Clock;
  /** Time between periodic catch-ups, in ms. */
  intervalMs: number;
  /** A catch-up that failed (e.g. the database is unreachable); the next one retries. */
  onError: (error: unknown) => void;
}

/**
 * Follows the change feed while started.
 *
 * @example
 * const follower = new FeedFollower({ store, storage, clock, intervalMs: 5_000, onError });
 * follower.start();
 * await follower.stop();
 */
export class FeedFollower {
  readonly #deps: FeedFollowerDeps;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #timer: TimerHandle | undefined;
  #unwatch: (() => Promise<void>) | undefined;

  constructor(deps: FeedFollowerDeps) {
    this.#deps = deps;
  }

  /** Starts watching and the periodic catch-up. */
  start(): void {
    this.#started = true;
    this.#unwatch = this.#deps.storage.watch?.(() => void this.catchUp());
    this.#arm();
  }

  /** Catches up now (joined to a running catch-up, which then runs once more). */
  catchUp(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#deps.store.catchUp();
      } catch (error) {
        this.#deps.onError(error);
      }
    } while (this.#again && this.#started);
  }

  #arm(): void {
    if (!this.#started) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      void this.catchUp().finally(() => this.#arm());
    }, this.#deps.intervalMs);
  }

  /** Stops watching and the timer; resolves when a running catch-up has ended. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    await this.#unwatch?.();
    await this.#running;
  }
}
