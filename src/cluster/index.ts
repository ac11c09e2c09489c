/**
 * Several routers on one shared storage (PostgreSQL): each follows the others' writes through
 * the change feed ({@link FeedFollower}), holds leases that make it the one checker of some
 * endpoints ({@link CheckLeases}), and knows how many instances are alive ({@link Membership}).
 * A router on storage that is not shared gets a cluster of one: it owns every endpoint.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { StorageAdapter } from '../storage/types.js';
import type { EndpointStore } from '../store.js';
import { CheckLeases } from './check-leases.js';
import { FeedFollower } from './follower.js';
import { Membership } from './membership.js';

export { Membership, type MembershipEvents } from './membership.js';

/** Options of a router on shared storage (`createRouter({ cluster })`). */
export interface ClusterOptions {
  /** This instance's id in the lease table. Default: a random UUID per router. */
  instanceId?: string;
  /**
   * Lifetime of membership and check leases, in ms; renewed every third of it. A dead instance's
   * endpoints are taken over about `leaseTtlMs` after it stopped renewing. Default: 10 000.
   */
  leaseTtlMs?: number;
  /**
   * Time between periodic catch-ups from the change feed, in ms: the safety net behind pushed
   * notifications, or the only source when the storage cannot push. Default: 5 000 when the
   * storage can push (`watch`), 1 000 otherwise.
   */
  catchUpIntervalMs?: number;
}

/** Validates {@link ClusterOptions} (or `true` / `false`). */
export const clusterOptionSchema = z.union([
  z.boolean(),
  z.strictObject({
    instanceId: z.string().min(1).max(200).optional(),
    leaseTtlMs: z.number().int().min(300).max(600_000).optional(),
    catchUpIntervalMs: z.number().int().min(20).max(600_000).optional(),
  }),
]);

/** What a cluster works with. */
export interface ClusterDeps {
  storage: StorageAdapter;
  store: EndpointStore;
  clock: Clock;
  /** Checks the endpoint now (the scheduler's passive strike). */
  strike: (endpointId: string) => void;
  /** This instance now checks the endpoint: check it soon. */
  claimed: (endpointId: string) => void;
  onError: (error: unknown) => void;
}

/**
 * The router's view of its peers.
 *
 * @example
 * const cluster = new Cluster(deps, options.cluster);
 * await cluster.start();
 * if (cluster.owns(endpoint.id)) check(endpoint);
 */
export class Cluster {
  /** The live instances (one when the storage is not shared). */
  readonly membership: Membership;
  readonly #deps: ClusterDeps;
  readonly #leases: CheckLeases | undefined;
  readonly #follower: FeedFollower | undefined;

  constructor(deps: ClusterDeps, option: ClusterOptions | boolean | undefined) {
    this.#deps = deps;
    const enabled = option === undefined ? deps.storage.shared === true : option !== false;
    const options = typeof option === 'object' ? option : {};
    this.membership = new Membership(options.instanceId ?? randomUUID());
    if (!enabled) return;
    const { storage, store, clock, onError } = deps;
    this.#leases = new CheckLeases({
      storage,
      store,
      clock,
      membership: this.membership,
      ttlMs: options.leaseTtlMs ?? 10_000,
      onClaimed: deps.claimed,
      onStrike: deps.strike,
      onError,
    });
    const intervalMs = options.catchUpIntervalMs ?? (storage.watch ? 5_000 : 1_000);
    this.#follower = new FeedFollower({ store, storage, clock, intervalMs, onError });
  }

  /** Whether this router shares its storage with peers (leases and feed following on). */
  get enabled(): boolean {
    return this.#leases !== undefined;
  }

  /** Whether this instance checks the endpoint (always, alone). */
  owns(endpointId: string): boolean {
    return this.#leases?.owns(endpointId) ?? true;
  }

  /** A request to the endpoint failed: strike it here if this instance checks it, else ask its checker. */
  strike(endpointId: string): void {
    if (this.#leases === undefined || this.#leases.owns(endpointId)) this.#deps.strike(endpointId);
    else this.#leases.requestStrike(endpointId);
  }

  /** Joins: follows the feed and takes this instance's leases (the first round is awaited). */
  async start(): Promise<void> {
    this.#follower?.start();
    await this.#leases?.start();
  }

  /** Leaves: stops following and releases every lease, so the others take over at once. */
  async stop(): Promise<void> {
    await this.#follower?.stop();
    await this.#leases?.stop();
  }
}
