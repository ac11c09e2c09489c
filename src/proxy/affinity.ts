/**
 * Session affinity (opt-in): a request that carries a session key goes back to the endpoint that
 * served its session, so the prompt cache there is reused. A session's first endpoint is chosen
 * by weighted rendezvous hashing of its key over the candidates, so every instance on a shared
 * database picks the same one without asking anybody; later requests follow a pin kept in a
 * bounded map in least-recently-used order, each pin expiring after `ttlMs` without use.
 */
import type { Clock } from '../clock.js';

/** FNV-1a (32 bits) of a session key and an endpoint id. */
function hash(key: string, id: string): number {
  let h = 0x811c9dc5;
  for (const text of [key, id]) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  }
  return h >>> 0;
}

/** Where a request's session key is read. */
export interface AffinityOptions {
  /** Request header holding the session key. Default `x-session-id`. */
  header?: string;
  /** Top-level body field holding the session key (e.g. `user`), read when the header is absent. */
  bodyField?: string;
  /** How long a session stays pinned after its last request, in ms. Default 10 minutes. */
  ttlMs?: number;
  /** Most sessions remembered; the least recently used go first. Default 100 000. */
  maxSessions?: number;
}

interface Pin {
  endpointId: string;
  expires: number;
}

/**
 * The session → endpoint pins of one router.
 *
 * @example
 * const affinity = new SessionAffinity({ ttlMs: 60_000 }, systemClock);
 * affinity.pin('conversation-42', endpoint.id);
 * affinity.endpointOf('conversation-42'); // endpoint.id, until a minute without requests
 */
export class SessionAffinity {
  readonly header: string;
  readonly bodyField: string | undefined;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #clock: Clock;
  readonly #pins = new Map<string, Pin>();

  constructor(options: AffinityOptions, clock: Clock) {
    this.header = (options.header ?? 'x-session-id').toLowerCase();
    this.bodyField = options.bodyField;
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#max = options.maxSessions ?? 100_000;
    this.#clock = clock;
  }

  /** The session key of a request: the header, else the body field; null when neither is a usable string. */
  keyOf(headers: Record<string, string | string[] | undefined>, body: unknown): string | null {
    const fromHeader = headers[this.header];
    const fromBody =
      this.bodyField !== undefined && typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[this.bodyField] : undefined;
    const key = typeof fromHeader === 'string' ? fromHeader : fromBody;
    return typeof key === 'string' && key.length > 0 && key.length <= 256 ? key : null;
  }

  /** The endpoint a session is pinned to, or undefined (none, or expired). */
  endpointOf(key: string): string | undefined {
    const pin = this.#pins.get(key);
    if (!pin) return undefined;
    if (pin.expires <= this.#clock.monotonic()) {
      this.#pins.delete(key);
      return undefined;
    }
    return pin.endpointId;
  }

  /** Pins (or re-pins) a session to an endpoint, as its most recent use. */
  pin(key: string, endpointId: string): void {
    this.#pins.delete(key);
    this.#pins.set(key, { endpointId, expires: this.#clock.monotonic() + this.#ttlMs });
    if (this.#pins.size > this.#max) this.#pins.delete(this.#pins.keys().next().value as string);
  }

  /**
   * The endpoint a session starts on: weighted rendezvous hashing of its key over the
   * candidates — the same on every instance that sees the same candidates, spread over them in
   * proportion to their `weight`, and moved only for the sessions of an endpoint that leaves.
   */
  rendezvous<T extends { id: string; weight: number }>(key: string, candidates: readonly T[]): T | undefined {
    let best: T | undefined;
    let bestScore = -Infinity;
    for (const c of candidates) {
      const u = (hash(key, c.id) + 0.5) / 4_294_967_296;
      const score = c.weight / -Math.log(u);
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }

  /** Forgets every pin to a deleted endpoint. */
  forgetEndpoint(endpointId: string): void {
    for (const [key, pin] of this.#pins) if (pin.endpointId === endpointId) this.#pins.delete(key);
  }
}
