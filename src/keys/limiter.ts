/**
 * Per-key limits on `/v1`, enforced in memory: concurrent requests (a counter) and requests per
 * minute (a sliding window of the last minute's admissions, exact). With several instances each
 * enforces its share, `ceil(limit / live instances)`, like endpoint caps.
 */
import type { Clock } from '../clock.js';
import { LlmlbError } from '../errors.js';

const MINUTE_MS = 60_000;

/** The limits of one key (null: none). */
export interface LimitSettings {
  rpm: number | null;
  max_concurrency: number | null;
}

/** Admission times of the last minute, oldest first, in an array consumed from `head`. */
class SlidingWindow {
  #times: number[] = [];
  #head = 0;

  /** Admissions within the minute before `now`. */
  count(now: number): number {
    while (this.#head < this.#times.length && this.#times[this.#head]! <= now - MINUTE_MS) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }

  /** Seconds until the oldest admission of the window leaves it (at least 1). */
  retryAfterSecs(now: number): number {
    const oldest = this.#times[this.#head] ?? now;
    return Math.max(1, Math.ceil((oldest + MINUTE_MS - now) / 1000));
  }

  add(now: number): void {
    this.#times.push(now);
  }
}

/** What the limiter works with. */
export interface LimiterDeps {
  clock: Clock;
  /** Instances sharing each key's limits (1 when alone). */
  shares: () => number;
}

/**
 * Admits or refuses `/v1` requests per key.
 *
 * @example
 * const release = limiter.admit(keyId, { rpm: 60, max_concurrency: 4 });
 * try { await forward(); } finally { release(); }
 */
export class KeyLimiter {
  readonly #deps: LimiterDeps;
  readonly #windows = new Map<string, SlidingWindow>();
  readonly #inFlight = new Map<string, number>();

  constructor(deps: LimiterDeps) {
    this.#deps = deps;
  }

  /**
   * Takes a slot for one request of `keyId`; returns the function that gives it back (once).
   * `rate_limited` (429, with a Retry-After) when the key is at a limit.
   */
  admit(keyId: string, limits: LimitSettings): () => void {
    const shares = Math.max(1, this.#deps.shares());
    const inFlight = this.#inFlight.get(keyId) ?? 0;
    if (limits.max_concurrency !== null && inFlight >= Math.ceil(limits.max_concurrency / shares)) {
      throw new LlmlbError('rate_limited', `this key is at its limit of ${limits.max_concurrency} concurrent requests`, { retryAfterSecs: 1 });
    }
    if (limits.rpm !== null) {
      const now = this.#deps.clock.monotonic();
      let window = this.#windows.get(keyId);
      if (!window) this.#windows.set(keyId, (window = new SlidingWindow()));
      if (window.count(now) >= Math.ceil(limits.rpm / shares)) {
        throw new LlmlbError('rate_limited', `this key is at its limit of ${limits.rpm} requests per minute`, {
          retryAfterSecs: window.retryAfterSecs(now),
        });
      }
      window.add(now);
    }
    this.#inFlight.set(keyId, inFlight + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(keyId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(keyId, left);
      else this.#inFlight.delete(keyId);
    };
  }

  /** Requests of `keyId` in flight on this instance. */
  inFlight(keyId: string): number {
    return this.#inFlight.get(keyId) ?? 0;
  }

  /** Forgets the request window of a key that is gone (in-flight requests still release). */
  forget(keyId: string): void {
    this.#windows.delete(keyId);
  }
}
