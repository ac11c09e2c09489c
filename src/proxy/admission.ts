/**
 * The admission queue: when every candidate of a request is at its concurrency cap, the request
 * waits in llmlb — in arrival order, up to `timeoutMs`, at most `maxLength` of them — and takes
 * the first slot that frees on any of its candidates. A slot is claimed in the same synchronous
 * step that finds it free, so caps hold exactly under any burst.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { LlmlbError } from '../errors.js';

/** Tries to claim a slot for a waiting request; returns what it got, or null when all are full. */
export type TryAcquire<T> = () => T | null;

interface Waiter<T> {
  tryAcquire: TryAcquire<T>;
  resolve: (value: T) => void;
  reject: (error: LlmlbError) => void;
  timer: TimerHandle;
}

/** A waiting request: its slot when it gets one, and a way to leave the queue. */
export interface Ticket<T> {
  granted: Promise<T>;
  /** Leaves the queue (the client went away): `granted` rejects. */
  cancel(): void;
}

const EWMA_WEIGHT = 0.2;

/**
 * FIFO waiters for slots.
 *
 * @example
 * const ticket = queue.wait(() => tryClaim(model));
 * const endpoint = await ticket.granted; // or LlmlbError queue_full / queue_timeout
 */
export class AdmissionQueue<T> {
  readonly #waiters: Waiter<T>[] = [];
  readonly #clock: Clock;
  readonly #maxLength: number;
  readonly #timeoutMs: number;
  /** Decaying mean wait of requests that got a slot, in ms: the base of `Retry-After`. */
  #meanWaitMs = 0;

  constructor(options: { maxLength: number; timeoutMs: number }, clock: Clock) {
    this.#maxLength = options.maxLength;
    this.#timeoutMs = options.timeoutMs;
    this.#clock = clock;
  }

  /** Requests waiting now. */
  get length(): number {
    return this.#waiters.length;
  }

  /** Seconds a refused client should wait before trying again (at least 1). */
  get retryAfterSecs(): number {
    return Math.max(1, Math.ceil(this.#meanWaitMs / 1000));
  }

  /** Joins the queue; rejects at once with `queue_full` when it is full. */
  wait(tryAcquire: TryAcquire<T>): Ticket<T> {
    let waiter: Waiter<T> | undefined;
    const started = this.#clock.monotonic();
    const granted = new Promise<T>((resolve, reject) => {
      if (this.#waiters.length >= this.#maxLength) {
        reject(new LlmlbError('queue_full', `every endpoint for this model is at its concurrency cap and ${this.#maxLength} requests are already waiting`));
        return;
      }
      const timer = this.#clock.setTimeout(() => {
        this.#remove(waiter!);
        reject(new LlmlbError('queue_timeout', `no endpoint had a free slot within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      waiter = {
        tryAcquire,
        resolve: (value) => {
          const waited = this.#clock.monotonic() - started;
          this.#meanWaitMs += EWMA_WEIGHT * (waited - this.#meanWaitMs);
          resolve(value);
        },
        reject,
        timer,
      };
      this.#waiters.push(waiter);
    });
    const cancel = (): void => {
      if (waiter && this.#remove(waiter)) waiter.reject(new LlmlbError('invalid_request', 'the client went away while waiting'));
    };
    return { granted, cancel };
  }

  /**
   * Slots may have freed (a request ended, an endpoint came online or its cap rose): in arrival
   * order, every waiter that can claim one now gets it. Afterwards no waiter can claim a slot, so
   * a new arrival may take any free slot without overtaking anyone.
   */
  release(): void {
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i] as Waiter<T>;
      const value = waiter.tryAcquire();
      if (value === null) {
        i++;
        continue;
      }
      this.#waiters.splice(i, 1);
      this.#clock.clearTimeout(waiter.timer);
      waiter.resolve(value);
    }
  }

  /** Takes a waiter out of the queue; false when it had already left. */
  #remove(waiter: Waiter<T>): boolean {
    const at = this.#waiters.indexOf(waiter);
    if (at === -1) return false;
    this.#waiters.splice(at, 1);
    this.#clock.clearTimeout(waiter.timer);
    return true;
  }
}
