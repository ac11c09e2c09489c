import { describe, expect, it } from 'vitest';
import { CheckLeases } from '../../src/cluster/check-leases.js';
import { FeedFollower } from '../../src/cluster/follower.js';
import { Membership } from '../../src/cluster/membership.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { EndpointStore } from '../../src/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeEndpointRecord } from '../helpers/records.js';

const TTL = 3_000;

interface Peer {
  id: string;
  leases: CheckLeases;
  membership: Membership;
  claimed: string[];
  strikes: string[];
}

/** A storage holding `count` endpoints. */
async function storageWith(count: number): Promise<{ storage: StorageAdapter; ids: string[] }> {
  const storage = memoryStorage();
  await storage.init();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const record = makeEndpointRecord();
    await storage.insertEndpoint(record);
    ids.push(record.id);
  }
  return { storage, ids };
}

async function peer(id: string, storage: StorageAdapter, clock: FakeClock): Promise<Peer> {
  const store = new EndpointStore(storage);
  await store.load();
  const membership = new Membership(id);
  const claimed: string[] = [];
  const strikes: string[] = [];
  const leases = new CheckLeases({
    storage,
    store,
    clock,
    membership,
    ttlMs: TTL,
    onClaimed: (endpointId) => claimed.push(endpointId),
    onStrike: (endpointId) => strikes.push(endpointId),
    onError: (error) => {
      throw error;
    },
  });
  return { id, leases, membership, claimed, strikes };
}

const owners = (peers: Peer[], endpointId: string): string[] => peers.filter((p) => p.leases.owns(endpointId)).map((p) => p.id);

describe('CheckLeases', () => {
  it('gives every endpoint exactly one owner, spread over the live instances', async () => {
    const { storage, ids } = await storageWith(30);
    const clock = new FakeClock();
    const peers = [await peer('a', storage, clock), await peer('b', storage, clock), await peer('c', storage, clock)];
    for (const p of peers) await p.leases.start();
    // The first instance took everything; the next rounds rebalance.
    await clock.advance(TTL);
    expect(peers.map((p) => p.membership.liveInstances())).toEqual([3, 3, 3]);
    expect(ids.map((id) => owners(peers, id).length)).toEqual(ids.map(() => 1));
    for (const p of peers) expect(ids.filter((id) => p.leases.owns(id)).length).toBeGreaterThan(3);
    for (const p of peers) await p.leases.stop();
  });

  it("takes a dead instance's endpoints over after its leases expire, and a leaving one's at once", async () => {
    const { storage, ids } = await storageWith(12);
    const clock = new FakeClock();
    // The dead instance's clock never moves: its rounds stop, as if the process had been killed.
    const dead = await peer('dead', storage, new FakeClock(clock.now()));
    const [b, c] = [await peer('b', storage, clock), await peer('c', storage, clock)];
    await dead.leases.start();
    await b.leases.start();
    await c.leases.start();
    const changes: number[] = [];
    b.membership.on('change', (live) => changes.push(live));
    await clock.advance(TTL + TTL / 3 + 1);
    // c joins (b saw only itself and the dead one at its first round), then the dead one is dropped.
    expect(changes).toEqual([3, 2]);
    expect(ids.map((id) => owners([b, c], id).length)).toEqual(ids.map(() => 1));
    expect(b.claimed.length + c.claimed.length).toBeGreaterThanOrEqual(12);

    await c.leases.stop();
    await clock.advance(TTL / 3);
    expect(ids.every((id) => b.leases.owns(id))).toBe(true);
    await b.leases.stop();
  });

  it("brings a strike seen on another instance to the endpoint's checker at its next round", async () => {
    const { storage, ids } = await storageWith(1);
    const clock = new FakeClock();
    const [a, b] = [await peer('a', storage, clock), await peer('b', storage, clock)];
    await a.leases.start();
    await b.leases.start();
    await clock.advance(TTL);
    const [owner, other] = a.leases.owns(ids[0]!) ? [a, b] : [b, a];
    other.leases.requestStrike(ids[0]!);
    await clock.advance(TTL / 3);
    expect(owner.strikes).toEqual([ids[0]]);
    expect(await storage.listLeases('strike:', clock.now())).toEqual([]);
    await a.leases.stop();
    await b.leases.stop();
  });
});

describe('FeedFollower', () => {
  it("applies another instance's writes on its periodic catch-up", async () => {
    const { storage } = await storageWith(0);
    const clock = new FakeClock();
    const [mine, theirs] = [new EndpointStore(storage), new EndpointStore(storage)];
    await mine.load();
    await theirs.load();
    const follower = new FeedFollower({ store: mine, storage, clock, intervalMs: 1_000, onError: (e) => { throw e; } });
    follower.start();
    const record = await theirs.create(makeEndpointRecord());
    expect(mine.registry.getEndpoint(record.id)).toBeUndefined();
    await clock.advance(1_000);
    await follower.catchUp();
    expect(mine.registry.getEndpoint(record.id)).toBeDefined();
    await follower.stop();
  });
});
