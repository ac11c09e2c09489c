/**
 * One checker per endpoint among the routers on a shared storage. Every `ttl / 3` each instance
 * runs a round: it renews its membership lease (`member:<id>`), reads the live members, renews
 * the check leases it holds in one write, takes the leases (`check:<endpointId>`) of endpoints
 * that rendezvous hashing assigns to it and gives up those assigned elsewhere, and serves the
 * strike requests (`strike:<endpointId>`) other instances left for endpoints it checks.
 *
 * An instance that dies stops renewing: its leases expire after `ttl`, the next round of the
 * others drops it from the members and the endpoint's new owner takes the lease and checks at
 * once. A stopped instance releases its leases, so the hand-over is immediate.
 */
import { createHash } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock.js';
import type { StorageAdapter } from '../storage/types.js';
import type { EndpointStore } from '../store.js';
import type { Membership } from './membership.js';

const MEMBER = 'member:';
const CHECK = 'check:';
const STRIKE = 'strike:';

/** What the lease keeper works with. */
export interface CheckLeasesDeps {
  storage: StorageAdapter;
  store: EndpointStore;
  clock: Clock;
  membership: Membership;
  /** Lease lifetime in ms; rounds run every third of it. */
  ttlMs: number;
  /** This instance now holds the endpoint's check lease: check it. */
  onClaimed: (endpointId: string) => void;
  /** Another instance saw the endpoint fail a request: strike it (check now). */
  onStrike: (endpointId: string) => void;
  /** A round or a request that failed (e.g. the database is unreachable). */
  onError: (error: unknown) => void;
}

/** The member that checks `endpointId`: the highest rendezvous hash (stable while members stay). */
function assignee(endpointId: string, members: readonly string[]): string | undefined {
  let best: [string, string] | undefined;
  for (const member of members) {
    const score = createHash('sha256').update(`${member}\0${endpointId}`).digest('hex');
    if (best === undefined || score > best[1]) best = [member, score];
  }
  return best?.[0];
}

/**
 * The check leases of one instance.
 *
 * @example
 * const leases = new CheckLeases(deps);
 * await leases.start();
 * leases.owns(endpointId); // only the holder checks
 */
export class CheckLeases {
  readonly #deps: CheckLeasesDeps;
  /** Held check leases: endpoint id → epoch ms until which we may rely on the lease. */
  #held = new Map<string, number>();
  #timer: TimerHandle | undefined;
  #round: Promise<void> | undefined;
  #started = false;

  constructor(deps: CheckLeasesDeps) {
    this.#deps = deps;
    deps.store.on('endpointAdded', (endpoint) => {
      if (this.#started) void this.#claim(endpoint.id, this.#deps.clock.now()).catch(deps.onError);
    });
  }

  get #self(): string {
    return this.#deps.membership.self;
  }

  /** Whether this instance holds the endpoint's check lease, with a safety margin before it expires. */
  owns(endpointId: string): boolean {
    const until = this.#held.get(endpointId);
    return until !== undefined && this.#deps.clock.now() < until - this.#deps.ttlMs / 4;
  }

  /** Runs the first round (members and leases), then one every `ttl / 3`. */
  async start(): Promise<void> {
    this.#started = true;
    await this.#runRound();
  }

  /**
   * A request to the endpoint failed here but another instance checks it: leave it a strike
   * request, served at its next round.
   */
  requestStrike(endpointId: string): void {
    const { storage, clock, ttlMs, onError } = this.#deps;
    storage.tryLease(STRIKE + endpointId, this.#self, ttlMs, clock.now()).catch(onError);
  }

  /** Stops the rounds and releases every lease this instance holds. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    await this.#round;
    const names = [...this.#held.keys()].map((id) => CHECK + id).concat(MEMBER + this.#self);
    this.#held.clear();
    await Promise.all(names.map((name) => this.#deps.storage.releaseLease(name, this.#self))).catch(this.#deps.onError);
  }

  async #runRound(): Promise<void> {
    this.#round = this.#roundOnce().catch(this.#deps.onError);
    await this.#round;
    this.#round = undefined;
    if (this.#started) this.#timer = this.#deps.clock.setTimeout(() => void this.#runRound(), this.#deps.ttlMs / 3);
  }

  async #roundOnce(): Promise<void> {
    const { storage, clock, ttlMs, membership } = this.#deps;
    const now = clock.now();
    await storage.tryLease(MEMBER + this.#self, this.#self, ttlMs, now);
    membership.update((await storage.listLeases(MEMBER, now)).map((lease) => lease.holder));
    const renewed = await storage.renewLeases(this.#self, CHECK, ttlMs, now);
    this.#held = new Map(renewed.map((name) => [name.slice(CHECK.length), now + ttlMs]));
    const known = new Set<string>();
    for (const endpoint of this.#deps.store.registry.listEndpoints()) {
      known.add(endpoint.id);
      await this.#claim(endpoint.id, now);
    }
    for (const id of [...this.#held.keys()].filter((held) => !known.has(held))) await this.#release(id);
    await this.#serveStrikes(now);
  }

  /** Takes the endpoint's lease if it is assigned to us, gives it up if it is assigned elsewhere. */
  async #claim(endpointId: string, now: number): Promise<void> {
    const mine = assignee(endpointId, this.#deps.membership.members()) === this.#self;
    if (!mine) return this.#held.has(endpointId) ? this.#release(endpointId) : undefined;
    if (this.#held.has(endpointId)) return;
    if (!(await this.#deps.storage.tryLease(CHECK + endpointId, this.#self, this.#deps.ttlMs, now))) return;
    this.#held.set(endpointId, now + this.#deps.ttlMs);
    this.#deps.onClaimed(endpointId);
  }

  async #release(endpointId: string): Promise<void> {
    this.#held.delete(endpointId);
    await this.#deps.storage.releaseLease(CHECK + endpointId, this.#self);
  }

  async #serveStrikes(now: number): Promise<void> {
    for (const lease of await this.#deps.storage.listLeases(STRIKE, now)) {
      const endpointId = lease.name.slice(STRIKE.length);
      if (!this.owns(endpointId)) continue;
      await this.#deps.storage.releaseLease(lease.name, lease.holder);
      this.#deps.onStrike(endpointId);
    }
  }
}
