/**
 * History retention: a loop that deletes health-check rows (and change-feed entries, key usage and
 * revoked keys) older than their retention period, at start and then every `intervalMs`.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { StorageAdapter } from '../storage/types.js';

const DAY_MS = 86_400_000;
/** Change-feed entries are only needed until every instance has read them: one day is ample. */
const CHANGE_FEED_RETENTION_MS = DAY_MS;
/** Days key usage, and the records of revoked keys (whose usage stays readable), are kept. */
export const KEY_USAGE_RETENTION_DAYS = 30;
const KEY_USAGE_RETENTION_MS = KEY_USAGE_RETENTION_DAYS * DAY_MS;

/** What the retention loop works with. */
export interface RetentionDeps {
  storage: Pick<StorageAdapter, 'deleteHealthChecksBefore' | 'deleteChangesBefore' | 'deleteKeyUsageBefore'>;
  /** Deletes the keys revoked before `cutoff`, in storage and in the owner's memory. */
  pruneRevokedKeys: (cutoff: string) => Promise<number>;
  clock: Clock;
  logger: Logger;
  retentionDays: number;
  intervalMs: number;
  onError: (error: unknown) => void;
}

/**
 * Prunes old rows on a timer.
 *
 * @example
 * const retention = new RetentionLoop(deps);
 * retention.start();
 * retention.stop();
 */
export class RetentionLoop {
  readonly #deps: RetentionDeps;
  #timer: TimerHandle | undefined;
  #running = false;

  constructor(deps: RetentionDeps) {
    this.#deps = deps;
  }

  /** Prunes now, then every `intervalMs`. */
  start(): void {
    this.#running = true;
    this.#prune();
  }

  /** Stops the loop (a prune in progress finishes on its own). */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #prune(): void {
    if (!this.#running) return;
    const { storage, clock, logger, retentionDays } = this.#deps;
    const now = clock.now();
    const cutoff = new Date(now - retentionDays * DAY_MS).toISOString();
    const feedCutoff = new Date(now - CHANGE_FEED_RETENTION_MS).toISOString();
    const keyCutoff = new Date(now - KEY_USAGE_RETENTION_MS).toISOString();
    Promise.all([
      storage.deleteHealthChecksBefore(cutoff),
      storage.deleteChangesBefore(feedCutoff),
      storage.deleteKeyUsageBefore(keyCutoff),
      this.#deps.pruneRevokedKeys(keyCutoff),
    ])
      .then(([deleted]) => {
        if (deleted > 0) logger.info({ deleted, cutoff }, 'pruned health-check history');
      })
      .catch((err: unknown) => this.#deps.onError(err));
    this.#timer = clock.setTimeout(() => this.#prune(), this.#deps.intervalMs);
  }
}
