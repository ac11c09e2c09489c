/**
 * Passive health (what Envoy calls outlier detection): a proxied request that failed suspends
 * its endpoint for `suspendMs` — the selector avoids it while another candidate is left — and,
 * once per suspension window, asks for a check right away (a strike). A good check lifts the
 * suspension; a failed one prolongs it. The one module that decides "avoid an endpoint that
 * just failed".
 */
import type { Clock } from '../clock.js';
import type { EndpointStore } from '../store.js';
import type { HealthChecker } from './checker.js';

/** What passive health works with. */
export interface PassiveHealthDeps {
  clock: Clock;
  /** How long a failed endpoint is avoided, in ms. */
  suspendMs: number;
  /** Checks the endpoint now (the scheduler's strike). */
  strike: (endpointId: string) => void;
  /** Check results lift or prolong suspensions. */
  checker: HealthChecker;
  /** Deleted endpoints are forgotten. */
  store: EndpointStore;
}

/**
 * Suspensions by endpoint, in monotonic ms.
 *
 * @example
 * passive.failed(endpoint.id);          // the proxy saw it fail before answering
 * passive.isSuspended(endpoint.id, now); // true for suspendMs, or until a good check
 */
export class PassiveHealth {
  readonly #deps: PassiveHealthDeps;
  readonly #until = new Map<string, number>();

  constructor(deps: PassiveHealthDeps) {
    this.#deps = deps;
    deps.checker.on('check', ({ endpoint, report }) => {
      if (report.success) this.#until.delete(endpoint.id);
      else this.#prolong(endpoint.id);
    });
    deps.store.on('endpointRemoved', (endpoint) => this.#until.delete(endpoint.id));
  }

  /** True while the endpoint is suspended; `now` is the clock's monotonic time. */
  isSuspended(endpointId: string, now: number): boolean {
    const until = this.#until.get(endpointId);
    return until !== undefined && until > now;
  }

  /** Monotonic ms until which the endpoint is suspended, or null when it is not. */
  suspendedUntil(endpointId: string): number | null {
    const until = this.#until.get(endpointId);
    return until !== undefined && until > this.#deps.clock.monotonic() ? until : null;
  }

  /**
   * A request to the endpoint failed before it answered: suspend it, and if it was not
   * suspended already (the first failure of a window), have it checked now.
   */
  failed(endpointId: string): void {
    const now = this.#deps.clock.monotonic();
    const fresh = !this.isSuspended(endpointId, now);
    this.#until.set(endpointId, now + this.#deps.suspendMs);
    if (fresh) this.#deps.strike(endpointId);
  }

  /** A failed check confirms a running suspension for another window. */
  #prolong(endpointId: string): void {
    const now = this.#deps.clock.monotonic();
    if (this.isSuspended(endpointId, now)) this.#until.set(endpointId, now + this.#deps.suspendMs);
  }
}
