/**
 * Which router instances are alive on a shared storage, as the lease table says (each live
 * instance holds a `member:<id>` lease it renews). What the router needs to share per-endpoint
 * limits among instances: `liveInstances()`, and a `change` event when one joins or leaves.
 */
import { EventEmitter } from 'eventemitter3';

/** Typed events of {@link Membership}. */
export interface MembershipEvents {
  /** The set of live instances changed; `live` is their number (at least 1: this one). */
  change: (live: number, members: readonly string[]) => void;
}

/**
 * The live instances, updated by the lease round. A router alone (no shared storage) is a
 * membership of one that never changes.
 *
 * @example
 * membership.on('change', (live) => caps.rebalance(live));
 * const share = Math.ceil(cap / membership.liveInstances());
 */
export class Membership extends EventEmitter<MembershipEvents> {
  /** This instance's id. */
  readonly self: string;
  #members: readonly string[];

  constructor(self: string) {
    super();
    this.self = self;
    this.#members = [self];
  }

  /** How many instances are alive, this one included (≥ 1). */
  liveInstances(): number {
    return this.#members.length;
  }

  /** The ids of the live instances, sorted (this one included). */
  members(): readonly string[] {
    return this.#members;
  }

  /** Replaces the member list (this instance is always in it); emits `change` when it differs. */
  update(ids: Iterable<string>): void {
    const next = [...new Set([...ids, this.self])].sort();
    if (next.length === this.#members.length && next.every((id, i) => id === this.#members[i])) return;
    this.#members = Object.freeze(next);
    this.emit('change', next.length, this.#members);
  }
}
